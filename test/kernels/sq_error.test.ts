// shaders/sq_error.wgsl against src/reference/sq_error.ts, and the completion's gradient in z.
//
// 1. The kernel's gradient scale * mask * (pred - expected) and its clamp against the twin on odd
//    sizes (not multiples of the workgroup, one past a workgroup, one element): the kernel rounds the
//    difference and the product (2 ulps at most); the clamp is exact.
// 2. The twin's gradient against central finite differences of its loss, in float64 (h = 1e-5;
//    the loss is quadratic, so the difference is exact up to rounding: bound 1e-8).
// 3. The gradient of the known pixels' squared error in z through a tiny G (the completion's step,
//    G's backward pass down to layer 0 with its weights frozen): the reference in float64 against
//    finite differences (1e-7 + 1e-5 |g|, as test/gradcheck.test.ts argues), and the GPU's float32
//    against the reference within 1e-4 of the largest |dz| (short float32 sums: a few ulps).
import test from 'node:test';
import assert from 'node:assert/strict';
import { clampValues, squaredErrorGrad } from '../../src/kernels/sq_error';
import {
  clampValues as referenceClamp,
  squaredError,
  squaredErrorGrad as referenceGrad,
} from '../../src/reference/sq_error';
import { parameterLayout } from '../../src/nn/layout';
import { GpuNetwork, GpuPass } from '../../src/nn/mlp';
import { mlpBackward, mlpForward, type PassKey } from '../../src/reference/mlp';
import type { NetworkSpec } from '../../src/spec/network';
import { STREAM_DROPOUT } from '../../src/spec/rng';
import { assertClose, gpu, randomArray, seededRandom } from '../helpers';
import { checkTwin } from '../kernel-twin';

const U = 2 ** -24;
const SIZES = [1, 7, 63, 65, 1023, 4097];

for (const count of SIZES) {
  for (const variant of ['', 'mask', 'addend'] as const) {
    test(`sq_error: the gradient of ${count} elements${variant ? ` with ${variant === 'mask' ? 'a mask' : 'an addend'}` : ''} and their clamp match the twin`, async () => {
      const scale = 1 / 3;
      await checkTwin({
        seed: count * 3 + ['', 'mask', 'addend'].indexOf(variant),
        inputs: {
          pred: [count, -2, 2],
          expected: [count, -2, 2],
          ...(variant === 'mask' && {
            mask: (random: () => number) => Float32Array.from({ length: count }, () => (random() < 0.5 ? 0 : 1)),
          }),
          ...(variant === 'addend' && { addend: [count, -1, 1] as const }),
        },
        outputs: { dpred: count, clamped: (rt, label, { pred }) => rt.upload(label, pred) },
        steps: [
          {
            gpu: async ({ rt, buffers }) => squaredErrorGrad(rt, { count, scale }, buffers),
            twin: ({ data: { pred, expected, mask, addend } }) => {
              const f64 = (a?: Float32Array) => a && Float64Array.from(a);
              const want = referenceGrad(f64(pred)!, f64(expected)!, scale, f64(mask), f64(addend));
              // The product's rounding is bounded by its own size, the sum's by the whole: both within 3 ulps of their sum of magnitudes.
              const magnitude = want.map(
                (_, i) => Math.abs(scale * (pred[i] - expected[i])) + Math.abs(addend?.[i] ?? 0),
              );
              return { dpred: { expected: want, tolerance: { atol: 1e-30, rtol: 3 * U, magnitude } } };
            },
            after: ({ data: { mask }, got: { dpred } }) => {
              if (mask)
                for (let i = 0; i < count; i++)
                  if (!mask[i]) assert.ok(dpred[i] === 0, `a hidden element (${i}) has gradient ${dpred[i]}`);
            },
          },
          {
            gpu: async ({ rt, buffers }) => clampValues(rt, { count, low: -0.75, high: 1.25 }, buffers.clamped),
            twin: ({ data: { pred } }) => {
              const expectedClamp = pred.slice();
              referenceClamp(expectedClamp, -0.75, 1.25);
              return { clamped: { expected: expectedClamp, tolerance: 'exact' } };
            },
          },
        ],
      });
    });
  }
}

test("sq_error: the twin's gradient equals finite differences of its loss", () => {
  const random = seededRandom(5);
  const n = 13;
  const pred = Float64Array.from(randomArray(random, n, -2, 2));
  const expected = Float64Array.from(randomArray(random, n, -2, 2));
  const mask = Float64Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));
  const scale = 0.7;
  const grad = referenceGrad(pred, expected, scale, mask);
  const h = 1e-5;
  for (let i = 0; i < n; i++) {
    const saved = pred[i];
    pred[i] = saved + h;
    const plus = squaredError(pred, expected, scale, mask);
    pred[i] = saved - h;
    const minus = squaredError(pred, expected, scale, mask);
    pred[i] = saved;
    assert.ok(
      Math.abs((plus - minus) / (2 * h) - grad[i]) <= 1e-8,
      `element ${i}: finite difference ${(plus - minus) / (2 * h)}, analytic ${grad[i]}`,
    );
  }
});

test('sq_error: bad shapes and ranges are refused by name', async () => {
  const { rt } = await gpu();
  const small = rt.createBuffer('test.small', 16);
  const big = rt.createBuffer('test.big', 400);
  await assert.rejects(
    squaredErrorGrad(rt, { count: 100, scale: 1 }, { pred: small, expected: big, dpred: big }),
    /'pred' holds 16 bytes, fewer than count = 100/,
  );
  await assert.rejects(
    squaredErrorGrad(rt, { count: 0, scale: 1 }, { pred: big, expected: big, dpred: big }),
    /count must be a positive integer/,
  );
  await assert.rejects(
    squaredErrorGrad(rt, { count: 4, scale: 1 }, { pred: big, expected: big, mask: big, addend: big, dpred: big }),
    /a mask and an addend together/,
  );
  await assert.rejects(clampValues(rt, { count: 4, low: 1, high: -1 }, big), /low = 1 must not exceed high = -1/);
  for (const b of [small, big]) b.destroy();
});

// The completion's problem in small: z (rows 3, dim 4) through G 4 -> 7 relu -> 9 sigmoid, the
// known pixels a mask of the 9 outputs.
const BATCH = 3;
const NOISE = 4;
const PIXELS = 9;
const generator: NetworkSpec = {
  name: 'generator',
  inputFeatures: NOISE,
  layers: [
    { units: 7, activation: 'relu', pieces: 1 },
    { units: PIXELS, activation: 'sigmoid', pieces: 1 },
  ],
};
const key: PassKey = { seed: 1, step: 0, sub: 0, streamBase: STREAM_DROPOUT };

function knownPixelLoss(
  params: Float64Array,
  z: Float64Array,
  x: Float64Array,
  mask: Float64Array,
): { loss: number; dz: Float64Array } {
  const cache = mlpForward(generator, params, z, BATCH, key);
  const masks = Float64Array.from({ length: BATCH * PIXELS }, (_, i) => mask[i % PIXELS]);
  const dfit = referenceGrad(cache.output, x, 1, masks);
  return {
    loss: squaredError(cache.output, x, 1, masks),
    dz: mlpBackward(generator, params, cache, dfit, BATCH, key, true).inputGrad!,
  };
}

test("sq_error: the known pixels' gradient in z through G equals finite differences, and the GPU's equals the reference", async () => {
  const random = seededRandom(77);
  const layout = parameterLayout(generator);
  const params32 = randomArray(random, layout.totalFloats, -0.9, 0.9);
  const z32 = randomArray(random, BATCH * NOISE, -1.7, 1.7);
  const x32 = randomArray(random, BATCH * PIXELS, 0, 1);
  const mask = Float32Array.from({ length: PIXELS }, (_, i) => (i % 2 === 0 ? 1 : 0));
  const [params, z, x, mask64] = [params32, z32, x32, mask].map((a) => Float64Array.from(a));
  const { dz } = knownPixelLoss(params, z, x, mask64);
  assert.ok(Math.max(...dz.map(Math.abs)) > 1e-3, 'the gradient in z is not all zero, so the check proves something');
  const h = 1e-5;
  for (let i = 0; i < z.length; i++) {
    const saved = z[i];
    z[i] = saved + h;
    const plus = knownPixelLoss(params, z, x, mask64).loss;
    z[i] = saved - h;
    const minus = knownPixelLoss(params, z, x, mask64).loss;
    z[i] = saved;
    const fd = (plus - minus) / (2 * h);
    assert.ok(
      Math.abs(fd - dz[i]) <= 1e-7 + 1e-5 * Math.abs(dz[i]),
      `z ${i}: finite difference ${fd}, analytic ${dz[i]}`,
    );
  }

  const { rt, clock } = await gpu();
  const network = new GpuNetwork(rt, generator);
  await network.upload(params32);
  const zBuffer = rt.upload('test.z', z32);
  const xBuffer = rt.upload('test.x', x32);
  const maskBuffer = rt.upload(
    'test.mask',
    Float32Array.from({ length: BATCH * PIXELS }, (_, i) => mask[i % PIXELS]),
  );
  const [dfit, dzBuffer] = [
    rt.createBuffer('test.dfit', BATCH * PIXELS * 4),
    rt.createBuffer('test.dz', BATCH * NOISE * 4),
  ];
  const pass = GpuPass.create(network, clock, BATCH, zBuffer, { ...key, dropout: false }, 'test.g');
  clock.set(0);
  rt.run([
    ...(await pass.forward()),
    await squaredErrorGrad(
      rt,
      { count: BATCH * PIXELS, scale: 1 },
      { pred: pass.output, expected: xBuffer, mask: maskBuffer, dpred: dfit },
    ),
    ...(await pass.backward({ outputGrad: dfit, weightGrads: false, inputGrad: dzBuffer })),
  ]);
  assertClose('dz', await rt.readF32(dzBuffer, BATCH * NOISE), dz, { atol: 1e-4 * Math.max(...dz.map(Math.abs)) });
  pass.destroy();
  network.destroy();
  for (const b of [zBuffer, xBuffer, maskBuffer, dfit, dzBuffer]) b.destroy();
});
