// Initial parameters, drawn from the run's seed with the project's Philox generator, so the same
// seed gives the same network on every machine: weights uniform in [-range, range] (pylearn2's
// irange), biases zero, and optionally G's output bias at the logit of each pixel's mean.
import { parameterLayout } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { elementBits, unitFromBits } from '../spec/rng';

/** Stream of the initial weights: distinct from every training stream. */
const STREAM_INIT = 3;

/** `initRange`: one irange for every layer, or one per layer (tensor `<name>.<layer>.weight`). */
export function initialParameters(
  spec: NetworkSpec,
  initRange: number | readonly number[],
  seed: number,
  networkIndex: number,
  outputBias?: Float64Array,
): Float32Array<ArrayBuffer> {
  const layout = parameterLayout(spec);
  const flat = new Float32Array(layout.totalFloats);
  layout.tensors.forEach((tensor, index) => {
    // The class rows are the one-hot input's rows of the first weight, so they start as its others do.
    if (tensor.name.endsWith('.weight') || tensor.name.endsWith('.class_weight')) {
      const key = { seed, stream: STREAM_INIT, step: index, sub: networkIndex };
      const range = typeof initRange === 'number' ? initRange : initRange[Number(tensor.name.split('.')[1])];
      for (let e = 0; e < tensor.size; e++)
        flat[tensor.offset + e] = range * (2 * unitFromBits(elementBits(key, 0, e)) - 1);
    }
  });
  if (outputBias) {
    const bias = layout.tensors[layout.tensors.length - 1];
    if (bias.size !== outputBias.length)
      throw new Error(`output bias: ${outputBias.length} pixel means for ${bias.size} outputs`);
    for (let i = 0; i < bias.size; i++) flat[bias.offset + i] = logitOfMean(outputBias[i]);
  }
  return flat;
}

/** The authors' init_sigmoid_bias_from_marginals: the mean clipped to [1e-7, 1 - 1e-7], then its logit. */
export function logitOfMean(mean: number): number {
  const p = Math.min(1 - 1e-7, Math.max(1e-7, mean));
  return Math.log(p / (1 - p));
}
