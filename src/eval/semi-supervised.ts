// D's features with few labels: a softmax classifier on the last hidden layer of a trained D (frozen,
// no dropout) for real images, trained on a few balanced labelled training images, beside the same
// classifier on the raw pixels with the same labels: how much of the classes D learned to see without
// ever being told them. Each classifier trains on the GPU with our kernels (the minibatch gather from
// the labelled rows uploaded once, the dense layer, softmax_xent, Adam) with no readback per step; the
// iteration count is chosen on the validation images, and only the test images give the accuracy.
import type { Runtime } from '../gpu/runtime';
import { splitValues, type GpuDataset } from '../data/dataset';
import { imageBytes, type ImageDataset, type ImageSplit } from '../data/image-dataset';
import { parameterLayout } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { drawBits, indexFromBits } from '../spec/rng';
import { DEFAULT_SEMI_SUPERVISED, softmaxSpec, type SemiSupervisedConfig } from '../spec/semi-supervised';
import { discriminatorFeatures } from './discriminator-features';
import { SupervisedTraining } from './supervised-training';

/** The gather's pass and the balanced draw's stream: keys no other draw uses. */
const SOFTMAX_PASS = 0xffe2;
const STREAM_LABELLED = 5;

/** Images and their classes, as a classifier sees them: floats (count, features) and labels (count). */
export interface LabelledRows {
  values: Float32Array;
  labels: ArrayLike<number>;
  count: number;
  features: number;
}

/**
 * `count / classes` training images of each class, drawn with `seed`: row numbers of `labels`, class
 * by class. Each class's order is one seeded shuffle, so a smaller count's images are among a larger
 * one's and the counts differ only in how many labels they have.
 */
export function balancedDraw(labels: ArrayLike<number>, classes: number, count: number, seed: number): Uint32Array {
  if (count % classes !== 0)
    throw new RangeError(`semi-supervised: ${count} labelled images are not ${classes} classes of equal size`);
  const perClass = count / classes;
  const rows = new Uint32Array(count);
  for (let c = 0; c < classes; c++) {
    const members: number[] = [];
    for (let i = 0; i < labels.length; i++) if (labels[i] === c) members.push(i);
    if (members.length < perClass)
      throw new RangeError(
        `semi-supervised: ${perClass} images of class ${c} asked for, the split holds ${members.length}`,
      );
    // Fisher-Yates with the project's counter-based generator, stopped once the first perClass are chosen.
    for (let k = 0; k < perClass; k++) {
      const j =
        k + indexFromBits(drawBits({ seed, stream: STREAM_LABELLED, step: c, sub: 0 }, k, 0)[0], members.length - k);
      [members[k], members[j]] = [members[j], members[k]];
    }
    rows.set(members.slice(0, perClass), c * perClass);
  }
  return rows;
}

/** Counts typed as '100,600,1000' (positive whole numbers, commas between), or undefined when `typed` is not such a list. */
export function parseLabelledCounts(typed: string): number[] | undefined {
  const counts = typed.split(',').map((item) => (/^\s*\d+\s*$/.test(item) ? Number(item) : NaN));
  return counts.some((n) => !Number.isSafeInteger(n) || n < 1) ? undefined : counts;
}

/**
 * Why `counts` labelled images cannot be drawn in balanced classes from the training split of
 * `images` (one line, `typed` naming where the counts were typed), or undefined when they can.
 */
export function labelledCountsProblem(
  images: ImageDataset,
  counts: readonly number[],
  typed: string,
): string | undefined {
  const { classes, train } = images;
  if (classes < 2 || !train.labels)
    return `${typed}: ${images.source} has no labels (class folders or label files) to train a classifier with.`;
  const held = new Array<number>(classes).fill(0);
  for (let i = 0; i < train.count; i++) held[train.labels[i]]++;
  const fewest = Math.min(...held);
  for (const count of counts) {
    if (count % classes !== 0) {
      return `${typed}: ${count} labelled images cannot be ${classes} classes of equal size; give multiples of ${classes} (e.g. ${typed} ${[10, 60, 100].map((n) => n * classes).join(',')}).`;
    }
    if (count / classes > fewest) {
      return `${typed}: ${count} labelled images need ${count / classes} of each class; the training split of ${images.source} holds ${fewest} of class ${held.indexOf(fewest)}, so give at most ${fewest * classes}.`;
    }
  }
  return undefined;
}

/** The fraction of rows whose largest logit (float64, on the CPU: a few classes) is their label. */
export function softmaxAccuracy(params: Float32Array, rows: LabelledRows, classes: number): number {
  const layout = parameterLayout(softmaxSpec(rows.features, classes));
  const [weight, bias] = layout.tensors.map((t) => params.subarray(t.offset, t.offset + t.size));
  const logits = new Float64Array(classes);
  let correct = 0;
  for (let i = 0; i < rows.count; i++) {
    logits.set(bias);
    for (let k = 0; k < rows.features; k++) {
      const x = rows.values[i * rows.features + k];
      if (x === 0) continue;
      for (let c = 0; c < classes; c++) logits[c] += x * weight[k * classes + c];
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[c] > logits[best]) best = c;
    if (best === rows.labels[i]) correct++;
  }
  return correct / rows.count;
}

export interface TrainedSoftmax {
  params: Float32Array;
  /** The checkpoint the validation images chose, and their accuracy there. */
  iterations: number;
  validAccuracy: number;
}

/** Trains the softmax on `labelled`, measuring it on `valid` at each of config.checkpoints; returns the best. */
export async function trainSoftmax(
  rt: Runtime,
  labelled: LabelledRows,
  valid: LabelledRows,
  classes: number,
  config: SemiSupervisedConfig = DEFAULT_SEMI_SUPERVISED,
  seed = 0,
): Promise<TrainedSoftmax> {
  if (valid.features !== labelled.features)
    throw new RangeError(
      `semi-supervised: validation rows of ${valid.features} values, the labelled ones have ${labelled.features}`,
    );
  const spec = softmaxSpec(labelled.features, classes);
  const dataset: GpuDataset = {
    buffer: rt.upload('semi.labelled', labelled.values),
    format: 'f32',
    features: labelled.features,
    first: 0,
    count: labelled.count,
    scale: 1,
  };
  // Zeros: the problem is convex, and every class starts equally likely.
  const training = await SupervisedTraining.create(
    rt,
    spec,
    new Float32Array(parameterLayout(spec).totalFloats),
    dataset,
    labelled.labels,
    { batch: config.batch, lr: config.lr, seed, pass: SOFTMAX_PASS, label: 'semi-supervised softmax' },
  );
  let best: TrainedSoftmax | undefined;
  try {
    for (const checkpoint of [...config.checkpoints].sort((a, b) => a - b)) {
      await training.trainTo(checkpoint);
      const params = await training.params();
      const validAccuracy = softmaxAccuracy(params, valid, classes);
      // The earliest of equal accuracies: the less fitted classifier.
      if (!best || validAccuracy > best.validAccuracy) best = { params, iterations: checkpoint, validAccuracy };
    }
    if (!best) throw new RangeError('semi-supervised: no checkpoint to measure the classifier at');
    return best;
  } finally {
    training.destroy();
  }
}

/** A trained D as this measure sees it: its network and its parameters (laid out by the spec's layout). */
export interface DiscriminatorModel {
  spec: NetworkSpec;
  params: Float32Array;
}

export interface SemiSupervisedResult {
  /** Labelled training images, count / classes of each class. */
  labels: number;
  /** Test accuracy of the softmax on D's features, and on the raw pixels with the same labels. */
  accuracy: number;
  pixelsAccuracy: number;
  /** What the validation images chose: the iterations, and their accuracy there. */
  iterations: number;
  pixelsIterations: number;
  validAccuracy: number;
  pixelsValidAccuracy: number;
}

export interface SemiSupervisedOptions {
  /** Keys the balanced draw of the labelled images and the classifiers' minibatches. */
  seed?: number;
  /** The first `valid` validation images choose the iterations, the first `test` test images measure (default: all). */
  valid?: number;
  test?: number;
  config?: SemiSupervisedConfig;
}

/** A split's first `count` images, or the rows `pick` names, as floats with their labels. */
function labelledRows(images: ImageDataset, split: ImageSplit, count: number, pick?: ArrayLike<number>): LabelledRows {
  const features = imageBytes(images);
  if (!pick)
    return { values: splitValues(images, split, 0, count), labels: split.labels!.subarray(0, count), count, features };
  const values = new Float32Array(pick.length * features);
  for (let i = 0; i < pick.length; i++) values.set(splitValues(images, split, pick[i], 1), i * features);
  return { values, labels: Array.from(pick, (row) => split.labels![row]), count: pick.length, features };
}

/** For each count of labelled training images, the softmax's test accuracy on D's features and on the pixels. */
export async function semiSupervised(
  rt: Runtime,
  model: DiscriminatorModel,
  images: ImageDataset,
  counts: readonly number[],
  options: SemiSupervisedOptions = {},
): Promise<SemiSupervisedResult[]> {
  const { classes, train, valid, test } = images;
  if (classes < 2 || !train.labels || !valid.labels || !test.labels)
    throw new RangeError(`semi-supervised: ${images.source} has no labels to train or measure a classifier with`);
  const { seed = 0, config = DEFAULT_SEMI_SUPERVISED } = options;
  const pixels = {
    valid: labelledRows(images, valid, options.valid ?? valid.count),
    test: labelledRows(images, test, options.test ?? test.count),
  };
  const extractor = await discriminatorFeatures(rt, model.spec, model.params);
  try {
    const inFeatures = async (rows: LabelledRows): Promise<LabelledRows> => ({
      ...rows,
      values: await extractor.run(rows),
      features: extractor.features,
    });
    const features = { valid: await inFeatures(pixels.valid), test: await inFeatures(pixels.test) };
    const results: SemiSupervisedResult[] = [];
    for (const count of counts) {
      const labelled = labelledRows(images, train, count, balancedDraw(train.labels, classes, count, seed));
      const onFeatures = await trainSoftmax(rt, await inFeatures(labelled), features.valid, classes, config, seed);
      const onPixels = await trainSoftmax(rt, labelled, pixels.valid, classes, config, seed);
      results.push({
        labels: count,
        accuracy: softmaxAccuracy(onFeatures.params, features.test, classes),
        pixelsAccuracy: softmaxAccuracy(onPixels.params, pixels.test, classes),
        iterations: onFeatures.iterations,
        pixelsIterations: onPixels.iterations,
        validAccuracy: onFeatures.validAccuracy,
        pixelsValidAccuracy: onPixels.validAccuracy,
      });
    }
    return results;
  } finally {
    extractor.destroy();
  }
}
