// Learned inference and completion, judged by outcome on small models (the thresholds were calibrated
// on this project's CPU-only machines; the numbers measured there are given next to each):
// - an encoder trained for a toy G (toy-1d, trained for a few hundred iterations) brings G(E(x))
//   close to x where an untrained one does not;
// - completion recovers a known z's image from half its pixels through a toy G.
import test from 'node:test';
import assert from 'node:assert/strict';
import { presetConfig, validateConfig } from '../../src/train/config';
import { runTraining } from '../../src/train/loop';
import { createSession, destroySession } from '../../src/train/session';
import { generatorModel, Reconstructor, trainEncoder, type GeneratorModel } from '../../src/eval/encoder';
import { Inpainter, maskBottomHalf, maskRandomHalf } from '../../src/eval/inpaint';
import { GeneratorSampler } from '../../src/eval/sampler';
import { parameterLayout } from '../../src/nn/layout';
import { mlpForward } from '../../src/reference/mlp';
import type { NetworkSpec } from '../../src/spec/network';
import { STREAM_DROPOUT } from '../../src/spec/rng';
import { gpu, randomArray, seededRandom } from '../helpers';

function mse(a: ArrayLike<number>, b: ArrayLike<number>, mask?: ArrayLike<number>): number {
  let [sum, n] = [0, 0];
  for (let i = 0; i < a.length; i++) {
    const m = mask ? mask[i % mask.length] : 1;
    sum += m * (a[i] - b[i]) ** 2;
    n += m;
  }
  return sum / n;
}

test('an encoder trained for a toy G brings G(E(x)) near x: 20 times nearer than an untrained one', async (t) => {
  const config = validateConfig({ ...presetConfig('toy-1d'), iterations: 300 });
  const session = await createSession(config);
  try {
    await runTraining(session.trainer, { until: 300, logEvery: 300, sampleEvery: 300, checkpointEvery: 300 }, {});
    const state = await session.trainer.readState();
    const { rt } = session;
    const model = generatorModel(config, state.generator.average ?? state.generator.params);
    const sampler = await GeneratorSampler.create(rt, config, model.params, { seed: 3 });
    const x = await sampler.sample(1000);
    sampler.destroy();
    const errors: number[] = [];
    for (const iterations of [1, 1500]) {
      const encoder = { hidden: [32, 32], iterations, batch: 100, lr: 3e-3, initRange: 0.1, seed: 0, pixelWeight: 1 };
      const trained = await trainEncoder(rt, model, encoder);
      const reconstructor = await Reconstructor.create(rt, model, { hidden: encoder.hidden, params: trained.params });
      errors.push(mse((await reconstructor.run({ values: x, count: 1000, features: 1 })).images, x));
      reconstructor.destroy();
    }
    t.diagnostic(
      `G(E(x)) against x, mean squared error: untrained ${errors[0].toExponential(2)}, trained ${errors[1].toExponential(2)}`,
    );
    // Measured: 3.5 untrained, 0.016 after 1,500 iterations (0.033 with the error in z alone).
    assert.ok(errors[1] * 20 < errors[0], `reconstruction error untrained ${errors[0]}, trained ${errors[1]}`);
  } finally {
    destroySession(session);
  }
});

// A toy G: z of 3 (uniform on [-1, 1]) -> 24 relu -> 32 sigmoid pixels, random weights wide enough
// that its images differ from z to z.
const NOISE = { dim: 3, distribution: 'uniform' as const, low: -1, high: 1, std: 1 };
const toyGenerator: NetworkSpec = {
  name: 'generator',
  inputFeatures: 3,
  layers: [
    { units: 24, activation: 'relu', pieces: 1 },
    { units: 32, activation: 'sigmoid', pieces: 1 },
  ],
};

test("completion recovers a known z's image from half its pixels through a toy G", async (t) => {
  const { rt } = await gpu();
  const random = seededRandom(11);
  const params = randomArray(random, parameterLayout(toyGenerator).totalFloats, -1.5, 1.5);
  const model: GeneratorModel = { spec: toyGenerator, noise: NOISE, params };
  const images = 8;
  const draw = (n: number) =>
    mlpForward(toyGenerator, params, randomArray(random, n * 3, -1, 1), n, {
      seed: 0,
      step: 0,
      sub: 0,
      streamBase: STREAM_DROPOUT,
    }).output;
  const x = draw(images);
  const elsewhere = draw(images);
  const inpainter = await Inpainter.create(rt, model, undefined, { seed: 1, steps: 300, restarts: 4, images });
  try {
    for (const [name, mask] of [
      ['a random half hidden', maskRandomHalf(32, 1)],
      ['the second half hidden', maskBottomHalf(1, 2, 16)],
    ] as const) {
      const hidden = mask.map((m) => 1 - m);
      const { completed, masked, fit } = await inpainter.complete({ values: x, count: images, features: 32 }, mask);
      const [completion, baseline, known] = [mse(completed, x, hidden), mse(elsewhere, x, hidden), mse(fit, x, mask)];
      t.diagnostic(
        `${name}: hidden pixels' error ${completion.toExponential(2)} (G at other z: ${baseline.toExponential(2)}), known pixels' ${known.toExponential(2)}`,
      );
      // Measured: about 1e-14 against 0.1 to 0.2 (the known z's image itself, up to rounding).
      assert.ok(completion * 10 < baseline, `${name}: hidden pixels' error ${completion}, G at other z ${baseline}`);
      for (let i = 0; i < x.length; i++) {
        if (mask[i % 32]) assert.equal(completed[i], x[i], 'known pixels are kept as they are');
        else assert.equal(masked[i], 0, 'the masked image has its hidden pixels 0');
      }
    }
    // Watching the fit (a page's progress) reads it back on the way and changes nothing.
    const mask = maskBottomHalf(1, 2, 16);
    const quiet = await inpainter.complete({ values: x, count: images, features: 32 }, mask);
    const seen: number[] = [];
    const watched = await inpainter.complete({ values: x, count: images, features: 32 }, mask, (step, fit) => {
      seen.push(step);
      assert.equal(fit.length, images * 32);
    });
    assert.deepEqual(seen, [50, 100, 150, 200, 250]);
    assert.deepEqual(watched.completed, quiet.completed, 'the same completion, watched or not');
  } finally {
    inpainter.destroy();
  }
});
