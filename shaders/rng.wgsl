// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11), the generator of cuRAND and
// Random123. A draw is a pure function of (counter, key), so any invocation can draw any element's
// numbers without state, and src/reference/rng.ts reproduces the same bits on the CPU.
//
// Keying convention used by every kernel (see src/reference/rng.ts, `drawBits`):
//   key     = (seed, stream)          stream names the purpose: noise, gather, dropout of layer l
//   counter = (col / 4, row, step, sub)
//             step is the training iteration (from the clock uniform), sub the pass within it
//   element (row, col) takes component col % 4 of the draw.
// Uniforms take the top 24 bits, so they are exact in f32 and identical on CPU and GPU.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// The high 32 bits of a 32 x 32 -> 64 bit product, from 16-bit halves (WGSL has no u64).
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo_hi = a_lo * b_hi;
  let hi_lo = a_hi * b_lo;
  let cross = ((a_lo * b_lo) >> 16u) + (lo_hi & 0xffffu) + (hi_lo & 0xffffu);
  return a_hi * b_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + (cross >> 16u);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = mulhi32(PHILOX_M0, c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = mulhi32(PHILOX_M1, c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return c;
}

// Stream numbers: the purpose part of the key. Dropout of layer l uses STREAM_DROPOUT + l.
const STREAM_NOISE: u32 = 1u;
const STREAM_GATHER: u32 = 2u;
const STREAM_DROPOUT: u32 = 256u;

// The four draws that cover columns 4*(col/4) .. 4*(col/4)+3 of `row`.
fn draw_bits(seed: u32, stream: u32, step: u32, sub: u32, row: u32, col: u32) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(col >> 2u, row, step, sub), vec2<u32>(seed, stream));
}

// [0, 1) with 24 random bits: exact in f32.
fn unit_from_bits(bits: u32) -> f32 {
  return f32(bits >> 8u) * (1.0 / 16777216.0);
}

// (0, 1]: safe for log.
fn unit_open_from_bits(bits: u32) -> f32 {
  return f32((bits >> 8u) + 1u) * (1.0 / 16777216.0);
}

// The keep threshold that keeps everything (keep = 1).
const KEEP_ALL: u32 = 16777216u;

// Bernoulli(keep / 2^24): the dropout decision, exact integer comparison on both sides.
fn keep_from_bits(bits: u32, keep24: u32) -> bool {
  return (bits >> 8u) < keep24;
}

// The dropout decisions for columns 4*(col/4) .. 4*(col/4)+3 of `row`; a layer that keeps
// everything (an input map alone) needs no draw.
fn keep_quad(seed: u32, stream: u32, step: u32, sub: u32, row: u32, col: u32, keep24: u32) -> vec4<bool> {
  if (keep24 >= KEEP_ALL) {
    return vec4<bool>(true);
  }
  let bits = draw_bits(seed, stream, step, sub, row, col);
  return vec4<bool>(keep_from_bits(bits.x, keep24), keep_from_bits(bits.y, keep24), keep_from_bits(bits.z, keep24), keep_from_bits(bits.w, keep24));
}

// An integer in [0, n), the high word of bits * n (bias below n / 2^32).
fn index_from_bits(bits: u32, n: u32) -> u32 {
  return mulhi32(bits, n);
}

// Two standard normals from two draws (Box-Muller).
fn gaussian_pair(bits0: u32, bits1: u32) -> vec2<f32> {
  let radius = sqrt(-2.0 * log(unit_open_from_bits(bits0)));
  let angle = 6.283185307179586 * unit_from_bits(bits1);
  return radius * vec2<f32>(cos(angle), sin(angle));
}
