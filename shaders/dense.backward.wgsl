// Dense layer, backward: the gradients of y = act(dropout(x) W + b) (see dense.forward.wgsl).
// Twin: src/reference/dense.ts (denseGradInput, denseGradWeight, denseGradBias, transpose).
// Test: test/kernels/dense.test.ts.
//
// The activation's derivative is fused into every entry point: dz, the gradient with respect to
// the pre-activation, is never stored. It is computed from dy and what the forward pass kept:
//   PIECES == 1: saved = the bits of y (f32), dz = dy * act'(y)
//   PIECES  > 1: saved = the winning piece (u32), dz[piece * units + u] = dy[u] for the winner, 0
//                for the other pieces (maxout routing)
//
// Shapes (row-major):
//   dy        (batch, units)
//   saved     (batch, units)                  y as u32 bits, or the maxout winner
//   x         (batch, in_features)            the input the product saw: dropout(x) when dropout
//   weight_t  (units * PIECES, in_features)   a transposed copy: grad_input reads rows of it with
//                                             lanes along in_features, the fast form on software
//                                             Vulkan (the row-major W would need per-lane gathers)
//   dx        (batch, in_features)            (dz W^T) * mask * scale: the mask is redrawn from the
//                                             same key as the forward's dropout entry point
//   dweight   (in_features, units * PIECES)   x^T dz  (+ old dweight when params.accumulate = 1)
//   dbias     (units * PIECES)                sum over the batch of dz (+ old dbias likewise)
//
// Dispatch geometry (lanes along the output columns; ROWS x COLS outputs per invocation):
//   grad_input        (ceil(ceil(in_features / COLS) / WORKGROUP), ceil(batch / ROWS))
//   grad_weight       (ceil(units * PIECES / (COLS * WORKGROUP)), ceil(in_features / ROWS))
//   grad_bias         (ceil(units * PIECES / WORKGROUP))
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

const ROWS: u32 = 4u;
const COLS: u32 = 4u;
const KEEP_ALL: u32 = 16777216u;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> saved: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> weight_t: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
@group(0) @binding(5) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(6) var<storage, read_write> dbias: array<f32>;
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

@compute @workgroup_size(WORKGROUP)
fn grad_input(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * COLS;
  let row0 = gid.y * ROWS;
  let features = params.in_features;
  let units = params.units;
  if (col0 >= features || row0 >= params.batch) {
    return;
  }
  let last_row = params.batch - 1u;
  let last_col = features - 1u;
  var col: vec4<u32>;
  var live: vec4<f32>;
  for (var c = 0u; c < COLS; c++) {
    col[c] = min(col0 + c, last_col);
    live[c] = select(0.0, 1.0, col0 + c <= last_col);
  }
  var acc: array<vec4<f32>, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    let row = min(row0 + r, last_row);
    if (PIECES == 1u) {
      for (var n = 0u; n < units; n++) {
        let g = preactivation_grad(row, n);
        let w = n * features;
        acc[r] += g * vec4<f32>(weight_t[w + col.x], weight_t[w + col.y], weight_t[w + col.z], weight_t[w + col.w]);
      }
    } else {
      // Only the winning piece of each unit has a gradient: units steps instead of units * PIECES.
      for (var u = 0u; u < units; u++) {
        let i = row * units + u;
        let w = (saved[i] * units + u) * features;
        acc[r] += dy[i] * vec4<f32>(weight_t[w + col.x], weight_t[w + col.y], weight_t[w + col.z], weight_t[w + col.w]);
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    if (row >= params.batch) {
      break;
    }
    var factor = live * params.scale;
    if (params.keep24 < KEEP_ALL) {
      // col0 is a multiple of 4, so one draw covers the four columns, as in the dropout entry point.
      let bits = draw_bits(params.seed, params.stream, clock.step, params.sub, row, col0);
      for (var c = 0u; c < COLS; c++) {
        factor[c] = select(0.0, factor[c], keep_from_bits(bits[c], params.keep24));
      }
    }
    let value = acc[r] * factor;
    for (var c = 0u; c < COLS; c++) {
      if (col0 + c < features) {
        dx[row * features + col0 + c] = value[c];
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn grad_weight(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * COLS;
  let k0 = gid.y * ROWS;
  let features = params.in_features;
  let width = params.units * PIECES;
  if (col0 >= width || k0 >= features) {
    return;
  }
  let last_col = width - 1u;
  let last_k = features - 1u;
  var acc: array<vec4<f32>, ROWS>;
  for (var b = 0u; b < params.batch; b++) {
    var g: vec4<f32>;
    for (var c = 0u; c < COLS; c++) {
      g[c] = select(0.0, preactivation_grad(b, min(col0 + c, last_col)), col0 + c <= last_col);
    }
    for (var r = 0u; r < ROWS; r++) {
      acc[r] += x[b * features + min(k0 + r, last_k)] * g;
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    for (var c = 0u; c < COLS; c++) {
      if (k0 + r < features && col0 + c < width) {
        let i = (k0 + r) * width + col0 + c;
        dweight[i] = select(0.0, dweight[i], params.accumulate == 1u) + acc[r][c];
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn grad_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  if (column >= params.units * PIECES) {
    return;
  }
  var sum = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    sum += preactivation_grad(b, column);
  }
  dbias[column] = select(0.0, dbias[column], params.accumulate == 1u) + sum;
}
