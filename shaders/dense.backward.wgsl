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
//   x         (batch, in_features)            the input the product saw: dropout(x) when dropout;
//                                             bound as vec4s (size rounded up to 16 bytes)
//   weight    (in_features, units * PIECES)   the layer's weight
//   dz        (batch, units * PIECES)         the gradient of the pre-activation, written by
//   dz_in                                     `preactivation`; read as scalars (dz_in) by grad_bias,
//   dz_quads                                  as vec4s (dz_quads) by grad_weight
//   dz_t      (units * PIECES, batch)         the same, transposed, written by `preactivation` and
//   dz_t_quads                                read as vec4s (dz_t_quads) by grad_input
//   dx        (batch, in_features)            (dz W^T) * mask * scale: the mask is redrawn from the
//                                             same key as the forward's dropout entry point
//   dweight   (in_features, units * PIECES)   x^T dz  (+ old dweight when params.accumulate = 1)
//   dbias     (units * PIECES)                sum over the batch of dz (+ old dbias likewise)
//
// Dispatch geometry (tiles of ROWS x QUADS quads, shaders/tiles.wgsl; lanes along the output
// columns; workgroups that follow one another share a block of columns, which stays in cache):
//   preactivation  (ceil(ceil(units * PIECES / 4) / WORKGROUP), batch): a quad of columns each
//   grad_input     (ceil(in_features / ROWS), ceil(ceil(batch / 4) / (QUADS * WORKGROUP)))
//   grad_weight    (ceil(in_features / ROWS), ceil(ceil(units * PIECES / 4) / (QUADS * WORKGROUP)))
//   grad_bias      (ceil(units * PIECES / WORKGROUP))
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
override WORKGROUP: u32 = 8u;
override ALIGNED: bool = false;

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> saved: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> dz_in: array<f32>;
@group(0) @binding(9) var<storage, read> dz_quads: array<vec4<f32>>;
@group(0) @binding(11) var<storage, read> dz_t_quads: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> dx: array<f32>;
@group(0) @binding(6) var<storage, read_write> dz: array<f32>;
@group(0) @binding(10) var<storage, read_write> dz_t: array<f32>;
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

// Columns 4 * quad .. 4 * quad + 3 of row `row` of a row-major matrix with `columns` columns,
// clamped at the last column (clamped ones are never stored). One per vec4-bound matrix.
fn dz_t_quad(row: u32, quad: u32) -> vec4<f32> {
  let columns = params.batch;
  if (ALIGNED) {
    return dz_t_quads[row * (columns / 4u) + min(quad, columns / 4u - 1u)];
  }
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = row * columns + min(4u * quad + c, columns - 1u);
    v[c] = dz_t_quads[i / 4u][i % 4u];
  }
  return v;
}

fn x_quad(row: u32, quad: u32) -> vec4<f32> {
  let columns = params.in_features;
  if (ALIGNED) {
    return x[row * (columns / 4u) + min(quad, columns / 4u - 1u)];
  }
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = row * columns + min(4u * quad + c, columns - 1u);
    v[c] = x[i / 4u][i % 4u];
  }
  return v;
}

fn dz_quad(row: u32, quad: u32) -> vec4<f32> {
  let columns = params.units * PIECES;
  if (ALIGNED) {
    return dz_quads[row * (columns / 4u) + min(quad, columns / 4u - 1u)];
  }
  var v: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = row * columns + min(4u * quad + c, columns - 1u);
    v[c] = dz_quads[i / 4u][i % 4u];
  }
  return v;
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

// dx[quads[g], k0 + r] = weight[k0 + r, :] dz_t[:, quads[g]], then the dropout mask and scale.
// Named accumulators as in dense.forward.wgsl (ROWS = 8, QUADS = 2).
@compute @workgroup_size(WORKGROUP)
fn grad_input(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let k0 = wid.x * ROWS;
  let features = params.in_features;
  let width = params.units * PIECES;
  let quads = tile_quads(first_quad(wid.y, lane));
  let last = features - 1u;
  let r0 = min(k0, last) * width;
  let r1 = min(k0 + 1u, last) * width;
  let r2 = min(k0 + 2u, last) * width;
  let r3 = min(k0 + 3u, last) * width;
  let r4 = min(k0 + 4u, last) * width;
  let r5 = min(k0 + 5u, last) * width;
  let r6 = min(k0 + 6u, last) * width;
  let r7 = min(k0 + 7u, last) * width;
  let q0 = quads[0];
  let q1 = quads[1];
  var a00 = vec4<f32>(); var a01 = vec4<f32>(); var a10 = vec4<f32>(); var a11 = vec4<f32>();
  var a20 = vec4<f32>(); var a21 = vec4<f32>(); var a30 = vec4<f32>(); var a31 = vec4<f32>();
  var a40 = vec4<f32>(); var a41 = vec4<f32>(); var a50 = vec4<f32>(); var a51 = vec4<f32>();
  var a60 = vec4<f32>(); var a61 = vec4<f32>(); var a70 = vec4<f32>(); var a71 = vec4<f32>();
  for (var n = 0u; n < width; n++) {
    let g0 = dz_t_quad(n, q0);
    let g1 = dz_t_quad(n, q1);
    let w0 = weight[r0 + n]; let w1 = weight[r1 + n]; let w2 = weight[r2 + n]; let w3 = weight[r3 + n];
    let w4 = weight[r4 + n]; let w5 = weight[r5 + n]; let w6 = weight[r6 + n]; let w7 = weight[r7 + n];
    a00 += w0 * g0; a01 += w0 * g1; a10 += w1 * g0; a11 += w1 * g1;
    a20 += w2 * g0; a21 += w2 * g1; a30 += w3 * g0; a31 += w3 * g1;
    a40 += w4 * g0; a41 += w4 * g1; a50 += w5 * g0; a51 += w5 * g1;
    a60 += w6 * g0; a61 += w6 * g1; a70 += w7 * g0; a71 += w7 * g1;
  }
  var acc: array<array<vec4<f32>, QUADS>, ROWS>;
  acc[0] = array(a00, a01); acc[1] = array(a10, a11); acc[2] = array(a20, a21); acc[3] = array(a30, a31);
  acc[4] = array(a40, a41); acc[5] = array(a50, a51); acc[6] = array(a60, a61); acc[7] = array(a70, a71);
  for (var g = 0u; g < QUADS; g++) {
    for (var c = 0u; c < 4u; c++) {
      let row = 4u * quads[g] + c;
      if (row >= params.batch) {
        break;
      }
      for (var half = 0u; half < ROWS / 4u; half++) {
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
// The ROWS rows of x an invocation needs are two quads of each row of x (rows of the weight are
// columns of x), so both operands arrive as vec4 loads.
@compute @workgroup_size(WORKGROUP)
fn grad_weight(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let k0 = wid.x * ROWS;
  let features = params.in_features;
  let width = params.units * PIECES;
  let quads = tile_quads(first_quad(wid.y, lane));
  let xq0 = k0 / 4u;
  let xq1 = xq0 + 1u;
  let q0 = quads[0];
  let q1 = quads[1];
  var a00 = vec4<f32>(); var a01 = vec4<f32>(); var a10 = vec4<f32>(); var a11 = vec4<f32>();
  var a20 = vec4<f32>(); var a21 = vec4<f32>(); var a30 = vec4<f32>(); var a31 = vec4<f32>();
  var a40 = vec4<f32>(); var a41 = vec4<f32>(); var a50 = vec4<f32>(); var a51 = vec4<f32>();
  var a60 = vec4<f32>(); var a61 = vec4<f32>(); var a70 = vec4<f32>(); var a71 = vec4<f32>();
  for (var b = 0u; b < params.batch; b++) {
    let g0 = dz_quad(b, q0);
    let g1 = dz_quad(b, q1);
    let lo = x_quad(b, xq0);
    let hi = x_quad(b, xq1);
    a00 += lo.x * g0; a01 += lo.x * g1; a10 += lo.y * g0; a11 += lo.y * g1;
    a20 += lo.z * g0; a21 += lo.z * g1; a30 += lo.w * g0; a31 += lo.w * g1;
    a40 += hi.x * g0; a41 += hi.x * g1; a50 += hi.y * g0; a51 += hi.y * g1;
    a60 += hi.z * g0; a61 += hi.z * g1; a70 += hi.w * g0; a71 += hi.w * g1;
  }
  var acc: array<array<vec4<f32>, QUADS>, ROWS>;
  acc[0] = array(a00, a01); acc[1] = array(a10, a11); acc[2] = array(a20, a21); acc[3] = array(a30, a31);
  acc[4] = array(a40, a41); acc[5] = array(a50, a51); acc[6] = array(a60, a61); acc[7] = array(a70, a71);
  for (var r = 0u; r < ROWS; r++) {
    let k = k0 + r;
    if (k >= features) {
      break;
    }
    for (var g = 0u; g < QUADS; g++) {
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
