// The inference net E: x -> z of the paper's "future work" (learned approximate inference): an MLP of
// ReLU layers and a linear output of the noise's size, trained for a fixed G on pairs (G(z), z). Its
// tensors are `encoder.<l>.weight` / `.bias` in the checkpoint beside G's and D's; the hidden widths
// are read back from their shapes, so a checkpoint needs no other record of E's architecture.
import type { MlpTrainingConfig, NetworkSpec } from './network';
import type { NoiseConfig } from './config';

export const ENCODER_NAME = 'encoder';

/** The output layer has the noise's dimension and no activation. */
export type EncoderConfig = MlpTrainingConfig & {
  /**
   * Weight of the pixel loss through G, 1/2 |G(E(x)) - x|^2, beside the error in z, 1/2 |E(x) - z|^2,
   * both on x = G(z); 0: the error in z alone.
   */
  pixelWeight: number;
};

/**
 * Measured on small-mnist (docs/evaluation.md, "Inference and completion"): the error in z alone
 * leaves G(E(x)) with the class of 77% of the test digits after 1,000 iterations and no more after
 * 5,000 (many directions of z barely change G's image, so E cannot tell them); adding the pixel
 * error through G (at twice the cost of a step) is what brings the class agreement to the target.
 */
export const DEFAULT_ENCODER: EncoderConfig = {
  hidden: [512, 512],
  iterations: 3000,
  batch: 100,
  lr: 1e-3,
  initRange: 0.05,
  seed: 0,
  pixelWeight: 1,
};

/** E for images of `features` values and a noise of `noiseDim`. */
export function encoderSpec(features: number, hidden: readonly number[], noiseDim: number): NetworkSpec {
  return {
    name: ENCODER_NAME,
    inputFeatures: features,
    layers: [
      ...hidden.map((units) => ({ units, activation: 'relu' as const, pieces: 1 })),
      { units: noiseDim, activation: 'identity' as const, pieces: 1 },
    ],
  };
}

/** The range E's output is clamped to before G sees it: p_z's support, or none for a gaussian. */
export function noiseRange(noise: NoiseConfig): { low: number; high: number } | undefined {
  return noise.distribution === 'uniform' ? { low: noise.low, high: noise.high } : undefined;
}

/** The loss in words, for reports. */
export function encoderLoss(encoder: Pick<EncoderConfig, 'pixelWeight'>): string {
  return encoder.pixelWeight > 0
    ? `squared error in z + ${encoder.pixelWeight} x squared pixel error of G(E(x))`
    : 'squared error in z';
}
