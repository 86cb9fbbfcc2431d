// shaders/ema.wgsl against src/reference/ema.ts, and the decay's warm-up.
//
// Each step starts the reference from the average the GPU holds, so errors cannot compound, and
// compares elementwise: |gpu - reference| <= 4u * M, M = decay |average| + (1 - decay) |param|,
// u = 2^-24: the kernel rounds its two products and their sum (each at most u M; an FMA rounds
// fewer), the reference rounds once. A wrong decay, weight or index errs by a whole term.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createEmaUpdate, type EmaUpdate } from '../../src/kernels/ema';
import { emaDecayAt, emaWeights } from '../../src/spec/ema';
import { emaStep } from '../../src/reference/ema';
import { gpu, randomArray } from '../helpers';
import { checkTwin, type TwinContext } from '../kernel-twin';

const U = 2 ** -24;
/** More elements than one row of 65535 workgroups of 64 covers: the 2-D dispatch path. */
const TWO_D = 65535 * 64 + 1001;
const SIZES = [1, 5, 1023, 4097, TWO_D];
/** Decays of successive steps: the warm-up's first values, then a long average. */
const DECAYS = [emaDecayAt(0.999, 1), emaDecayAt(0.999, 2), 0.5, 0.999, 0.9999, 0];

type EmaContext = TwinContext<{ average: Float32Array<ArrayBuffer> }, { param: GPUBuffer; average: GPUBuffer }>;

for (const count of SIZES) {
  test(`ema: ${count} parameters, ${DECAYS.length} steps with changing decays, matches the reference`, async () => {
    let update: EmaUpdate | undefined;
    let values = new Float32Array();
    await checkTwin({
      seed: count,
      inputs: { average: count },
      outputs: { param: count },
      steps: DECAYS.map((decay, s) => ({
        gpu: async ({ rt, random, buffers }: EmaContext) => {
          update ??= await createEmaUpdate(rt, count, buffers, decay);
          update.setDecay(decay);
          values = randomArray(random, count, -2, 2);
          rt.device.queue.writeBuffer(buffers.param, 0, values);
          return update.dispatch;
        },
        // From the average the GPU holds, so errors cannot compound.
        twin: ({ data, got }: EmaContext) => {
          const average = got.average ?? data.average;
          const expected = Float32Array.from(average);
          emaStep(expected, values, decay);
          const { weight } = emaWeights(decay);
          const magnitude = average.map((a, i) => decay * Math.abs(a) + weight * Math.abs(values[i]));
          return {
            [`step ${s + 1} (decay ${decay})`]: {
              buffer: 'average' as const,
              expected,
              tolerance: { atol: 1e-30, rtol: 4 * U, magnitude },
            },
            ...(decay === 0 && {
              'decay 0: the average is the parameters': {
                buffer: 'average' as const,
                expected: values,
                tolerance: 'exact' as const,
              },
            }),
          };
        },
      })),
    });
  });
}

test('ema: decay .999 over a constant parameter converges to it, and the average lags a moving one', () => {
  const average = new Float32Array([0, 10]);
  const param = new Float32Array([1, 10]);
  for (let t = 1; t <= 20_000; t++) emaStep(average, param, emaDecayAt(0.999, t));
  // float32 rounds .999 and .001 apart: their sum is 1 within 2^-24 and the fixed point
  // .001 / (1 - .999) of the rounded values lies within 2^-24 / .001 = 6e-5 of 1.
  assert.ok(Math.abs(average[0] - 1) < 1e-4, `average ${average[0]}`);
  assert.equal(average[1], 10, 'an unchanged parameter stays exactly');
  // A parameter rising by 1 per step: a long average trails it by about 1 / (1 - decay) steps.
  const trailing = new Float32Array([0]);
  for (let t = 1; t <= 20_000; t++) emaStep(trailing, new Float32Array([t]), 0.99);
  assert.ok(Math.abs(20_000 - trailing[0] - 99) < 1, `lag ${20_000 - trailing[0]}`);
});

test('ema: the warm-up makes the average the mean of every weight so far, until the configured decay', () => {
  assert.equal(emaDecayAt(0.999, 1), 1 / 2);
  assert.equal(emaDecayAt(0.999, 90), 90 / 91);
  assert.equal(emaDecayAt(0.999, 999), 0.999);
  assert.equal(emaDecayAt(0.999, 10_000), 0.999);
  // The plain mean of the initial weights and of every update's weights.
  const average = new Float32Array([3]);
  const weights = [5, -1, 2, 8, 0];
  weights.forEach((w, i) => emaStep(average, new Float32Array([w]), emaDecayAt(0.999, i + 1)));
  assert.ok(Math.abs(average[0] - (3 + 5 - 1 + 2 + 8 + 0) / 6) < 1e-6, `${average[0]}`);
  assert.equal(emaDecayAt(0, 5), 0, 'decay 0: no averaging at all');
  for (let t = 1; t < 20_000; t++) assert.ok(emaDecayAt(0.9995, t + 1) >= emaDecayAt(0.9995, t), `monotone at ${t}`);
});

test('ema: a decay out of range and a buffer too small are refused by name', async () => {
  const { rt } = await gpu();
  const small = rt.createBuffer('test.small', 16);
  const big = rt.createBuffer('test.big', 400);
  await assert.rejects(
    createEmaUpdate(rt, 100, { param: small, average: big }, 0.9),
    /'param' holds 16 bytes, fewer than count = 100/,
  );
  await assert.rejects(createEmaUpdate(rt, 4, { param: small, average: big }, 1), /decay = 1, it must be in \[0, 1\)/);
  const update = await createEmaUpdate(rt, 4, { param: small, average: big }, 0.9);
  assert.throws(() => update.setDecay(-0.1), /decay = -0.1/);
  for (const b of [small, big]) b.destroy();
});
