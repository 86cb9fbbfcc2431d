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
import {
  discriminatorLoss as referenceDiscriminatorLoss,
  generatorLoss as referenceGeneratorLoss,
} from '../../src/reference/gan_loss';
import type { Runtime } from '../../src/gpu/runtime';
import { assertClose, gpu, randomArray, seededRandom } from '../helpers';
import { checkTwin, type TwinContext } from '../kernel-twin';

const U = 2 ** -24;
const DLOGIT_TOLERANCE = { atol: 1e-30, rtol: 2e-5 };
const COUNTS = [GAN_STATS.dCount, GAN_STATS.gCount, GAN_STATS.nonfinite] as number[];
const GENERATOR_LOSSES = ['non-saturating', 'minimax'] as const;

/** Logits of a D that is sure of itself somewhere: every fifth is +-50 or +-100, the rest in [-8, 8]. */
function testLogits(random: () => number, n: number, rotation: number): Float32Array<ArrayBuffer> {
  const extremes = [50, -50, 100, -100];
  const logits = randomArray(random, n, -8, 8);
  for (let i = 0, k = rotation; i < n; i += 5, k++) logits[i] = extremes[k % extremes.length];
  return logits;
}

/**
 * Compares a stats buffer with summed reference deltas; n is the largest batch a sum went over.
 * `magnitudes` replaces |reference| in the bound where a sum's terms have mixed signs (least squares'
 * D(x), the raw outputs): there the roundings are relative to the sum of |terms|.
 */
function assertStats(
  what: string,
  actual: Float32Array,
  expected: Float64Array,
  n: number,
  magnitudes?: Float64Array,
): void {
  for (let i = 0; i < GAN_STATS_LENGTH; i++) {
    if (COUNTS.includes(i)) {
      assert.equal(actual[i], expected[i], `${what}: stats[${i}] (a count)`);
    } else {
      assert.ok(Number.isFinite(actual[i]), `${what}: stats[${i}] = ${actual[i]} is not finite`);
      const magnitude = magnitudes ? [Math.max(magnitudes[i], Math.abs(expected[i]))] : undefined;
      assertClose(`${what}: stats[${i}]`, [actual[i]], [expected[i]], {
        atol: 1e-6,
        rtol: 2e-5 + (Math.ceil(n / 64) + 8) * U,
        magnitude,
      });
    }
  }
}

function sum(...deltas: Float64Array[]): Float64Array {
  const total = new Float64Array(GAN_STATS_LENGTH);
  for (const delta of deltas) for (let i = 0; i < total.length; i++) total[i] += delta[i];
  return total;
}

/** A step's view when steps are made for each loss: the logits and their gradients, and stats buffers by name. */
type GanContext = TwinContext<
  { logitsReal: Float32Array<ArrayBuffer>; logitsFake: Float32Array<ArrayBuffer> },
  Record<'logitsReal' | 'logitsFake' | 'dlogitsReal' | 'dlogitsFake', GPUBuffer> & Record<string, GPUBuffer>
>;

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
    await checkTwin({
      seed: 500 + index,
      inputs: {
        logitsReal: (random) => testLogits(random, n, 0),
        logitsFake: (random) => testLogits(random, nFake, 1),
      },
      // A stats buffer of its own for each loss, so each holds that loss's sums alone.
      outputs: {
        dlogitsReal: n,
        dlogitsFake: nFake,
        stats: createStatsBuffer,
        smoothedStats: createStatsBuffer,
        'non-saturating': createStatsBuffer,
        minimax: createStatsBuffer,
      },
      steps: [
        {
          gpu: async ({ rt, buffers }) => discriminatorLoss(rt, { nReal: n, nFake }, buffers),
          twin: async ({ data: { logitsReal, logitsFake }, read }) => {
            const expected = referenceDiscriminatorLoss(logitsReal, logitsFake);
            assertStats('D', await read('stats', GAN_STATS_LENGTH), expected.stats, n);
            return {
              'D dlogits_real': { buffer: 'dlogitsReal', expected: expected.dlogitsReal, tolerance: DLOGIT_TOLERANCE },
              'D dlogits_fake': { buffer: 'dlogitsFake', expected: expected.dlogitsFake, tolerance: DLOGIT_TOLERANCE },
            };
          },
        },
        {
          // One-sided label smoothing: D's target for the data is .9.
          gpu: async ({ rt, buffers }) =>
            discriminatorLoss(rt, { nReal: n, nFake, realTarget: 0.9 }, { ...buffers, stats: buffers.smoothedStats }),
          twin: async ({ data: { logitsReal, logitsFake }, read }) => {
            const smoothed = referenceDiscriminatorLoss(logitsReal, logitsFake, 0.9);
            assertStats('D (target .9)', await read('smoothedStats', GAN_STATS_LENGTH), smoothed.stats, n);
            // Where sigmoid(l) is near .9 the two terms of the gradient cancel: the error is relative to the terms, not to their difference.
            const terms = Array.from(
              logitsReal,
              (l) => (0.5 * (0.1 / (1 + Math.exp(-l)) + 0.9 / (1 + Math.exp(l)))) / n,
            );
            return {
              'D (target .9) dlogits_real': {
                buffer: 'dlogitsReal',
                expected: smoothed.dlogitsReal,
                tolerance: { ...DLOGIT_TOLERANCE, magnitude: terms },
              },
            };
          },
        },
        ...GENERATOR_LOSSES.map((loss) => ({
          gpu: async ({ rt, buffers }: GanContext) =>
            generatorLoss(
              rt,
              { n: nFake, loss },
              { logitsFake: buffers.logitsFake, dlogitsFake: buffers.dlogitsFake, stats: buffers[loss] },
            ),
          twin: async ({ data: { logitsFake }, read }: GanContext) => {
            const expectedG = referenceGeneratorLoss(logitsFake, loss);
            assertStats(`G ${loss}`, await read(loss, GAN_STATS_LENGTH), expectedG.stats, nFake);
            return {
              [`G ${loss} dlogits_fake`]: {
                buffer: 'dlogitsFake' as const,
                expected: expectedG.dlogitsFake,
                tolerance: DLOGIT_TOLERANCE,
              },
            };
          },
        })),
      ],
    });
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
  rt.run([
    await discriminatorLoss(rt, { nReal: n, nFake: n }, buffers),
    await generatorLoss(rt, { n, loss: 'minimax' }, buffers),
  ]);
  rt.run([
    await discriminatorLoss(rt, { nReal: n, nFake: n }, { ...buffers, stats: otherStats }),
    await generatorLoss(rt, { n, loss: 'minimax' }, { ...buffers, stats: otherStats }),
  ]);
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
  assertClose(
    'finite dlogits',
    finite.map((i) => dlogits[i]),
    finite.map((i) => expected[i]),
    DLOGIT_TOLERANCE,
  );
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

for (const [nReal, nFake] of [
  [7, 5],
  [200, 100],
]) {
  test(`gan_loss reference: dlogits are the finite-difference gradient of the loss (float64, ${nReal} + ${nFake})`, (t) => {
    const random = seededRandom(nReal * 31 + nFake);
    const real = Float64Array.from(testLogits(random, nReal, 0));
    const fake = Float64Array.from(testLogits(random, nFake, 1));
    const tolerance = { atol: 1e-8, rtol: 1e-6 };
    const d = referenceDiscriminatorLoss(real, fake);
    assertClose(
      'D dlogits_real',
      d.dlogitsReal,
      finiteDifferences(real, (r) => referenceDiscriminatorLoss(r, fake).loss),
      tolerance,
    );
    assertClose(
      'D dlogits_fake',
      d.dlogitsFake,
      finiteDifferences(fake, (f) => referenceDiscriminatorLoss(real, f).loss),
      tolerance,
    );
    const smoothed = referenceDiscriminatorLoss(real, fake, 0.9);
    assertClose(
      'D (target .9) dlogits_real',
      smoothed.dlogitsReal,
      finiteDifferences(real, (r) => referenceDiscriminatorLoss(r, fake, 0.9).loss),
      tolerance,
    );
    for (const target of [1, 0.9]) {
      const ls = referenceDiscriminatorLoss(real, fake, target, 'least-squares');
      const [fdReal, fdFake] = [
        finiteDifferences(real, (r) => referenceDiscriminatorLoss(r, fake, target, 'least-squares').loss),
        finiteDifferences(fake, (f) => referenceDiscriminatorLoss(real, f, target, 'least-squares').loss),
      ];
      assertClose(`D least squares (target ${target}) dlogits_real`, ls.dlogitsReal, fdReal, LS_FD_TOLERANCE);
      assertClose(`D least squares (target ${target}) dlogits_fake`, ls.dlogitsFake, fdFake, LS_FD_TOLERANCE);
      const worst = Math.max(
        ...fdReal.map((v, i) => Math.abs(v - ls.dlogitsReal[i])),
        ...fdFake.map((v, i) => Math.abs(v - ls.dlogitsFake[i])),
      );
      t.diagnostic(`D least squares (target ${target}): largest |fd - dlogit| ${worst.toExponential(2)}`);
    }
    for (const loss of GENERATOR_LOSSES) {
      const g = referenceGeneratorLoss(fake, loss);
      assertClose(
        `G ${loss} dlogits`,
        g.dlogitsFake,
        finiteDifferences(fake, (f) => referenceGeneratorLoss(f, loss).loss),
        tolerance,
      );
    }
    const g = referenceGeneratorLoss(fake, 'least-squares');
    const fd = finiteDifferences(fake, (f) => referenceGeneratorLoss(f, 'least-squares').loss);
    assertClose('G least squares dlogits', g.dlogitsFake, fd, LS_FD_TOLERANCE);
    t.diagnostic(
      `G least squares: largest |fd - dlogit| ${Math.max(...fd.map((v, i) => Math.abs(v - g.dlogitsFake[i]))).toExponential(2)}`,
    );
  });
}

// Least squares (LSGAN): D's raw output, no sigmoid. Tolerances:
//   dlogits   (l - t) / n is one f32 subtraction and one division (WGSL allows 2.5 ulp), the uniform
//             holds t rounded to f32 (0.9 moves by 0.27 u) and the reference rounds once (0.5 u):
//             under 4u (|l| + |t|) / n, checked at twice that, relative to the terms, not to their
//             difference (l near t cancels). Measured on lavapipe: at most 2.6 u.
//   sums      the bound above; the squares are of one sign, the D(x) and D(G(z)) sums (raw l) are
//             not, so theirs is relative to mean |l|.
// Finite differences of a quadratic: the truncation term is 0, so only rounding, 1e-16 |L| / h with
// |L| <= 5e3 (logits of +-100): |fd - dlogit| <= 1e-6 + 1e-6 |dlogit|.
const LS_FD_TOLERANCE = { atol: 1e-6, rtol: 1e-6 };

/** Per stats slot, the mean |l| for least squares' raw-output sums, 0 elsewhere (the reference then bounds). */
function leastSquaresMagnitudes(
  real: ArrayLike<number> | undefined,
  fake: ArrayLike<number>,
  player: 'D' | 'G',
): Float64Array {
  const meanAbs = (v: ArrayLike<number>) => Array.from(v, Math.abs).reduce((a, b) => a + b, 0) / v.length;
  const m = new Float64Array(GAN_STATS_LENGTH);
  if (player === 'D') {
    m[GAN_STATS.dRealSum] = meanAbs(real!);
    m[GAN_STATS.dFakeSum] = meanAbs(fake);
  } else {
    m[GAN_STATS.gFakeSum] = meanAbs(fake);
  }
  return m;
}

/** Largest |gpu - reference| / ((|l| + |t|) / n) over a batch of gradients. */
function worstRelative(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  logits: ArrayLike<number>,
  t: number,
): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / ((Math.abs(logits[i]) + Math.abs(t)) / logits.length));
  return worst;
}

for (const [index, n] of [1, 7, 100, 257].entries()) {
  const nFake = n === 1 ? 1 : n + 2;
  test(`gan_loss least squares n_real ${n}, n_fake ${nFake}: D (targets 1 and .9) and G match the reference, raw outputs in the stats`, async (t) => {
    let worst = 0;
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
    const discriminatorStep = (target: number) => {
      const stats = `stats (target ${target})`;
      let expected: ReturnType<typeof referenceDiscriminatorLoss>;
      return {
        gpu: async ({ rt, buffers }: GanContext) =>
          discriminatorLoss(
            rt,
            { nReal: n, nFake, realTarget: target, loss: 'least-squares' },
            { ...buffers, stats: buffers[stats] },
          ),
        twin: ({ data: { logitsReal, logitsFake } }: GanContext) => {
          expected = referenceDiscriminatorLoss(logitsReal, logitsFake, target, 'least-squares');
          const magnitudeReal = Array.from(logitsReal, (l) => (Math.abs(l) + target) / n);
          const magnitudeFake = Array.from(logitsFake, (l) => Math.abs(l) / nFake);
          return {
            [`D (target ${target}) dlogits_real`]: {
              buffer: 'dlogitsReal',
              expected: expected.dlogitsReal,
              tolerance: { atol: 0, rtol: 8 * U, magnitude: magnitudeReal },
            },
            [`D (target ${target}) dlogits_fake`]: {
              buffer: 'dlogitsFake',
              expected: expected.dlogitsFake,
              tolerance: { atol: 0, rtol: 8 * U, magnitude: magnitudeFake },
            },
          };
        },
        after: async ({ data: { logitsReal, logitsFake }, got, read }: GanContext) => {
          worst = Math.max(
            worst,
            worstRelative(got.dlogitsReal, expected.dlogitsReal, logitsReal, target),
            worstRelative(got.dlogitsFake, expected.dlogitsFake, logitsFake, 0),
          );
          const sums = await read(stats, GAN_STATS_LENGTH);
          assertStats(
            `D least squares (target ${target})`,
            sums,
            expected.stats,
            Math.max(n, nFake),
            leastSquaresMagnitudes(logitsReal, logitsFake, 'D'),
          );
          // What the stats mean: the loss is the paper's 1/2 E[(D(x) - b)^2] + 1/2 E[D(G(z))^2], D(x) the mean raw output.
          const direct =
            0.5 * mean(Array.from(logitsReal, (l) => (l - target) ** 2)) +
            0.5 * mean(Array.from(logitsFake, (l) => l * l));
          assert.ok(
            Math.abs(averageGanStats(sums).dLoss - direct) <= 1e-5 * direct,
            `d_loss ${averageGanStats(sums).dLoss} vs ${direct}`,
          );
          assert.ok(
            Math.abs(averageGanStats(sums).dReal - mean(logitsReal)) <=
              1e-5 * (1 + mean(Array.from(logitsReal, Math.abs))),
            'D(x) is the mean raw output',
          );
        },
      };
    };
    let expectedG: ReturnType<typeof referenceGeneratorLoss>;
    await checkTwin({
      seed: 900 + index,
      inputs: {
        logitsReal: (random) => testLogits(random, n, 2),
        logitsFake: (random) => testLogits(random, nFake, 3),
      },
      outputs: {
        dlogitsReal: n,
        dlogitsFake: nFake,
        'stats (target 1)': createStatsBuffer,
        'stats (target 0.9)': createStatsBuffer,
        generatorStats: createStatsBuffer,
      },
      steps: [
        discriminatorStep(1),
        discriminatorStep(0.9),
        {
          gpu: async ({ rt, buffers }) =>
            generatorLoss(
              rt,
              { n: nFake, loss: 'least-squares' },
              { logitsFake: buffers.logitsFake, dlogitsFake: buffers.dlogitsFake, stats: buffers.generatorStats },
            ),
          twin: ({ data: { logitsFake } }) => {
            expectedG = referenceGeneratorLoss(logitsFake, 'least-squares');
            const magnitude = Array.from(logitsFake, (l) => (Math.abs(l) + 1) / nFake);
            return {
              'G least squares dlogits_fake': {
                buffer: 'dlogitsFake',
                expected: expectedG.dlogitsFake,
                tolerance: { atol: 0, rtol: 8 * U, magnitude },
              },
            };
          },
          after: async ({ data: { logitsFake }, got, read }) => {
            worst = Math.max(worst, worstRelative(got.dlogitsFake, expectedG.dlogitsFake, logitsFake, 1));
            const sums = await read('generatorStats', GAN_STATS_LENGTH);
            assertStats(
              'G least squares',
              sums,
              expectedG.stats,
              nFake,
              leastSquaresMagnitudes(undefined, logitsFake, 'G'),
            );
            const direct = (0.5 * Array.from(logitsFake, (l) => (l - 1) ** 2).reduce((a, b) => a + b, 0)) / nFake;
            assert.ok(
              Math.abs(averageGanStats(sums).gLoss - direct) <= 1e-5 * direct,
              `g_loss ${averageGanStats(sums).gLoss} vs ${direct}`,
            );
          },
        },
      ],
    });
    t.diagnostic(`largest |gpu - reference| over (|l| + |t|) / n: ${(worst / U).toFixed(3)} u`);
  });
}

test('gan_loss least squares: NaN and infinite outputs are counted by both entry points', async () => {
  const { rt } = await gpu();
  const random = seededRandom(77);
  const logitsReal = testLogits(random, 9, 0);
  const logitsFake = testLogits(random, 5, 0);
  logitsReal[2] = NaN;
  logitsFake[4] = Infinity;
  const buffers = buffersFor(rt, logitsReal, logitsFake);
  rt.run([
    await discriminatorLoss(rt, { nReal: 9, nFake: 5, loss: 'least-squares' }, buffers),
    await generatorLoss(rt, { n: 5, loss: 'least-squares' }, buffers),
  ]);
  assert.equal((await rt.readF32(buffers.stats, GAN_STATS_LENGTH))[GAN_STATS.nonfinite], 3);
  for (const buffer of Object.values(buffers)) buffer.destroy();
});

test('gan_loss: an unknown loss is refused by name', async () => {
  const { rt } = await gpu();
  const buffers = buffersFor(rt, new Float32Array(3), new Float32Array(3));
  await assert.rejects(
    async () => generatorLoss(rt, { n: 3, loss: 'wasserstein' as GeneratorLoss }, buffers),
    /unknown loss 'wasserstein' \(known: non-saturating, minimax, least-squares\)/,
  );
  await assert.rejects(
    async () => discriminatorLoss(rt, { nReal: 3, nFake: 3, loss: 'hinge' as GeneratorLoss }, buffers),
    /unknown loss 'hinge'/,
  );
  for (const buffer of Object.values(buffers)) buffer.destroy();
});
