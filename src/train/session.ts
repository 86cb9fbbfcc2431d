// Everything a training run needs besides its output: the device with the limits the model needs,
// the data on the GPU, the initial parameters and the trainer. The command line, the pages and the
// tests build runs through here; the divergence of the toys is measured here too. The config and its
// data come fitted (fit.ts) and are not checked again. Nothing here touches the file system, so the
// same code runs in Node and in a page.
import { acquireDevice, checkBuffersFit, limitsForBuffers, type BufferNeed, type GpuContext } from '../gpu/device';
import { Clock } from '../gpu/clock';
import { Runtime } from '../gpu/runtime';
import { MNIST_TRAIN_COUNT } from '../data/mnist-format';
import { datasetPixelMeans, destroyDataset, uploadImages, uploadPoints, type GpuDataset } from '../data/dataset';
import type { ImageDataset } from '../data/image-dataset';
import {
  divergenceBins,
  histogram,
  jensenShannon,
  sampleToy,
  toyDistribution,
  type ToyDistribution,
} from '../data/toy';
import { parameterLayout } from '../nn/layout';
import {
  dataFeatures,
  discriminatorSpec,
  generatorSpec,
  isToyData,
  layerInitRanges,
  type TrainConfig,
} from '../spec/config';
import { ConfigError } from './config';
import { fitRun, type FitOptions, type FittedRun } from './fit';
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
  /** Image data on the CPU, as loaded (the evaluation and the page read its splits). */
  images?: ImageDataset;
}

/** Where a session's data comes from: image data given or read (fit.ts), or a toy's points drawn by hand. */
export interface DataOptions extends Pick<FitOptions, 'dataset' | 'mnist' | 'mnistFrom'> {
  /** The toy's points, (count, dims), instead of the distribution's own (a distribution drawn by hand). */
  points?: Float32Array<ArrayBuffer>;
}

/** A device made earlier (a page keeps one), or the name of the adapter to ask for. */
export interface SessionOptions {
  adapter?: string;
  context?: GpuContext;
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

/** Training images assumed when the data is not loaded yet (a page asking for limits up front): MNIST's 50,000. */
const ASSUMED_TRAIN_IMAGES = MNIST_TRAIN_COUNT;

/**
 * The largest buffers the run will make, so an adapter too small is refused by name before allocating.
 * `trainImages`: the loaded dataset's training images (default: MNIST's 50,000, or CIFAR-10's 40,000).
 */
export function modelBuffers(config: TrainConfig, trainImages?: number): BufferNeed[] {
  const images = trainImages ?? (config.data === 'cifar10' ? 40_000 : ASSUMED_TRAIN_IMAGES);
  const tensors = [
    {
      name: 'dataset',
      bytes: isToyData(config.data) ? TOY_DATASET_SIZE * dataFeatures(config) * 4 : images * dataFeatures(config),
    },
  ];
  for (const spec of Object.values(networkSpecs(config)))
    tensors.push({ name: `${spec.name}.params`, bytes: parameterLayout(spec).totalFloats * 4 });
  const widest = Math.max(
    dataFeatures(config),
    ...[...config.generator.layers, ...config.discriminator.layers].map((l) => l.units * l.pieces),
  );
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

/** A fitted run's data on the GPU (the toy's own points, or `points` drawn by hand). */
export async function prepareData(
  rt: Runtime,
  run: FittedRun,
  options: Pick<DataOptions, 'points'> = {},
): Promise<TrainingData> {
  const { config, dataset: images } = run;
  if (!isToyData(config.data)) {
    if (!images)
      throw new ConfigError(
        `preset ${config.preset}: its ${config.data} data was not read (fitRun with readData false).`,
      );
    return { dataset: uploadImages(rt, images), pixelMeans: datasetPixelMeans(images), images };
  }
  const toy = toyData(config, options.points)!;
  return { dataset: uploadPoints(rt, toy.points, toy.distribution.dims, `dataset.${config.data}`), toy };
}

/** A trainer for `config` on data already on the GPU, with the config's initial parameters. */
export async function createTrainer(
  rt: Runtime,
  clock: Clock,
  config: TrainConfig,
  data: TrainingData,
): Promise<Trainer> {
  const initial = {
    generator: initialParameters(
      generatorSpec(config),
      layerInitRanges(config.generator),
      config.seed,
      0,
      config.outputBiasFromData ? data.pixelMeans : undefined,
    ),
    discriminator: initialParameters(discriminatorSpec(config), layerInitRanges(config.discriminator), config.seed, 1),
  };
  const bounds = data.toy?.distribution.bounds;
  return Trainer.create(rt, clock, config, data.dataset, initial, {
    sampleCount: data.toy ? TOY_SAMPLES : IMAGE_SAMPLES,
    curve:
      data.toy?.distribution.dims === 1 && bounds ? { lo: bounds[0], hi: bounds[1], points: CURVE_POINTS } : undefined,
  });
}

/** A session for `config`, fitted to its data first (fitRun): nothing is allocated for a run refused. */
export async function createSession(config: TrainConfig, options: SessionOptions & DataOptions = {}): Promise<Session> {
  return openSession(await fitRun(config, options), options);
}

/**
 * A fitted run's session: a device (a new one with the limits the model needs, or `context`, checked
 * against them), the data on it and a trainer. The buffers are sized for the real number of images.
 */
export async function openSession(
  run: FittedRun,
  options: SessionOptions & Pick<DataOptions, 'points'> = {},
): Promise<Session> {
  const { config } = run;
  const buffers = modelBuffers(config, run.dataset?.train.count);
  let context = options.context;
  if (context) checkBuffersFit(context.device.limits, `the device on '${context.adapterName}'`, buffers);
  else context = await acquireDevice({ adapter: options.adapter, buffers });
  const rt = new Runtime(context);
  const clock = new Clock(context.device);
  const data = await prepareData(rt, run, options);
  const trainer = await createTrainer(rt, clock, config, data);
  return { context, rt, clock, config, data, trainer };
}

export function destroySession(session: Session): void {
  session.trainer.destroy();
  destroyDataset(session.data.dataset);
  session.context.device.destroy();
}

/** The toys' `js` metric: Jensen-Shannon divergence between the data's and the samples' histograms. */
export function toyDivergence(data: { toy?: ToyData }, samples: Float32Array): number | undefined {
  if (!data.toy) return undefined;
  const { distribution, reference } = data.toy;
  return jensenShannon(
    reference,
    histogram(samples, distribution.dims, distribution.bounds, divergenceBins(distribution)),
  );
}
