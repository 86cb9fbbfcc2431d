// shaders/gan_loss.wgsl against src/reference/gan_loss.ts, and the reference's gradients against
// central finite differences of its own loss in float64.
//
// Tolerances, from the accuracy WGSL requires of exp and log (so the test holds on hardware too, not
// only on the software adapter, which is far more accurate):
//   dlogits   |gpu - reference| <= 1e-30 + 2e-5 |reference|. Each is one sigmoid times a constant;
//             WGSL allows exp an error of 3 + 2|x| ulp, 203 ulp = 1.2e-5 relative at |l| = 100, the
//             largest logit used. 1e-30 lets a GPU flush sigmoid(-100) / n (a denormal) to zero.
//   sums      |gpu - reference| <= 1e-6 + (2e-5 + (ceil(n / 64) + 8) u) |reference|, u = 2^-24.
//             1e-6 covers log's absolute error (2^-21 for arguments in [1, 2], as in softplus);
//             each invocation adds ceil(n / 64) terms, the tree 6 levels more, then a division
//             and the +=, every rounding at most u times the running sum of |terms|, and the terms
//             of every sum have one sign (softplus >= 0, sigmoid >= 0), so that is |reference|.
//   counts    exact.
// A wrong index, sign or scale errs by a whole term: orders of magnitude above these bounds.
// Finite differences (float64, h = 1e-5): truncation h^2 |L'''| / 6 and rounding 1e-16 |L| / h are
// both below 1e-8 for these losses (|L| <= 50), so |fd - dlogit| <= 1e-8 + 1e-6 |dlogit|.
import test from 'node:test';
import assert from 'node:assert/strict';
import { clearStats, createStatsBuffer, discriminatorLoss, generatorLoss } from '../../src/kernels/gan_loss';
import { averageGanStats, GAN_STATS, GAN_STATS_LENGTH, type GeneratorLoss } from '../../src/spec/stats';
import { discriminatorLoss as referenceDiscriminatorLoss, generatorLoss as referenceGeneratorLoss } from '../../src/reference/gan_loss';
import type { Runtime } from '../../src/gpu/runtime';
import { assertClose, gpu, randomArray, seededRandom } from '../helpers';

const U = 2 ** -24;
const DLOGIT_TOLERANCE = { atol: 1e-30, rtol: 2e-5 };
const COUNTS = [GAN_STATS.dCount, GAN_STATS.gCount, GAN_STATS.nonfinite] as number[];
const GENERATOR_LOSSES: GeneratorLoss[] = ['non-saturating', 'minimax'];

/** Logits of a D that is sure of itself somewhere: every fifth is +-50 or +-100, the rest in [-8, 8]. */
function testLogits(random: () => number, n: number, rotation: number): Float32Array<ArrayBuffer> {
  const extremes = [50, -50, 100, -100];
  const logits = randomArray(random, n, -8, 8);
  for (let i = 0, k = rotation; i < n; i += 5, k++) logits[i] = extremes[k % extremes.length];
  return logits;
}

/** Compares a stats buffer with summed reference deltas; n is the largest batch a sum went over. */
function assertStats(what: string, actual: Float32Array, expected: Float64Array, n: number): void {
  for (let i = 0; i < GAN_STATS_LENGTH; i++) {
    if (COUNTS.includes(i)) {
      assert.equal(actual[i], expected[i], `${what}: stats[${i}] (a count)`);
    } else {
      assert.ok(Number.isFinite(actual[i]), `${what}: stats[${i}] = ${actual[i]} is not finite`);
      assertClose(`${what}: stats[${i}]`, [actual[i]], [expected[i]], { atol: 1e-6, rtol: 2e-5 + (Math.ceil(n / 64) + 8) * U });
    }
  }
}

function sum(...deltas: Float64Array[]): Float64Array {
  const total = new Float64Array(GAN_STATS_LENGTH);
  for (const delta of deltas) for (let i = 0; i < total.length; i++) total[i] += delta[i];
  return total;
}

function buffersFor(rt: Runtime, logitsReal: Float32Array<ArrayBuffer>, logitsFake: Float32Array<ArrayBuffer>) {
  return {
    logitsReal: rt.upload('test.logits_real', logitsReal),
    logitsFake: rt.upload('test.logits_fake', logitsFake),
    dlogitsReal: rt.createBuffer('test.dlogits_real', logitsReal.byteLength),
    dlogitsFake: rt.createBuffer('test.dlogits_fake', logitsFake.byteLength),
    stats: createStatsBuffer(rt, 'test.stats'),
  };
}

for (const [index, n] of [1, 7, 100, 200, 1000, 33333].entries()) {
  // A generated batch of another size than the data batch catches n_real and n_fake swapped.
  const nFake = Math.max(1, n - 2);
  test(`gan_loss n_real ${n}, n_fake ${nFake}: D and both G losses match the reference`, async () => {
    const { rt } = await gpu();
    const random = seededRandom(500 + index);
    const logitsReal = testLogits(random, n, 0);
    const logitsFake = testLogits(random, nFake, 1);
    const buffers = buffersFor(rt, logitsReal, logitsFake);

    rt.run([await discriminatorLoss(rt, { nReal: n, nFake }, buffers)]);
    const expected = referenceDiscriminatorLoss(logitsReal, logitsFake);
    assertClose('D dlogits_real', await rt.readF32(buffers.dlogitsReal, n), expected.dlogitsReal, DLOGIT_TOLERANCE);
    assertClose('D dlogits_fake', await rt.readF32(buffers.dlogitsFake, nFake), expected.dlogitsFake, DLOGIT_TOLERANCE);
    assertStats('D', await rt.readF32(buffers.stats, GAN_STATS_LENGTH), expected.stats, n);

    // One-sided label smoothing: D's target for the data is .9.
    const smoothedStats = createStatsBuffer(rt, 'test.stats');
    rt.run([await discriminatorLoss(rt, { nReal: n, nFake, realTarget: 0.9 }, { ...buffers, stats: smoothedStats })]);
    const smoothed = referenceDiscriminatorLoss(logitsReal, logitsFake, 0.9);
    // Where sigmoid(l) is near .9 the two terms of the gradient cancel: the error is relative to the terms, not to their difference.
    const terms = Array.from(logitsReal, (l) => (0.5 * (0.1 / (1 + Math.exp(-l)) + 0.9 / (1 + Math.exp(l)))) / n);
    assertClose('D (target .9) dlogits_real', await rt.readF32(buffers.dlogitsReal, n), smoothed.dlogitsReal, { ...DLOGIT_TOLERANCE, magnitude: terms });
    assertStats('D (target .9)', await rt.readF32(smoothedStats, GAN_STATS_LENGTH), smoothed.stats, n);
    smoothedStats.destroy();

    for (const loss of GENERATOR_LOSSES) {
      const stats = createStatsBuffer(rt, 'test.stats');
      rt.run([await generatorLoss(rt, { n: nFake, loss }, { logitsFake: buffers.logitsFake, dlogitsFake: buffers.dlogitsFake, stats })]);
      const expectedG = referenceGeneratorLoss(logitsFake, loss);
      assertClose(`G ${loss} dlogits_fake`, await rt.readF32(buffers.dlogitsFake, nFake), expectedG.dlogitsFake, DLOGIT_TOLERANCE);
      assertStats(`G ${loss}`, await rt.readF32(stats, GAN_STATS_LENGTH), expectedG.stats, nFake);
      stats.destroy();
    }
    for (const buffer of Object.values(buffers)) buffer.destroy();
  });
}

test('gan_loss: statistics accumulate over calls, the D and G slots apart, and clearStats zeroes them', async () => {
  const { rt } = await gpu();
  const random = seededRandom(42);
  const [nReal, nFake] = [200, 100];
  const first = { real: testLogits(random, nReal, 0), fake: testLogits(random, nFake, 2) };
  const second = { real: testLogits(random, nReal, 3), fake: testLogits(random, nFake, 1) };
  const buffers = buffersFor(rt, first.real, first.fake);
  const dLoss = await discriminatorLoss(rt, { nReal, nFake }, buffers);
  const gLoss = await generatorLoss(rt, { n: nFake, loss: 'non-saturating' }, buffers);

  rt.run([dLoss, gLoss]);
  rt.device.queue.writeBuffer(buffers.logitsReal, 0, second.real);
  rt.device.queue.writeBuffer(buffers.logitsFake, 0, second.fake);
  rt.run([dLoss, gLoss]);
  const expected = sum(
    referenceDiscriminatorLoss(first.real, first.fake).stats,
    referenceGeneratorLoss(first.fake, 'non-saturating').stats,
    referenceDiscriminatorLoss(second.real, second.fake).stats,
    referenceGeneratorLoss(second.fake, 'non-saturating').stats,
  );
  const stats = await rt.readF32(buffers.stats, GAN_STATS_LENGTH);
  assertStats('two iterations', stats, expected, nReal);
  assert.equal(stats[GAN_STATS.dCount], 2);
  assert.equal(stats[GAN_STATS.gCount], 2);
  const averages = averageGanStats(stats);
  assert.ok(Math.abs(averages.dLoss - expected[GAN_STATS.dLossSum] / 2) < 1e-5, `mean d_loss ${averages.dLoss}`);

  const encoder = rt.device.createCommandEncoder({ label: 'test.clear' });
  clearStats(encoder, buffers.stats);
  rt.device.queue.submit([encoder.finish()]);
  assert.deepEqual(await rt.readF32(buffers.stats, GAN_STATS_LENGTH), new Float32Array(GAN_STATS_LENGTH));
  for (const buffer of Object.values(buffers)) buffer.destroy();
});

test('gan_loss: the sums are bit-identical run to run (fixed-order reduction)', async () => {
  const { rt } = await gpu();
  const random = seededRandom(7);
  const n = 33333;
  const buffers = buffersFor(rt, testLogits(random, n, 0), testLogits(random, n, 1));
  const otherStats = createStatsBuffer(rt, 'test.stats');
  rt.run([await discriminatorLoss(rt, { nReal: n, nFake: n }, buffers), await generatorLoss(rt, { n, loss: 'minimax' }, buffers)]);
  rt.run([await discriminatorLoss(rt, { nReal: n, nFake: n }, { ...buffers, stats: otherStats }), await generatorLoss(rt, { n, loss: 'minimax' }, { ...buffers, stats: otherStats })]);
  assert.deepEqual(await rt.readU32(otherStats, GAN_STATS_LENGTH), await rt.readU32(buffers.stats, GAN_STATS_LENGTH));
  otherStats.destroy();
  for (const buffer of Object.values(buffers)) buffer.destroy();
});

test('gan_loss: NaN and infinite logits are counted, the finite ones still get their gradients', async () => {
  const { rt } = await gpu();
  const random = seededRandom(99);
  const logitsReal = testLogits(random, 130, 0);
  const logitsFake = testLogits(random, 70, 0);
  logitsReal[3] = NaN;
  logitsReal[129] = Infinity;
  logitsFake[64] = -Infinity;
  const buffers = buffersFor(rt, logitsReal, logitsFake);
  rt.run([await discriminatorLoss(rt, { nReal: 130, nFake: 70 }, buffers)]);
  assert.equal((await rt.readF32(buffers.stats, GAN_STATS_LENGTH))[GAN_STATS.nonfinite], 3);
  rt.run([await generatorLoss(rt, { n: 70, loss: 'non-saturating' }, buffers)]);
  assert.equal((await rt.readF32(buffers.stats, GAN_STATS_LENGTH))[GAN_STATS.nonfinite], 4);

  const expected = referenceGeneratorLoss(logitsFake, 'non-saturating').dlogitsFake;
  const dlogits = await rt.readF32(buffers.dlogitsFake, 70);
  const finite = [...logitsFake.keys()].filter((i) => Number.isFinite(logitsFake[i]));
  assertClose('finite dlogits', finite.map((i) => dlogits[i]), finite.map((i) => expected[i]), DLOGIT_TOLERANCE);
  for (const buffer of Object.values(buffers)) buffer.destroy();
});

/** Central differences of loss(logits) with respect to every logit. */
function finiteDifferences(logits: Float64Array, loss: (logits: Float64Array) => number): Float64Array {
  const h = 1e-5;
  const grad = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    const saved = logits[i];
    logits[i] = saved + h;
    const up = loss(logits);
    logits[i] = saved - h;
    const down = loss(logits);
    logits[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

for (const [nReal, nFake] of [[7, 5], [200, 100]]) {
  test(`gan_loss reference: dlogits are the finite-difference gradient of the loss (float64, ${nReal} + ${nFake})`, () => {
    const random = seededRandom(nReal * 31 + nFake);
    const real = Float64Array.from(testLogits(random, nReal, 0));
    const fake = Float64Array.from(testLogits(random, nFake, 1));
    const tolerance = { atol: 1e-8, rtol: 1e-6 };
    const d = referenceDiscriminatorLoss(real, fake);
    assertClose('D dlogits_real', d.dlogitsReal, finiteDifferences(real, (r) => referenceDiscriminatorLoss(r, fake).loss), tolerance);
    assertClose('D dlogits_fake', d.dlogitsFake, finiteDifferences(fake, (f) => referenceDiscriminatorLoss(real, f).loss), tolerance);
    const smoothed = referenceDiscriminatorLoss(real, fake, 0.9);
    assertClose('D (target .9) dlogits_real', smoothed.dlogitsReal, finiteDifferences(real, (r) => referenceDiscriminatorLoss(r, fake, 0.9).loss), tolerance);
    for (const loss of GENERATOR_LOSSES) {
      const g = referenceGeneratorLoss(fake, loss);
      assertClose(`G ${loss} dlogits`, g.dlogitsFake, finiteDifferences(fake, (f) => referenceGeneratorLoss(f, loss).loss), tolerance);
    }
  });
}
