// Sample-quality scores beyond the paper, in the features of an MNIST classifier trained by the
// project's kernels (src/eval/classifier.ts): the Frechet distance between the Gaussians of the
// samples' and the test images' penultimate features (FID's formula, lower is better, 0 for the same
// distribution), and class coverage, the share of each predicted digit among the samples (a model
// that drops digits, or collapses onto one, shows it here even when its samples look sharp).
import { CLASSES, type ClassifierFeatures } from './classifier';
import { classCoverage, frechetDistance, gaussianOf, type Gaussian } from './frechet';
import type { Rows } from './window';

export interface FeatureSummary {
  gaussian: Gaussian;
  predictions: Uint8Array;
}

export async function summarise(classifier: ClassifierFeatures, rows: Rows): Promise<FeatureSummary> {
  const { features, predictions } = await classifier.run(rows);
  return { gaussian: gaussianOf(features, rows.count, classifier.features), predictions };
}

export interface SampleScore {
  /** Frechet distance to the reference's features. */
  fd: number;
  /** Share of each predicted digit, 0..9. */
  classDistribution: number[];
  /** Entropy of that share in nats: ln 10 = 2.303 for all digits equally, 0 for one digit only. */
  classEntropy: number;
}

export function scoreAgainst(samples: FeatureSummary, reference: FeatureSummary): SampleScore {
  const { distribution, entropy } = classCoverage(samples.predictions, CLASSES);
  return { fd: frechetDistance(samples.gaussian, reference.gaussian), classDistribution: distribution, classEntropy: entropy };
}
