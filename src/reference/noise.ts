// CPU twin of shaders/noise.wgsl: the same draws, element (row, col) taking component col % 4 of
// drawBits(key, row, col), and the same float32 arithmetic step by step.
import { drawBits, elementBits, gaussianPair, indexFromBits, unitFromBits, type RngKey } from '../spec/rng';

export interface NoiseShape {
  rows: number;
  cols: number;
}

/** Calls `value` for every element with the draw of its quad of columns, as one GPU invocation does. */
function fill<T extends Float32Array | Uint32Array>(
  shape: NoiseShape,
  key: RngKey,
  out: T,
  value: (draw: Uint32Array, c: number) => number,
): T {
  const draw = new Uint32Array(4);
  for (let row = 0; row < shape.rows; row++) {
    for (let col0 = 0; col0 < shape.cols; col0 += 4) {
      drawBits(key, row, col0, draw);
      for (let c = 0; c < 4 && col0 + c < shape.cols; c++) out[row * shape.cols + col0 + c] = value(draw, c);
    }
  }
  return out;
}

/**
 * z = low + (high - low) * u, with u the 24-bit uniform of the element's draw. Each operation is
 * rounded to float32 as the shader's f32 arithmetic is; a GPU that fuses the multiply-add into one
 * fma rounds once instead of twice and may differ in the last bit (see test/kernels/noise.test.ts).
 */
export function uniformNoise(shape: NoiseShape, key: RngKey, low: number, high: number): Float32Array {
  const f = Math.fround;
  const width = f(f(high) - f(low));
  return fill(shape, key, new Float32Array(shape.rows * shape.cols), (draw, c) =>
    f(f(low) + f(width * unitFromBits(draw[c]))),
  );
}

/** z = mean + std * g, g from Box-Muller: columns 4q, 4q+1 from components 0, 1; 4q+2, 4q+3 from 2, 3. */
export function gaussianNoise(shape: NoiseShape, key: RngKey, std: number, mean = 0): Float32Array {
  const f = Math.fround;
  return fill(shape, key, new Float32Array(shape.rows * shape.cols), (draw, c) => {
    const pair = c < 2 ? gaussianPair(draw[0], draw[1]) : gaussianPair(draw[2], draw[3]);
    return f(f(mean) + f(f(std) * pair[c & 1]));
  });
}

/** The raw u32 draw of every element. */
export function noiseBits(shape: NoiseShape, key: RngKey): Uint32Array {
  return fill(shape, key, new Uint32Array(shape.rows * shape.cols), (draw, c) => draw[c]);
}

/** A conditional G's classes: labels[r] = index_from_bits(element (0, r) of the key, classes). */
export function classNoise(rows: number, classes: number, key: RngKey): Uint32Array {
  const labels = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) labels[r] = indexFromBits(elementBits(key, 0, r), classes);
  return labels;
}
