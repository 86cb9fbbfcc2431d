// Noise for the generator: z (rows, cols) row-major, drawn from the counter-based RNG.
// Twin: src/reference/noise.ts (uniformNoise, gaussianNoise, noiseBits). Tests:
// test/kernels/noise.test.ts and test/kernels/rng.test.ts.
//
// Element (row, col) takes component col % 4 of draw_bits(seed, stream, clock.step, sub, row, col),
// so a whole row of 4 columns costs one Philox call and the CPU twin reproduces every value.
//   uniform_noise   z = low + (high - low) * u, u in [0, 1) with 24 random bits (the paper: [-sqrt 3, sqrt 3])
//   gaussian_noise  z = deviation * g, Box-Muller: columns 4q, 4q+1 from components x, y; 4q+2, 4q+3 from z, w
//   noise_bits      the raw u32 draws (for tests: the same key gives the same bits on GPU and CPU)
//
// Bindings: z / raw_bits (rows, cols); params; clock. One invocation per 4 columns of a row:
// dispatch (ceil(ceil(cols / 4) / WORKGROUP), rows).

struct Params {
  rows: u32,
  cols: u32,
  seed: u32,
  stream: u32,
  sub: u32,
  low: f32,
  high: f32,
  deviation: f32,
}

struct Clock {
  step: u32,
}

override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> z: array<f32>;
@group(0) @binding(1) var<storage, read_write> raw_bits: array<u32>;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<uniform> clock: Clock;

fn draw_row_quad(row: u32, col0: u32) -> vec4<u32> {
  return draw_bits(params.seed, params.stream, clock.step, params.sub, row, col0);
}

@compute @workgroup_size(WORKGROUP)
fn uniform_noise(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col0 = gid.x * 4u;
  if (row >= params.rows || col0 >= params.cols) {
    return;
  }
  let draw = draw_row_quad(row, col0);
  let width = params.high - params.low;
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < params.cols) {
      z[row * params.cols + col0 + c] = params.low + width * unit_from_bits(draw[c]);
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
  let draw = draw_row_quad(row, col0);
  let first = gaussian_pair(draw.x, draw.y);
  let second = gaussian_pair(draw.z, draw.w);
  let values = params.deviation * vec4<f32>(first, second);
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
  let draw = draw_row_quad(row, col0);
  for (var c = 0u; c < 4u; c++) {
    if (col0 + c < params.cols) {
      raw_bits[row * params.cols + col0 + c] = draw[c];
    }
  }
}
