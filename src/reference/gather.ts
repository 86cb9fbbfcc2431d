// CPU twin of shaders/gather.wgsl.
import { elementBits, indexFromBits, type RngKey } from './rng';

export interface GatherSpec {
  batch: number;
  features: number;
  first: number;
  count: number;
  scale: number;
}

/** The dataset rows a minibatch draws: first + index_from_bits(element (0, r) of the key, count). */
export function gatherIndices(spec: GatherSpec, key: RngKey): Uint32Array {
  const indices = new Uint32Array(spec.batch);
  for (let r = 0; r < spec.batch; r++) indices[r] = spec.first + indexFromBits(elementBits(key, 0, r), spec.count);
  return indices;
}

/** The gathered minibatch (batch, features) from a dataset of f32 values or of bytes. */
export function gatherRows(dataset: Float32Array | Uint8Array, spec: GatherSpec, key: RngKey): { x: Float32Array; indices: Uint32Array } {
  const indices = gatherIndices(spec, key);
  const x = new Float32Array(spec.batch * spec.features);
  for (let r = 0; r < spec.batch; r++) {
    for (let f = 0; f < spec.features; f++) x[r * spec.features + f] = Math.fround(spec.scale) * dataset[indices[r] * spec.features + f];
  }
  return { x, indices };
}
