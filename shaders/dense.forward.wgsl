// Dense layer, forward: y = act(dropout(x) W + b), act in {identity, relu, sigmoid, maxout(PIECES)},
// and for a conditional layer (forward_class, forward_maxout_class) y = act(dropout(x) W + E[c] + b),
// E the class rows and c the row's class: a one-hot class concatenated to x, times its rows of the
// weight, without the one-hot or its multiply-adds. Dropout and the input map act on x only.
// dropout(x) = mask * (scale * x + shift): with keep 1 and shift != 0 it is an affine map of the
// input alone (D seeing [0, 1] pixels on [-1, 1]); shift is 0 for plain dropout.
// Twin: src/reference/dense.ts (denseForward, dropoutForward). Test: test/kernels/dense.test.ts.
//
// Shapes (row-major):
//   x       (batch, in_features)             the layer's input
//   dropped (batch, in_features)             dropout(x): mask * (scale * x + shift)
//   weight  (in_features, units * PIECES)    column piece * units + unit ("piece-major", so one
//                                            invocation owns every piece of its units); bound as
//                                            vec4s, its size rounded up to 16 bytes
//   bias    (units * PIECES)
//   y       (batch, units)                   act(...) or, for maxout, the max over the pieces
//   winner  (batch, units) u32               maxout only: the winning piece, for the backward pass
//   class_weight (classes, units * PIECES)   *_class only: E, columns as the weight's
//   labels  (batch) u32                      *_class only: each row's class, below classes
//
// Entry points:
//   dropout         one invocation per 4 consecutive features of a row (one Philox draw covers
//                   them); dispatch (ceil(ceil(in_features / 4) / WORKGROUP), batch).
//   forward         the GEMM dropout(x) W of shaders/tiles.wgsl (tile_product; this file defines
//   forward_maxout  its operands: A = x, as bound, B = one piece's weight columns), then bias and
//                   activation, or the max over the pieces and its winner, in the same invocation:
//                   one invocation per TILE_ROWS rows x TILE_QUADS quads of 4 units, lanes along
//                   the units; dispatch (ceil(batch / TILE_ROWS),
//                   ceil(ceil(units / 4) / (TILE_QUADS * TILE_LANES))), workgroup TILE_WORKGROUP.
//                   The tile is src/kernels/tiles.ts's denseForward.
//   forward_class        the same, E[labels[row]] added before the bias
//   forward_maxout_class
//
// ALIGNED (units a multiple of 4, so every row and every piece of the weight starts on a vec4):
// a quad of the weight is one vec4 load. Otherwise (the 1-unit output of D, the toys' 1- and
// 2-dimensional outputs) each of its 4 elements is picked out of the vec4 holding it; such layers
// are tiny. Which won and why: see shaders/tiles.wgsl.
//
// Why dropout is its own entry point: the mask of element (row, col) is a Philox draw; computing it
// inside the product loop would redo it for every tile of y that reads x (units / (4 TILE_QUADS)
// times) and again in grad_weight. Written once, `dropped` serves forward and grad_weight, and grad_input
// redraws the mask once per quad of dx.

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
  shift: f32,
}

struct Clock {
  step: u32,
}

override ACTIVATION: u32 = ACT_IDENTITY;
override PIECES: u32 = 1u;
// The dropout entry point's workgroup; the products take theirs from the tile (shaders/tiles.wgsl).
override WORKGROUP: u32;
override ALIGNED: bool;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> dropped: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
@group(0) @binding(5) var<storage, read_write> winner: array<u32>;
@group(0) @binding(6) var<storage, read> class_weight: array<f32>;
@group(0) @binding(7) var<storage, read> labels: array<u32>;
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
  let kept = keep_quad(params.seed, params.stream, clock.step, params.sub, row, col0, params.keep24);
  for (var c = 0u; c < 4u; c++) {
    let col = col0 + c;
    if (col < features) {
      let i = row * features + col;
      dropped[i] = select(0.0, x[i] * params.scale + params.shift, kept[c]);
    }
  }
}

// The product's operands for shaders/tiles.wgsl: A = dropout(x) (batch, in_features), B = the
// weight columns of the piece that tile_product passes as its operands (in_features, units).
fn tile_depth(piece: u32) -> u32 {
  return params.in_features;
}

fn tile_a_rows(piece: u32, row0: u32) -> TileRows {
  let last = params.batch - 1u;
  var rows: TileRows;
  for (var r = 0u; r < TILE_MAX_ROWS; r++) {
    rows[r] = min(row0 + r, last) * params.in_features;
  }
  return rows;
}

fn tile_a(piece: u32, rows: TileRows, k: u32) -> TileColumn {
  var a: TileColumn;
  a[0] = vec4<f32>(x[rows[0] + k], x[rows[1] + k], x[rows[2] + k], x[rows[3] + k]);
  if (TILE_ROWS == 8u) {
    a[1] = vec4<f32>(x[rows[4] + k], x[rows[5] + k], x[rows[6] + k], x[rows[7] + k]);
  }
  return a;
}

// Units 4 * quad .. 4 * quad + 3 of piece `piece` in row k of the weight (clamped at the last unit;
// the clamped columns are never stored).
fn tile_b(piece: u32, k: u32, quad: u32) -> vec4<f32> {
  let units = params.units;
  let start = k * units * PIECES + piece * units;
  if (ALIGNED) {
    return weight[start / 4u + min(quad, units / 4u - 1u)];
  }
  var w: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = start + min(4u * quad + c, units - 1u);
    w[c] = weight[i / 4u][i % 4u];
  }
  return w;
}

// z + bias[piece, quads[g]] on every row of the tile.
fn add_bias(piece: u32, quads: TileQuads, sums: TileSums) -> TileSums {
  var z = sums;
  let units = params.units;
  for (var g = 0u; g < TILE_QUADS; g++) {
    var b: vec4<f32>;
    for (var c = 0u; c < 4u; c++) {
      b[c] = bias[piece * units + min(4u * quads[g] + c, units - 1u)];
    }
    for (var r = 0u; r < TILE_ROWS; r++) {
      z[r][g] += b;
    }
  }
  return z;
}

// z + class_weight[labels[row], piece, quads[g]]: a conditional layer's class rows, the rows of its
// weight that a one-hot class beside x would meet (clamped at the last row and unit, like the
// product; the clamped values are never stored). Only the *_class entry points call it, so the
// unconditional ones bind no labels.
fn add_class_rows(piece: u32, row0: u32, quads: TileQuads, sums: TileSums) -> TileSums {
  var z = sums;
  let units = params.units;
  let width = units * PIECES;
  let last = params.batch - 1u;
  for (var r = 0u; r < TILE_ROWS; r++) {
    let base = labels[min(row0 + r, last)] * width + piece * units;
    for (var g = 0u; g < TILE_QUADS; g++) {
      var e: vec4<f32>;
      for (var c = 0u; c < 4u; c++) {
        e[c] = class_weight[base + min(4u * quads[g] + c, units - 1u)];
      }
      z[r][g] += e;
    }
  }
  return z;
}

// z[r][g] = dropout(x)[row0 + r, :] weight[:, piece, quads[g]] + bias[piece, quads[g]].
fn pre_activation(piece: u32, row0: u32, quads: TileQuads) -> TileSums {
  return add_bias(piece, quads, tile_product(piece, row0, quads));
}

// The same with the class term between the product and the bias, the twin's order.
fn pre_activation_class(piece: u32, row0: u32, quads: TileQuads) -> TileSums {
  return add_bias(piece, quads, add_class_rows(piece, row0, quads, tile_product(piece, row0, quads)));
}

fn store_activated(row0: u32, quads: TileQuads, z: TileSums) {
  for (var r = 0u; r < TILE_ROWS; r++) {
    let row = row0 + r;
    for (var g = 0u; g < TILE_QUADS; g++) {
      for (var c = 0u; c < 4u; c++) {
        let unit = 4u * quads[g] + c;
        if (row < params.batch && unit < params.units) {
          y[row * params.units + unit] = activate(z[r][g][c], ACTIVATION);
        }
      }
    }
  }
}

@compute @workgroup_size(TILE_WORKGROUP)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = tile_row0(wid.x);
  let quads = tile_quads(wid.y, lane);
  store_activated(row0, quads, pre_activation(0u, row0, quads));
}

@compute @workgroup_size(TILE_WORKGROUP)
fn forward_class(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = tile_row0(wid.x);
  let quads = tile_quads(wid.y, lane);
  store_activated(row0, quads, pre_activation_class(0u, row0, quads));
}

alias TilePieces = array<array<vec4<u32>, TILE_MAX_QUADS>, TILE_MAX_ROWS>;

// Keeps the larger of best and z (piece `piece`) in best, and which piece it was.
fn keep_better(best: ptr<function, TileSums>, best_piece: ptr<function, TilePieces>, z: TileSums, piece: u32) {
  for (var r = 0u; r < TILE_ROWS; r++) {
    for (var g = 0u; g < TILE_QUADS; g++) {
      // Strictly greater: ties go to the lowest piece, as the reference does.
      let better = z[r][g] > (*best)[r][g];
      (*best)[r][g] = select((*best)[r][g], z[r][g], better);
      (*best_piece)[r][g] = select((*best_piece)[r][g], vec4<u32>(piece), better);
    }
  }
}

fn store_maxout(row0: u32, quads: TileQuads, best: TileSums, best_piece: TilePieces) {
  for (var r = 0u; r < TILE_ROWS; r++) {
    let row = row0 + r;
    for (var g = 0u; g < TILE_QUADS; g++) {
      for (var c = 0u; c < 4u; c++) {
        let unit = 4u * quads[g] + c;
        if (row < params.batch && unit < params.units) {
          let i = row * params.units + unit;
          y[i] = best[r][g][c];
          winner[i] = best_piece[r][g][c];
        }
      }
    }
  }
}

@compute @workgroup_size(TILE_WORKGROUP)
fn forward_maxout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = tile_row0(wid.x);
  let quads = tile_quads(wid.y, lane);
  // The running max lives outside the product loop, so it costs registers only between pieces.
  var best = pre_activation(0u, row0, quads);
  var best_piece: TilePieces;
  for (var piece = 1u; piece < PIECES; piece++) {
    keep_better(&best, &best_piece, pre_activation(piece, row0, quads), piece);
  }
  store_maxout(row0, quads, best, best_piece);
}

@compute @workgroup_size(TILE_WORKGROUP)
fn forward_maxout_class(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = tile_row0(wid.x);
  let quads = tile_quads(wid.y, lane);
  var best = pre_activation_class(0u, row0, quads);
  var best_piece: TilePieces;
  for (var piece = 1u; piece < PIECES; piece++) {
    keep_better(&best, &best_piece, pre_activation_class(piece, row0, quads), piece);
  }
  store_maxout(row0, quads, best, best_piece);
}
