// The Parzen protocol of src/eval/parzen.ts (the authors' parzen_ll.py) against the float64 twin:
// the sigma grid, the standard error, sigma chosen on the validation points and the test mean at
// that sigma. Tolerance 1e-3 on every mean: test/kernels/parzen.test.ts bounds each point's error
// (here up to 0.02 at sigma 0.1, a = 50, with M near 85 for data in [0, 1]^64); in practice the
// float32 rounding is near sqrt(d) u and averages out over the points (measured: 1e-5), while a
// wrong sigma, a missing point or a wrong divisor moves a mean by far more than 1e-3.
import test from 'node:test';
import assert from 'node:assert/strict';
import { logspace, meanAndStandardError, paperSigmas, parzenEvaluation } from '../../src/eval/parzen';
import { SampleWindow } from '../../src/eval/window';
import { parzenLogLikelihoods } from '../../src/reference/parzen';
import { gpu, randomArray, seededRandom } from '../helpers';

test('the sigma grid is numpy.logspace(-1, 0, 10)', () => {
  const sigmas = paperSigmas();
  assert.equal(sigmas.length, 10);
  assert.equal(sigmas[0], 0.1);
  assert.equal(sigmas[9], 1);
  assert.ok(Math.abs(sigmas[1] - 0.12915496650148839) < 1e-15);
  assert.ok(Math.abs(sigmas[4] - 0.2782559402207124) < 1e-15);
  assert.deepEqual(logspace(0, 2, 3), [1, 10, 100]);
});

test('the standard error is std / sqrt(N), std dividing by N as numpy does', () => {
  const { mean, se } = meanAndStandardError([1, 2, 3, 4]);
  assert.equal(mean, 2.5);
  assert.ok(Math.abs(se - Math.sqrt(1.25) / 2) < 1e-15);
  // Every other value, from the second: a column of a (points, sigmas) matrix.
  assert.deepEqual(meanAndStandardError([9, 1, 9, 3], 2, 1), { mean: 2, se: 1 / Math.sqrt(2) });
});

test('parzenEvaluation chooses sigma by the validation mean and reports the test mean there, as the twin does', async () => {
  const { rt } = await gpu();
  const random = seededRandom(42);
  const features = 64;
  const [samples, valid, testCount] = [300, 40, 70];
  // Points near the samples, so that the validation curve has an interior maximum.
  const mu = randomArray(random, samples * features, 0, 1);
  const near = (count: number) => {
    const x = new Float32Array(count * features);
    for (let i = 0; i < count; i++) {
      const s = Math.floor(random() * samples);
      for (let k = 0; k < features; k++) x[i * features + k] = mu[s * features + k] + 0.8 * (random() - 0.5);
    }
    return x;
  };
  const xValid = near(valid);
  const xTest = near(testCount);
  const sigmas = paperSigmas();
  const window = await SampleWindow.create(rt, { values: mu, count: samples, features }, { maxSamplesPerChunk: 128 });
  const result = await parzenEvaluation(
    window,
    { values: xValid, count: valid, features },
    { values: xTest, count: testCount, features },
    sigmas,
  );
  window.destroy();

  const column = (ll: Float64Array, j: number) => meanAndStandardError(ll, sigmas.length, j);
  const validLl = parzenLogLikelihoods(xValid, mu, valid, samples, features, sigmas);
  const testLl = parzenLogLikelihoods(xTest, mu, testCount, samples, features, sigmas);
  const means = sigmas.map((_, j) => column(validLl, j).mean);
  const best = means.indexOf(Math.max(...means));
  assert.ok(best > 0 && best < sigmas.length - 1, `the case has an interior maximum (sigma ${sigmas[best]})`);
  assert.equal(result.sigma, sigmas[best]);
  const expected = column(testLl, best);
  assert.ok(Math.abs(result.ll - expected.mean) < 1e-3, `ll ${result.ll}, twin ${expected.mean}`);
  assert.ok(Math.abs(result.se - expected.se) < 1e-3, `se ${result.se}, twin ${expected.se}`);
  for (const [j, s] of result.bySigma.entries()) {
    assert.ok(Math.abs(s.valid_ll - means[j]) < 1e-3, `validation mean at sigma ${s.sigma}`);
    assert.ok(Math.abs(s.test_ll! - column(testLl, j).mean) < 1e-3, `test mean at sigma ${s.sigma}`);
  }
  assert.deepEqual([result.nSamples, result.nValid, result.nTest], [samples, valid, testCount]);
});
