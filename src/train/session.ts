// Everything a training run needs besides its output: the device with the limits the model needs,
// the data on the GPU, the initial parameters and the trainer. The command line and the tests build
// runs through here; the divergence of the toys is measured here too.
import { acquireDevice, limitsForBuffers, type GpuContext } from '../gpu/device';
import { Clock } from '../gpu/clock';
import { Runtime } from '../gpu/runtime';
import { loadMnist, pixelMeans, MNIST_TRAIN_COUNT } from '../data/mnist';
import { uploadMnist, uploadPoints, type GpuDataset } from '../data/dataset';
import { divergenceBins, histogram, jensenShannon, sampleToy, toyDistribution, type ToyDistribution } from '../data/toy';
import { densityPng, imageGridPng, scatterPng } from '../io/images';
import { parameterLayout } from '../nn/layout';
import { dataFeatures, discriminatorSpec, generatorSpec, type TrainConfig } from './config';
import { initialParameters } from './init';
import { Trainer, type SampleBatch } from './trainer';

/** Samples kept from the fixed noise: a 10 x 10 grid of digits, or enough points for the divergence. */
export const IMAGE_SAMPLES = 100;
export const TOY_SAMPLES = 4096;
export const TOY_DATASET_SIZE = 20_000;
const CURVE_POINTS = 256;

export interface TrainingData {
  dataset: GpuDataset;
  /** Toys: the distribution, its points and their histogram on the divergence grid. */
  toy?: { distribution: ToyDistribution; points: Float32Array; reference: Float64Array };
  pixelMeans?: Float64Array;
}

export interface Session {
  context: GpuContext;
  rt: Runtime;
  clock: Clock;
  config: TrainConfig;
  data: TrainingData;
  trainer: Trainer;
}

export function networkSpecs(config: TrainConfig) {
  return { generator: generatorSpec(config), discriminator: discriminatorSpec(config) };
}

/** The largest buffers the run will make, so an adapter too small is refused before allocating. */
function modelLimits(config: TrainConfig): Record<string, number> {
  const tensors = [{ name: 'dataset', bytes: config.data === 'mnist' ? MNIST_TRAIN_COUNT * 784 : TOY_DATASET_SIZE * dataFeatures(config) * 4 }];
  for (const spec of Object.values(networkSpecs(config))) tensors.push({ name: `${spec.name}.params`, bytes: parameterLayout(spec).totalFloats * 4 });
  const widest = Math.max(dataFeatures(config), ...[...config.generator.layers, ...config.discriminator.layers].map((l) => l.units * l.pieces));
  tensors.push({ name: 'activations', bytes: Math.max(config.batch, TOY_SAMPLES) * widest * 4 });
  return limitsForBuffers(tensors);
}

function prepareData(rt: Runtime, config: TrainConfig): TrainingData {
  if (config.data === 'mnist') {
    const mnist = loadMnist(config.dataDir || undefined);
    return { dataset: uploadMnist(rt, mnist), pixelMeans: pixelMeans(mnist.train, MNIST_TRAIN_COUNT) };
  }
  const distribution = toyDistribution(config.data);
  const points = sampleToy(distribution, TOY_DATASET_SIZE, config.seed);
  const reference = histogram(points, distribution.dims, distribution.bounds, divergenceBins(distribution));
  return { dataset: uploadPoints(rt, points, distribution.dims, `dataset.${config.data}`), toy: { distribution, points, reference } };
}

export async function createSession(config: TrainConfig, options: { adapter?: string } = {}): Promise<Session> {
  const context = await acquireDevice({ adapter: options.adapter, requiredLimits: modelLimits(config) });
  const rt = new Runtime(context);
  const clock = new Clock(context.device);
  const data = prepareData(rt, config);
  const initial = {
    generator: initialParameters(generatorSpec(config), config.generator.initRange, config.seed, 0, config.outputBiasFromData ? data.pixelMeans : undefined),
    discriminator: initialParameters(discriminatorSpec(config), config.discriminator.initRange, config.seed, 1),
  };
  const bounds = data.toy?.distribution.bounds;
  const trainer = await Trainer.create(rt, clock, config, data.dataset, initial, {
    sampleCount: data.toy ? TOY_SAMPLES : IMAGE_SAMPLES,
    curve: data.toy?.distribution.dims === 1 && bounds ? { lo: bounds[0], hi: bounds[1], points: CURVE_POINTS } : undefined,
  });
  return { context, rt, clock, config, data, trainer };
}

export function destroySession(session: Session): void {
  session.trainer.destroy();
  session.data.dataset.buffer.destroy();
  session.context.device.destroy();
}

/** The toys' `js` metric: Jensen-Shannon divergence between the data's and the samples' histograms. */
export function toyDivergence(data: TrainingData, samples: Float32Array): number | undefined {
  if (!data.toy) return undefined;
  const { distribution, reference } = data.toy;
  return jensenShannon(reference, histogram(samples, distribution.dims, distribution.bounds, divergenceBins(distribution)));
}

/** The picture of a sample batch: a digit grid, a 2-D scatter, or the 1-D densities with D(x). */
export function samplePng(data: TrainingData, batch: SampleBatch): Uint8Array {
  if (!data.toy) return imageGridPng(batch.samples, batch.count, 28, 28, 10);
  const { distribution, points } = data.toy;
  if (distribution.dims === 2) return scatterPng(points.subarray(0, 2000 * 2), batch.samples.subarray(0, 2000 * 2), distribution.bounds);
  return densityPng(points, batch.samples, distribution.bounds, batch.discriminatorCurve);
}
