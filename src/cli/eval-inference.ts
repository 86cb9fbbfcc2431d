// `gan eval --reconstruct` and `--inpaint`: the paper's future-work items 1 and 2 measured on the test
// images with the --score classifier. --reconstruct: G(E(x)) through the checkpoint's encoder (`gan
// train-encoder`), its pixel error and whether it keeps x's class, beside G at random z. --inpaint:
// images with half their pixels hidden completed by a z fitted to the known half through G
// (src/eval/inpaint.ts), beside the classifier on the masked images themselves.
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../gpu/runtime';
import type { ImageDataset } from '../data/image-dataset';
import type { TrainingState } from '../spec/state';
import { ConfigError } from '../train/config';
import { isConditional } from '../spec/config';
import { ClassifierFeatures, DEFAULT_CLASSIFIER, splitRows } from '../eval/classifier';
import { generatorModel, Reconstructor } from '../eval/encoder';
import { DEFAULT_INPAINT, Inpainter, maskBottomHalf, maskRandomHalf, type InpaintOptions } from '../eval/inpaint';
import type { GeneratorSampler } from '../eval/sampler';
import { classAgreement } from '../eval/score';
import type { Rows } from '../eval/window';
import { loadOrTrainClassifier } from './classifier-cache';
import { seconds } from './eval-data';

/** Test images the completion measures: its gradient steps cost about a minute for these on a 2-core CPU. */
export const INPAINT_IMAGES = 200;

/**
 * Refused before any work: --reconstruct without an encoder in the checkpoint (naming the command that
 * trains one), and either figure for a conditional G, whose class no z alone decides.
 */
export function checkInference(
  state: TrainingState | undefined,
  file: string | undefined,
  chosen: { reconstruct: boolean; inpaint: boolean },
): void {
  if (!state || (!chosen.reconstruct && !chosen.inpaint)) return;
  const flag = chosen.reconstruct ? '--reconstruct' : '--inpaint';
  if (isConditional(state.config))
    throw new ConfigError(
      `${file}: preset ${state.config.preset} is a conditional GAN; ${flag} fits z alone, so it measures unconditional models only.`,
    );
  if (chosen.reconstruct && !state.encoder)
    throw new ConfigError(
      `${file}: --reconstruct needs an encoder in the checkpoint; train one with \`gan train-encoder --checkpoint ${file}\`.`,
    );
}

async function classifierFor(rt: Runtime, images: ImageDataset, cacheDir: string): Promise<ClassifierFeatures> {
  const classifier = await loadOrTrainClassifier(rt, images, DEFAULT_CLASSIFIER, cacheDir);
  return ClassifierFeatures.create(
    rt,
    classifier.config,
    classifier.params,
    rows(images, 1).features,
    500,
    images.classes,
  );
}

function rows(images: ImageDataset, count: number): Rows {
  return splitRows(images, images.test, 0, count);
}

/** Mean over `count` rows of the squared error per element, where `mask` is 1 when given. */
function meanSquaredError(a: ArrayLike<number>, b: Rows, count: number, mask?: ArrayLike<number>): number {
  const scale = b.scale ?? 1;
  let sum = 0;
  let n = 0;
  for (let i = 0; i < count * b.features; i++) {
    const m = mask ? mask[i % mask.length] : 1;
    sum += m * (a[i] - b.values[i] * scale) ** 2;
    n += m;
  }
  return sum / n;
}

async function predictions(classifier: ClassifierFeatures, values: Float32Array, count: number): Promise<Uint8Array> {
  return (await classifier.run({ values, count, features: classifier.inputs })).predictions;
}

/** What both figures start from: `count` test images, their labels and the --score classifier; undefined for data without labels. */
async function judged<T>(
  rt: Runtime,
  images: ImageDataset,
  count: number,
  cacheDir: string,
  measure: (test: Rows, labels: ArrayLike<number>, classifier: ClassifierFeatures) => Promise<T>,
): Promise<T | { skipped: string }> {
  if (images.classes < 2) return { skipped: `${images.source} has no labels, so no classifier judges the images.` };
  const classifier = await classifierFor(rt, images, cacheDir);
  try {
    return await measure(rows(images, count), images.test.labels!.subarray(0, count), classifier);
  } finally {
    classifier.destroy();
  }
}

/** G(E(x)) of `count` test images: pixel error, class agreement with the labels, and G at random z as the baseline. */
export async function reconstructionFigure(
  rt: Runtime,
  state: TrainingState,
  generator: Float32Array,
  sampler: GeneratorSampler,
  images: ImageDataset,
  count: number,
  cacheDir: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  return judged(rt, images, count, cacheDir, async (test, labels, classifier) => {
    const reconstructor = await Reconstructor.create(rt, generatorModel(state.config, generator), state.encoder!);
    try {
      const { images: reconstructed } = await reconstructor.run(test);
      const random = await sampler.sample(count);
      return {
        mse: meanSquaredError(reconstructed, test, count),
        class_agreement: classAgreement(await predictions(classifier, reconstructed, count), labels),
        random_z_class_agreement: classAgreement(await predictions(classifier, random, count), labels),
        test_images_class_agreement: classAgreement((await classifier.run(test)).predictions, labels),
        n_images: count,
        encoder_hidden: state.encoder!.hidden,
        seconds: seconds(t0),
      };
    } finally {
      reconstructor.destroy();
    }
  });
}

/** Completion of `count` test images under two masks: the bottom half hidden, a random half of the pixels hidden. */
export async function inpaintingFigure(
  rt: Runtime,
  state: TrainingState,
  generator: Float32Array,
  images: ImageDataset,
  count: number,
  seed: number,
  cacheDir: string,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  return judged(rt, images, count, cacheDir, async (test, labels, classifier) => {
    const options: InpaintOptions = { seed, images: Math.min(count, DEFAULT_INPAINT.images) };
    const inpainter = await Inpainter.create(rt, generatorModel(state.config, generator), state.encoder, options);
    const masks = {
      bottom_half_hidden: maskBottomHalf(images.channels, images.height, images.width),
      random_half_hidden: maskRandomHalf(test.features, seed),
    };
    try {
      const report: Record<string, unknown> = {
        n_images: count,
        start: state.encoder ? 'E(x) of the masked image' : `best of ${inpainter.restarts} random z`,
        steps: inpainter.steps,
      };
      for (const [name, mask] of Object.entries(masks)) {
        const { completed, masked, fit } = await inpainter.complete(test, mask);
        report[name] = {
          class_agreement: classAgreement(await predictions(classifier, completed, count), labels),
          masked_class_agreement: classAgreement(await predictions(classifier, masked, count), labels),
          known_pixel_mse: meanSquaredError(fit, test, count, mask),
          hidden_pixel_mse: meanSquaredError(
            fit,
            test,
            count,
            mask.map((m: number) => 1 - m),
          ),
        };
      }
      report.seconds = seconds(t0);
      return report;
    } finally {
      inpainter.destroy();
    }
  });
}
