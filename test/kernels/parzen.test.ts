// shaders/parzen.wgsl (through src/kernels/parzen.ts and src/eval/window.ts) against
// src/reference/parzen.ts, on shapes that are not multiples of the tiles (8 points x 64 samples per
// workgroup of the product, 64 lanes per point in the reductions) and with the samples and points
// cut into several chunks.
//
// Tolerances (u = 2^-24 = 6e-8, the float32 unit roundoff):
// - Distances: |gpu - reference| <= ATOL_D + RTOL_D * M with M = ||x||^2 + ||mu||^2 + 2 sum |x_k mu_k|.
//   The GPU forms ||x||^2 + ||mu||^2 - 2 x.mu from three float32 sums of d terms each; their rounding
//   is bounded by d u M and near sqrt(d) u M in practice (2e-6 M at d = 784), and combining them
//   rounds twice more: RTOL_D = 4e-6. The reference takes sum (x - mu)^2 in float64.
// - Log-likelihoods: log-mean-exp moves by at most max_i |error of D_i| / (2 sigma^2) when the D_i
//   move (its weights sum to 1), so the distance bound times a = 1 / (2 sigma^2); plus the float32
//   rounding of the final terms (about 16 u of their magnitudes) and of the sum of up to S terms,
//   each <= 1 with the largest exactly 1 (at most (S / 64 + 6) u relative, so as much in the log).
// - The nearest sample: the same index, or one whose reference distance is within twice the
//   distance bound of the reference's choice (a near-tie may go either way in float32); exact copies
//   tie exactly on the GPU too, and then the lowest index wins.
import test from 'node:test';
import assert from 'node:assert/strict';
import { columnNorms, pairDistances, rowNorms } from '../../src/kernels/parzen';
import {
  gaussianLogNormaliser,
  nearestSamples,
  parzenLogLikelihoods,
  squaredDistances,
} from '../../src/reference/parzen';
import { transpose } from '../../src/reference/transpose';
import { SampleWindow, type WindowOptions } from '../../src/eval/window';
import { paperSigmas } from '../../src/eval/parzen';
import { assertClose, gpu, randomArray, seededRandom } from '../helpers';
import { checkTwin } from '../kernel-twin';

const U = 2 ** -24;
const ATOL_D = 1e-6;
const RTOL_D = 4e-6;
const RTOL_LL = 16 * U;

/** M of the distance tolerance for every (point, sample) pair, row-major (points, samples). */
function distanceMagnitudes(
  x: Float32Array,
  mu: Float32Array,
  points: number,
  samples: number,
  features: number,
): Float64Array {
  const out = new Float64Array(points * samples);
  for (let t = 0; t < points; t++) {
    for (let s = 0; s < samples; s++) {
      let m = 0;
      for (let k = 0; k < features; k++) {
        const a = x[t * features + k];
        const b = mu[s * features + k];
        m += a * a + b * b + 2 * Math.abs(a * b);
      }
      out[t * samples + s] = m;
    }
  }
  return out;
}

const distanceCases = [
  { points: 1, samples: 1, features: 1 },
  { points: 3, samples: 5, features: 7 },
  { points: 13, samples: 37, features: 29 },
  { points: 33, samples: 129, features: 100 },
  { points: 70, samples: 300, features: 784 },
];

for (const [index, shape] of distanceCases.entries()) {
  test(`parzen distances ${shape.points} points x ${shape.samples} samples x ${shape.features}: the GEMM form matches sum (x - mu)^2`, async () => {
    const { points, samples, features } = shape;
    await checkTwin({
      seed: 500 + index,
      inputs: { x: [points * features, 0, 1], mu: [samples * features, 0, 1] },
      outputs: {
        muT: (rt, label, { mu }) => rt.upload(label, transpose(mu, samples, features)),
        xNorm: points,
        muNorm: samples,
        dist: points * samples,
      },
      steps: [
        {
          gpu: async ({ rt, buffers }) => [
            await rowNorms(rt, shape, buffers.x, buffers.xNorm),
            await columnNorms(rt, shape, buffers.muT, buffers.muNorm),
            await pairDistances(rt, shape, buffers),
          ],
          twin: ({ data: { x, mu } }) => {
            const magnitude = distanceMagnitudes(x, mu, points, samples, features);
            return {
              dist: {
                expected: squaredDistances(x, mu, points, samples, features),
                tolerance: { atol: ATOL_D, rtol: RTOL_D, magnitude },
              },
            };
          },
        },
      ],
    });
  });
}

/** The log-likelihood tolerance of every (point, sigma), from the reference's distances. */
function llTolerance(
  x: Float32Array,
  mu: Float32Array,
  points: number,
  samples: number,
  features: number,
  sigmas: number[],
): Float64Array {
  const dist = squaredDistances(x, mu, points, samples, features);
  const magnitude = distanceMagnitudes(x, mu, points, samples, features);
  const out = new Float64Array(points * sigmas.length);
  for (let t = 0; t < points; t++) {
    let minD = Infinity;
    let maxM = 0;
    for (let s = 0; s < samples; s++) {
      minD = Math.min(minD, dist[t * samples + s]);
      maxM = Math.max(maxM, magnitude[t * samples + s]);
    }
    sigmas.forEach((sigma, j) => {
      const a = 1 / (2 * sigma * sigma);
      const terms = minD * a + Math.abs(gaussianLogNormaliser(features, sigma)) + Math.log(samples) + 1;
      out[t * sigmas.length + j] = a * (ATOL_D + RTOL_D * maxM) + RTOL_LL * terms + (samples / 64 + 6) * U;
    });
  }
  return out;
}

interface WindowCase {
  points: number;
  samples: number;
  features: number;
  sigmas: number[];
  options?: WindowOptions;
  /** Sample chunks the options must produce. */
  chunks: number;
}

const windowCases: WindowCase[] = [
  { points: 1, samples: 1, features: 1, sigmas: [0.5], chunks: 1 },
  {
    points: 7,
    samples: 13,
    features: 5,
    sigmas: [0.1, 0.3, 1],
    options: { maxSamplesPerChunk: 4, maxPointsPerChunk: 3 },
    chunks: 4,
  },
  {
    points: 37,
    samples: 130,
    features: 29,
    sigmas: [0.05, 0.2, 0.7, 2],
    options: { maxSamplesPerChunk: 50, maxPointsPerChunk: 16 },
    chunks: 3,
  },
  {
    points: 100,
    samples: 333,
    features: 784,
    sigmas: paperSigmas(),
    options: { maxSamplesPerChunk: 128, maxPointsPerChunk: 32 },
    chunks: 3,
  },
  { points: 65, samples: 700, features: 784, sigmas: paperSigmas(), chunks: 1 },
];

for (const [index, c] of windowCases.entries()) {
  test(`parzen window ${c.points} points, ${c.samples} samples in ${c.chunks} chunk(s), d ${c.features}, ${c.sigmas.length} sigmas: log-likelihoods match the reference`, async () => {
    const { rt } = await gpu();
    const random = seededRandom(700 + index);
    const x = randomArray(random, c.points * c.features, 0, 1);
    const mu = randomArray(random, c.samples * c.features, 0, 1);
    const window = await SampleWindow.create(rt, { values: mu, count: c.samples, features: c.features }, c.options);
    assert.equal(window.sampleChunks, c.chunks);
    const ll = await window.logLikelihoods({ values: x, count: c.points, features: c.features }, c.sigmas);
    window.destroy();
    const expected = parzenLogLikelihoods(x, mu, c.points, c.samples, c.features, c.sigmas);
    const tolerance = llTolerance(x, mu, c.points, c.samples, c.features, c.sigmas);
    assertClose('ll', ll, expected, { atol: 0, rtol: 1, magnitude: tolerance });
  });
}

test('parzen window, one sample and one point: log N(x; mu, sigma^2 I) exactly', async () => {
  const { rt } = await gpu();
  const x = new Float32Array([0.1, 0.2, 0.3]);
  const mu = new Float32Array([0.4, 0.1, -0.2]);
  const sigmas = [0.1, 0.5, 1];
  const window = await SampleWindow.create(rt, { values: mu, count: 1, features: 3 });
  const ll = await window.logLikelihoods({ values: x, count: 1, features: 3 }, sigmas);
  window.destroy();
  const squared = (0.1 - 0.4) ** 2 + (0.2 - 0.1) ** 2 + (0.3 + 0.2) ** 2;
  const expected = sigmas.map((s) => -squared / (2 * s * s) - 1.5 * Math.log(2 * Math.PI * s * s));
  assertClose('log N', ll, expected, { atol: 0, rtol: 1, magnitude: llTolerance(x, mu, 1, 1, 3, sigmas) });
});

test('parzen window where every exp underflows in float32: the log-mean-exp stays finite and exact, across chunks too', async () => {
  const { rt } = await gpu();
  // Squared distances 100, 101.0025 and 121 at sigma 0.1 give exponents -5000, -5050.125, -6050:
  // exp of each is 0 in float32 (and in float64), yet log p(x) is about -4999.
  const x = new Float32Array([0]);
  const sigma = 0.1;
  const a = 1 / (2 * sigma * sigma);
  const normaliser = -0.5 * Math.log(2 * Math.PI * sigma * sigma);
  for (const [order, options] of [
    [[10, 10.05, 11], {}],
    // The nearest sample comes last, in its own chunk: the running sum is rescaled by exp(-1050) = 0.
    [[11, 10.05, 10], { maxSamplesPerChunk: 1 }],
  ] as const) {
    const mu = new Float32Array(order);
    const window = await SampleWindow.create(rt, { values: mu, count: 3, features: 1 }, options);
    const [ll] = await window.logLikelihoods({ values: x, count: 1, features: 1 }, [sigma]);
    window.destroy();
    const d = Array.from(mu, (m) => m * m);
    const expected =
      -d[order.indexOf(10)] * a +
      Math.log((1 + Math.exp(-(Math.fround(10.05) ** 2 - 100) * a) + Math.exp(-21 * a)) / 3) +
      normaliser;
    assert.ok(Number.isFinite(ll), `log p(x) is ${ll}`);
    assert.ok(
      Math.abs(ll - expected) <= 1e-3,
      `log p(x) = ${ll}, expected ${expected} (samples in order ${order.join(', ')})`,
    );
  }
});

test('parzen nearest sample: matches the reference across chunks; exact copies go to the lowest index', async () => {
  const { rt } = await gpu();
  const random = seededRandom(900);
  const features = 784;
  const points = 21;
  const samples = 517;
  const x = randomArray(random, points * features, 0, 1);
  const mu = randomArray(random, samples * features, 0, 1);
  // Copies: point 0 is sample 2, copied to 3 (a neighbouring lane of the reduction), 66 (the same
  // lane, later) and 400 (a later chunk); point 1 equals samples 100 and 450.
  for (const copy of [3, 66, 400]) mu.copyWithin(copy * features, 2 * features, 3 * features);
  x.set(mu.subarray(2 * features, 3 * features), 0);
  mu.copyWithin(450 * features, 100 * features, 101 * features);
  x.set(mu.subarray(100 * features, 101 * features), features);
  const window = await SampleWindow.create(
    rt,
    { values: mu, count: samples, features },
    { maxSamplesPerChunk: 200, maxPointsPerChunk: 8 },
  );
  assert.equal(window.sampleChunks, 3);
  const { index, distance } = await window.nearest({ values: x, count: points, features });
  window.destroy();
  const expected = nearestSamples(x, mu, points, samples, features);
  const dist = squaredDistances(x, mu, points, samples, features);
  const magnitude = distanceMagnitudes(x, mu, points, samples, features);
  assert.equal(index[0], 2, 'a copy of samples 2, 3, 66 and 400 finds 2');
  assert.equal(index[1], 100, 'a copy of samples 100 and 450 finds 100');
  for (let t = 0; t < points; t++) {
    const bound = ATOL_D + RTOL_D * magnitude[t * samples + expected.index[t]];
    assert.ok(
      Math.abs(dist[t * samples + index[t]] - expected.distance[t]) <= 2 * bound,
      `point ${t}: gpu sample ${index[t]}, reference ${expected.index[t]}`,
    );
    assert.ok(
      Math.abs(distance[t] - expected.distance[t]) <= bound,
      `point ${t}: distance ${distance[t]}, reference ${expected.distance[t]}`,
    );
  }
});
