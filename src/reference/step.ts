// CPU twin of one training iteration of src/train/plan.ts: the same draws (./keys), the same
// passes in the same order, the same losses and updates, in float32 with plain loops. Tests compare
// the GPU's parameters with these after whole iterations, tensor by tensor.
import { dataFeatures, discriminatorSpec, generatorSpec, type TrainConfig } from '../spec/config';
import {
  DISCRIMINATOR_DROPOUT_STREAM,
  FAKE_PASS,
  GENERATOR_DROPOUT_STREAM,
  REAL_PASS,
  dStepPass,
  gStepPass,
} from '../spec/keys';
import { learningRate, momentum } from '../spec/schedule';
import { discriminatorLoss, generatorLoss } from './gan_loss';
import { gatherLabels, gatherRows } from './gather';
import { mlpBackward, mlpForward, type PassKey } from './mlp';
import { classNoise, gaussianNoise, uniformNoise } from './noise';
import { adamStep, sgdPylearn2Step, sgdPytorchStep } from './optimizer';
import { emaDecayAfter } from '../spec/ema';
import { emaStep } from './ema';
import { STREAM_CLASS, STREAM_GATHER, STREAM_NOISE } from '../spec/rng';
import { optimizerSegments } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';

export interface ReferencePlayer {
  params: Float32Array;
  /** velocity, or Adam's first and second moments; laid out like params. */
  optimizer: Float32Array[];
  /** The generator's moving average, when the config keeps one. */
  average?: Float32Array;
}

export interface ReferenceState {
  generator: ReferencePlayer;
  discriminator: ReferencePlayer;
}

export interface ReferenceDataset {
  values: Float32Array | Uint8Array;
  first: number;
  count: number;
  scale: number;
  /** Labelled data: the class of every row (a conditional config needs them). */
  labels?: ArrayLike<number>;
}

function update(
  config: TrainConfig,
  spec: NetworkSpec,
  player: ReferencePlayer,
  allGrads: Float32Array,
  all: { lr: number; momentum: number; step: number },
): void {
  const { kind, beta1, beta2, epsilon, classLrScale } = config.optimizer;
  for (const { offset, count, lrScale } of optimizerSegments(spec, classLrScale)) {
    const part = (a: Float32Array) => a.subarray(offset, offset + count);
    const [params, grads, state] = [part(player.params), part(allGrads), player.optimizer.map(part)];
    const hyper = { ...all, lr: all.lr * lrScale };
    if (kind === 'adam') {
      adamStep({ param: params, firstMoment: state[0], secondMoment: state[1] }, grads, {
        ...hyper,
        beta1,
        beta2,
        epsilon,
      });
    } else if (kind === 'sgd-pylearn2') {
      sgdPylearn2Step({ param: params, velocity: state[0] }, grads, hyper);
    } else {
      sgdPytorchStep({ param: params, velocity: state[0] }, grads, hyper);
    }
  }
}

/** Advances `state` by iteration `iteration` exactly as the GPU scheduler does. */
export function referenceIteration(
  config: TrainConfig,
  dataset: ReferenceDataset,
  state: ReferenceState,
  iteration: number,
  iterationsPerEpoch: number,
): void {
  const { batch, k, seed, noise } = config;
  const gSpec = generatorSpec(config);
  const dSpec = discriminatorSpec(config);
  const features = dataFeatures(config);
  const hyper = {
    lr: learningRate(config.optimizer, iteration),
    momentum: momentum(config.optimizer, iteration, iterationsPerEpoch),
  };
  const gHyper = { ...hyper, lr: hyper.lr * config.optimizer.generatorLrScale };
  const conditional = config.classes > 0;
  if (conditional && !dataset.labels) throw new Error('a conditional config needs a labelled dataset');
  /** z and, for a conditional G, the class of each row (which D's fake pass reuses). */
  const drawNoise = (sub: number) => {
    const key = { seed, stream: STREAM_NOISE, step: iteration, sub };
    const shape = { rows: batch, cols: noise.dim };
    const z =
      noise.distribution === 'uniform'
        ? uniformNoise(shape, key, noise.low, noise.high)
        : gaussianNoise(shape, key, noise.std);
    return {
      z,
      labels: conditional
        ? classNoise(batch, config.classes, { seed, stream: STREAM_CLASS, step: iteration, sub })
        : undefined,
    };
  };
  /** The minibatch and, for a conditional D, its rows' classes. */
  const drawData = (sub: number) => {
    const { x, indices } = gatherRows(
      dataset.values,
      { batch, features, first: dataset.first, count: dataset.count, scale: dataset.scale },
      { seed, stream: STREAM_GATHER, step: iteration, sub },
    );
    return { x, labels: conditional ? gatherLabels(dataset.labels!, indices) : undefined };
  };
  type Noise = ReturnType<typeof drawNoise>;
  type Data = ReturnType<typeof drawData>;
  const gKey = (sub: number): PassKey => ({ seed, step: iteration, sub, streamBase: GENERATOR_DROPOUT_STREAM });
  const dKey = (sub: number): PassKey => ({ seed, step: iteration, sub, streamBase: DISCRIMINATOR_DROPOUT_STREAM });
  const g = state.generator;
  const d = state.discriminator;

  /** D's gradient from its loss on a real and a fake pass; G's from its loss through the fake pass. */
  const discriminatorGrads = (sub: number, z: Noise, x: Data) => {
    const gCache = mlpForward(gSpec, g.params, z.z, batch, gKey(sub), z.labels);
    const real = mlpForward(dSpec, d.params, x.x, batch, dKey(sub + REAL_PASS), x.labels);
    const fake = mlpForward(dSpec, d.params, gCache.output, batch, dKey(sub + FAKE_PASS), z.labels);
    const loss = discriminatorLoss(real.output, fake.output, config.realTarget, config.gLoss);
    const realGrads = mlpBackward(dSpec, d.params, real, loss.dlogitsReal, batch, dKey(sub + REAL_PASS)).grads;
    const fakeGrads = mlpBackward(dSpec, d.params, fake, loss.dlogitsFake, batch, dKey(sub + FAKE_PASS)).grads;
    return { grads: realGrads.map((v, i) => v + fakeGrads[i]), gCache, fake };
  };
  const generatorGrads = (
    sub: number,
    gCache: ReturnType<typeof mlpForward<Float32Array>>,
    fake: ReturnType<typeof mlpForward<Float32Array>>,
  ) => {
    const loss = generatorLoss(fake.output, config.gLoss);
    const sampleGrad = mlpBackward(
      dSpec,
      d.params,
      fake,
      loss.dlogitsFake,
      batch,
      dKey(sub + FAKE_PASS),
      true,
    ).inputGrad!;
    return mlpBackward(gSpec, g.params, gCache, sampleGrad, batch, gKey(sub)).grads;
  };

  if (config.form === 'simultaneous') {
    const sub = dStepPass(0);
    const { grads, gCache, fake } = discriminatorGrads(sub, drawNoise(sub), drawData(sub));
    const gGrads = generatorGrads(sub, gCache, fake);
    update(config, dSpec, d, grads, { ...hyper, step: iteration + 1 });
    update(config, gSpec, g, gGrads, { ...gHyper, step: iteration + 1 });
    updateAverage(config, g, iteration);
    return;
  }
  for (let j = 0; j < k; j++) {
    const sub = dStepPass(j);
    const { grads } = discriminatorGrads(sub, drawNoise(sub), drawData(sub));
    update(config, dSpec, d, grads, { ...hyper, step: iteration * k + j + 1 });
  }
  const sub = gStepPass(k);
  const z = drawNoise(sub);
  const gCache = mlpForward(gSpec, g.params, z.z, batch, gKey(sub), z.labels);
  const fake = mlpForward(dSpec, d.params, gCache.output, batch, dKey(sub + FAKE_PASS), z.labels);
  update(config, gSpec, g, generatorGrads(sub, gCache, fake), { ...gHyper, step: iteration + 1 });
  updateAverage(config, g, iteration);
}

/** After G update `iteration + 1`, the average's. */
function updateAverage(config: TrainConfig, g: ReferencePlayer, iteration: number): void {
  if (config.emaDecay > 0) emaStep(g.average!, g.params, emaDecayAfter(config, iteration));
}
