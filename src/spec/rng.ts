// CPU twin of shaders/rng.wgsl: the same Philox4x32-10 and the same keying, bit for bit.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

export const STREAM_NOISE = 1;
export const STREAM_GATHER = 2;
/** A conditional G's classes (3 is the initial weights', src/train/init.ts). */
export const STREAM_CLASS = 4;
export const STREAM_DROPOUT = 256;

/** High 32 bits of the unsigned 64-bit product, by 16-bit halves as the shader does. */
export function mulhi32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loHi = aLo * bHi;
  const hiLo = aHi * bLo;
  const cross = ((aLo * bLo) >>> 16) + (loHi & 0xffff) + (hiLo & 0xffff);
  return (aHi * bHi + (loHi >>> 16) + (hiLo >>> 16) + (cross >>> 16)) >>> 0;
}

export function philox4x32_10(
  counter: ArrayLike<number>,
  key: ArrayLike<number>,
  out = new Uint32Array(4),
): Uint32Array {
  let c0 = counter[0] >>> 0,
    c1 = counter[1] >>> 0,
    c2 = counter[2] >>> 0,
    c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0,
    k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** Where a kernel draws from: the key part (seed, stream) and the counter part (step, sub). */
export interface RngKey {
  seed: number;
  stream: number;
  step: number;
  sub: number;
}

const scratch = new Uint32Array(4);

/** The four draws covering columns 4*(col/4) .. +3 of `row`, as `draw_bits` in WGSL. */
export function drawBits(key: RngKey, row: number, col: number, out = new Uint32Array(4)): Uint32Array {
  return philox4x32_10([col >>> 2, row, key.step, key.sub], [key.seed, key.stream], out);
}

/** The single draw of element (row, col). */
export function elementBits(key: RngKey, row: number, col: number): number {
  return drawBits(key, row, col, scratch)[col & 3];
}

export function unitFromBits(bits: number): number {
  return (bits >>> 8) / 16777216;
}

export function unitOpenFromBits(bits: number): number {
  return ((bits >>> 8) + 1) / 16777216;
}

/** The integer threshold a keep probability becomes; the shader compares with the same number. */
export function keepThreshold(keepProbability: number): number {
  if (!(keepProbability > 0 && keepProbability <= 1))
    throw new RangeError(`dropout include probability ${keepProbability} is not in (0, 1]`);
  return Math.round(keepProbability * 16777216);
}

export function keepFromBits(bits: number, keep24: number): boolean {
  return bits >>> 8 < keep24;
}

export function indexFromBits(bits: number, n: number): number {
  return mulhi32(bits, n);
}

/** Box-Muller, as `gaussian_pair`, in float32 steps. */
export function gaussianPair(bits0: number, bits1: number): [number, number] {
  const f = Math.fround;
  const radius = f(Math.sqrt(f(-2 * f(Math.log(unitOpenFromBits(bits0))))));
  const angle = f(f(6.283185307179586) * unitFromBits(bits1));
  return [f(radius * f(Math.cos(angle))), f(radius * f(Math.sin(angle)))];
}
