// Dense layer, backward: the gradients of y = act(dropout(x) W + b) (see dense.forward.wgsl).
// Twin: src/reference/dense.ts (preactivationGrad, denseGradInput, denseGradWeight, denseGradBias).
// Test: test/kernels/dense.test.ts.
//
// The activation's derivative is computed from dy and what the forward pass kept:
//   PIECES == 1: saved = the bits of y (f32), dz = dy * act'(y)
//   PIECES  > 1: saved = the winning piece (u32), dz[piece * units + u] = dy[u] for the winner, 0
//                for the other pieces (maxout routing)
// `preactivation` writes dz once, in two layouts; grad_input, grad_weight and grad_bias read it.
// grad_input is one dense product whatever the activation: for maxout it multiplies the losing
// pieces' zeros too (5x the multiply-adds of routing each row to its winners' weight rows), but
// every row of the tile shares its loads: for D's first layer it took 22-39 ms against 36-60 ms for
// the routed kernel with 4 x 16 tiles, 1.6-1.9x faster in three runs that timed both.
//
// grad_input computes dx^T = W dz^T: its tile rows are input features (rows of W, read as scalars)
// and its quads are quads of the batch (of dz^T, read as vec4s), and it stores dx in its row-major
// layout. So it reads the weight itself, and no transposed copy of any weight has to be refreshed
// after every update (those transposes took about a tenth of a paper-mnist iteration).
//
// Shapes (row-major):
//   dy        (batch, units)
//   saved     (batch, units)                  y as u32 bits, or the maxout winner
//   lhs       the left-hand side of a product, bound twice: as scalars (lhs) and as vec4s
//   lhs_quads (lhs_quads, size rounded up to 16 bytes)
//             grad_input:  (in_features, units * PIECES), the layer's weight
//             grad_weight: (batch, in_features), the input the product saw (dropout(x) when
//                          dropout), read transposed
//   rhs_quads the right-hand side of a product, bound as vec4s (size rounded up to 16 bytes):
//             grad_input:  dz_t; grad_weight: dz
//   dz        (batch, units * PIECES)         the gradient of the pre-activation, written by
//   dz_in                                     `preactivation`; read as scalars (dz_in) by grad_bias
//   dz_t      (units * PIECES, batch)         the same, transposed, written by `preactivation`
//   dx        (batch, in_features)            (dz W^T) * mask * scale: the mask is redrawn from the
//                                             same key as the forward's dropout entry point
//   dweight   (in_features, units * PIECES)   x^T dz  (+ old dweight when params.accumulate = 1)
//   dbias     (units * PIECES)                sum over the batch of dz (+ old dbias likewise)
//   labels    (batch) u32                     grad_class: each row's class
//   dclass_weight (classes, units * PIECES)   grad_class: dE[c] = sum of dz over the rows of class c
//                                             (+ old dE likewise): the one-hot's rows of x^T dz
//
// Dispatch geometry. grad_input and grad_weight are the GEMM of shaders/tiles.wgsl (tile_product;
// this file defines both products' operands, below) with their own tails: one invocation per
// TILE_ROWS rows x TILE_QUADS quads of 4 output columns, lanes along the columns, workgroup
// TILE_WORKGROUP; their tiles are src/kernels/tiles.ts's denseGradInput and denseGradWeight.
//   preactivation  (ceil(ceil(units * PIECES / 4) / WORKGROUP), batch): a quad of columns each
//   grad_input     (ceil(in_features / TILE_ROWS), ceil(ceil(batch / 4) / (TILE_QUADS * TILE_LANES)))
//   grad_weight    (ceil(in_features / TILE_ROWS),
//                   ceil(ceil(units * PIECES / 4) / (TILE_QUADS * TILE_LANES)))
//   grad_bias      (ceil(units * PIECES / WORKGROUP))
//   grad_class     (ceil(units * PIECES / WORKGROUP), classes): one invocation per (column, class),
//                  summing its column of dz over the rows of its class: grad_bias's work once per
//                  class, small beside grad_weight's product
// ALIGNED: grad_input, batch a multiple of 4; grad_weight, in_features and units * PIECES
// multiples of 4. Quads are then single vec4 loads; otherwise their elements are picked one by one.

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
// The elementwise entry points' workgroup; the products take theirs from the tile (shaders/tiles.wgsl).
override WORKGROUP: u32;
override ALIGNED: bool;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> saved: array<u32>;
@group(0) @binding(2) var<storage, read> lhs: array<f32>;
@group(0) @binding(3) var<storage, read> lhs_quads: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> rhs_quads: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> dz_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;
@group(0) @binding(7) var<storage, read_write> dz: array<f32>;
@group(0) @binding(8) var<storage, read_write> dz_t: array<f32>;
@group(0) @binding(9) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(10) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(11) var<storage, read> labels: array<u32>;
@group(0) @binding(12) var<storage, read_write> dclass_weight: array<f32>;
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
fn preactivation(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let width = params.units * PIECES;
  for (var c = 0u; c < 4u; c++) {
    let column = 4u * gid.x + c;
    if (column < width && row < params.batch) {
      let g = preactivation_grad(row, column);
      dz[row * width + column] = g;
      dz_t[column * params.batch + row] = g;
    }
  }
}

// The two products' operands for shaders/tiles.wgsl, chosen by the constant each entry point
// passes. A binding that only one product read would still be used, in WGSL's sense, by both
// entry points, so both read their left-hand side from one buffer bound twice, as scalars (lhs) and
// as vec4s (lhs_quads), and their right-hand side from rhs_quads:
//   GRAD_INPUT   A = lhs = weight (in_features, units * PIECES), row by row; B = rhs_quads = dz_t
//   GRAD_WEIGHT  A = x^T (in_features, batch): quads of rows of lhs_quads = x; B = rhs_quads = dz
// grad_weight's A as 8 scalar loads instead of 2 vec4 loads made it 10-20% slower.
const GRAD_INPUT: u32 = 0u;
const GRAD_WEIGHT: u32 = 1u;

fn tile_depth(product: u32) -> u32 {
  if (product == GRAD_INPUT) {
    return params.units * PIECES;
  }
  return params.batch;
}

// GRAD_INPUT: where row r of the weight starts (rows past the last clamped to it). GRAD_WEIGHT: the
// tile's rows are columns row0 .. row0 + 7 of x, quads row0 / 4 and row0 / 4 + 1 of each row.
fn tile_a_rows(product: u32, row0: u32) -> TileRows {
  var rows: TileRows;
  if (product == GRAD_INPUT) {
    let last = params.in_features - 1u;
    for (var r = 0u; r < TILE_MAX_ROWS; r++) {
      rows[r] = min(row0 + r, last) * params.units * PIECES;
    }
  } else {
    rows[0] = row0 / 4u;
    rows[1] = row0 / 4u + 1u;
  }
  return rows;
}

fn tile_a(product: u32, rows: TileRows, k: u32) -> TileColumn {
  var a: TileColumn;
  if (product == GRAD_INPUT) {
    a[0] = vec4<f32>(lhs[rows[0] + k], lhs[rows[1] + k], lhs[rows[2] + k], lhs[rows[3] + k]);
    if (TILE_ROWS == 8u) {
      a[1] = vec4<f32>(lhs[rows[4] + k], lhs[rows[5] + k], lhs[rows[6] + k], lhs[rows[7] + k]);
    }
  } else {
    a[0] = x_quad(k, rows[0]);
    if (TILE_ROWS == 8u) {
      a[1] = x_quad(k, rows[1]);
    }
  }
  return a;
}

// Columns 4 * quad .. 4 * quad + 3 of row `row` of x (lhs_quads), clamped at the last column.
fn x_quad(row: u32, quad: u32) -> vec4<f32> {
  let columns = params.in_features;
  if (ALIGNED) {
    return lhs_quads[row * (columns / 4u) + min(quad, columns / 4u - 1u)];
  }
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = row * columns + min(4u * quad + c, columns - 1u);
    v[c] = lhs_quads[i / 4u][i % 4u];
  }
  return v;
}

// Columns 4 * quad .. 4 * quad + 3 of row k of B (dz_t, batch columns, or dz, units * PIECES),
// clamped at the last column (clamped ones are never stored).
fn tile_b(product: u32, k: u32, quad: u32) -> vec4<f32> {
  let columns = select(params.units * PIECES, params.batch, product == GRAD_INPUT);
  if (ALIGNED) {
    return rhs_quads[k * (columns / 4u) + min(quad, columns / 4u - 1u)];
  }
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = k * columns + min(4u * quad + c, columns - 1u);
    v[c] = rhs_quads[i / 4u][i % 4u];
  }
  return v;
}

// dx[quads[g], k0 + r] = weight[k0 + r, :] dz_t[:, quads[g]], then the dropout mask and scale.
@compute @workgroup_size(TILE_WORKGROUP)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let k0 = tile_row0(wid.x);
  let features = params.in_features;
  let quads = tile_quads(wid.y, lane);
  let acc = tile_product(GRAD_INPUT, k0, quads);
  for (var g = 0u; g < TILE_QUADS; g++) {
    for (var c = 0u; c < 4u; c++) {
      let row = 4u * quads[g] + c;
      if (row >= params.batch) {
        break;
      }
      for (var half = 0u; half < TILE_ROWS / 4u; half++) {
        // One draw covers 4 consecutive features of a row: the same draw as the forward dropout.
        let feature0 = k0 + 4u * half;
        let kept = keep_quad(params.seed, params.stream, clock.step, params.sub, row, feature0, params.keep24);
        for (var e = 0u; e < 4u; e++) {
          let feature = feature0 + e;
          if (feature < features) {
            dx[row * features + feature] = select(0.0, acc[4u * half + e][g][c] * params.scale, kept[e]);
          }
        }
      }
    }
  }
}

// dweight[k0 + r, quads[g]] = x[:, k0 + r] dz[:, quads[g]] (+ the old value when accumulating).
@compute @workgroup_size(TILE_WORKGROUP)
fn grad_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let k0 = tile_row0(wid.x);
  let features = params.in_features;
  let width = params.units * PIECES;
  let quads = tile_quads(wid.y, lane);
  let acc = tile_product(GRAD_WEIGHT, k0, quads);
  for (var r = 0u; r < TILE_ROWS; r++) {
    let k = k0 + r;
    if (k >= features) {
      break;
    }
    for (var g = 0u; g < TILE_QUADS; g++) {
      for (var c = 0u; c < 4u; c++) {
        let column = 4u * quads[g] + c;
        if (column < width) {
          let i = k * width + column;
          dweight[i] = select(0.0, dweight[i], params.accumulate == 1u) + acc[r][g][c];
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

@compute @workgroup_size(WORKGROUP)
fn grad_class(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  let cls = gid.y;
  let width = params.units * PIECES;
  if (column >= width) {
    return;
  }
  var sum = 0.0;
  for (var b = 0u; b < params.batch; b++) {
    sum += select(0.0, dz_in[b * width + column], labels[b] == cls);
  }
  let i = cls * width + column;
  dclass_weight[i] = select(0.0, dclass_weight[i], params.accumulate == 1u) + sum;
}
