// CPU twin of shaders/gather.wgsl: the same indices from the same draws, and the same rows.
import { elementBits, indexFromBits, type RngKey } from '../spec/rng';

export interface GatherSpec {
  batch: number;
  features: number;
  /** Rows [first, first + count) of the dataset are drawn from, uniformly and with replacement. */
  first: number;
  count: number;
  /** Multiplies every value copied (1/255 turns pixel bytes into [0, 1]). */
  scale: number;
}

/** indices[r] = first + index_from_bits(element (0, r) of the key, count). */
export function gatherIndices(spec: GatherSpec, key: RngKey): Uint32Array {
  const indices = new Uint32Array(spec.batch);
  for (let r = 0; r < spec.batch; r++) indices[r] = spec.first + indexFromBits(elementBits(key, 0, r), spec.count);
  return indices;
}

/**
 * The minibatch (batch, features) drawn from a dataset of float32 values or of bytes, (rows, features)
 * row-major. The product scale * value is exact in float64 (at most 24 x 24 significant bits), so
 * storing it to float32 rounds once, as the shader's f32 multiply does: the twin is bit-exact.
 */
export function gatherRows(dataset: Float32Array | Uint8Array, spec: GatherSpec, key: RngKey): { x: Float32Array; indices: Uint32Array } {
  const indices = gatherIndices(spec, key);
  const scale = Math.fround(spec.scale);
  const x = new Float32Array(spec.batch * spec.features);
  for (let r = 0; r < spec.batch; r++) {
    const source = indices[r] * spec.features;
    for (let f = 0; f < spec.features; f++) x[r * spec.features + f] = scale * dataset[source + f];
  }
  return { x, indices };
}
