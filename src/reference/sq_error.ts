// CPU twin of shaders/sq_error.wgsl: the (masked) squared error, its gradient and the clamp.
import type { Vec } from './dense';

/** L = scale / 2 * sum mask (pred - expected)^2 (mask omitted: every element counts). */
export function squaredError(pred: Vec, expected: Vec, scale: number, mask?: Vec): number {
  let sum = 0;
  for (let i = 0; i < pred.length; i++) sum += (mask ? mask[i] : 1) * (pred[i] - expected[i]) ** 2;
  return (scale / 2) * sum;
}

/** dL/dpred = scale * mask * (pred - expected) (+ addend, another loss's gradient), in the precision of `pred`'s type. */
export function squaredErrorGrad<T extends Vec>(pred: T, expected: T, scale: number, mask?: T, addend?: T): T {
  const out = pred instanceof Float64Array ? new Float64Array(pred.length) : new Float32Array(pred.length);
  for (let i = 0; i < pred.length; i++)
    out[i] = scale * (mask ? mask[i] : 1) * (pred[i] - expected[i]) + (addend ? addend[i] : 0);
  return out as T;
}

/** x = min(max(x, low), high), in place. */
export function clampValues(x: Vec, low: number, high: number): void {
  for (let i = 0; i < x.length; i++) x[i] = Math.min(Math.max(x[i], low), high);
}
