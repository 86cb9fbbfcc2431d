// The inference net E: x -> z of the paper's "future work" (learned approximate inference): an MLP of
// ReLU layers and a linear output of the noise's size, trained for a fixed G on pairs (G(z), z). Its
// tensors are `encoder.<l>.weight` / `.bias` in the checkpoint beside G's and D's; the hidden widths
// are read back from their shapes, so a checkpoint needs no other record of E's architecture.
import type { MlpTrainingConfig, NetworkSpec } from './network';
import type { NoiseConfig } from './config';

export const ENCODER_NAME = 'encoder';

/** The output layer has the noise's dimension and no activation. */
export type EncoderConfig = MlpTrainingConfig;

/**
 * Measured on small-mnist (docs/evaluation.md, "Inference and completion"): two hidden layers of 512
 * recover z well enough that G(E(x)) keeps the class of most test digits.
 */
export const DEFAULT_ENCODER: EncoderConfig = { hidden: [512, 512], iterations: 5000, batch: 100, lr: 1e-3, initRange: 0.05, seed: 0 };

/** E for images of `features` values and a noise of `noiseDim`. */
export function encoderSpec(features: number, hidden: readonly number[], noiseDim: number): NetworkSpec {
  return {
    name: ENCODER_NAME,
    inputFeatures: features,
    layers: [...hidden.map((units) => ({ units, activation: 'relu' as const, pieces: 1 })), { units: noiseDim, activation: 'identity' as const, pieces: 1 }],
  };
}

/** The range E's output is clamped to before G sees it: p_z's support, or none for a gaussian. */
export function noiseRange(noise: NoiseConfig): { low: number; high: number } | undefined {
  return noise.distribution === 'uniform' ? { low: noise.low, high: noise.high } : undefined;
}
