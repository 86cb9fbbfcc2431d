// Dense layer, forward: y = act(dropout(x) W + b), act in {identity, relu, sigmoid, maxout(PIECES)}.
// Twin: src/reference/dense.ts (denseForward, dropoutForward). Test: test/kernels/dense.test.ts.
//
// Shapes (row-major):
//   x       (batch, in_features)             the layer's input
//   dropped (batch, in_features)             dropout(x): mask * scale * x
//   weight  (in_features, units * PIECES)    column piece * units + unit ("piece-major", so one
//                                            invocation owns every piece of its units)
//   bias    (units * PIECES)
//   y       (batch, units)                   act(...) or, for maxout, the max over the pieces
//   winner  (batch, units) u32               maxout only: the winning piece, for the backward pass
//
// Entry points:
//   dropout         one invocation per 4 consecutive features of a row (one Philox draw covers
//                   them); dispatch (ceil(ceil(in_features / 4) / WORKGROUP), batch).
//   forward         one invocation per ROWS x COLS tile of y, lanes along the units (the layout
//   forward_maxout  software Vulkan rewards: x loads are uniform across lanes and broadcast);
//                   dispatch (ceil(units / (COLS * WORKGROUP)), ceil(batch / ROWS)).
//
// Why dropout is its own entry point: the mask of element (row, col) is a Philox draw; computing it
// inside the product loop would redo it for every tile of y that reads x (units / COLS times) and
// again in grad_weight. Written once, `dropped` serves forward and grad_weight, and grad_input
// redraws the mask once per element of dx.

struct Params {
  batch: u32,
  in_features: u32,
  units: u32,
  // dropout: keep probability as an integer threshold on 24 bits (2^24 keeps everything) and scale
  keep24: u32,
  scale: f32,
  seed: u32,
  stream: u32,
  sub: u32,
}

struct Clock {
  step: u32,
}

override ACTIVATION: u32 = ACT_IDENTITY;
override PIECES: u32 = 1u;
override WORKGROUP: u32 = 8u;

const ROWS: u32 = 4u;
const COLS: u32 = 4u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dropped: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> winner: array<u32>;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<uniform> clock: Clock;

@compute @workgroup_size(WORKGROUP)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let col0 = gid.x * 4u;
  let features = params.in_features;
  if (row >= params.batch || col0 >= features) {
    return;
  }
  let bits = draw_bits(params.seed, params.stream, clock.step, params.sub, row, col0);
  for (var c = 0u; c < 4u; c++) {
    let col = col0 + c;
    if (col < features) {
      let i = row * features + col;
      dropped[i] = select(0.0, x[i] * params.scale, keep_from_bits(bits[c], params.keep24));
    }
  }
}

// z[r][c] = sum_k x[row0 + r, k] * weight[k, piece * units + unit0 + c], rows and units past the
// end contribute nothing (their loads are clamped and their results never stored).
fn tile_product(piece: u32, row0: u32, unit0: u32) -> array<vec4<f32>, ROWS> {
  let features = params.in_features;
  let width = params.units * PIECES;
  let last_row = params.batch - 1u;
  let last_unit = params.units - 1u;
  var row_base: array<u32, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    row_base[r] = min(row0 + r, last_row) * features;
  }
  var col: vec4<u32>;
  var live: vec4<f32>;
  for (var c = 0u; c < COLS; c++) {
    col[c] = piece * params.units + min(unit0 + c, last_unit);
    live[c] = select(0.0, 1.0, unit0 + c <= last_unit);
  }
  var acc: array<vec4<f32>, ROWS>;
  for (var k = 0u; k < features; k++) {
    let w_row = k * width;
    let w = vec4<f32>(weight[w_row + col.x], weight[w_row + col.y], weight[w_row + col.z], weight[w_row + col.w]) * live;
    for (var r = 0u; r < ROWS; r++) {
      acc[r] += x[row_base[r] + k] * w;
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    acc[r] += vec4<f32>(bias[col.x], bias[col.y], bias[col.z], bias[col.w]);
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let unit0 = gid.x * COLS;
  let row0 = gid.y * ROWS;
  if (unit0 >= params.units || row0 >= params.batch) {
    return;
  }
  let z = tile_product(0u, row0, unit0);
  for (var r = 0u; r < ROWS; r++) {
    for (var c = 0u; c < COLS; c++) {
      if (row0 + r < params.batch && unit0 + c < params.units) {
        y[(row0 + r) * params.units + unit0 + c] = activate(z[r][c], ACTIVATION);
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn forward_maxout(@builtin(global_invocation_id) gid: vec3<u32>) {
  let unit0 = gid.x * COLS;
  let row0 = gid.y * ROWS;
  if (unit0 >= params.units || row0 >= params.batch) {
    return;
  }
  var best = tile_product(0u, row0, unit0);
  var best_piece: array<vec4<u32>, ROWS>;
  for (var piece = 1u; piece < PIECES; piece++) {
    let z = tile_product(piece, row0, unit0);
    for (var r = 0u; r < ROWS; r++) {
      // Strictly greater: ties go to the lowest piece, as the reference does.
      let better = z[r] > best[r];
      best[r] = select(best[r], z[r], better);
      best_piece[r] = select(best_piece[r], vec4<u32>(piece), better);
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    for (var c = 0u; c < COLS; c++) {
      if (row0 + r < params.batch && unit0 + c < params.units) {
        let i = (row0 + r) * params.units + unit0 + c;
        y[i] = best[r][c];
        winner[i] = best_piece[r][c];
      }
    }
  }
}
