// Sample-quality scores beyond the paper, in the features of a classifier of the dataset trained by the
// project's kernels (src/eval/classifier.ts): the Frechet distance between the Gaussians of the
// samples' and the test images' penultimate features (FID's formula, lower is better, 0 for the same
// distribution), and class coverage, the share of each predicted digit among the samples (a model
// that drops digits, or collapses onto one, shows it here even when its samples look sharp).
import type { ClassifierFeatures } from './classifier';
import { classCoverage, frechetDistance, gaussianOf, type Gaussian } from './frechet';
import type { Rows } from './window';

export interface FeatureSummary {
  gaussian: Gaussian;
  predictions: Uint8Array;
  /** The classifier's classes (predictions are 0..classes-1). */
  classes: number;
}

export async function summarise(classifier: ClassifierFeatures, rows: Rows): Promise<FeatureSummary> {
  const { features, predictions } = await classifier.run(rows);
  return { gaussian: gaussianOf(features, rows.count, classifier.features), predictions, classes: classifier.classes };
}

export interface SampleScore {
  /** Frechet distance to the reference's features. */
  fd: number;
  /** Share of each predicted class, 0..classes-1. */
  classDistribution: number[];
  /** Entropy of that share in nats: ln 10 = 2.303 for ten classes equally, 0 for one class only. */
  classEntropy: number;
}

export function scoreAgainst(samples: FeatureSummary, reference: FeatureSummary): SampleScore {
  const { distribution, entropy } = classCoverage(samples.predictions, samples.classes);
  return {
    fd: frechetDistance(samples.gaussian, reference.gaussian),
    classDistribution: distribution,
    classEntropy: entropy,
  };
}

/**
 * A conditional model's class agreement: the share of samples whose predicted class is the class they
 * were drawn as (1 for a model that always draws the class asked for, 1 / classes by chance).
 */
export function classAgreement(predictions: ArrayLike<number>, asked: ArrayLike<number>): number {
  if (predictions.length !== asked.length || asked.length === 0)
    throw new RangeError(`class agreement: ${predictions.length} predictions for ${asked.length} classes asked for`);
  let agree = 0;
  for (let i = 0; i < asked.length; i++) if (predictions[i] === asked[i]) agree++;
  return agree / asked.length;
}
