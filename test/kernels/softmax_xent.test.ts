// shaders/softmax_xent.wgsl against src/reference/softmax_xent.ts, and the reference's gradient
// against central finite differences of its own loss in float64.
//
// Tolerances, from the accuracy WGSL requires of exp and log (3 + 2|x| ulp for exp(x); log 2^-21
// absolute near 1), so the test holds on hardware too:
//   dlogits   |gpu - reference| <= 1e-30 + 5e-5 (p_c + [c == y]) / batch. p_c = exp(l_c - m) / total
//             carries exp's error at x = l_c - m >= -200 here (403 ulp = 2.4e-5) plus the sum's
//             (at most classes u); the label's p - 1 adds one rounding of size u. 1e-30 lets a GPU
//             flush a denormal p / batch to zero.
//   loss      |gpu - reference| <= 1e-5 + 5e-5 mean_i(|m_i| + |l_iy| + log total_i), the same
//             per-row errors, and the batch sum in the tree (ceil(batch / 64) + 6 roundings, far
//             below 5e-5 relative for these batches).
//   accuracy  the count is exact (the argmax compares the same floats; ties go to the first class),
//             then scaled by 1 / batch and summed: 3 roundings.
// A wrong index, sign or scale errs by a whole term: orders of magnitude above these bounds.
// Finite differences (float64, h = 1e-5): truncation and rounding both stay below 1e-8 here.
import test from 'node:test';
import assert from 'node:assert/strict';
import { clearXentStats, createXentStats, softmaxCrossEntropy } from '../../src/kernels/softmax_xent';
import { XENT_STATS, XENT_STATS_LENGTH } from '../../src/spec/stats';
import { softmaxCrossEntropy as referenceCrossEntropy } from '../../src/reference/softmax_xent';
import { randomArray, seededRandom } from '../helpers';
import { checkTwin } from '../kernel-twin';

const cases = [
  { batch: 1, classes: 2, scale: 1 },
  { batch: 7, classes: 10, scale: 3 },
  { batch: 64, classes: 10, scale: 5 },
  { batch: 130, classes: 10, scale: 100 },
  { batch: 33, classes: 3, scale: 1 },
];

for (const [index, { batch, classes, scale }] of cases.entries()) {
  test(`softmax cross-entropy, batch ${batch}, ${classes} classes, logits in +-${scale}: gradient and statistics match the reference`, async () => {
    const labelCount = 500;
    await checkTwin({
      seed: 300 + index,
      inputs: {
        logits: (random) => {
          const logits = randomArray(random, batch * classes, -scale, scale);
          // A tied row: the first of the equal maxima is the prediction.
          if (batch >= 7) logits.fill(scale, 2 * classes, 3 * classes);
          return logits;
        },
        labels: (random) => new Uint32Array(labelCount).map(() => Math.floor(random() * classes)),
        indices: (random, { labels }) => {
          const indices = new Uint32Array(batch).map(() => Math.floor(random() * labelCount));
          if (batch >= 7) labels[indices[2]] = 0;
          return indices;
        },
      },
      outputs: { dlogits: batch * classes, stats: createXentStats },
      steps: [
        {
          gpu: async ({ rt, buffers }) => {
            const dispatch = await softmaxCrossEntropy(rt, { batch, classes }, buffers);
            // Twice: the stats add up.
            return [dispatch, dispatch];
          },
          twin: async ({ data: { logits, labels, indices }, read }) => {
            const expected = referenceCrossEntropy(logits, labels, indices, batch, classes);
            const stats = await read('stats', XENT_STATS_LENGTH);
            let rowMagnitude = 0;
            for (let i = 0; i < batch; i++) {
              const row = logits.subarray(i * classes, (i + 1) * classes);
              const m = Math.max(...row);
              rowMagnitude +=
                Math.abs(m) +
                Math.abs(row[labels[indices[i]]]) +
                Math.log(row.reduce((s, l) => s + Math.exp(l - m), 0));
            }
            const lossTolerance = 1e-5 + 5e-5 * (rowMagnitude / batch);
            assert.ok(
              Math.abs(stats[XENT_STATS.lossSum] / 2 - expected.loss) <= lossTolerance,
              `loss ${stats[XENT_STATS.lossSum] / 2}, reference ${expected.loss}`,
            );
            // The count is exact; times 1 / batch and added twice it rounds up to three times.
            assert.ok(
              Math.abs(stats[XENT_STATS.correctSum] - 2 * expected.accuracy) <= 3 * 2 ** -24 * 2,
              `accuracy ${stats[XENT_STATS.correctSum] / 2}, reference ${expected.accuracy}`,
            );
            assert.equal(stats[XENT_STATS.count], 2);
            if (batch >= 7) assert.ok(expected.accuracy > 0, 'the tied row counts as correct for label 0');
            const magnitude = new Float64Array(batch * classes).map(
              (_, i) =>
                expected.dlogits[i] + (i % classes === labels[indices[Math.floor(i / classes)]] ? 2 / batch : 0),
            );
            return { dlogits: { expected: expected.dlogits, tolerance: { atol: 1e-30, rtol: 5e-5, magnitude } } };
          },
        },
        {
          gpu: ({ rt, buffers }) => {
            const encoder = rt.device.createCommandEncoder();
            clearXentStats(encoder, buffers.stats);
            rt.device.queue.submit([encoder.finish()]);
            return [];
          },
          twin: () => ({ 'cleared stats': { buffer: 'stats', expected: [0, 0, 0, 0], tolerance: 'exact' } }),
        },
      ],
    });
  });
}

test('softmax cross-entropy: the reference gradient matches finite differences of its loss', () => {
  const random = seededRandom(77);
  const [batch, classes] = [3, 4];
  const logits = Float64Array.from(randomArray(random, batch * classes, -4, 4));
  const labels = [2, 0, 3];
  const indices = [0, 1, 2];
  const { dlogits } = referenceCrossEntropy(logits, labels, indices, batch, classes);
  const h = 1e-5;
  for (let i = 0; i < logits.length; i++) {
    const plus = logits.slice();
    const minus = logits.slice();
    plus[i] += h;
    minus[i] -= h;
    const fd =
      (referenceCrossEntropy(plus, labels, indices, batch, classes).loss -
        referenceCrossEntropy(minus, labels, indices, batch, classes).loss) /
      (2 * h);
    assert.ok(
      Math.abs(fd - dlogits[i]) <= 1e-8 + 1e-6 * Math.abs(dlogits[i]),
      `logit ${i}: finite difference ${fd}, gradient ${dlogits[i]}`,
    );
  }
});
