// CPU twin of shaders/ema.wgsl, and the decay schedule both use.

/**
 * The decay of G update `step` (1-based): `decay`, held back early by the warm-up (1 + t) / (10 + t)
 * of TensorFlow's ExponentialMovingAverage, so the average follows the weights closely while they
 * still move far from their initial values and is not dominated by them. 0 turns averaging off.
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, (1 + step) / (10 + step));
}

/** The uniform's values for a decay: decay and 1 - decay, each computed in float64 and rounded once. */
export function emaWeights(decay: number): { decay: number; weight: number } {
  return { decay, weight: 1 - decay };
}

const f32 = Math.fround;

/** average = decay * average + (1 - decay) * param, in place, in float32 as the kernel reads its uniform. */
export function emaStep(average: Float32Array, param: Float32Array, decay: number): void {
  const { weight } = emaWeights(decay);
  const [d, w] = [f32(decay), f32(weight)];
  for (let i = 0; i < average.length; i++) average[i] = d * average[i] + w * param[i];
}
