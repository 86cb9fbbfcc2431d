// The transpose of a row-major matrix, for tests that lay data out as a kernel reads it.
import type { Vec } from './dense';

/** The (cols, rows) transpose of a (rows, cols) row-major matrix. */
export function transpose<T extends Vec>(a: T, rows: number, cols: number): T {
  const t = (a instanceof Float64Array ? new Float64Array(rows * cols) : new Float32Array(rows * cols)) as T;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}
