// Losing GEMM variant kept for bench/gemm_variants.ts: the right-hand matrix as an rgba32float
// texture (texel (n / 4, k) holds B[k, n..n+3]) and the left-hand one transposed, (k, m / 4) vec4s;
// 8 rows x 8 columns per invocation, lanes along n. Dispatch (ceil(m / 8), ceil(n / (8 * WG))).
// textureLoad goes through lavapipe's texel-fetch path instead of the storage loads' lane loop:
// 9.9-14.6 GFLOP/s against 10.4-12.3 for the shipped form, on 100 x 1200 x 1200; not enough to pay
// for writing every weight into a texture after every update (copyBufferToTexture needs rows of a
// multiple of 256 bytes, which 784- and 1200-float rows are not).
struct P { m: u32, n: u32, k: u32, pad: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var bt: texture_2d<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
override WG: u32 = 8u;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row0 = wid.x * 8u;
  let m4 = p.m / 4u; let rq = row0 / 4u;
  let n4 = p.n / 4u;
  let c0 = wid.y * WG * 2u + lane; let c1 = c0 + WG;
  var s00 = vec4<f32>(); var s01 = vec4<f32>(); var s10 = vec4<f32>(); var s11 = vec4<f32>();
  var s20 = vec4<f32>(); var s21 = vec4<f32>(); var s30 = vec4<f32>(); var s31 = vec4<f32>();
  var s40 = vec4<f32>(); var s41 = vec4<f32>(); var s50 = vec4<f32>(); var s51 = vec4<f32>();
  var s60 = vec4<f32>(); var s61 = vec4<f32>(); var s70 = vec4<f32>(); var s71 = vec4<f32>();
  let q0 = min(rq, m4 - 1u); let q1 = min(rq + 1u, m4 - 1u);
  for (var k = 0u; k < p.k; k++) {
    let b0 = textureLoad(bt, vec2<u32>(c0, k), 0);
    let b1 = textureLoad(bt, vec2<u32>(c1, k), 0);
    let a0 = a[k * m4 + q0];
    let a1 = a[k * m4 + q1];
    s00 += a0.x * b0; s01 += a0.x * b1;
    s10 += a0.y * b0; s11 += a0.y * b1;
    s20 += a0.z * b0; s21 += a0.z * b1;
    s30 += a0.w * b0; s31 += a0.w * b1;
    s40 += a1.x * b0; s41 += a1.x * b1;
    s50 += a1.y * b0; s51 += a1.y * b1;
    s60 += a1.z * b0; s61 += a1.z * b1;
    s70 += a1.w * b0; s71 += a1.w * b1;
  }
  var acc: array<array<vec4<f32>, 2>, 8>;
  acc[0] = array(s00, s01); acc[1] = array(s10, s11); acc[2] = array(s20, s21); acc[3] = array(s30, s31);
  acc[4] = array(s40, s41); acc[5] = array(s50, s51); acc[6] = array(s60, s61); acc[7] = array(s70, s71);
  for (var i = 0u; i < 8u; i++) {
    let row = row0 + i;
    if (row < p.m) {
      for (var g = 0u; g < 2u; g++) {
        let col = (wid.y * WG * 2u + g * WG + lane) * 4u;
        for (var e = 0u; e < 4u; e++) {
          if (col + e < p.n) { c[row * p.n + col + e] = acc[i][g][e]; }
        }
      }
    }
  }
}
