// CPU twin of shaders/noise.wgsl.
import { drawBits, gaussianPair, unitFromBits, type RngKey } from './rng';

export interface NoiseShape {
  rows: number;
  cols: number;
}

function fill(shape: NoiseShape, key: RngKey, value: (draw: Uint32Array, c: number) => number, out: Float32Array | Uint32Array): void {
  const draw = new Uint32Array(4);
  for (let row = 0; row < shape.rows; row++) {
    for (let col0 = 0; col0 < shape.cols; col0 += 4) {
      drawBits(key, row, col0, draw);
      for (let c = 0; c < 4 && col0 + c < shape.cols; c++) out[row * shape.cols + col0 + c] = value(draw, c);
    }
  }
}

/** z = low + (high - low) * u, each step rounded to float32 as the shader's f32 arithmetic. */
export function uniformNoise(shape: NoiseShape, key: RngKey, low: number, high: number): Float32Array {
  const f = Math.fround;
  const z = new Float32Array(shape.rows * shape.cols);
  const width = f(f(high) - f(low));
  fill(shape, key, (draw, c) => f(f(low) + f(width * unitFromBits(draw[c]))), z);
  return z;
}

export function gaussianNoise(shape: NoiseShape, key: RngKey, std: number): Float32Array {
  const z = new Float32Array(shape.rows * shape.cols);
  fill(shape, key, (draw, c) => {
    const pair = c < 2 ? gaussianPair(draw[0], draw[1]) : gaussianPair(draw[2], draw[3]);
    return Math.fround(Math.fround(std) * pair[c % 2]);
  }, z);
  return z;
}

export function noiseBits(shape: NoiseShape, key: RngKey): Uint32Array {
  const bits = new Uint32Array(shape.rows * shape.cols);
  fill(shape, key, (draw, c) => draw[c], bits);
  return bits;
}
