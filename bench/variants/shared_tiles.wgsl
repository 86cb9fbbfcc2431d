// Losing GEMM variant kept for bench/gemm_variants.ts: classic workgroup-shared tiles. C = A B,
// A (m, k) and B (k, n) row-major, read as vec4s (k and n multiples of 4). Workgroup of 64 = 8 lanes
// along n by 8 along m; each invocation 8 rows x 8 columns of a 64 x 64 tile; KC = 16 k per
// barrier. Dispatch (ceil(m / 64), ceil(n / 64)). On lavapipe the barriers (coroutine switches) and
// the per-lane shared-memory loads cost more than the global loads they save: 4.5-6.0 GFLOP/s
// against 10.4-12.3 for the shipped register tile, on 100 x 1200 x 1200 (see shaders/tiles.wgsl).
struct P { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;   // (M, K/4)
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;   // (K, N/4)
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
const KC: u32 = 16u;
const TM: u32 = 64u;
const TN: u32 = 64u;
var<workgroup> As: array<vec4<f32>, 256>;  // [KC][TM/4]: rows grouped by 4, transposed
var<workgroup> Bs: array<vec4<f32>, 256>;  // [KC][TN/4]
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let tx = l % 8u;
  let ty = l / 8u;
  let m0 = wid.x * TM;
  let n0 = wid.y * TN;
  let k4 = p.k / 4u;
  let n4 = p.n / 4u;
  var acc: array<array<vec4<f32>, 2>, 8>;
  var s00 = vec4<f32>(); var s01 = vec4<f32>(); var s10 = vec4<f32>(); var s11 = vec4<f32>();
  var s20 = vec4<f32>(); var s21 = vec4<f32>(); var s30 = vec4<f32>(); var s31 = vec4<f32>();
  var s40 = vec4<f32>(); var s41 = vec4<f32>(); var s50 = vec4<f32>(); var s51 = vec4<f32>();
  var s60 = vec4<f32>(); var s61 = vec4<f32>(); var s70 = vec4<f32>(); var s71 = vec4<f32>();
  for (var kb = 0u; kb < p.k; kb += KC) {
    // A tile: TM rows x KC k = 64 x 4 vec4 = 256 vec4 -> 4 per lane. lane l loads row (l % 64), k-vec4 j.
    for (var t = 0u; t < 4u; t++) {
      let idx = t * 64u + l;          // 0..255
      let row = idx % 64u;
      let kq = idx / 64u;             // 0..3
      let gr = m0 + row;
      let gk = kb / 4u + kq;
      var v = a[min(gr, p.m - 1u) * k4 + min(gk, k4 - 1u)];
      if (gr >= p.m || gk >= k4) { v = vec4<f32>(); }
      // store transposed: As[(kq*4 + e) * 16 + row/4][row%4] = v[e]
      let col = row / 4u;
      let lane4 = row % 4u;
      for (var e = 0u; e < 4u; e++) {
        As[(kq * 4u + e) * 16u + col][lane4] = v[e];
      }
    }
    // B tile: KC rows x TN/4 vec4 = 16 x 16 = 256 vec4 -> 4 per lane
    for (var t = 0u; t < 4u; t++) {
      let idx = t * 64u + l;
      let kk = idx / 16u;
      let cq = idx % 16u;
      let gk = kb + kk;
      let gc = n0 / 4u + cq;
      var v = b[min(gk, p.k - 1u) * n4 + min(gc, n4 - 1u)];
      if (gk >= p.k || gc >= n4) { v = vec4<f32>(); }
      Bs[kk * 16u + cq] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < KC; kk++) {
      let b0 = Bs[kk * 16u + tx];
      let b1 = Bs[kk * 16u + 8u + tx];
      let a0 = As[kk * 16u + ty * 2u];
      let a1 = As[kk * 16u + ty * 2u + 1u];
      s00 += a0.x * b0; s01 += a0.x * b1;
      s10 += a0.y * b0; s11 += a0.y * b1;
      s20 += a0.z * b0; s21 += a0.z * b1;
      s30 += a0.w * b0; s31 += a0.w * b1;
      s40 += a1.x * b0; s41 += a1.x * b1;
      s50 += a1.y * b0; s51 += a1.y * b1;
      s60 += a1.z * b0; s61 += a1.z * b1;
      s70 += a1.w * b0; s71 += a1.w * b1;
    }
    workgroupBarrier();
  }
  acc[0] = array(s00, s01); acc[1] = array(s10, s11); acc[2] = array(s20, s21); acc[3] = array(s30, s31);
  acc[4] = array(s40, s41); acc[5] = array(s50, s51); acc[6] = array(s60, s61); acc[7] = array(s70, s71);
  for (var i = 0u; i < 8u; i++) {
    let row = m0 + ty * 8u + i;
    if (row < p.m) {
      for (var g = 0u; g < 2u; g++) {
        let col = n0 + (g * 8u + tx) * 4u;
        for (var e = 0u; e < 4u; e++) {
          if (col + e < p.n) { c[row * p.n + col + e] = acc[i][g][e]; }
        }
      }
    }
  }
}
