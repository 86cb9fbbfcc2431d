// Training data on the GPU, uploaded once: MNIST as bytes (4 pixels a word, scaled to [0, 1] by the
// gather kernel), the toys as float32 points. The gather kernel draws minibatches from rows
// [first, first + count).
import type { Runtime } from '../gpu/runtime';
import { MNIST_TRAIN_COUNT, type Mnist } from './mnist-format';

export interface GpuDataset {
  buffer: GPUBuffer;
  format: 'u8' | 'f32';
  /** Values per example. */
  features: number;
  /** The rows minibatches are drawn from. */
  first: number;
  count: number;
  /** Multiplier of the stored values (1 / 255 for pixels). */
  scale: number;
}

/** Bytes padded to whole 32-bit words, as the u8 gather reads them. */
function packBytes(bytes: Uint8Array): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

/** The paper's training split: images 0..49999 of MNIST's training file. */
export function uploadMnist(rt: Runtime, mnist: Mnist): GpuDataset {
  const features = mnist.train.rows * mnist.train.cols;
  const pixels = mnist.train.pixels.subarray(0, MNIST_TRAIN_COUNT * features);
  return { buffer: rt.upload('dataset.mnist_train', packBytes(pixels)), format: 'u8', features, first: 0, count: MNIST_TRAIN_COUNT, scale: 1 / 255 };
}

export function uploadPoints(rt: Runtime, points: Float32Array<ArrayBuffer>, dims: number, label: string): GpuDataset {
  return { buffer: rt.upload(label, points), format: 'f32', features: dims, first: 0, count: points.length / dims, scale: 1 };
}
