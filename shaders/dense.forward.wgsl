// Dense layer, forward: y = act(dropout(x) W + b), act in {identity, relu, sigmoid, maxout(PIECES)}.
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
//
// Entry points:
//   dropout         one invocation per 4 consecutive features of a row (one Philox draw covers
//                   them); dispatch (ceil(ceil(in_features / 4) / WORKGROUP), batch).
//   forward         one invocation per ROWS x COLS tile of y (shaders/tiles.wgsl): ROWS rows by
//   forward_maxout  QUADS quads of 4 units, lanes along the units; dispatch (ceil(batch / ROWS),
//                   ceil(ceil(units / 4) / (QUADS * WORKGROUP))): workgroups that follow one
//                   another share a block of weight columns, which stays in cache.
//
// ALIGNED (units a multiple of 4, so every row and every piece of the weight starts on a vec4):
// a quad of the weight is one vec4 load. Otherwise (the 1-unit output of D, the toys' 1- and
// 2-dimensional outputs) each of its 4 elements is picked out of the vec4 holding it; such layers
// are tiny. Which won and why: see shaders/tiles.wgsl.
//
// Why dropout is its own entry point: the mask of element (row, col) is a Philox draw; computing it
// inside the product loop would redo it for every tile of y that reads x (units / COLS times) and
// again in grad_weight. Written once, `dropped` serves forward and grad_weight, and grad_input
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
override WORKGROUP: u32 = 8u;
override ALIGNED: bool = false;

// ROWS, QUADS, COLS and tile_quads come from shaders/tiles.wgsl.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<vec4<f32>>;
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
  let kept = keep_quad(params.seed, params.stream, clock.step, params.sub, row, col0, params.keep24);
  for (var c = 0u; c < 4u; c++) {
    let col = col0 + c;
    if (col < features) {
      let i = row * features + col;
      dropped[i] = select(0.0, x[i] * params.scale + params.shift, kept[c]);
    }
  }
}

// Units 4 * quad .. 4 * quad + 3 of piece `piece` in row k of the weight (clamped at the last unit;
// the clamped columns are never stored).
fn weight_quad(k: u32, piece: u32, quad: u32) -> vec4<f32> {
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

// z[r][g] = x[row0 + r, :] weight[:, piece, quads[g]] + bias, for ROWS rows (clamped at the end of
// the batch; their results are never stored). The accumulators are named variables rather than an
// array, which keeps lavapipe's compiler from addressing them through memory. They assume
// ROWS = 8 and QUADS = 2.
fn tile_product(piece: u32, row0: u32, quads: array<u32, QUADS>) -> array<array<vec4<f32>, QUADS>, ROWS> {
  let features = params.in_features;
  let last = params.batch - 1u;
  let r0 = min(row0, last) * features;
  let r1 = min(row0 + 1u, last) * features;
  let r2 = min(row0 + 2u, last) * features;
  let r3 = min(row0 + 3u, last) * features;
  let r4 = min(row0 + 4u, last) * features;
  let r5 = min(row0 + 5u, last) * features;
  let r6 = min(row0 + 6u, last) * features;
  let r7 = min(row0 + 7u, last) * features;
  let q0 = quads[0];
  let q1 = quads[1];
  var a00 = vec4<f32>(); var a01 = vec4<f32>(); var a10 = vec4<f32>(); var a11 = vec4<f32>();
  var a20 = vec4<f32>(); var a21 = vec4<f32>(); var a30 = vec4<f32>(); var a31 = vec4<f32>();
  var a40 = vec4<f32>(); var a41 = vec4<f32>(); var a50 = vec4<f32>(); var a51 = vec4<f32>();
  var a60 = vec4<f32>(); var a61 = vec4<f32>(); var a70 = vec4<f32>(); var a71 = vec4<f32>();
  for (var k = 0u; k < features; k++) {
    let w0 = weight_quad(k, piece, q0);
    let w1 = weight_quad(k, piece, q1);
    let x0 = x[r0 + k]; let x1 = x[r1 + k]; let x2 = x[r2 + k]; let x3 = x[r3 + k];
    let x4 = x[r4 + k]; let x5 = x[r5 + k]; let x6 = x[r6 + k]; let x7 = x[r7 + k];
    a00 += x0 * w0; a01 += x0 * w1; a10 += x1 * w0; a11 += x1 * w1;
    a20 += x2 * w0; a21 += x2 * w1; a30 += x3 * w0; a31 += x3 * w1;
    a40 += x4 * w0; a41 += x4 * w1; a50 += x5 * w0; a51 += x5 * w1;
    a60 += x6 * w0; a61 += x6 * w1; a70 += x7 * w0; a71 += x7 * w1;
  }
  var acc: array<array<vec4<f32>, QUADS>, ROWS>;
  acc[0] = array(a00, a01); acc[1] = array(a10, a11); acc[2] = array(a20, a21); acc[3] = array(a30, a31);
  acc[4] = array(a40, a41); acc[5] = array(a50, a51); acc[6] = array(a60, a61); acc[7] = array(a70, a71);
  let units = params.units;
  for (var g = 0u; g < QUADS; g++) {
    var b: vec4<f32>;
    for (var c = 0u; c < 4u; c++) {
      b[c] = bias[piece * units + min(4u * quads[g] + c, units - 1u)];
    }
    for (var r = 0u; r < ROWS; r++) {
      acc[r][g] += b;
    }
  }
  return acc;
}

@compute @workgroup_size(WORKGROUP)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ROWS;
  let quads = tile_quads(first_quad(wid.y, lane));
  let z = tile_product(0u, row0, quads);
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    for (var g = 0u; g < QUADS; g++) {
      for (var c = 0u; c < 4u; c++) {
        let unit = 4u * quads[g] + c;
        if (row < params.batch && unit < params.units) {
          y[row * params.units + unit] = activate(z[r][g][c], ACTIVATION);
        }
      }
    }
  }
}

@compute @workgroup_size(WORKGROUP)
fn forward_maxout(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * ROWS;
  let quads = tile_quads(first_quad(wid.y, lane));
  // The running max lives outside the product loop, so it costs registers only between pieces.
  var best = tile_product(0u, row0, quads);
  var best_piece: array<array<vec4<u32>, QUADS>, ROWS>;
  for (var piece = 1u; piece < PIECES; piece++) {
    let z = tile_product(piece, row0, quads);
    for (var r = 0u; r < ROWS; r++) {
      for (var g = 0u; g < QUADS; g++) {
        // Strictly greater: ties go to the lowest piece, as the reference does.
        let better = z[r][g] > best[r][g];
        best[r][g] = select(best[r][g], z[r][g], better);
        best_piece[r][g] = select(best_piece[r][g], vec4<u32>(piece), better);
      }
    }
  }
  for (var r = 0u; r < ROWS; r++) {
    let row = row0 + r;
    for (var g = 0u; g < QUADS; g++) {
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
