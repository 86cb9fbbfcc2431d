// `gan eval`: measures a checkpoint's generator as the paper does and draws its figures. Prints one
// JSON object on stdout: the Parzen-window log-likelihood (--parzen), the nearest-neighbour figure
// (--neighbours, Figure 2) and the z-interpolation figure (--interpolate, Figure 3); with none of
// these it does all three. --score adds scores beyond the paper in the features of an MNIST
// classifier trained by our kernels and cached: the Frechet distance and class coverage.
// --semi-supervised adds the test accuracy of a softmax on D's features with few labels. The figures
// live beside it: eval-pictures.ts (Figures 2 and 3), eval-inference.ts, eval-semi-supervised.ts, on
// the data of eval-data.ts; this file checks the flags and runs what is asked, in the report's order.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { acquireDevice, limitsForBuffers } from '../gpu/device';
import { Runtime } from '../gpu/runtime';
import type { ImageDataset } from '../data/image-dataset';
import { decodeCheckpoint, readCheckpointFile } from '../io/checkpoint';
import type { TrainingState } from '../spec/state';
import { parameterLayout } from '../nn/layout';
import { ConfigError, presetConfig } from '../train/config';
import { DEFAULT_PRESET } from '../train/presets';
import { generatorSpec, isToyData } from '../spec/config';
import { networkSpecs } from '../train/session';
import { parzenEvaluation } from '../eval/parzen';
import { GeneratorSampler, noiseImages } from '../eval/sampler';
import { SampleWindow, type Rows } from '../eval/window';
import { ClassifierFeatures, DEFAULT_CLASSIFIER } from '../eval/classifier';
import { defaultCacheDir, loadOrTrainClassifier } from './classifier-cache';
import { atPath } from './fs-errors';
import { classAgreement, scoreAgainst, summarise } from '../eval/score';
import { speckle, SPECKLE_BRIGHT, SPECKLE_NEIGHBOUR_DARK } from '../eval/speckle';
import { checkFinite, type EvalData, imageRows, loadEvalData, seconds } from './eval-data';
import { interpolationFigure, neighboursFigure } from './eval-pictures';
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
