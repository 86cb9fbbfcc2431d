// D's features with few labels (the paper's future work on semi-supervised learning): a softmax
// classifier on the activations of D's last hidden layer for real images, D frozen and without
// dropout, trained on a few balanced labelled training images, beside the same classifier on the raw
// pixels with the same labels. What both sides share: the two networks' specs and the training rule.
import type { NetworkSpec } from './network';

export interface SemiSupervisedConfig {
  /** Minibatch of labelled rows, drawn with replacement on the GPU. */
  batch: number;
  /** Adam's learning rate (beta1 0.9, beta2 0.999). */
  lr: number;
  /**
   * Iterations after which the classifier is measured on the validation images; the best of them
   * is the one the test images measure. Early stopping is the only regulariser: with 10 to 100
   * images a class a softmax on hundreds of inputs fits its labels exactly long before it stops.
   */
  checkpoints: number[];
}

export const DEFAULT_SEMI_SUPERVISED: SemiSupervisedConfig = {
  batch: 100,
  lr: 1e-3,
  checkpoints: [25, 50, 100, 200, 400, 800, 1600, 3200],
};

/**
 * D less its output layer, dropout removed (D evaluates real images as it would at test time): its
 * last hidden layer's units are the features. An unconditional D's: a conditional one's features
 * depend on the class it is told, which is what the classifier is to find.
 */
export function discriminatorFeatureSpec(discriminator: NetworkSpec): NetworkSpec {
  if (discriminator.layers.length < 2)
    throw new RangeError(
      `${discriminator.name}: ${discriminator.layers.length} layer; a network without a hidden layer has no features`,
    );
  const layers = discriminator.layers.slice(0, -1).map(({ dropout: _dropout, ...layer }) => layer);
  return { name: discriminator.name, inputFeatures: discriminator.inputFeatures, layers };
}

/** Multinomial logistic regression: one linear layer of a logit per class. */
export function softmaxSpec(features: number, classes: number): NetworkSpec {
  return { name: 'softmax', inputFeatures: features, layers: [{ units: classes, activation: 'identity', pieces: 1 }] };
}
