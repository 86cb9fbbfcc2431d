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
//   forward_maxout  software Vulkan rewards: x loads are uniform across lanes and broadcast, and
//                   each weight a lane loads feeds ROWS multiply-adds); dispatch
//                   (ceil(batch / ROWS), ceil(units / (COLS * WORKGROUP))): workgroups that follow
//                   one another share a block of weight columns, which stays in cache (on lavapipe
//                   this order took the 1200 x 1200 product from 4.5 to 6.9 GFLOP/s).
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

// ROWS, GROUPS, COLS and tile_columns come from shaders/tiles.wgsl.

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

// z[r] = x[row0 + r, :] weight[:, piece * units + columns] + bias, for ROWS rows (clamped at the
// end of the batch; their results are never stored). The 4 x 4 accumulators of the product loop are
// named variables rather than an array: lavapipe's compiler then keeps them in registers (4.5 ->
// 7 GFLOP/s on the 100 x 100 -> 1200 layer). They assume ROWS = GROUPS = 4.
fn tile_product(piece: u32, row0: u32, columns: Columns) -> array<array<vec4<f32>, GROUPS>, ROWS> {
  let features = params.in_features;
  let width = params.units * PIECES;
  let offset = piece * params.units;
  var row_base: array<u32, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    row_base[r] = min(row0 + r, params.batch - 1u) * features;
  }
  let c0 = columns.index[0] + vec4<u32>(offset);
  let c1 = columns.index[1] + vec4<u32>(offset);
  let c2 = columns.index[2] + vec4<u32>(offset);
  let c3 = columns.index[3] + vec4<u32>(offset);
  var a00 = vec4<f32>(); var a01 = vec4<f32>(); var a02 = vec4<f32>(); var a03 = vec4<f32>();
  var a10 = vec4<f32>(); var a11 = vec4<f32>(); var a12 = vec4<f32>(); var a13 = vec4<f32>();
  var a20 = vec4<f32>(); var a21 = vec4<f32>(); var a22 = vec4<f32>(); var a23 = vec4<f32>();
  var a30 = vec4<f32>(); var a31 = vec4<f32>(); var a32 = vec4<f32>(); var a33 = vec4<f32>();
  let r0 = row_base[0]; let r1 = row_base[1]; let r2 = row_base[2]; let r3 = row_base[3];
  for (var k = 0u; k < features; k++) {
    let w_row = k * width;
    let i0 = c0 + vec4<u32>(w_row);
    let i1 = c1 + vec4<u32>(w_row);
    let i2 = c2 + vec4<u32>(w_row);
    let i3 = c3 + vec4<u32>(w_row);
    let w0 = vec4<f32>(weight[i0.x], weight[i0.y], weight[i0.z], weight[i0.w]);
    let w1 = vec4<f32>(weight[i1.x], weight[i1.y], weight[i1.z], weight[i1.w]);
    let w2 = vec4<f32>(weight[i2.x], weight[i2.y], weight[i2.z], weight[i2.w]);
    let w3 = vec4<f32>(weight[i3.x], weight[i3.y], weight[i3.z], weight[i3.w]);
    let x0 = x[r0 + k]; let x1 = x[r1 + k]; let x2 = x[r2 + k]; let x3 = x[r3 + k];
    a00 += x0 * w0; a01 += x0 * w1; a02 += x0 * w2; a03 += x0 * w3;
    a10 += x1 * w0; a11 += x1 * w1; a12 += x1 * w2; a13 += x1 * w3;
    a20 += x2 * w0; a21 += x2 * w1; a22 += x2 * w2; a23 += x2 * w3;
    a30 += x3 * w0; a31 += x3 * w1; a32 += x3 * w2; a33 += x3 * w3;
  }
  var acc: array<array<vec4<f32>, GROUPS>, ROWS>;
  acc[0] = array(a00, a01, a02, a03);
  acc[1] = array(a10, a11, a12, a13);
  acc[2] = array(a20, a21, a22, a23);
  acc[3] = array(a30, a31, a32, a33);
  for (var g = 0u; g < GROUPS; g++) {
    let i = columns.index[g] + vec4<u32>(offset);
    let b = vec4<f32>(bias[i.x], bias[i.y], bias[i.z], bias[i.w]);
    for (var r = 0u; r < ROWS; r++) {
      acc[r][g] += b;
    }
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ROWS;
  let columns = tile_columns(wid.y * WORKGROUP * COLS + lane, params.units);
  let z = tile_product(0u, row0, columns);
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    for (var g = 0u; g < GROUPS; g++) {
      for (var c = 0u; c < 4u; c++) {
        if (row < params.batch && columns.live[g][c]) {
          y[row * params.units + columns.index[g][c]] = activate(z[r][g][c], ACTIVATION);
        }
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn forward_maxout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ROWS;
  let columns = tile_columns(wid.y * WORKGROUP * COLS + lane, params.units);
  // The running max lives outside the product loop, so it costs registers only between pieces.
  var best = tile_product(0u, row0, columns);
  var best_piece: array<array<vec4<u32>, GROUPS>, ROWS>;
  for (var piece = 1u; piece < PIECES; piece++) {
    let z = tile_product(piece, row0, columns);
    for (var r = 0u; r < ROWS; r++) {
      for (var g = 0u; g < GROUPS; g++) {
        // Strictly greater: ties go to the lowest piece, as the reference does.
        let better = z[r][g] > best[r][g];
        best[r][g] = select(best[r][g], z[r][g], better);
        best_piece[r][g] = select(best_piece[r][g], vec4<u32>(piece), better);
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    for (var g = 0u; g < GROUPS; g++) {
      for (var c = 0u; c < 4u; c++) {
        if (row < params.batch && columns.live[g][c]) {
          let i = row * params.units + columns.index[g][c];
          y[i] = best[r][g][c];
          winner[i] = best_piece[r][g][c];
        }
      }
    }
  }
}
