// CPU reference of a whole network (a stack of dense layers) forward and backward, built from the
// layer twins in ./dense. It is the oracle for src/nn/mlp.ts, and it runs in float64 for the
// finite-difference gradient check.
import {
  biasName,
  classWeightName,
  inputTransform,
  layerShape,
  networkClasses,
  parameterLayout,
  view,
  weightName,
} from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import {
  denseForward,
  denseGradBias,
  denseGradClass,
  denseGradInput,
  denseGradWeight,
  dropoutForward,
  type DropoutSpec,
  type SavedActivation,
  type Vec,
} from './dense';

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
  /** A conditional network's class of every row. */
  labels?: Uint32Array;
}

export function layerDropout(spec: NetworkSpec, layer: number, key: PassKey): DropoutSpec | undefined {
  const transform = inputTransform(spec.layers[layer], true);
  if (!transform) return undefined;
  return { ...transform, rng: { seed: key.seed, stream: key.streamBase + layer, step: key.step, sub: key.sub } };
}

/** The class of each row, (batch) u32: required by a conditional network (spec.classes > 0), ignored otherwise. */
function checkLabels(spec: NetworkSpec, batch: number, labels?: Uint32Array): Uint32Array | undefined {
  const classes = networkClasses(spec);
  if (classes === 0) return undefined;
  if (!labels || labels.length < batch)
    throw new Error(`${spec.name}: a conditional network needs the class of each of its ${batch} rows`);
  if (labels.some((c, b) => b < batch && c >= classes))
    throw new Error(`${spec.name}: a class is not below ${classes}`);
  return labels;
}

export function mlpForward<T extends Vec>(
  spec: NetworkSpec,
  params: T,
  x: T,
  batch: number,
  key: PassKey,
  labels?: Uint32Array,
): MlpCache<T> {
  const layout = parameterLayout(spec);
  const classLabels = checkLabels(spec, batch, labels);
  const cache: MlpCache<T> = { inputs: [], saved: [], output: x, labels: classLabels };
  let h = x;
  spec.layers.forEach((_, l) => {
    const shape = layerShape(spec, l, batch);
    const dropout = layerDropout(spec, l, key);
    const input = dropout ? dropoutForward(h, batch, shape.inFeatures, dropout) : h;
    // Dropout (and the input map) act on x only: the class term is added after the product.
    const classTerm =
      l === 0 && classLabels ? { weight: view(params, layout, classWeightName(spec)), labels: classLabels } : undefined;
    const { y, winner } = denseForward(
      input,
      view(params, layout, weightName(spec, l)),
      view(params, layout, biasName(spec, l)),
      shape,
      classTerm,
    );
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
  const grads = (
    params instanceof Float64Array ? new Float64Array(layout.totalFloats) : new Float32Array(layout.totalFloats)
  ) as T;
  let dy = outputGrad;
  let inputGrad: T | undefined;
  for (let l = spec.layers.length - 1; l >= 0; l--) {
    const shape = layerShape(spec, l, batch);
    const saved = cache.saved[l];
    view(grads, layout, weightName(spec, l)).set(denseGradWeight(cache.inputs[l], dy, saved, shape));
    view(grads, layout, biasName(spec, l)).set(denseGradBias(dy, saved, shape));
    if (l === 0 && cache.labels)
      view(grads, layout, classWeightName(spec)).set(
        denseGradClass(dy, saved, shape, cache.labels, networkClasses(spec)),
      );
    if (l > 0 || wantInputGrad) {
      const dx = denseGradInput(
        dy,
        saved,
        view(params, layout, weightName(spec, l)),
        shape,
        layerDropout(spec, l, key),
      );
      if (l > 0) dy = dx;
      else inputGrad = dx;
    }
  }
  return { grads, inputGrad };
}
