// The --score classifiers' weights on disk: trained once per machine and dataset and kept under a
// name made of everything that shapes them (the data's kind, shape, classes and a digest of its
// training split; architecture, training schedule, seed), in the user's cache directory.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Runtime } from '../gpu/runtime';
import { imageBytes, type ImageDataset } from '../data/image-dataset';
import {
  classifierKey,
  classifierSpec,
  testAccuracy,
  trainClassifier,
  type ClassifierConfig,
  type ClassifierData,
} from '../eval/classifier';
import { writeFileAtomic } from '../io/checkpoint';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type NamedTensor } from '../io/safetensors';
import { parameterLayout } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';

const CLASSIFIER_FORMAT = 'webgpu-gan-classifier/1';

export function defaultCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'webgpu-gan');
}

export interface TrainedClassifier {
  config: ClassifierConfig;
  params: Float32Array;
  testAccuracy: number;
  /** The file the weights were read from or written to. */
  path: string;
  cached: boolean;
  /** Training time; 0 when read from the cache. */
  seconds: number;
  /** The dataset's classes: the classifier's outputs. */
  classes: number;
}

function readCached(
  path: string,
  config: ClassifierConfig,
  spec: NetworkSpec,
): { params: Float32Array; testAccuracy: number } {
  const { tensors, metadata } = decodeSafetensors(readFileSync(path), path);
  if (metadata.format !== CLASSIFIER_FORMAT)
    throw new CheckpointError(
      `${path}: metadata format is ${JSON.stringify(metadata.format)}, expected '${CLASSIFIER_FORMAT}'; delete the file to retrain.`,
    );
  const layout = parameterLayout(spec);
  const params = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) {
    const found = tensors[t.name];
    if (!found || found.dtype !== 'F32' || found.shape.join('x') !== t.shape.join('x'))
      throw new CheckpointError(
        `${path}: tensor '${t.name}' is missing or not F32 ${t.shape.join('x')}; delete the file to retrain.`,
      );
    params.set(found.data as Float32Array, t.offset);
  }
  const accuracy = Number(metadata.test_accuracy);
  if (!(accuracy >= 0 && accuracy <= 1))
    throw new CheckpointError(
      `${path}: metadata test_accuracy is ${JSON.stringify(metadata.test_accuracy)}; delete the file to retrain.`,
    );
  return { params, testAccuracy: accuracy };
}

/** What names a dataset's classifier: its kind, shape and classes, and a SHA-256 of its training images and labels. */
export function classifierData(images: ImageDataset): ClassifierData {
  const { train } = images;
  const hash = createHash('sha256');
  hash.update(train.pixels.subarray(0, train.count * imageBytes(images)));
  if (train.labels) hash.update(train.labels.subarray(0, train.count));
  // Contrast-normalised data is other inputs from the same bytes.
  if (images.contrastScale !== undefined) hash.update(`contrast ${images.contrastScale}`);
  return {
    kind: images.kind,
    channels: images.channels,
    height: images.height,
    width: images.width,
    classes: images.classes,
    digest: hash.digest('hex'),
  };
}

/** The classifier of `config` for a labelled dataset: read from `cacheDir` when it was trained before, else trained, measured and saved there. */
export async function loadOrTrainClassifier(
  rt: Runtime,
  images: ImageDataset,
  config: ClassifierConfig,
  cacheDir = defaultCacheDir(),
): Promise<TrainedClassifier> {
  const spec = classifierSpec(config, imageBytes(images), images.classes);
  const data = classifierData(images);
  const path = join(cacheDir, `${classifierKey(config, data)}.safetensors`);
  if (existsSync(path))
    return { config, ...readCached(path, config, spec), path, cached: true, seconds: 0, classes: images.classes };
  const started = performance.now();
  const params = await trainClassifier(rt, images, config);
  const accuracy = await testAccuracy(rt, images, config, params);
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  const tensors: Record<string, NamedTensor> = {};
  for (const t of parameterLayout(spec).tensors)
    tensors[t.name] = { dtype: 'F32', shape: t.shape, data: params.slice(t.offset, t.offset + t.size) };
  mkdirSync(cacheDir, { recursive: true });
  writeFileAtomic(
    path,
    encodeSafetensors(tensors, {
      format: CLASSIFIER_FORMAT,
      config: JSON.stringify(config),
      test_accuracy: String(accuracy),
      data: images.source,
      data_key: JSON.stringify(data),
    }),
  );
  return { config, params, testAccuracy: accuracy, path, cached: false, seconds, classes: images.classes };
}
