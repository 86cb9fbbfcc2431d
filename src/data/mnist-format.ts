// MNIST's four IDX files turned into image sets, without touching the file system: the command line
// reads the files (./mnist.ts), the pages fetch them (./mnist-files-browser.ts), both parse here.
// Pixels stay bytes (47 MB for the 60,000 training images) and are scaled to [0, 1] by the gather
// kernel on the GPU.
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

export interface MnistFile {
  /** Where the bytes came from (a path or a URL), named in errors. */
  path: string;
  bytes: Uint8Array;
}

export function parseImageSet(
  images: { path: string; bytes: Uint8Array },
  labels: { path: string; bytes: Uint8Array },
): ImageSet {
  const imageTensor = parseIdx(images.bytes, images.path, 3);
  const labelTensor = parseIdx(labels.bytes, labels.path, 1);
  const [count, rows, cols] = imageTensor.shape;
  if (labelTensor.shape[0] !== count) {
    throw new DataFileError(
      `${labels.path}: ${labelTensor.shape[0]} labels, but ${images.path} holds ${count} images.`,
    );
  }
  const badLabel = labelTensor.data.findIndex((l) => l > 9);
  if (badLabel >= 0)
    throw new DataFileError(`${labels.path}: label ${badLabel} is ${labelTensor.data[badLabel]}, not a digit 0..9.`);
  return { pixels: imageTensor.data, labels: labelTensor.data, count, rows, cols };
}

/** The four files parsed and checked against the paper's split. */
export function assembleMnist(files: Record<keyof typeof MNIST_FILES, MnistFile>, source: string): Mnist {
  const train = parseImageSet(files.trainImages, files.trainLabels);
  const test = parseImageSet(files.testImages, files.testLabels);
  if (train.count < MNIST_VALID_FIRST + MNIST_VALID_COUNT) {
    throw new DataFileError(
      `${files.trainImages.path}: ${train.count} images; the paper's split needs ${MNIST_VALID_FIRST + MNIST_VALID_COUNT} (50,000 train + 10,000 validation).`,
    );
  }
  if (test.rows !== train.rows || test.cols !== train.cols) {
    throw new DataFileError(
      `${files.testImages.path}: images are ${test.rows}x${test.cols}, the training images ${train.rows}x${train.cols}.`,
    );
  }
  return { train, test, source };
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
