// Noise for the generator: z (rows, cols) row-major, drawn from the counter-based RNG of rng.wgsl.
// Twin: src/reference/noise.ts (uniformNoise, gaussianNoise, noiseBits). Tests:
// test/kernels/noise.test.ts, and test/kernels/rng.test.ts for the generator itself.
//
// Element (row, col) takes component col % 4 of draw_bits(seed, stream, clock.step, sub, row, col):
// the keying every kernel shares, so the CPU twin reproduces every value. `stream` is a param
// (STREAM_NOISE for the generator's input) so tests and other callers can key their own draws.
//
// Entry points (suffixed because `uniform` itself names an address space in WGSL):
//   uniform_noise   z = low + (high - low) * u, u in [0, 1) with 24 random bits
//                   (the paper: uniform on [-sqrt 3, sqrt 3], unit variance)
//   gaussian_noise  z = mean + std * g, g standard normal by Box-Muller (gaussian_pair): columns
//                   4q, 4q+1 from draw components x, y; columns 4q+2, 4q+3 from z, w
//   noise_bits      the raw u32 draws, for tests: the same key gives the same bits on GPU and CPU
//   noise_classes   a conditional G's class of each row, uniform over [0, classes):
//                   labels[r] = index_from_bits(element (0, r) of the key, classes), the gather's
//                   keying of a row (draw_bits(seed, stream, step, sub, 0, r)[r % 4]); the caller
//                   keys it with its own stream (STREAM_CLASS), apart from z's draws
//
// Bindings:
//   z         (rows, cols) f32   uniform_noise, gaussian_noise
//   raw_bits  (rows, cols) u32   noise_bits
//   labels    (rows) u32         noise_classes
//   params    rows, cols, the key (seed, stream, sub) and the distribution's numbers
//   clock     step: the training iteration, the third counter word
// Dispatch: one invocation per 4 consecutive columns of a row (one Philox draw covers them), rows
// along y: (ceil(ceil(cols / 4) / WORKGROUP), rows). cols need not be a multiple of 4: the last
// quad of a row writes only the columns that exist. noise_classes: one invocation per row,
// (ceil(rows / WORKGROUP)). rows is limited by maxComputeWorkgroupsPerDimension
// (65535), far above any batch.

struct Params {
  rows: u32,
  cols: u32,
  seed: u32,
  stream: u32,
  sub: u32,
  low: f32,
  high: f32,
  mean: f32,
  deviation: f32,   // the standard deviation: `std` is a reserved word in WGSL
  classes: u32,
}

struct Clock {
  step: u32,
}

override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> z: array<f32>;
@group(0) @binding(1) var<storage, read_write> raw_bits: array<u32>;
@group(0) @binding(2) var<storage, read_write> labels: array<u32>;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<uniform> clock: Clock;

fn quad_bits(row: u32, col0: u32) -> vec4<u32> {
  return draw_bits(params.seed, params.stream, clock.step, params.sub, row, col0);
}

@compute @workgroup_size(WORKGROUP)
fn uniform_noise(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col0 = gid.x * 4u;
  if (row >= params.rows || col0 >= params.cols) {
    return;
  }
  let bits = quad_bits(row, col0);
  let width = params.high - params.low;
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < params.cols) {
      z[row * params.cols + col0 + c] = params.low + width * unit_from_bits(bits[c]);
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn gaussian_noise(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col0 = gid.x * 4u;
  if (row >= params.rows || col0 >= params.cols) {
    return;
  }
  let bits = quad_bits(row, col0);
  let normal = vec4<f32>(gaussian_pair(bits.x, bits.y), gaussian_pair(bits.z, bits.w));
  let values = params.mean + params.deviation * normal;
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < params.cols) {
      z[row * params.cols + col0 + c] = values[c];
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn noise_bits(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col0 = gid.x * 4u;
  if (row >= params.rows || col0 >= params.cols) {
    return;
  }
  let bits = quad_bits(row, col0);
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < params.cols) {
      raw_bits[row * params.cols + col0 + c] = bits[c];
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn noise_classes(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x;
  if (row >= params.rows) {
    return;
  }
  let bits = draw_bits(params.seed, params.stream, clock.step, params.sub, 0u, row)[row & 3u];
  labels[row] = index_from_bits(bits, params.classes);
}
