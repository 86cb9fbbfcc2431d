// A classifier of a labelled image dataset (MNIST, Fashion-MNIST, CIFAR-10, an IDX set, a folder
// of class folders) for scoring samples beyond the paper: an MLP trained with the project's own
// kernels (minibatch gather, contrast normalisation included, dense layers, softmax cross-entropy,
// Adam) on the dataset's training split, seeing the images as the GAN does. The command line caches
// its weights on disk under classifierKey (src/cli/classifier-cache.ts), one per dataset, so a score
// is reproducible and each classifier is trained once per machine. Its penultimate layer gives the
// features of the Frechet distance; its argmax the predicted class of the class coverage.
import type { Runtime } from '../gpu/runtime';
import { splitValues, uploadImages } from '../data/dataset';
import { imageBytes, type ImageDataset } from '../data/image-dataset';
import { parameterLayout, tensor } from '../nn/layout';
import type { MlpTrainingConfig, NetworkSpec } from '../spec/network';
import { initialParameters } from '../train/init';
import type { Rows } from './window';
import { SupervisedTraining } from './supervised-training';
import { TrunkFeatures } from './trunk-features';

/** The output layer has one unit (logit) per class. */
export type ClassifierConfig = MlpTrainingConfig;

/** On MNIST about 98% test accuracy; 4 epochs of the 50,000 training images. */
export const DEFAULT_CLASSIFIER: ClassifierConfig = {
  hidden: [256, 256],
  iterations: 2000,
  batch: 100,
  lr: 1e-3,
  initRange: 0.05,
  seed: 0,
};

/** MNIST's classes: the default where a caller names none. */
export const CLASSES = 10;
/** The initial weights' network index (G is 0, D 1) and the gather's pass: keys no GAN draw uses. */
const CLASSIFIER_NETWORK = 2;
const CLASSIFIER_PASS = 0xffe0;

export function classifierSpec(config: ClassifierConfig, features = 784, classes = CLASSES): NetworkSpec {
  return {
    name: 'classifier',
    inputFeatures: features,
    layers: [
      ...config.hidden.map((units) => ({ units, activation: 'relu' as const, pieces: 1 })),
      { units: classes, activation: 'identity' as const, pieces: 1 },
    ],
  };
}

/** What a classifier was trained on, for its cache name: the kind, the shape, the classes and a digest of the training split. */
export interface ClassifierData {
  kind: string;
  channels: number;
  height: number;
  width: number;
  classes: number;
  /** Hex digest of the training images and labels: two IDX sets or folders of one shape are different data. */
  digest: string;
}

/** The cache file's name: everything that shapes the weights, the data included. */
export function classifierKey(config: ClassifierConfig, data?: ClassifierData): string {
  const trained = data
    ? `-${data.kind}-${data.channels}x${data.height}x${data.width}-c${data.classes}-${data.digest.slice(0, 12)}`
    : '';
  return `classifier${trained}-h${config.hidden.join('x')}-it${config.iterations}-b${config.batch}-lr${config.lr}-init${config.initRange}-seed${config.seed}`;
}

/** Trains on the dataset's training split (MNIST: train images 0..49999); returns the flat parameters. */
export async function trainClassifier(
  rt: Runtime,
  images: ImageDataset,
  config: ClassifierConfig,
): Promise<Float32Array> {
  if (images.classes < 2 || !images.train.labels)
    throw new RangeError(`classifier: ${images.source} has no labels to train on`);
  const classes = images.classes;
  const spec = classifierSpec(config, imageBytes(images), classes);
  const { batch, iterations, seed } = config;
  const training = await SupervisedTraining.create(
    rt,
    spec,
    initialParameters(spec, config.initRange, seed, CLASSIFIER_NETWORK),
    uploadImages(rt, images),
    images.train.labels,
    { batch, lr: config.lr, seed, pass: CLASSIFIER_PASS, label: 'classifier' },
  );
  try {
    await training.trainTo(iterations);
    return await training.params();
  } finally {
    training.destroy();
  }
}

/** The penultimate features and predicted classes of images, on the GPU, batch by batch. */
export class ClassifierFeatures {
  private constructor(
    private readonly trunk: TrunkFeatures,
    /** The output layer, applied on the CPU in float64: (features, classes) and (classes). */
    private readonly headWeight: Float32Array,
    private readonly headBias: Float32Array,
    readonly classes: number,
  ) {}

  get features(): number {
    return this.trunk.features;
  }

  get inputs(): number {
    return this.trunk.inputs;
  }

  /** The classifier less its output layer runs on the GPU; the logits (one per class) are cheap on the CPU. */
  static async create(
    rt: Runtime,
    config: ClassifierConfig,
    params: Float32Array,
    inputs = 784,
    batch = 500,
    classes = CLASSES,
  ): Promise<ClassifierFeatures> {
    const spec = classifierSpec(config, inputs, classes);
    const layout = parameterLayout(spec);
    if (params.length !== layout.totalFloats)
      throw new Error(
        `classifier: ${params.length} parameters, the layout of ${classifierKey(config)} has ${layout.totalFloats}`,
      );
    const last = spec.layers.length - 1;
    const slice = (name: string) => {
      const t = tensor(layout, name);
      return params.slice(t.offset, t.offset + t.size);
    };
    const trunk = await TrunkFeatures.create(rt, spec, params, 'classifier', batch);
    return new ClassifierFeatures(trunk, slice(`classifier.${last}.weight`), slice(`classifier.${last}.bias`), classes);
  }

  /** Features (count, features) and the predicted class of each row. */
  async run(rows: Rows): Promise<{ features: Float32Array; predictions: Uint8Array }> {
    const features = await this.trunk.run(rows);
    return { features, predictions: this.predict(features, rows.count) };
  }

  private predict(features: Float32Array, count: number): Uint8Array {
    const { classes } = this;
    const predictions = new Uint8Array(count);
    const logits = new Float64Array(classes);
    for (let i = 0; i < count; i++) {
      logits.set(this.headBias);
      for (let k = 0; k < this.features; k++) {
        const f = features[i * this.features + k];
        if (f === 0) continue;
        for (let c = 0; c < classes; c++) logits[c] += f * this.headWeight[k * classes + c];
      }
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[c] > logits[best]) best = c;
      predictions[i] = best;
    }
    return predictions;
  }

  destroy(): void {
    this.trunk.destroy();
  }
}

/** A split's images as the models see them: bytes scaled on upload, or contrast-normalised floats. */
export function splitRows(images: ImageDataset, split: ImageDataset['train'], first: number, count: number): Rows {
  const features = imageBytes(images);
  if (images.contrastScale !== undefined) return { values: splitValues(images, split, first, count), count, features };
  return {
    values: split.pixels.subarray(first * features, (first + count) * features),
    count,
    features,
    scale: 1 / 255,
  };
}

/** The fraction of the test images whose predicted class is their label. */
export async function testAccuracy(
  rt: Runtime,
  images: ImageDataset,
  config: ClassifierConfig,
  params: Float32Array,
): Promise<number> {
  const classifier = await ClassifierFeatures.create(rt, config, params, imageBytes(images), 500, images.classes);
  try {
    const { test } = images;
    const { predictions } = await classifier.run(splitRows(images, test, 0, test.count));
    let correct = 0;
    for (let i = 0; i < predictions.length; i++) if (predictions[i] === test.labels![i]) correct++;
    return correct / predictions.length;
  } finally {
    classifier.destroy();
  }
}
