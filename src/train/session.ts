// Everything a training run needs besides its output: the device with the limits the model needs,
// the data on the GPU, the initial parameters and the trainer. The command line, the pages and the
// tests build runs through here; the divergence of the toys is measured here too. Nothing here
// touches the file system (MNIST comes through '#mnist-files', the other image datasets through
// '#dataset-files': read from disk in Node, fetched or taken from chosen files in a page), so the
// same code runs in both.
import { acquireDevice, checkBuffersFit, limitsForBuffers, type BufferNeed, type GpuContext } from '../gpu/device';
import { Clock } from '../gpu/clock';
import { Runtime } from '../gpu/runtime';
import { readMnist } from '#mnist-files';
import { readCifar10, readEmoji, readFashionMnist, readIdxDataset, readImageFolder } from '#dataset-files';
import { MNIST_TRAIN_COUNT, type Mnist } from '../data/mnist-format';
import { datasetPixelMeans, destroyDataset, uploadImages, uploadPoints, type GpuDataset } from '../data/dataset';
import { checkDataset, mnistAsDataset, type ImageDataset } from '../data/image-dataset';
import { DataFileError } from '../data/idx';
import { divergenceBins, histogram, jensenShannon, sampleToy, toyDistribution, type ToyDistribution } from '../data/toy';
import { parameterLayout } from '../nn/layout';
import { dataFeatures, discriminatorSpec, generatorSpec, imageShape, isToyData, layerInitRanges, type ImageDataKind, type ImageShape, type TrainConfig } from '../spec/config';
import { ConfigError, shapeText } from './config';
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

export interface DataOptions {
  /**
   * Image data already loaded (a page reads the files a user chose with #dataset-files); its shape
   * must be the config's. Otherwise the config's data is read or fetched.
   */
  dataset?: ImageDataset;
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

/** Training images assumed when the data is not loaded yet (a page asking for limits up front): MNIST's 50,000. */
const ASSUMED_TRAIN_IMAGES = MNIST_TRAIN_COUNT;

/**
 * The largest buffers the run will make, so an adapter too small is refused by name before allocating.
 * `trainImages`: the loaded dataset's training images (default: MNIST's 50,000, or CIFAR-10's 40,000).
 */
export function modelBuffers(config: TrainConfig, trainImages?: number): BufferNeed[] {
  const images = trainImages ?? (config.data === 'cifar10' ? 40_000 : ASSUMED_TRAIN_IMAGES);
  const tensors = [{ name: 'dataset', bytes: isToyData(config.data) ? TOY_DATASET_SIZE * dataFeatures(config) * 4 : images * dataFeatures(config) }];
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

/**
 * The config's image data on the CPU: `options.dataset` when given, else read (Node: a directory, the
 * packaged MNIST or Fashion-MNIST) or fetched (a page). Checked against the config's image shape.
 */
export async function loadImageData(config: TrainConfig, options: DataOptions = {}): Promise<ImageDataset> {
  const shape = imageShape(config);
  if (!shape) throw new ConfigError(`config field 'data': '${config.data}' is not image data.`);
  const dataset = options.dataset ?? (await readImageData(config, options));
  checkDataset(dataset);
  checkDataFits(config, dataset);
  return dataset;
}

/**
 * The config's image data as its files hold it, not yet checked against the model's shape (the
 * command line reads an IDX set's shape from it). A folder of images is cut to the config's size.
 */
export async function readImageData(config: TrainConfig, options: Pick<DataOptions, 'mnist' | 'mnistFrom'> = {}): Promise<ImageDataset> {
  const shape = imageShape(config);
  if (!shape) throw new ConfigError(`config field 'data': '${config.data}' is not image data.`);
  return checkDataset(await readKind(config.data as ImageDataKind, options.mnistFrom ?? config.dataDir, shape, options.mnist));
}

async function readKind(kind: ImageDataKind, from: string, shape: ImageShape, mnist?: Mnist): Promise<ImageDataset> {
  switch (kind) {
    case 'mnist':
      return mnistAsDataset(mnist ?? (await readMnist(from)));
    case 'fashion-mnist':
      return readFashionMnist(from);
    case 'idx':
      return readIdxDataset(from);
    case 'cifar10':
      return readCifar10(from);
    case 'images':
      return readImageFolder(from, { size: shape.height, grey: shape.channels === 1 });
    case 'emoji':
      return readEmoji(from, { size: shape.height });
  }
}

/** The data's images must be the shape the model was built for: one line naming both. */
export function checkDataFits(config: TrainConfig, dataset: ImageDataset): void {
  const shape = imageShape(config)!;
  const got = { channels: dataset.channels, height: dataset.height, width: dataset.width };
  if (got.channels !== shape.channels || got.height !== shape.height || got.width !== shape.width) {
    throw new DataFileError(`${dataset.source}: images are ${shapeText(got)}, but the model (preset ${config.preset}) is built for ${shapeText(shape)}.`);
  }
  // The model's domain: contrast-normalised values or [0, 1] pixels; a run must not mix them.
  const normalised = config.data === 'cifar10';
  if (normalised !== (dataset.contrastScale !== undefined)) {
    throw new DataFileError(`${dataset.source}: ${dataset.kind} data ${dataset.contrastScale !== undefined ? 'is' : 'is not'} contrast-normalised, but the config's data '${config.data}' ${normalised ? 'is' : 'is not'}.`);
  }
}

export async function prepareData(rt: Runtime, config: TrainConfig, options: DataOptions = {}): Promise<TrainingData> {
  if (!isToyData(config.data)) {
    const images = await loadImageData(config, options);
    return { dataset: uploadImages(rt, images), pixelMeans: datasetPixelMeans(images), images };
  }
  const toy = toyData(config, options.points)!;
  return { dataset: uploadPoints(rt, toy.points, toy.distribution.dims, `dataset.${config.data}`), toy };
}

/** A trainer for `config` on data already on the GPU, with the config's initial parameters. */
export async function createTrainer(rt: Runtime, clock: Clock, config: TrainConfig, data: TrainingData): Promise<Trainer> {
  const initial = {
    generator: initialParameters(generatorSpec(config), layerInitRanges(config.generator), config.seed, 0, config.outputBiasFromData ? data.pixelMeans : undefined),
    discriminator: initialParameters(discriminatorSpec(config), layerInitRanges(config.discriminator), config.seed, 1),
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
  // Image data is read first: bad files are refused before a device is made, and the buffers are
  // sized for the real number of images.
  const images = isToyData(config.data) ? undefined : await loadImageData(config, options);
  const buffers = modelBuffers(config, images?.train.count);
  let context = options.context;
  if (context) checkBuffersFit(context.device.limits, `the device on '${context.adapterName}'`, buffers);
  else context = await acquireDevice({ adapter: options.adapter, buffers });
  const rt = new Runtime(context);
  const clock = new Clock(context.device);
  const data = await prepareData(rt, config, { ...options, ...(images && { dataset: images }) });
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
  return jensenShannon(reference, histogram(samples, distribution.dims, distribution.bounds, divergenceBins(distribution)));
}
