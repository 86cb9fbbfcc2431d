// src/eval/frechet.ts against closed forms, in float64. Tolerances: Jacobi's eigenvalues and
// reconstruction are exact to a few hundred rounding errors of the matrix's norm (1e-10 relative
// here); the distances compare with closed forms to 1e-9 relative.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  classCoverage,
  frechetDistance,
  gaussianOf,
  sqrtPsd,
  symmetricEigen,
  type Gaussian,
} from '../../src/eval/frechet';
import { seededRandom } from '../helpers';

function randomSymmetricPsd(random: () => number, n: number, rank = n): Float64Array {
  const b = Float64Array.from({ length: n * rank }, () => random() - 0.5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) for (let k = 0; k < rank; k++) a[i * n + j] += b[i * rank + k] * b[j * rank + k];
  return a;
}

const close = (a: number, b: number, rel: number, what: string) =>
  assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${what}: ${a}, expected ${b}`);

test('symmetric eigendecomposition reconstructs the matrix with orthonormal vectors', () => {
  const random = seededRandom(1);
  for (const n of [1, 2, 5, 40]) {
    const a = randomSymmetricPsd(random, n);
    for (let i = 0; i < n; i++) a[i * n + i] -= 0.3; // indefinite too
    const { values, vectors } = symmetricEigen(a, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let rebuilt = 0;
        let gram = 0;
        for (let e = 0; e < n; e++) {
          rebuilt += vectors[i * n + e] * values[e] * vectors[j * n + e];
          gram += vectors[e * n + i] * vectors[e * n + j];
        }
        close(rebuilt, a[i * n + j], 1e-10, `n ${n}: A[${i}][${j}]`);
        close(gram, i === j ? 1 : 0, 1e-10, `n ${n}: (V^T V)[${i}][${j}]`);
      }
    }
  }
});

test('the PSD square root squares back, rank-deficient matrices included', () => {
  const random = seededRandom(2);
  const n = 12;
  for (const rank of [n, 4]) {
    const a = randomSymmetricPsd(random, n, rank);
    const root = sqrtPsd(a, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let square = 0;
        for (let k = 0; k < n; k++) square += root[i * n + k] * root[k * n + j];
        close(square, a[i * n + j], 1e-9, `rank ${rank}: (sqrt A)^2[${i}][${j}]`);
      }
    }
  }
});

test('Frechet distance: 0 for one Gaussian, closed forms for diagonal and proportional covariances', () => {
  const random = seededRandom(3);
  const n = 8;
  const cov = randomSymmetricPsd(random, n);
  const mean = Float64Array.from({ length: n }, () => random());
  const g: Gaussian = { dim: n, mean, cov };
  close(frechetDistance(g, g), 0, 1e-9, 'same Gaussian');

  // Diagonal: sum (m1 - m2)^2 + sum (sqrt(a) - sqrt(b))^2.
  const a = [1, 4, 0.25, 9];
  const b = [4, 1, 1, 0];
  const diag = (d: number[]) => Float64Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? d[i / 5] : 0));
  const x: Gaussian = { dim: 4, mean: Float64Array.from([0, 1, 2, 3]), cov: diag(a) };
  const y: Gaussian = { dim: 4, mean: Float64Array.from([1, 1, 2, 0]), cov: diag(b) };
  const expected = 1 + 9 + a.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(b[i])) ** 2, 0);
  close(frechetDistance(x, y), expected, 1e-9, 'diagonal');
  close(frechetDistance(y, x), expected, 1e-9, 'diagonal, swapped');

  // C2 = k C1 (not diagonal): tr(C1) (1 - sqrt(k))^2.
  const k = 2.5;
  const scaled: Gaussian = { dim: n, mean, cov: cov.map((v) => k * v) };
  let trace = 0;
  for (let i = 0; i < n; i++) trace += cov[i * n + i];
  close(frechetDistance(g, scaled), trace * (1 - Math.sqrt(k)) ** 2, 1e-9, 'proportional');
});

test('gaussianOf is the sample mean and numpy.cov (divisor n - 1)', () => {
  const rows = [1, 2, 3, 5, 4, 9];
  const { mean, cov } = gaussianOf(rows, 3, 2);
  assert.deepEqual(Array.from(mean), [8 / 3, 16 / 3]);
  close(cov[0], ((1 - 8 / 3) ** 2 + (3 - 8 / 3) ** 2 + (4 - 8 / 3) ** 2) / 2, 1e-12, 'var 0');
  close(
    cov[1],
    ((1 - 8 / 3) * (2 - 16 / 3) + (3 - 8 / 3) * (5 - 16 / 3) + (4 - 8 / 3) * (9 - 16 / 3)) / 2,
    1e-12,
    'cov 01',
  );
  assert.equal(cov[1], cov[2]);
});

test('class coverage: uniform predictions have entropy ln 10, copies of one digit 0', () => {
  const uniform = classCoverage(
    Array.from({ length: 100 }, (_, i) => i % 10),
    10,
  );
  assert.deepEqual(uniform.distribution, new Array(10).fill(0.1));
  close(uniform.entropy, Math.log(10), 1e-12, 'uniform entropy');
  const one = classCoverage(new Array(50).fill(7), 10);
  assert.equal(one.distribution[7], 1);
  assert.equal(one.entropy, 0);
});
