// Dense layer, backward: the gradients of y = act(dropout(x) W + b) (see dense.forward.wgsl).
// Twin: src/reference/dense.ts (preactivationGrad, denseGradInput, denseGradWeight, denseGradBias).
// Test: test/kernels/dense.test.ts.
//
// The activation's derivative is computed from dy and what the forward pass kept:
//   PIECES == 1: saved = the bits of y (f32), dz = dy * act'(y)
//   PIECES  > 1: saved = the winning piece (u32), dz[piece * units + u] = dy[u] for the winner, 0
//                for the other pieces (maxout routing)
// grad_input fuses it (and the routing, and the dropout mask) into its product. The weight and bias
// gradients read dz written once by `preactivation`: their lanes run along the columns, and a dz
// computed inside their product loop would cost each lane two loads and the slope for every
// multiply-add it feeds, where a stored dz costs one load.
//
// Shapes (row-major):
//   dy        (batch, units)
//   saved     (batch, units)                  y as u32 bits, or the maxout winner
//   x         (batch, in_features)            the input the product saw: dropout(x) when dropout
//   weight_t  (units * PIECES, in_features)   a transposed copy: grad_input reads rows of it with
//                                             lanes along in_features, the fast form on software
//                                             Vulkan (the row-major W would need per-lane gathers)
//   dz / dz_in (batch, units * PIECES)        the gradient of the pre-activation
//   dx        (batch, in_features)            (dz W^T) * mask * scale: the mask is redrawn from the
//                                             same key as the forward's dropout entry point
//   dweight   (in_features, units * PIECES)   x^T dz  (+ old dweight when params.accumulate = 1)
//   dbias     (units * PIECES)                sum over the batch of dz (+ old dbias likewise)
//
// Dispatch geometry (lanes along the output columns; workgroups that follow one another share a
// block of columns, so the block of weight_t or dz they all read stays in cache):
//   preactivation  (ceil(units * PIECES / WORKGROUP), batch)
//   grad_input     (ceil(batch / ROWS), ceil(in_features / (COLS * WORKGROUP)))
//   grad_weight    (ceil(in_features / ROWS), ceil(units * PIECES / (COLS * WORKGROUP)))
//   grad_bias      (ceil(units * PIECES / WORKGROUP))
// weight_t is refreshed from weight by shaders/transpose.wgsl after every update of the weight.

struct Params {
  batch: u32,
  in_features: u32,
  units: u32,
  keep24: u32,
  scale: f32,
  seed: u32,
  stream: u32,
  sub: u32,
  accumulate: u32,
}

struct Clock {
  step: u32,
}

override ACTIVATION: u32 = ACT_IDENTITY;
override PIECES: u32 = 1u;
override WORKGROUP: u32 = 8u;

// grad_input and grad_weight tile their outputs as shaders/tiles.wgsl describes.
const KEEP_ALL: u32 = 16777216u;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> saved: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> weight_t: array<f32>;
@group(0) @binding(4) var<storage, read> dz_in: array<f32>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;
@group(0) @binding(7) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(8) var<storage, read_write> dbias: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<uniform> clock: Clock;

// dL/dz at (row, column of the pre-activation).
fn preactivation_grad(row: u32, column: u32) -> f32 {
  if (PIECES == 1u) {
    let i = row * params.units + column;
    return dy[i] * activation_slope(bitcast<f32>(saved[i]), ACTIVATION);
  }
  let piece = column / params.units;
  let i = row * params.units + column - piece * params.units;
  return select(0.0, dy[i], saved[i] == piece);
}

fn load_row(source_row: u32, columns: Columns) -> array<vec4<f32>, GROUPS> {
  var w: array<vec4<f32>, GROUPS>;
  for (var g = 0u; g < GROUPS; g++) {
    let i = columns.index[g] + vec4<u32>(source_row);
    w[g] = vec4<f32>(weight_t[i.x], weight_t[i.y], weight_t[i.z], weight_t[i.w]);
  }
  return w;
}

@compute @workgroup_size(WORKGROUP)
fn preactivation(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  let row = gid.y;
  let width = params.units * PIECES;
  if (column < width && row < params.batch) {
    dz[row * width + column] = preactivation_grad(row, column);
  }
}

@compute @workgroup_size(WORKGROUP)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ROWS;
  let features = params.in_features;
  let units = params.units;
  let columns = tile_columns(wid.y * WORKGROUP * COLS + lane, features);
  var rows: array<u32, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    rows[r] = min(row0 + r, params.batch - 1u);
  }
  var acc: array<array<vec4<f32>, GROUPS>, ROWS>;
  if (PIECES == 1u) {
    for (var n = 0u; n < units; n++) {
      let w = load_row(n * features, columns);
      for (var r = 0u; r < ROWS; r++) {
        let g = preactivation_grad(rows[r], n);
        for (var q = 0u; q < GROUPS; q++) {
          acc[r][q] += g * w[q];
        }
      }
    }
  } else {
    // Only the winning piece of each unit has a gradient: units steps instead of units * PIECES,
    // each row reading the weight row of its own winner.
    for (var u = 0u; u < units; u++) {
      for (var r = 0u; r < ROWS; r++) {
        let i = rows[r] * units + u;
        let w = load_row((saved[i] * units + u) * features, columns);
        let g = dy[i];
        for (var q = 0u; q < GROUPS; q++) {
          acc[r][q] += g * w[q];
        }
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= params.batch) {
      break;
    }
    for (var q = 0u; q < GROUPS; q++) {
      for (var c = 0u; c < 4u; c++) {
        if (columns.live[q][c]) {
          let column = columns.index[q][c];
          var value = acc[r][q][c] * params.scale;
          if (params.keep24 < KEEP_ALL) {
            // The same draw as the forward dropout entry point: the quad of 4 columns holding this one.
            let bits = draw_bits(params.seed, params.stream, clock.step, params.sub, row, column);
            value = select(0.0, value, keep_from_bits(bits[column & 3u], params.keep24));
          }
          dx[row * features + column] = value;
        }
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn grad_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let k0 = wid.x * ROWS;
  let features = params.in_features;
  let width = params.units * PIECES;
  let columns = tile_columns(wid.y * WORKGROUP * COLS + lane, width);
  var ks: array<u32, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    ks[r] = min(k0 + r, features - 1u);
  }
  var acc: array<array<vec4<f32>, GROUPS>, ROWS>;
  for (var b = 0u; b < params.batch; b++) {
    var g: array<vec4<f32>, GROUPS>;
    for (var q = 0u; q < GROUPS; q++) {
      let i = columns.index[q] + vec4<u32>(b * width);
      g[q] = vec4<f32>(dz_in[i.x], dz_in[i.y], dz_in[i.z], dz_in[i.w]);
    }
    for (var r = 0u; r < ROWS; r++) {
      let xv = x[b * features + ks[r]];
      for (var q = 0u; q < GROUPS; q++) {
        acc[r][q] += xv * g[q];
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let k = k0 + r;
    if (k >= features) {
      break;
    }
    for (var q = 0u; q < GROUPS; q++) {
      for (var c = 0u; c < 4u; c++) {
        if (columns.live[q][c]) {
          let i = k * width + columns.index[q][c];
          dweight[i] = select(0.0, dweight[i], params.accumulate == 1u) + acc[r][q][c];
        }
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn grad_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  let width = params.units * PIECES;
  if (column >= width) {
    return;
  }
  var sum = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    sum += dz_in[b * width + column];
  }
  dbias[column] = select(0.0, dbias[column], params.accumulate == 1u) + sum;
}
