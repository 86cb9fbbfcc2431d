// CPU twin of shaders/ema.wgsl, and the decay schedule both use.
import { emaWeights } from '../spec/ema';

const f32 = Math.fround;

/** average = decay * average + (1 - decay) * param, in place, in float32 as the kernel reads its uniform. */
export function emaStep(average: Float32Array, param: Float32Array, decay: number): void {
  const { weight } = emaWeights(decay);
  const [d, w] = [f32(decay), f32(weight)];
  for (let i = 0; i < average.length; i++) average[i] = d * average[i] + w * param[i];
}
