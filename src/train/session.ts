// Everything a training run needs besides its output: the device with the limits the model needs,
// the data on the GPU, the initial parameters and the trainer. The command line, the pages and the
// tests build runs through here; the divergence of the toys is measured here too. Nothing here
// touches the file system (MNIST comes through '#mnist-files': read from disk in Node, fetched in a
// page), so the same code runs in both.
import { acquireDevice, checkBuffersFit, limitsForBuffers, type BufferNeed, type GpuContext } from '../gpu/device';
import { Clock } from '../gpu/clock';
import { Runtime } from '../gpu/runtime';
import { readMnist } from '#mnist-files';
import { pixelMeans, MNIST_TRAIN_COUNT, type Mnist } from '../data/mnist-format';
import { uploadMnist, uploadPoints, type GpuDataset } from '../data/dataset';
import { divergenceBins, histogram, jensenShannon, sampleToy, toyDistribution, type ToyDistribution } from '../data/toy';
import { parameterLayout } from '../nn/layout';
import { dataFeatures, discriminatorSpec, generatorSpec, isToyData, type TrainConfig } from '../spec/config';
import { ConfigError } from './config';
import { initialParameters } from './init';
import { Trainer } from './trainer';

/** Samples kept from the fixed noise: a 10 x 10 grid of digits, or enough points for the divergence. */
export const IMAGE_SAMPLES = 100;
export const TOY_SAMPLES = 4096;
export const TOY_DATASET_SIZE = 20_000;
const CURVE_POINTS = 256;

/** A toy's distribution, its points and their histogram on the divergence grid. */
export interface ToyData {
  distribution: ToyDistribution;
  points: Float32Array<ArrayBuffer>;
  reference: Float64Array;
}

export interface TrainingData {
  dataset: GpuDataset;
  toy?: ToyData;
  pixelMeans?: Float64Array;
}

export interface DataOptions {
  /** MNIST already in memory (a page keeps it between runs); otherwise it is read or fetched. */
  mnist?: Mnist;
  /**
   * Where MNIST is read (Node: a directory) or fetched (a page: a URL, relative to the page) when
   * `mnist` is not given; default config.dataDir, and where that is empty the packaged files in Node
   * and data/mnist/ in a page.
   */
  mnistFrom?: string;
  /** The toy's points, (count, dims), instead of the distribution's own (a distribution drawn by hand). */
  points?: Float32Array<ArrayBuffer>;
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

/** The largest buffers the run will make, so an adapter too small is refused by name before allocating. */
export function modelBuffers(config: TrainConfig): BufferNeed[] {
  const tensors = [{ name: 'dataset', bytes: config.data === 'mnist' ? MNIST_TRAIN_COUNT * 784 : TOY_DATASET_SIZE * dataFeatures(config) * 4 }];
  for (const spec of Object.values(networkSpecs(config))) tensors.push({ name: `${spec.name}.params`, bytes: parameterLayout(spec).totalFloats * 4 });
  const widest = Math.max(dataFeatures(config), ...[...config.generator.layers, ...config.discriminator.layers].map((l) => l.units * l.pieces));
  tensors.push({ name: 'activations', bytes: Math.max(config.batch, TOY_SAMPLES) * widest * 4 });
  return tensors;
}

/** The device limits the run needs (for requesting a device that will serve every model the page offers). */
export function modelLimits(config: TrainConfig): Record<string, number> {
  return limitsForBuffers(modelBuffers(config));
}

/** A toy run's data on the CPU: what the divergence and the pictures compare the samples with. */
export function toyData(config: TrainConfig, points?: Float32Array<ArrayBuffer>): ToyData | undefined {
  if (!isToyData(config.data)) return undefined;
  const distribution = toyDistribution(config.data);
  const own = points ?? sampleToy(distribution, TOY_DATASET_SIZE, config.seed);
  const reference = histogram(own, distribution.dims, distribution.bounds, divergenceBins(distribution));
  return { distribution, points: own, reference };
}

export async function prepareData(rt: Runtime, config: TrainConfig, options: DataOptions = {}): Promise<TrainingData> {
  if (config.data !== 'mnist' && !isToyData(config.data)) throw new ConfigError(`config field 'data': '${config.data}' is not wired into training yet.`);
  if (config.data === 'mnist') {
    const mnist = options.mnist ?? (await readMnist(options.mnistFrom ?? config.dataDir));
    return { dataset: uploadMnist(rt, mnist), pixelMeans: pixelMeans(mnist.train, MNIST_TRAIN_COUNT) };
  }
  const toy = toyData(config, options.points)!;
  return { dataset: uploadPoints(rt, toy.points, toy.distribution.dims, `dataset.${config.data}`), toy };
}

/** A trainer for `config` on data already on the GPU, with the config's initial parameters. */
export async function createTrainer(rt: Runtime, clock: Clock, config: TrainConfig, data: TrainingData): Promise<Trainer> {
  const initial = {
    generator: initialParameters(generatorSpec(config), config.generator.initRange, config.seed, 0, config.outputBiasFromData ? data.pixelMeans : undefined),
    discriminator: initialParameters(discriminatorSpec(config), config.discriminator.initRange, config.seed, 1),
  };
  const bounds = data.toy?.distribution.bounds;
  return Trainer.create(rt, clock, config, data.dataset, initial, {
    sampleCount: data.toy ? TOY_SAMPLES : IMAGE_SAMPLES,
    curve: data.toy?.distribution.dims === 1 && bounds ? { lo: bounds[0], hi: bounds[1], points: CURVE_POINTS } : undefined,
  });
}

/** A device made earlier (a page keeps one) must already have the limits a new model needs. */
/**
 * A device (a new one with the limits the model needs, or `context`, checked against them), the
 * data on it and a trainer.
 */
export async function createSession(config: TrainConfig, options: { adapter?: string; context?: GpuContext } & DataOptions = {}): Promise<Session> {
  let context = options.context;
  if (context) checkBuffersFit(context.device.limits, `the device on '${context.adapterName}'`, modelBuffers(config));
  else context = await acquireDevice({ adapter: options.adapter, buffers: modelBuffers(config) });
  const rt = new Runtime(context);
  const clock = new Clock(context.device);
  const data = await prepareData(rt, config, options);
  const trainer = await createTrainer(rt, clock, config, data);
  return { context, rt, clock, config, data, trainer };
}

export function destroySession(session: Session): void {
  session.trainer.destroy();
  session.data.dataset.buffer.destroy();
  session.context.device.destroy();
}

/** The toys' `js` metric: Jensen-Shannon divergence between the data's and the samples' histograms. */
export function toyDivergence(data: { toy?: ToyData }, samples: Float32Array): number | undefined {
  if (!data.toy) return undefined;
  const { distribution, reference } = data.toy;
  return jensenShannon(reference, histogram(samples, distribution.dims, distribution.bounds, divergenceBins(distribution)));
}
