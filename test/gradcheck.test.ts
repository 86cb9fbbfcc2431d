// Gradient check through a whole tiny GAN: G (relu, sigmoid) followed by D (two maxout layers with
// dropout, the first seeing its input mapped to 2x - 1, a logit), for D's loss and for both of G's
// losses; and the same GAN conditional (3 classes: G and D's first layers with class rows, G's classes
// reused by D's fake pass, D's real pass with the data's own), whose class rows are checked as every
// other tensor is.
//
// 1. The reference's analytic gradients, in float64, against central finite differences of the
//    reference's loss (h = 1e-5; the dropout masks stay fixed because they are keyed by the step).
//    Truncation error is O(h^2) and rounding O(1e-16 / h), both far below the bound
//    |fd - analytic| <= 1e-7 + 1e-5 |analytic|.
// 2. The GPU's float32 gradients against the float64 analytic ones: every gradient here is a short
//    sum (batch 4, widths of at most 12) of float32 products, so it agrees to a few float32 ulps of
//    the tensor's scale. Bound: |gpu - reference| <= 1e-4 * max |reference| over the tensor. A wrong
//    index, mask or routing errs by the size of a whole term, orders of magnitude more.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parameterLayout } from '../src/nn/layout';
import type { NetworkSpec } from '../src/spec/network';
import { GpuNetwork, GpuPass } from '../src/nn/mlp';
import { mlpBackward, mlpForward, type PassKey } from '../src/reference/mlp';
import { discriminatorLoss as referenceDLoss, generatorLoss as referenceGLoss } from '../src/reference/gan_loss';
import type { GeneratorLoss } from '../src/spec/stats';
import { createStatsBuffer, discriminatorLoss, generatorLoss } from '../src/kernels/gan_loss';
import { STREAM_DROPOUT } from '../src/spec/rng';
import { assertClose, gpu, randomArray, seededRandom } from './helpers';

const BATCH = 4;
const NOISE = 3;
const STEP = 5;
const SEED = 99;

const generatorSpec: NetworkSpec = {
  name: 'generator',
  inputFeatures: NOISE,
  layers: [
    { units: 6, activation: 'relu', pieces: 1 },
    { units: 5, activation: 'sigmoid', pieces: 1 },
  ],
};

const discriminatorSpec: NetworkSpec = {
  name: 'discriminator',
  inputFeatures: 5,
  layers: [
    {
      units: 4,
      activation: 'maxout',
      pieces: 3,
      inputMap: { scale: 2, shift: -1 },
      dropout: { keep: 0.8, scale: 1.25 },
    },
    { units: 3, activation: 'maxout', pieces: 2, dropout: { keep: 0.5, scale: 2 } },
    { units: 1, activation: 'identity', pieces: 1, dropout: { keep: 0.5, scale: 2 } },
  ],
};

/** The conditional twins: the same layers, and class rows in the first layer of each. */
const CLASSES = 3;
const conditionalSpecs = {
  generator: { ...generatorSpec, classes: CLASSES },
  discriminator: { ...discriminatorSpec, classes: CLASSES },
};
const unconditionalSpecs = { generator: generatorSpec, discriminator: discriminatorSpec };
type Specs = typeof unconditionalSpecs;
/** Every class in each batch of 4, in different rows, one class twice, so each row of dE sums something different. */
const fakeLabels = Uint32Array.from([2, 0, 1, 2]);
const realLabels = Uint32Array.from([1, 1, 0, 2]);

const generatorKey: PassKey = { seed: SEED, step: STEP, sub: 0, streamBase: STREAM_DROPOUT + 16 };
const realKey: PassKey = { seed: SEED, step: STEP, sub: 1, streamBase: STREAM_DROPOUT };
const fakeKey: PassKey = { seed: SEED, step: STEP, sub: 2, streamBase: STREAM_DROPOUT };

function initialParams(spec: NetworkSpec, seed: number): Float32Array<ArrayBuffer> {
  const layout = parameterLayout(spec);
  const random = seededRandom(seed);
  const flat = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) flat.set(randomArray(random, t.size, -0.8, 0.8), t.offset);
  return flat;
}

interface Problem {
  specs: Specs;
  /** The classes of G's rows (and D's fake pass) and of the data's rows; undefined: unconditional. */
  fakeLabels?: Uint32Array;
  realLabels?: Uint32Array;
  g: Float64Array;
  d: Float64Array;
  z: Float64Array;
  x: Float64Array;
}

/** Both losses and every gradient, in float64, from the reference. */
function referenceGan(p: Problem, gLoss: GeneratorLoss) {
  const { generator: generatorSpec, discriminator: discriminatorSpec } = p.specs;
  const gCache = mlpForward(generatorSpec, p.g, p.z, BATCH, generatorKey, p.fakeLabels);
  const samples = gCache.output;
  const realCache = mlpForward(discriminatorSpec, p.d, p.x, BATCH, realKey, p.realLabels);
  const fakeCache = mlpForward(discriminatorSpec, p.d, samples, BATCH, fakeKey, p.fakeLabels);
  const dLoss = referenceDLoss(realCache.output, fakeCache.output);
  const gLossResult = referenceGLoss(fakeCache.output, gLoss);
  const dGradsReal = mlpBackward(discriminatorSpec, p.d, realCache, dLoss.dlogitsReal, BATCH, realKey).grads;
  const dGradsFake = mlpBackward(discriminatorSpec, p.d, fakeCache, dLoss.dlogitsFake, BATCH, fakeKey).grads;
  const dGrads = dGradsReal.map((v, i) => v + dGradsFake[i]);
  const sampleGrad = mlpBackward(
    discriminatorSpec,
    p.d,
    fakeCache,
    gLossResult.dlogitsFake,
    BATCH,
    fakeKey,
    true,
  ).inputGrad!;
  const gGrads = mlpBackward(generatorSpec, p.g, gCache, sampleGrad, BATCH, generatorKey).grads;
  return { dLoss: dLoss.loss, gLoss: gLossResult.loss, dGrads, gGrads };
}

function problem(conditional: boolean): {
  f32: {
    g: Float32Array<ArrayBuffer>;
    d: Float32Array<ArrayBuffer>;
    z: Float32Array<ArrayBuffer>;
    x: Float32Array<ArrayBuffer>;
  };
  f64: Problem;
} {
  const random = seededRandom(4242);
  const specs = conditional ? conditionalSpecs : unconditionalSpecs;
  const labels = conditional ? { fakeLabels, realLabels } : {};
  const f32 = {
    g: initialParams(specs.generator, 1),
    d: initialParams(specs.discriminator, 2),
    z: randomArray(random, BATCH * NOISE, -Math.sqrt(3), Math.sqrt(3)),
    x: randomArray(random, BATCH * 5, 0, 1),
  };
  return {
    f32,
    f64: {
      specs,
      ...labels,
      g: Float64Array.from(f32.g),
      d: Float64Array.from(f32.d),
      z: Float64Array.from(f32.z),
      x: Float64Array.from(f32.x),
    },
  };
}

function checkFiniteDifferences(p: Problem, gLoss: GeneratorLoss): void {
  const h = 1e-5;
  const analytic = referenceGan(p, gLoss);
  for (const [player, params, grads, loss] of [
    ['discriminator', p.d, analytic.dGrads, 'dLoss'],
    ['generator', p.g, analytic.gGrads, 'gLoss'],
  ] as const) {
    for (let i = 0; i < params.length; i++) {
      const saved = params[i];
      params[i] = saved + h;
      const plus = referenceGan(p, gLoss)[loss];
      params[i] = saved - h;
      const minus = referenceGan(p, gLoss)[loss];
      params[i] = saved;
      const fd = (plus - minus) / (2 * h);
      assert.ok(
        Math.abs(fd - grads[i]) <= 1e-7 + 1e-5 * Math.abs(grads[i]),
        `${player} parameter ${i}: finite difference ${fd}, analytic ${grads[i]}`,
      );
    }
  }
}

for (const [gLoss, conditional] of [
  ['non-saturating', false],
  ['minimax', false],
  ['non-saturating', true],
  ['minimax', true],
] as const) {
  const what = `${conditional ? 'conditional ' : ''}G -> D (${gLoss})`;
  test(`reference gradients of a tiny ${what} equal finite differences in float64`, () => {
    checkFiniteDifferences(problem(conditional).f64, gLoss);
  });

  test(`GPU gradients of a tiny ${what} equal the float64 reference`, async () => {
    const { rt, clock } = await gpu();
    const { f32, f64 } = problem(conditional);
    const { generator: generatorSpec, discriminator: discriminatorSpec } = f64.specs;
    const expected = referenceGan(f64, gLoss);
    if (conditional)
      assert.ok(
        parameterLayout(generatorSpec).tensors.some((t) => t.name === 'generator.0.class_weight'),
        'the conditional G has class rows',
      );
    const gLabels = conditional ? rt.upload('gradcheck.fake_labels', fakeLabels) : undefined;
    const dLabels = conditional ? rt.upload('gradcheck.real_labels', realLabels) : undefined;

    const generator = new GpuNetwork(rt, generatorSpec);
    const discriminator = new GpuNetwork(rt, discriminatorSpec);
    await generator.upload(f32.g);
    await discriminator.upload(f32.d);
    const z = rt.upload('gradcheck.z', f32.z);
    const x = rt.upload('gradcheck.x', f32.x);
    const gPass = GpuPass.create(generator, clock, BATCH, z, generatorKey, 'gradcheck.g', gLabels);
    const realPass = GpuPass.create(discriminator, clock, BATCH, x, realKey, 'gradcheck.d_real', dLabels);
    const fakePass = GpuPass.create(discriminator, clock, BATCH, gPass.output, fakeKey, 'gradcheck.d_fake', gLabels);
    const dlogitsReal = rt.createBuffer('gradcheck.dlogits_real', BATCH * 4);
    const dlogitsFake = rt.createBuffer('gradcheck.dlogits_fake', BATCH * 4);
    const dlogitsG = rt.createBuffer('gradcheck.dlogits_g', BATCH * 4);
    const sampleGrad = rt.createBuffer('gradcheck.sample_grad', BATCH * 5 * 4);
    const stats = createStatsBuffer(rt);

    clock.set(STEP);
    rt.run([
      ...(await gPass.forward()),
      ...(await realPass.forward()),
      ...(await fakePass.forward()),
      await discriminatorLoss(
        rt,
        { nReal: BATCH, nFake: BATCH },
        { logitsReal: realPass.output, logitsFake: fakePass.output, dlogitsReal, dlogitsFake, stats },
      ),
      ...(await realPass.backward({ outputGrad: dlogitsReal })),
      ...(await fakePass.backward({ outputGrad: dlogitsFake, accumulate: true })),
      await generatorLoss(rt, { n: BATCH, loss: gLoss }, { logitsFake: fakePass.output, dlogitsFake: dlogitsG, stats }),
      ...(await fakePass.backward({ outputGrad: dlogitsG, weightGrads: false, inputGrad: sampleGrad })),
      ...(await gPass.backward({ outputGrad: sampleGrad })),
    ]);

    for (const [name, network, reference] of [
      ['discriminator', discriminator, expected.dGrads],
      ['generator', generator, expected.gGrads],
    ] as const) {
      const actual = await rt.readF32(network.grads, network.layout.totalFloats);
      for (const t of network.layout.tensors) {
        const slice = reference.subarray(t.offset, t.offset + t.size);
        const scale = Math.max(...slice.map(Math.abs));
        assert.ok(scale > 0, `${t.name}: the reference gradient is all zero, so the check would prove nothing`);
        assertClose(`${name} ${t.name}`, actual.subarray(t.offset, t.offset + t.size), slice, { atol: 1e-4 * scale });
      }
    }
    for (const b of [z, x, dlogitsReal, dlogitsFake, dlogitsG, sampleGrad, stats, gLabels, dLabels]) b?.destroy();
    for (const o of [gPass, realPass, fakePass, generator, discriminator]) o.destroy();
  });
}
