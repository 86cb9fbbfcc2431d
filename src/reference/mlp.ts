// CPU reference of a whole network (a stack of dense layers) forward and backward, built from the
// layer twins in ./dense. It is the oracle for src/nn/mlp.ts, and it runs in float64 for the
// finite-difference gradient check.
import { biasName, inputTransform, layerShape, parameterLayout, view, weightName } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { denseForward, denseGradBias, denseGradInput, denseGradWeight, dropoutForward, type DropoutSpec, type SavedActivation, type Vec } from './dense';

/** Where the dropout masks of one pass come from: layer l uses stream `streamBase + l`. */
export interface PassKey {
  seed: number;
  step: number;
  sub: number;
  streamBase: number;
}

export interface MlpCache<T extends Vec> {
  /** The input each layer's product saw (after dropout). */
  inputs: T[];
  saved: SavedActivation<T>[];
  output: T;
}

export function layerDropout(spec: NetworkSpec, layer: number, key: PassKey): DropoutSpec | undefined {
  const transform = inputTransform(spec.layers[layer], true);
  if (!transform) return undefined;
  return { ...transform, rng: { seed: key.seed, stream: key.streamBase + layer, step: key.step, sub: key.sub } };
}

export function mlpForward<T extends Vec>(spec: NetworkSpec, params: T, x: T, batch: number, key: PassKey): MlpCache<T> {
  const layout = parameterLayout(spec);
  const cache: MlpCache<T> = { inputs: [], saved: [], output: x };
  let h = x;
  spec.layers.forEach((_, l) => {
    const shape = layerShape(spec, l, batch);
    const dropout = layerDropout(spec, l, key);
    const input = dropout ? dropoutForward(h, batch, shape.inFeatures, dropout) : h;
    const { y, winner } = denseForward(input, view(params, layout, weightName(spec, l)), view(params, layout, biasName(spec, l)), shape);
    cache.inputs.push(input);
    cache.saved.push({ y, winner });
    h = y;
  });
  cache.output = h;
  return cache;
}

export interface MlpGradients<T extends Vec> {
  /** Laid out like the parameters. */
  grads: T;
  /** dL/dx of the network's input, when asked for. */
  inputGrad?: T;
}

export function mlpBackward<T extends Vec>(
  spec: NetworkSpec,
  params: T,
  cache: MlpCache<T>,
  outputGrad: T,
  batch: number,
  key: PassKey,
  wantInputGrad = false,
): MlpGradients<T> {
  const layout = parameterLayout(spec);
  const grads = (params instanceof Float64Array ? new Float64Array(layout.totalFloats) : new Float32Array(layout.totalFloats)) as T;
  let dy = outputGrad;
  let inputGrad: T | undefined;
  for (let l = spec.layers.length - 1; l >= 0; l--) {
    const shape = layerShape(spec, l, batch);
    const saved = cache.saved[l];
    view(grads, layout, weightName(spec, l)).set(denseGradWeight(cache.inputs[l], dy, saved, shape));
    view(grads, layout, biasName(spec, l)).set(denseGradBias(dy, saved, shape));
    if (l > 0 || wantInputGrad) {
      const dx = denseGradInput(dy, saved, view(params, layout, weightName(spec, l)), shape, layerDropout(spec, l, key));
      if (l > 0) dy = dx;
      else inputGrad = dx;
    }
  }
  return { grads, inputGrad };
}
