// The scheduler: the order of what it records, whole iterations against the CPU twin
// (src/reference/step.ts), the schedules, determinism and bit-exact resume.
//
// Step tolerance: after a few iterations the GPU's parameters differ from the twin's only by float32
// rounding of sums taken in another order (each gradient is within a few ulps of its scale, see
// test/kernels/dense.test.ts) times the learning rate. Bound per tensor: 1e-6 + 1e-4 * max|tensor|.
// A wrong key, a missed pass or a wrong order changes parameters by the size of a whole update.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Dispatch } from '../../src/gpu/runtime';
import { runTraining } from '../../src/train/loop';
import { learningRate, momentum } from '../../src/spec/schedule';
import { presetConfig } from '../../src/train/config';
import type { TrainConfig } from '../../src/spec/config';
import { referenceIteration, type ReferenceDataset, type ReferenceState } from '../../src/reference/step';
import type { MetricsRecord, Trainer } from '../../src/train/trainer';
import { assertClose, gpu } from '../helpers';
import { initial, makeTrainer, syntheticImages, tinyImageConfig, tinyToyConfig, toyData } from './fixtures';

/** The labels of every dispatch one iteration records, D's and G's updates named as such. */
function recordedIteration(trainer: Trainer): string[] {
  const labels: string[] = [];
  const original = Dispatch.prototype.record;
  const { discriminator, generator, average } = trainer.updateDispatches;
  Dispatch.prototype.record = function (this: Dispatch, pass: GPUComputePassEncoder) {
    const d = discriminator.indexOf(this);
    labels.push(
      d >= 0
        ? `update D (${d})`
        : this === generator
          ? 'update G'
          : this === average
            ? "update G's average"
            : this.label,
    );
    original.call(this, pass);
  };
  try {
    trainer.step({ log: false, sample: false });
  } finally {
    Dispatch.prototype.record = original;
  }
  return labels;
}

const count = (labels: string[], what: string) => labels.filter((l) => l === what).length;

test('Algorithm 1 with k = 3 records three D updates, then one G update, in that order', async () => {
  const { rt, clock } = await gpu();
  const config = tinyImageConfig({ form: 'alternating', k: 3, emaDecay: 0.999 });
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const labels = recordedIteration(trainer);
  const updates = labels.filter((l) => l.startsWith('update'));
  assert.deepEqual(updates, ['update D (0)', 'update D (1)', 'update D (2)', 'update G', "update G's average"]);
  assert.equal(
    labels[labels.length - 1],
    "update G's average",
    "the average follows G's update and ends the iteration",
  );
  assert.equal(count(labels, 'noise.uniform_noise'), 4, 'fresh noise for each D step and for the G step');
  assert.equal(count(labels, 'gather.gather_u8'), 3, 'a minibatch for each D step');
  assert.equal(count(labels, 'gan_loss.discriminator_loss'), 3);
  assert.equal(count(labels, 'gan_loss.generator_loss'), 1);
  // Each D step's loss comes before its update; the G loss after the last D update.
  const dLosses = labels.flatMap((l, i) => (l === 'gan_loss.discriminator_loss' ? [i] : []));
  dLosses.forEach((at, j) => assert.ok(at < labels.indexOf(`update D (${j})`)));
  assert.ok(labels.indexOf('gan_loss.generator_loss') > labels.indexOf('update D (2)'));
  assert.ok(labels.indexOf('update G') > labels.indexOf('gan_loss.generator_loss'));
  trainer.destroy();
  data.gpu.buffer.destroy();
});

test('the simultaneous form updates D and G from one pass', async () => {
  const { rt, clock } = await gpu();
  const config = tinyImageConfig({ form: 'simultaneous', k: 1 });
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const labels = recordedIteration(trainer);
  assert.equal(count(labels, 'noise.uniform_noise'), 1, 'one noise batch');
  assert.equal(count(labels, 'gather.gather_u8'), 1, 'one minibatch');
  assert.equal(
    count(labels, 'dense.forward.forward_maxout'),
    4,
    'D runs once on the real and once on the generated batch',
  );
  assert.equal(count(labels, 'gan_loss.discriminator_loss'), 1);
  assert.equal(count(labels, 'gan_loss.generator_loss'), 1);
  assert.deepEqual(
    labels.filter((l) => l.startsWith('update')),
    ['update D (0)', 'update G'],
    'no average is kept when emaDecay is 0',
  );
  assert.ok(
    labels.indexOf('update D (0)') > labels.indexOf('gan_loss.generator_loss'),
    'D is updated after both gradients are taken',
  );
  trainer.destroy();
  data.gpu.buffer.destroy();
});

function referenceState(config: TrainConfig, means?: Float64Array): ReferenceState {
  const start = initial(config, means);
  const states = config.optimizer.kind === 'adam' ? 2 : 1;
  return {
    generator: {
      params: start.generator.slice(),
      optimizer: Array.from({ length: states }, () => new Float32Array(start.generator.length)),
      ...(config.emaDecay > 0 && { average: start.generator.slice() }),
    },
    discriminator: {
      params: start.discriminator.slice(),
      optimizer: Array.from({ length: states }, () => new Float32Array(start.discriminator.length)),
    },
  };
}

async function compareSteps(
  config: TrainConfig,
  data: { gpu: Parameters<typeof makeTrainer>[3]; reference: ReferenceDataset },
  means: Float64Array | undefined,
  iterations: number,
) {
  const { rt, clock } = await gpu();
  const trainer = await makeTrainer(rt, clock, config, data.gpu, means);
  const expected = referenceState(config, means);
  const perEpoch = Math.floor(data.reference.count / config.batch);
  for (let i = 0; i < iterations; i++) {
    trainer.step({ log: false, sample: false });
    referenceIteration(config, data.reference, expected, i, perEpoch);
  }
  const state = await trainer.readState();
  for (const player of ['generator', 'discriminator'] as const) {
    const layout = player === 'generator' ? trainer.generator.layout : trainer.discriminator.layout;
    const average =
      player === 'generator' && config.emaDecay > 0
        ? [['moving average', state.generator.average!, expected.generator.average!] as const]
        : [];
    const buffers = [
      ['params', state[player].params, expected[player].params],
      ...state[player].optimizer.map((o, i) => [`optimizer state ${i}`, o, expected[player].optimizer[i]] as const),
      ...average,
    ] as const;
    for (const [what, actual, reference] of buffers) {
      for (const t of layout.tensors) {
        const ref = (reference as Float32Array).subarray(t.offset, t.offset + t.size);
        const scale = Math.max(...ref.map(Math.abs));
        assertClose(`${t.name} ${what}`, (actual as Float32Array).subarray(t.offset, t.offset + t.size), ref, {
          atol: 1e-6 + 1e-4 * scale,
        });
      }
    }
  }
  trainer.destroy();
}

test("three simultaneous iterations of the paper's structure (pylearn2 momentum, decaying lr) and G's moving average equal the CPU twin", async () => {
  const { rt } = await gpu();
  const data = syntheticImages(rt);
  await compareSteps(tinyImageConfig({ form: 'simultaneous', emaDecay: 0.9 }), data, data.means, 3);
  data.gpu.buffer.destroy();
});

test("two iterations of Algorithm 1 with k = 2, Adam, gaussian noise, the minimax loss, a real target of .9 and G's moving average equal the CPU twin", async () => {
  const { rt } = await gpu();
  const config = tinyToyConfig({ form: 'alternating', k: 2, gLoss: 'minimax', realTarget: 0.9, emaDecay: 0.999 });
  const data = toyData(rt, config);
  await compareSteps(config, data, undefined, 2);
  data.gpu.buffer.destroy();
});

test('least squares (LSGAN): two iterations of Algorithm 1 with k = 2, a real target of .9, and three simultaneous iterations on images, equal the CPU twin', async () => {
  const { rt } = await gpu();
  const config = tinyToyConfig({ form: 'alternating', k: 2, gLoss: 'least-squares', realTarget: 0.9 });
  const data = toyData(rt, config);
  await compareSteps(config, data, undefined, 2);
  data.gpu.buffer.destroy();
  const images = syntheticImages(rt);
  await compareSteps(tinyImageConfig({ form: 'simultaneous', gLoss: 'least-squares' }), images, images.means, 3);
  images.gpu.buffer.destroy();
});

test("three alternating iterations with PyTorch-style momentum and G at half of D's learning rate equal the CPU twin", async () => {
  const { rt } = await gpu();
  const base = tinyImageConfig({ form: 'alternating' });
  const config = {
    ...base,
    optimizer: { ...base.optimizer, kind: 'sgd-pytorch' as const, lr: 0.02, generatorLrScale: 0.5 },
  };
  const data = syntheticImages(rt);
  await compareSteps(config, data, data.means, 3);
  data.gpu.buffer.destroy();
});

test("a conditional GAN (10 classes): G's classes drawn per row and reused by D's fake pass, the minibatch's from the gather; three alternating iterations with k = 2 and Adam equal the CPU twin", async () => {
  const { rt, clock } = await gpu();
  const base = tinyImageConfig({ form: 'alternating', k: 2, classes: 10, emaDecay: 0.9 });
  const config = { ...base, optimizer: { ...base.optimizer, kind: 'adam' as const, lr: 0.01 } };
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const labels = recordedIteration(trainer);
  assert.equal(count(labels, 'noise.noise_classes'), 3, "a class per row for each D step's G pass and for the G step");
  assert.equal(count(labels, 'gather.gather_labels'), 2, "the minibatch's classes for each D step");
  assert.equal(count(labels, 'dense.forward.forward_class'), 3, "G's first layer takes the class in every G pass");
  assert.equal(
    count(labels, 'dense.forward.forward_maxout_class'),
    5,
    "D's first layer takes it on the real and the fake passes",
  );
  assert.equal(
    count(labels, 'dense.backward.grad_class'),
    2 * 2 + 1,
    "the class rows' gradients: D's two passes per D step, G's one",
  );
  trainer.destroy();
  await compareSteps(config, data, data.means, 3);
  // The class rows learn: the state after the iterations differs from the start in them.
  data.gpu.buffer.destroy();
  data.gpu.labels?.destroy();
});

test('a class lr scale (optimizer.classLrScale 10): the class rows of G and D take their own update dispatch at 10 times the lr, and three iterations equal the CPU twin', async () => {
  const { rt, clock } = await gpu();
  const base = tinyImageConfig({ form: 'alternating', k: 2, classes: 10, emaDecay: 0.9 });
  const config = { ...base, optimizer: { ...base.optimizer, kind: 'adam' as const, lr: 0.01, classLrScale: 10 } };
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const labels = recordedIteration(trainer);
  // Weights and biases before the class rows, the rows, the layers after: three ranges per update.
  assert.equal(
    count(labels, 'optimizer.adam'),
    3 * (2 + 1) - 3,
    'two more dispatches per update beside the named first one',
  );
  assert.deepEqual(
    labels.filter((l) => l.startsWith('update')),
    ['update D (0)', 'update D (1)', 'update G', "update G's average"],
  );
  trainer.destroy();
  await compareSteps(config, data, data.means, 3);
  // Adam's first step moves an element by lr g / (|g| + epsilon), at most lr: the class rows, from the
  // same start and the same draws, by about 10 times what they move at scale 1 (not exactly: D's
  // update before G's step differs in D's class rows).
  const moved = (classLrScale: number) => {
    const c = { ...config, k: 1, optimizer: { ...config.optimizer, classLrScale } };
    const state = referenceState(c, data.means);
    const start = state.generator.params.slice();
    referenceIteration(c, data.reference, state, 0, 1);
    const layout = trainer.generator.layout;
    const largest = (name: string) => {
      const t = layout.tensors.find((e) => e.name === name)!;
      return Math.max(
        ...state.generator.params
          .subarray(t.offset, t.offset + t.size)
          .map((v, i) => Math.abs(v - start[t.offset + i])),
      );
    };
    return { rows: largest('generator.0.class_weight'), weight: largest('generator.0.weight') };
  };
  const [scaled, plain] = [moved(10), moved(1)];
  assert.ok(
    Math.abs(scaled.rows / plain.rows - 10) < 0.05,
    `G's class rows moved by ${scaled.rows} at scale 10, ${plain.rows} at 1`,
  );
  assert.ok(scaled.rows > 0.05, `G's class rows moved by ${scaled.rows}, near 10 lr = 0.1`);
  assert.ok(scaled.weight <= 0.01 * (1 + 1e-6), `G's weight moved by ${scaled.weight}, at most lr`);
  assert.throws(
    () => tinyImageConfig({ classes: 10, optimizer: { ...base.optimizer, classLrScale: 0 } }),
    /optimizer\.classLrScale.*must be positive and finite, got 0/,
  );
  assert.equal(presetConfig('cmnist-small').optimizer.classLrScale, 10);
  data.gpu.buffer.destroy();
  data.gpu.labels?.destroy();
});

test("a conditional model's sample grid puts one class per row, and setSampleClasses and the class interpolation redraw it at fixed z", async () => {
  const { rt, clock } = await gpu();
  const config = tinyImageConfig({ form: 'alternating', classes: 10, emaDecay: 0.9 });
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means, 100);
  assert.deepEqual(
    [...trainer.sampleClasses!],
    Array.from({ length: 100 }, (_, i) => Math.floor(i / 10)),
    'row r = class r',
  );
  await trainFor(trainer, 3, 3);
  const grid = await trainer.readFixedNoiseSamples();
  trainer.setSampleClasses(4);
  const fours = await trainer.readFixedNoiseSamples();
  // Row 4 of the grid was already class 4: the same z and class give the same digits.
  assert.deepEqual(fours.subarray(40 * 784, 50 * 784), grid.subarray(40 * 784, 50 * 784));
  assert.notDeepEqual(fours.subarray(0, 784), grid.subarray(0, 784), 'row 0 is drawn as a 4 now');
  trainer.setSampleClasses();
  assert.deepEqual(await trainer.readFixedNoiseSamples(), grid, 'back to one class per row');
  assert.throws(() => trainer.setSampleClasses(10), /class 10 is not an integer in \[0, 10\)/);
  assert.throws(() => trainer.setSampleClasses([1, 2]), /2 classes given for 100 samples/);

  // From class 2 to class 7 at sample 5's z: the ends are that z drawn as a 2 and as a 7.
  await trainer.setClassInterpolation(2, 7, { steps: 6, sample: 5 });
  const strip = await trainer.readClassInterpolation();
  assert.equal(strip.length, 6 * 784);
  trainer.setSampleClasses(2);
  const twos = await trainer.readFixedNoiseSamples();
  trainer.setSampleClasses(7);
  const sevens = await trainer.readFixedNoiseSamples();
  assertClose('t = 0 is class 2', strip.subarray(0, 784), twos.subarray(5 * 784, 6 * 784), { atol: 1e-5 });
  assertClose('t = 1 is class 7', strip.subarray(5 * 784), sevens.subarray(5 * 784, 6 * 784), { atol: 1e-5 });
  assert.ok(
    strip
      .subarray(2 * 784, 3 * 784)
      .some((v, i) => Math.abs(v - twos[5 * 784 + i]) > 1e-4 && Math.abs(v - sevens[5 * 784 + i]) > 1e-4),
    'the middle is neither end',
  );
  await assert.rejects(trainer.setClassInterpolation(2, 10), /'to' class 10/);
  trainer.destroy();

  const unconditional = await makeTrainer(rt, clock, tinyImageConfig(), data.gpu, data.means);
  assert.equal(unconditional.sampleClasses, undefined);
  assert.throws(() => unconditional.setSampleClasses(1), /not conditional/);
  unconditional.destroy();
  await assert.rejects(
    makeTrainer(rt, clock, tinyImageConfig({ classes: 7 }), data.gpu, data.means),
    /config field 'classes': 7 classes asked for, but the data 'mnist' has 10/,
  );
  data.gpu.buffer.destroy();
  data.gpu.labels?.destroy();
});

test('config field classes: 0 or at least 2, labelled data only, named in the error', () => {
  assert.equal(presetConfig('cmnist-small').classes, 10);
  assert.equal(presetConfig('small-mnist').classes, 0);
  assert.throws(
    () => tinyImageConfig({ classes: 1 }),
    /config field 'classes': a conditional GAN needs at least 2 classes/,
  );
  assert.throws(() => tinyImageConfig({ classes: -2 }), /config field 'classes': must be an integer in \[0, 65535\]/);
  assert.throws(() => tinyImageConfig({ classes: 2.5 }), /config field 'classes'/);
  assert.throws(
    () => tinyToyConfig({ classes: 10 }),
    /config field 'classes': the toy data 'toy-2d-ring' has no labels/,
  );
});

test("the paper's schedules: lr / 1.000004 per minibatch with floor 1e-6, momentum .5 to .7 over epochs 1 to 250", () => {
  const optimizer = presetConfig('paper-mnist').optimizer;
  assert.equal(learningRate(optimizer, 0), 0.1);
  assert.ok(Math.abs(learningRate(optimizer, 1) - 0.1 / 1.000004) < 1e-15);
  assert.ok(Math.abs(learningRate(optimizer, 500_000) - 0.1 / 1.000004 ** 500_000) < 1e-12);
  assert.equal(learningRate(optimizer, 10_000_000), 1e-6, 'the floor');
  const perEpoch = 500;
  assert.equal(momentum(optimizer, 0, perEpoch), 0.5);
  assert.equal(momentum(optimizer, 499, perEpoch), 0.5, 'epoch 0');
  assert.equal(momentum(optimizer, 500, perEpoch), 0.5, 'epoch 1 starts the ramp');
  assert.ok(Math.abs(momentum(optimizer, 1000, perEpoch) - (0.5 + 0.2 / 249)) < 1e-12, 'epoch 2');
  assert.ok(
    Math.abs(momentum(optimizer, 125 * perEpoch + 499, perEpoch) - (0.5 + (0.2 * 124) / 249)) < 1e-12,
    'epoch 125, stepped once per epoch',
  );
  assert.equal(momentum(optimizer, 250 * perEpoch, perEpoch), 0.7, 'epoch 250');
  assert.equal(momentum(optimizer, 400 * perEpoch, perEpoch), 0.7, 'after the ramp');
});

async function trainFor(trainer: Trainer, until: number, logEvery: number): Promise<MetricsRecord[]> {
  const metrics: MetricsRecord[] = [];
  await runTraining(
    trainer,
    { until, logEvery, sampleEvery: 1_000_000, checkpointEvery: 1_000_000 },
    { onMetrics: ({ its_per_s: _, ...m }) => void metrics.push(m) },
  );
  return metrics;
}

test("the same seed gives the same bits, and an interrupted then resumed run (G's moving average included) equals an uninterrupted one", async () => {
  const { rt, clock } = await gpu();
  const config = tinyToyConfig({ form: 'alternating', k: 2, emaDecay: 0.99 });
  const data = toyData(rt, config);
  const run = async () => makeTrainer(rt, clock, config, data.gpu);

  const whole = await run();
  const wholeMetrics = await trainFor(whole, 30, 5);
  const wholeState = await whole.readState();
  whole.destroy();

  const again = await run();
  await trainFor(again, 30, 5);
  const againState = await again.readState();
  again.destroy();
  assert.deepEqual(againState.generator.params, wholeState.generator.params, 'same seed, same generator');
  assert.deepEqual(againState.discriminator.params, wholeState.discriminator.params, 'same seed, same discriminator');

  // Stop at 13 (not a log boundary: the running statistics travel in the state), resume to 30.
  const first = await run();
  const firstMetrics = await trainFor(first, 13, 5);
  const saved = await first.readState();
  first.destroy();
  const second = await run();
  await second.loadState(saved);
  const secondMetrics = await trainFor(second, 30, 5);
  const resumedState = await second.readState();
  second.destroy();
  assert.deepEqual(resumedState.generator.params, wholeState.generator.params, 'resumed generator');
  assert.ok(saved.generator.average && wholeState.generator.average, 'the state carries the average');
  assert.notDeepEqual(wholeState.generator.average, wholeState.generator.params, 'the average is not G itself');
  assert.deepEqual(resumedState.generator.average, wholeState.generator.average, 'resumed average');
  assert.deepEqual(resumedState.discriminator.params, wholeState.discriminator.params, 'resumed discriminator');
  assert.deepEqual(resumedState.discriminator.optimizer, wholeState.discriminator.optimizer, 'resumed optimizer state');
  assert.deepEqual(
    [...firstMetrics, ...secondMetrics].filter((m) => m.iter !== 13),
    wholeMetrics,
  );

  const other = await makeTrainer(rt, clock, { ...config, seed: config.seed + 1 }, data.gpu);
  await trainFor(other, 5, 5);
  const otherState = await other.readState();
  other.destroy();
  assert.notDeepEqual(
    otherState.generator.params,
    await (async () => wholeState.generator.params)(),
    'another seed, another run',
  );
  data.gpu.buffer.destroy();
});

test('an average begun when resuming (emaStart) leaves G, D and every optimizer tensor on the path of the run without it, and its warm-up counts from there', async () => {
  const { rt, clock } = await gpu();
  const config = tinyToyConfig({ form: 'alternating', k: 2, emaDecay: 0 });
  const data = toyData(rt, config);
  const first = await makeTrainer(rt, clock, config, data.gpu);
  await trainFor(first, 10, 5);
  const saved = await first.readState();
  first.destroy();
  assert.equal(saved.generator.average, undefined, 'the run keeps no average');

  const resume = async (resumedConfig: TrainConfig, until: number) => {
    const trainer = await makeTrainer(rt, clock, resumedConfig, data.gpu);
    await trainer.loadState(saved);
    await trainFor(trainer, until, 5);
    const state = await trainer.readState();
    trainer.destroy();
    return state;
  };
  const averaged = { ...config, emaDecay: 0.9, emaStart: 10 };
  const plain = await resume(config, 25);
  const withAverage = await resume(averaged, 25);
  assert.deepEqual(withAverage.generator.params, plain.generator.params, 'generator');
  assert.deepEqual(withAverage.generator.optimizer, plain.generator.optimizer, 'generator optimizer state');
  assert.deepEqual(withAverage.discriminator.params, plain.discriminator.params, 'discriminator');
  assert.deepEqual(withAverage.discriminator.optimizer, plain.discriminator.optimizer, 'discriminator optimizer state');
  assert.ok(withAverage.generator.average, 'the resumed run holds an average');
  assert.notDeepEqual(withAverage.generator.average, withAverage.generator.params, 'the average is not G itself');

  // One update after the start: the warm-up's decay 1/2 (update 1 of the average), not .9 (update 11 of the run).
  const one = await resume(averaged, 11);
  const expected = saved.generator.params.map((w, i) => 0.5 * w + 0.5 * one.generator.params[i]);
  assertClose('average after its first update', one.generator.average!, expected, { atol: 1e-7, rtol: 1e-6 });
  data.gpu.buffer.destroy();
});

test('the generated batch alternates between two sample buffers, so the last one can be read while the next is made', async () => {
  const { rt, clock } = await gpu();
  const config = tinyToyConfig();
  const data = toyData(rt, config);
  const trainer = await makeTrainer(rt, clock, config, data.gpu);
  trainer.step({ log: false, sample: false });
  const first = trainer.latestSamples;
  const firstBatch = await rt.readF32(first, config.batch * 2);
  trainer.step({ log: false, sample: false });
  const second = trainer.latestSamples;
  assert.notEqual(second, first, 'the next iteration writes the other buffer');
  assert.deepEqual(await rt.readF32(first, config.batch * 2), firstBatch, 'the previous batch is left as it was');
  assert.notDeepEqual(await rt.readF32(second, config.batch * 2), firstBatch);
  trainer.step({ log: false, sample: false });
  assert.equal(trainer.latestSamples, first, 'and back');
  trainer.destroy();
  data.gpu.buffer.destroy();
});

test("the sample copies show the moving average of G's weights when the config keeps one, G itself on request", async () => {
  const { rt, clock } = await gpu();
  const config = tinyToyConfig({ emaDecay: 0.9 });
  const data = toyData(rt, config);
  const trainer = await makeTrainer(rt, clock, config, data.gpu);
  assert.equal(trainer.shown, 'average');
  await trainFor(trainer, 20, 10);
  const fixedNoise = () => trainer.readFixedNoiseSamples();
  const averaged = await fixedNoise();
  trainer.show('raw');
  assert.equal(trainer.shownNetwork, trainer.generator);
  const raw = await fixedNoise();
  assert.notDeepEqual(raw, averaged, 'G and its average draw different points');
  trainer.show('average');
  assert.deepEqual(await fixedNoise(), averaged, 'and back');
  trainer.destroy();

  const without = await makeTrainer(rt, clock, tinyToyConfig({ emaDecay: 0 }), data.gpu);
  assert.equal(without.shown, 'raw');
  assert.equal(without.generatorAverage, undefined);
  assert.throws(() => without.show('average'), /keeps no moving average of G \(emaDecay is 0\)/);
  without.destroy();
  data.gpu.buffer.destroy();
});
