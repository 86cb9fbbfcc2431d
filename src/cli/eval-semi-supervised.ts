// `gan eval --semi-supervised 100,600,1000`: for each count of balanced labelled training images, a
// softmax on D's last hidden layer beside the same softmax on the raw pixels (src/eval/semi-supervised.ts),
// test accuracy of both. Every refusal comes before any GPU work, in one line naming what was typed.
import { performance } from 'node:perf_hooks';
import type { Runtime } from '../gpu/runtime';
import type { ImageDataset } from '../data/image-dataset';
import type { TrainingState } from '../spec/state';
import { discriminatorSpec, isConditional } from '../spec/config';
import { DEFAULT_SEMI_SUPERVISED, discriminatorFeatureSpec, type SemiSupervisedConfig } from '../spec/semi-supervised';
import { ConfigError } from '../train/config';
import { labelledCountsProblem, parseLabelledCounts, semiSupervised } from '../eval/semi-supervised';
import { seconds } from './eval-data';

const FLAG = '--semi-supervised';
const EXAMPLE = `${FLAG} 100,600,1000`;

/** The counts of labelled images asked for, in the order given; undefined when the flag is absent. */
export function parseSemiSupervised(value: string | undefined): number[] | undefined {
  if (value === undefined) return undefined;
  const counts = parseLabelledCounts(value);
  if (!counts)
    throw new ConfigError(
      `${FLAG} takes positive counts of labelled training images separated by commas (e.g. ${EXAMPLE}), got '${value}'.`,
    );
  return counts;
}

/** Refuses what the measure cannot take: a file without D, a conditional D, unlabelled data, counts the training split cannot fill with balanced classes. */
export function checkSemiSupervised(
  state: TrainingState,
  file: string,
  counts: readonly number[],
  images: ImageDataset,
): void {
  if (state.generatorOnly)
    throw new ConfigError(
      `${file}: a generator-only file has no discriminator; ${FLAG} measures D's features, so give a checkpoint or a weights file that keeps D.`,
    );
  if (isConditional(state.config))
    throw new ConfigError(
      `${file}: preset ${state.config.preset} is a conditional GAN, whose D is told each image's class; ${FLAG} measures unconditional models only.`,
    );
  const problem = labelledCountsProblem(images, counts, FLAG);
  if (problem) throw new ConfigError(problem);
}

/** The report's `semi_supervised` field. */
export async function semiSupervisedFigure(
  rt: Runtime,
  state: TrainingState,
  images: ImageDataset,
  counts: readonly number[],
  seed: number,
  split: { valid: number; test: number },
  config: SemiSupervisedConfig = DEFAULT_SEMI_SUPERVISED,
): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const spec = discriminatorSpec(state.config);
  const results = await semiSupervised(rt, { spec, params: state.discriminator.params }, images, counts, {
    seed,
    ...split,
    config,
  });
  const hidden = discriminatorFeatureSpec(spec).layers;
  const last = hidden[hidden.length - 1];
  return {
    counts: results.map((r) => ({
      labels: r.labels,
      accuracy: r.accuracy,
      pixels_accuracy: r.pixelsAccuracy,
      iterations: r.iterations,
      pixels_iterations: r.pixelsIterations,
      valid_accuracy: r.validAccuracy,
      pixels_valid_accuracy: r.pixelsValidAccuracy,
    })),
    features: `D's last hidden layer: ${last.units} ${last.activation}${last.pieces > 1 ? ` x ${last.pieces}` : ''} units, no dropout`,
    classifier: {
      kind: 'softmax',
      optimizer: 'adam',
      lr: config.lr,
      batch: config.batch,
      iterations_tried: config.checkpoints,
    },
    n_valid: split.valid,
    n_test: split.test,
    seconds: seconds(t0),
  };
}
