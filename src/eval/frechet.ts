// The Frechet distance between two sets of features, each summarised by a Gaussian (mean,
// covariance): ||m1 - m2||^2 + tr(C1 + C2 - 2 (C1^1/2 C2 C1^1/2)^1/2), the quantity FID computes on
// Inception features; here on the features of an MNIST classifier (src/eval/classifier.ts). In
// float64 on the CPU: the matrices are features x features (a few hundred), and the square roots
// come from a symmetric eigendecomposition (cyclic Jacobi), which is exact to rounding for the
// symmetric positive semi-definite matrices involved.

export interface Gaussian {
  dim: number;
  mean: Float64Array;
  /** Row-major (dim, dim), divided by n - 1 (numpy.cov's default, as FID uses). */
  cov: Float64Array;
}

/** Mean and covariance of `count` rows of `dim` features. */
export function gaussianOf(features: ArrayLike<number>, count: number, dim: number): Gaussian {
  if (count < 2) throw new RangeError(`frechet: a covariance needs at least 2 rows, got ${count}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < count; i++) for (let k = 0; k < dim; k++) mean[k] += features[i * dim + k];
  for (let k = 0; k < dim; k++) mean[k] /= count;
  const cov = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < dim; k++) centred[k] = features[i * dim + k] - mean[k];
    for (let a = 0; a < dim; a++) {
      const ca = centred[a];
      if (ca === 0) continue;
      for (let b = a; b < dim; b++) cov[a * dim + b] += ca * centred[b];
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b] / (count - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  return { dim, mean, cov };
}

/**
 * Eigenvalues and eigenvectors of a symmetric (n, n) matrix by cyclic Jacobi rotations: A = V diag(values) V^T,
 * V's columns the eigenvectors. Sweeps until the off-diagonal mass is negligible.
 */
export function symmetricEigen(matrix: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(matrix);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p * n + q] * a[p * n + q];
    if (off <= 1e-30 * scale || off === 0) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // The rotation that zeroes a[p][q] (Golub and Van Loan, Algorithm 8.4.1), the smaller angle.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = a[i * n + i];
  return { values, vectors: v };
}

/** The symmetric square root of a symmetric positive semi-definite matrix; eigenvalues below 0 (rounding) count as 0. */
export function sqrtPsd(matrix: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, n);
  const out = new Float64Array(n * n);
  for (let e = 0; e < n; e++) {
    const root = Math.sqrt(Math.max(0, values[e]));
    if (root === 0) continue;
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + e] * root;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += vi * vectors[j * n + e];
    }
  }
  return out;
}

function multiply(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k];
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) out[i * n + j] += aik * b[k * n + j];
    }
  }
  return out;
}

/** ||m1 - m2||^2 + tr(C1) + tr(C2) - 2 tr((C1^1/2 C2 C1^1/2)^1/2); symmetric in its arguments. */
export function frechetDistance(x: Gaussian, y: Gaussian): number {
  if (x.dim !== y.dim) throw new RangeError(`frechet: ${x.dim} features against ${y.dim}`);
  const n = x.dim;
  let meanTerm = 0;
  for (let k = 0; k < n; k++) meanTerm += (x.mean[k] - y.mean[k]) ** 2;
  let traces = 0;
  for (let k = 0; k < n; k++) traces += x.cov[k * n + k] + y.cov[k * n + k];
  // C1^1/2 C2 C1^1/2 is symmetric PSD with the eigenvalues of C1 C2, so the trace of its root is
  // the trace of (C1 C2)^1/2 that FID's formula names, without a non-symmetric square root.
  const root = sqrtPsd(x.cov, n);
  const inner = multiply(multiply(root, y.cov, n), root, n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) inner[i * n + j] = inner[j * n + i] = 0.5 * (inner[i * n + j] + inner[j * n + i]);
  const { values } = symmetricEigen(inner, n);
  let crossTrace = 0;
  for (const value of values) crossTrace += Math.sqrt(Math.max(0, value));
  return Math.max(0, meanTerm + traces - 2 * crossTrace);
}

/** The share of each class among predictions, and its entropy in nats (ln 10 = 2.303 when uniform over 10). */
export function classCoverage(
  predictions: ArrayLike<number>,
  classes: number,
): { distribution: number[]; entropy: number } {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < predictions.length; i++) counts[predictions[i]]++;
  const distribution = counts.map((c) => c / predictions.length);
  const entropy = distribution.reduce((sum, p) => sum + (p > 0 ? -p * Math.log(p) : 0), 0);
  return { distribution, entropy };
}
