// Gaussian Parzen window (the paper's evaluation, the authors' parzen_ll.py) and nearest neighbours,
// for a chunk of T points x against a chunk of S samples mu:
//   log p(x) = logmeanexp_i(-||x - mu_i||^2 / (2 sigma^2)) - d/2 log(2 pi sigma^2)   for every sigma
//   nearest(x) = argmin_i ||x - mu_i||^2
// Twin: src/reference/parzen.ts (squaredDistances, parzenLogLikelihoods, nearestSamples).
// Wrapper: src/kernels/parzen.ts. Test: test/kernels/parzen.test.ts.
//
// Shapes (row-major; d = params.features, J = SIGMAS; ll and the nearest_* outputs hold every point
// of the evaluation, N of them, the chunk's rows starting at params.first_point):
//   x                 (T, d)   the points
//   mu_t              (d, S)   the samples, transposed: the product's lanes read consecutive samples;
//   mu_t_quads                 read as scalars (mu_t) by column_norms, as vec4s (mu_t_quads, its
//                              size rounded up to 16 bytes) by distances
//   x_norm            (T)      ||x_t||^2, from row_norms
//   mu_norm           (S)      ||mu_s||^2, from column_norms
//   sigmas            (J)
//   dist_in           (T, S)   the distances, as accumulate and nearest read them
//   norms             (T) or (S)  row_norms' or column_norms' output
//   dist              (T, S)   max(0, ||x||^2 + ||mu||^2 - 2 x.mu)
//   row_min           (T)      running min over the sample chunks seen so far of dist
//   row_sum           (T, J)   running sum_i exp(-(dist_i - row_min) / (2 sigma_j^2))
//   ll                (N, J)   log p(x) of each point for each sigma
//   nearest_distance  (N)      the smallest squared distance so far
//   nearest_index     (N) u32  its sample (lowest index on ties)
//
// Samples come in chunks (a buffer of every sample may exceed maxStorageBufferBindingSize): for
// each chunk, distances then accumulate (or nearest); params.reset = 1 on the first chunk starts the
// running state afresh. finish turns the state into log-likelihoods after the last chunk.
//
// Entry points and dispatch geometry:
//   row_norms, column_norms  one invocation per row of x / column of mu_t: (ceil(T or S / LANES)).
//   distances   the GEMM x mu_t of shaders/tiles.wgsl (tile_product; the operands are defined
//               below), then dist = max(0, ||x||^2 + ||mu||^2 - 2 x.mu) in the same invocation: one
//               invocation per TILE_ROWS points x TILE_QUADS quads of 4 samples, lanes along the
//               samples (x loads are the same in every lane, so software Vulkan broadcasts them,
//               and each quad of mu_t a lane loads feeds 4 TILE_ROWS multiply-adds); dispatch
//               (ceil(T / TILE_ROWS), ceil(ceil(S / 4) / (TILE_QUADS * TILE_LANES))), workgroup
//               TILE_WORKGROUP. The tile is src/kernels/tiles.ts's parzenDistances.
//   accumulate  one workgroup of LANES per point: the chunk's min m, then for every sigma
//               sum_i exp(-(dist_i - m) a_j), a_j = 1 / (2 sigma_j^2), merged into the running
//               state. Every term is at most 1 and the largest is exactly 1, so the sum neither
//               overflows nor underflows to 0, whatever the distances: (T).
//   finish      one invocation per point: (ceil(T / LANES)).
//   nearest     one workgroup of LANES per point: (T).

struct Params {
  points: u32,
  samples: u32,
  features: u32,
  // Where the chunk's first point goes in ll, nearest_distance and nearest_index.
  first_point: u32,
  // The chunk's first sample among all samples (nearest_index counts from there).
  first_sample: u32,
  // 1 on the first sample chunk: the running state (row_min, row_sum, nearest_*) starts afresh.
  reset: u32,
  // All samples of the window, over every chunk: the mean's denominator.
  total_samples: u32,
}

// mu_t's rows start on vec4s (S a multiple of 4): a quad of samples is one vec4 load; otherwise its
// 4 elements are picked one by one.
override ALIGNED: bool;
// How many sigmas accumulate serves in one pass (the paper's grid has 10).
override SIGMAS: u32 = 1u;
const MAX_SIGMAS: u32 = 16u;
// The workgroup of every entry point but distances; a power of two: the tree reductions halve it.
override LANES: u32;
const LARGEST_F32: f32 = 0x1.fffffep+127f;
const TWO_PI: f32 = 6.28318530717958648;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> mu_t: array<f32>;
@group(0) @binding(2) var<storage, read> x_norm: array<f32>;
@group(0) @binding(3) var<storage, read> mu_norm: array<f32>;
@group(0) @binding(4) var<storage, read> sigmas: array<f32>;
@group(0) @binding(5) var<storage, read> dist_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> norms: array<f32>;
@group(0) @binding(7) var<storage, read_write> dist: array<f32>;
@group(0) @binding(8) var<storage, read_write> row_min: array<f32>;
@group(0) @binding(9) var<storage, read_write> row_sum: array<f32>;
@group(0) @binding(10) var<storage, read_write> ll: array<f32>;
@group(0) @binding(11) var<storage, read_write> nearest_distance: array<f32>;
@group(0) @binding(12) var<storage, read_write> nearest_index: array<u32>;
@group(0) @binding(13) var<storage, read> mu_t_quads: array<vec4<f32>>;
@group(1) @binding(0) var<uniform> params: Params;

var<workgroup> shared_min: array<f32, LANES>;
var<workgroup> shared_index: array<u32, LANES>;
// Sigma j's sums at j * LANES (an override-sized array cannot be the element of another array).
var<workgroup> shared_sum: array<f32, LANES * MAX_SIGMAS>;

@compute @workgroup_size(LANES)
fn row_norms(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x;
  if (row >= params.points) {
    return;
  }
  let base = row * params.features;
  var sum = 0.0;
  for (var k = 0u; k < params.features; k++) {
    let v = x[base + k];
    sum += v * v;
  }
  norms[row] = sum;
}

@compute @workgroup_size(LANES)
fn column_norms(@builtin(global_invocation_id) gid: vec3<u32>) {
  let column = gid.x;
  if (column >= params.samples) {
    return;
  }
  var sum = 0.0;
  for (var k = 0u; k < params.features; k++) {
    let v = mu_t[k * params.samples + column];
    sum += v * v;
  }
  norms[column] = sum;
}

// The product's operands for shaders/tiles.wgsl: A = x (T, d), B = mu_t (d, S).
fn tile_depth(operands: u32) -> u32 {
  return params.features;
}

fn tile_a_rows(operands: u32, row0: u32) -> TileRows {
  let last = params.points - 1u;
  var rows: TileRows;
  for (var r = 0u; r < TILE_MAX_ROWS; r++) {
    rows[r] = min(row0 + r, last) * params.features;
  }
  return rows;
}

fn tile_a(operands: u32, rows: TileRows, k: u32) -> TileColumn {
  var a: TileColumn;
  a[0] = vec4<f32>(x[rows[0] + k], x[rows[1] + k], x[rows[2] + k], x[rows[3] + k]);
  if (TILE_ROWS == 8u) {
    a[1] = vec4<f32>(x[rows[4] + k], x[rows[5] + k], x[rows[6] + k], x[rows[7] + k]);
  }
  return a;
}

// Samples 4 * quad .. 4 * quad + 3 of feature k (clamped at the last sample; the clamped columns
// are never stored).
fn tile_b(operands: u32, k: u32, quad: u32) -> vec4<f32> {
  let samples = params.samples;
  if (ALIGNED) {
    return mu_t_quads[k * (samples / 4u) + min(quad, samples / 4u - 1u)];
  }
  var m: vec4<f32>;
  for (var c = 0u; c < 4u; c++) {
    let i = k * samples + min(4u * quad + c, samples - 1u);
    m[c] = mu_t_quads[i / 4u][i % 4u];
  }
  return m;
}

@compute @workgroup_size(TILE_WORKGROUP)
fn distances(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let points = params.points;
  let samples = params.samples;
  let row0 = tile_row0(wid.x);
  let quads = tile_quads(wid.y, lane);
  let product = tile_product(0u, row0, quads);
  for (var r = 0u; r < TILE_ROWS; r++) {
    let row = row0 + r;
    if (row >= points) {
      break;
    }
    let row_norm = x_norm[row];
    for (var g = 0u; g < TILE_QUADS; g++) {
      for (var c = 0u; c < 4u; c++) {
        let col = 4u * quads[g] + c;
        if (col < samples) {
          // Rounding can take the difference of nearly equal terms below zero.
          dist[row * samples + col] = max(0.0, row_norm + mu_norm[col] - 2.0 * product[r][g][c]);
        }
      }
    }
  }
}

@compute @workgroup_size(LANES)
fn accumulate(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let point = wid.x;
  let samples = params.samples;
  let base = point * samples;
  var m = LARGEST_F32;
  for (var i = lane; i < samples; i += LANES) {
    m = min(m, dist_in[base + i]);
  }
  shared_min[lane] = m;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      shared_min[lane] = min(shared_min[lane], shared_min[lane + stride]);
    }
    workgroupBarrier();
  }
  let chunk_min = shared_min[0];

  var a: array<f32, MAX_SIGMAS>;
  var sum: array<f32, MAX_SIGMAS>;
  for (var j = 0u; j < SIGMAS; j++) {
    a[j] = 0.5 / (sigmas[j] * sigmas[j]);
    sum[j] = 0.0;
  }
  for (var i = lane; i < samples; i += LANES) {
    let excess = dist_in[base + i] - chunk_min;
    for (var j = 0u; j < SIGMAS; j++) {
      sum[j] += exp(-excess * a[j]);
    }
  }
  for (var j = 0u; j < SIGMAS; j++) {
    shared_sum[j * LANES + lane] = sum[j];
  }
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      for (var j = 0u; j < SIGMAS; j++) {
        shared_sum[j * LANES + lane] += shared_sum[j * LANES + lane + stride];
      }
    }
    workgroupBarrier();
  }
  // Only lane 0 touches the running state, so no lane reads what another writes. The merge scales
  // the sum taken about the larger min by exp(-(its min - new min) a_j) <= 1; the other factor is 1.
  if (lane == 0u) {
    if (params.reset == 1u) {
      row_min[point] = chunk_min;
      for (var j = 0u; j < SIGMAS; j++) {
        row_sum[point * SIGMAS + j] = shared_sum[j * LANES];
      }
    } else {
      let old_min = row_min[point];
      let new_min = min(old_min, chunk_min);
      for (var j = 0u; j < SIGMAS; j++) {
        let i = point * SIGMAS + j;
        row_sum[i] = row_sum[i] * exp(-(old_min - new_min) * a[j]) + shared_sum[j * LANES] * exp(-(chunk_min - new_min) * a[j]);
      }
      row_min[point] = new_min;
    }
  }
}

@compute @workgroup_size(LANES)
fn finish(@builtin(global_invocation_id) gid: vec3<u32>) {
  let point = gid.x;
  if (point >= params.points) {
    return;
  }
  let log_count = log(f32(params.total_samples));
  let half_d = 0.5 * f32(params.features);
  for (var j = 0u; j < SIGMAS; j++) {
    let sigma = sigmas[j];
    let a = 0.5 / (sigma * sigma);
    let log_mean_exp = log(row_sum[point * SIGMAS + j]) - row_min[point] * a - log_count;
    ll[(params.first_point + point) * SIGMAS + j] = log_mean_exp - half_d * log(TWO_PI * sigma * sigma);
  }
}

@compute @workgroup_size(LANES)
fn nearest(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let point = wid.x;
  let samples = params.samples;
  let base = point * samples;
  var best = LARGEST_F32;
  var best_i = 0u;
  // Each lane visits its samples in increasing order and keeps the first of equal distances.
  for (var i = lane; i < samples; i += LANES) {
    let d = dist_in[base + i];
    if (d < best) {
      best = d;
      best_i = i;
    }
  }
  shared_min[lane] = best;
  shared_index[lane] = best_i;
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      let other = shared_min[lane + stride];
      let other_i = shared_index[lane + stride];
      let mine = shared_min[lane];
      if (other < mine || (other == mine && other_i < shared_index[lane])) {
        shared_min[lane] = other;
        shared_index[lane] = other_i;
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    let slot = params.first_point + point;
    // Earlier chunks hold lower indices, so a tie keeps what is there.
    if (params.reset == 1u || shared_min[0] < nearest_distance[slot]) {
      nearest_distance[slot] = shared_min[0];
      nearest_index[slot] = params.first_sample + shared_index[0];
    }
  }
}
