// Training data on the GPU, uploaded once: images as bytes (4 pixels a word, scaled to [0, 1] by the
// gather kernel, and contrast-normalised there too when the dataset asks for it), the toys as float32
// points. The gather kernel draws minibatches from rows [first, first + count).
import type { Runtime } from '../gpu/runtime';
import { imageBytes, mnistAsDataset, type ImageDataset, type ImageSplit } from './image-dataset';
import type { Mnist } from './mnist-format';

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
  /** Contrast-normalised images: (rows, 2) f32, each row's (offset, scale) that the gather applies after `scale`. */
  contrast?: GPUBuffer;
  /** Labelled images: (rows) u32, each row's class (gather_labels reads it for a conditional GAN). */
  labels?: GPUBuffer;
  /** Classes of a labelled dataset (labels are 0..classes-1); absent or 0 when unlabelled. */
  classes?: number;
}

/** Bytes padded to whole 32-bit words, as the u8 gather reads them. */
function packBytes(bytes: Uint8Array): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

/**
 * pylearn2's global_contrast_normalize with its defaults (subtract_mean, use_std false, sqrt_bias 0,
 * min_divisor 1e-8), which the authors' CIFAR10(gcn=55) applies to the 0..255 values: each image
 * centred on its own mean and scaled to Euclidean norm `contrastScale`. Returned per image as
 * (offset, scale) for values already divided by 255: x' = (v / 255 - offset) * scale, the mean and
 * the norm taken in float64. A flat image (norm below 1e-8 * contrastScale in byte units, where
 * pylearn2 divides by 1 instead) is all zeros after centring: scale 0 gives those zeros exactly,
 * where the float32 rounding of v / 255 against its offset would leave about 1e-5.
 */
export function contrastParams(
  pixels: Uint8Array,
  count: number,
  features: number,
  contrastScale: number,
): Float32Array<ArrayBuffer> {
  const pairs = new Float32Array(2 * count);
  for (let i = 0; i < count; i++) {
    const base = i * features;
    let sum = 0;
    for (let f = 0; f < features; f++) sum += pixels[base + f];
    const mean = sum / features;
    let squares = 0;
    for (let f = 0; f < features; f++) squares += (pixels[base + f] - mean) ** 2;
    const normaliser = Math.sqrt(squares) / contrastScale;
    pairs[2 * i] = mean / 255;
    pairs[2 * i + 1] = normaliser < 1e-8 ? 0 : 255 / normaliser;
  }
  return pairs;
}

/** Images of a split as the model sees them: [0, 1], or contrast-normalised when the dataset asks for it. */
export function splitValues(
  dataset: Pick<ImageDataset, 'channels' | 'height' | 'width' | 'contrastScale'>,
  split: Pick<ImageSplit, 'pixels'>,
  first: number,
  count: number,
): Float32Array {
  const features = imageBytes(dataset);
  const pixels = split.pixels.subarray(first * features, (first + count) * features);
  const out = new Float32Array(count * features);
  if (dataset.contrastScale === undefined) {
    for (let i = 0; i < out.length; i++) out[i] = pixels[i] / 255;
    return out;
  }
  const pairs = contrastParams(pixels, count, features, dataset.contrastScale);
  for (let i = 0; i < count; i++) {
    const [offset, scale] = [pairs[2 * i], pairs[2 * i + 1]];
    // The gather kernel's order of float32 operations, so the twin, the GPU and the evaluation agree.
    for (let f = 0; f < features; f++)
      out[i * features + f] =
        Math.fround(Math.fround(pixels[i * features + f] * Math.fround(1 / 255)) - offset) * scale;
  }
  return out;
}

/** Each feature's mean over the training split, as the model sees the images (G's output bias starts from it). */
export function datasetPixelMeans(dataset: ImageDataset): Float64Array {
  const features = imageBytes(dataset);
  const { train } = dataset;
  const means = new Float64Array(features);
  if (dataset.contrastScale === undefined) {
    for (let i = 0; i < train.count; i++) for (let f = 0; f < features; f++) means[f] += train.pixels[i * features + f];
    return means.map((m) => m / (255 * train.count));
  }
  // In slices, so CIFAR-10's 40,000 images never exist as floats all at once.
  for (let first = 0; first < train.count; first += 1000) {
    const n = Math.min(1000, train.count - first);
    const values = splitValues(dataset, train, first, n);
    for (let i = 0; i < n; i++) for (let f = 0; f < features; f++) means[f] += values[i * features + f];
  }
  return means.map((m) => m / train.count);
}

/** The training split of any image dataset: its bytes, and each image's contrast pair when it asks for normalisation. */
export function uploadImages(rt: Runtime, dataset: ImageDataset): GpuDataset {
  const features = imageBytes(dataset);
  const { train } = dataset;
  const label = `dataset.${dataset.kind}_train`;
  const buffer = rt.upload(label, packBytes(train.pixels.subarray(0, train.count * features)));
  const contrast =
    dataset.contrastScale === undefined
      ? undefined
      : rt.upload(`${label}.contrast`, contrastParams(train.pixels, train.count, features, dataset.contrastScale));
  const labels =
    train.labels && dataset.classes > 0
      ? rt.upload(`${label}.labels`, Uint32Array.from(train.labels.subarray(0, train.count)))
      : undefined;
  return {
    buffer,
    format: 'u8',
    features,
    first: 0,
    count: train.count,
    scale: 1 / 255,
    ...(contrast && { contrast }),
    ...(labels && { labels, classes: dataset.classes }),
  };
}

/** The paper's training split: images 0..49999 of MNIST's training file. */
export function uploadMnist(rt: Runtime, mnist: Mnist): GpuDataset {
  return uploadImages(rt, mnistAsDataset(mnist));
}

export function uploadPoints(rt: Runtime, points: Float32Array<ArrayBuffer>, dims: number, label: string): GpuDataset {
  return {
    buffer: rt.upload(label, points),
    format: 'f32',
    features: dims,
    first: 0,
    count: points.length / dims,
    scale: 1,
  };
}

/** Frees the dataset's buffers. */
export function destroyDataset(dataset: GpuDataset): void {
  dataset.buffer.destroy();
  dataset.contrast?.destroy();
  dataset.labels?.destroy();
}
