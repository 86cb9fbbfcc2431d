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
  /**
   * Per dataset row (offset, scale), (rows, 2): the value becomes (scale * v - offset) * rowScale,
   * global contrast normalisation with the row's pair computed at load.
   */
  contrast?: Float32Array;
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
export function gatherRows(
  dataset: Float32Array | Uint8Array,
  spec: GatherSpec,
  key: RngKey,
): { x: Float32Array; indices: Uint32Array } {
  const indices = gatherIndices(spec, key);
  const scale = Math.fround(spec.scale);
  const x = new Float32Array(spec.batch * spec.features);
  const { contrast } = spec;
  for (let r = 0; r < spec.batch; r++) {
    const source = indices[r] * spec.features;
    if (contrast) {
      // Each operation rounded to float32, in the shader's order.
      const offset = contrast[2 * indices[r]];
      const rowScale = contrast[2 * indices[r] + 1];
      for (let f = 0; f < spec.features; f++)
        x[r * spec.features + f] = Math.fround(Math.fround(scale * dataset[source + f]) - offset) * rowScale;
      continue;
    }
    for (let f = 0; f < spec.features; f++) x[r * spec.features + f] = scale * dataset[source + f];
  }
  return { x, indices };
}

/** The class of each gathered row: labels[indices[r]]. */
export function gatherLabels(labels: ArrayLike<number>, indices: Uint32Array): Uint32Array {
  return indices.map((i) => labels[i]);
}
