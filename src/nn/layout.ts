// One layout table for a network's parameters: name, shape and offset of every tensor in one flat
// buffer. The GPU path binds ranges of that buffer, the CPU reference slices the same ranges, and
// the checkpoint stores the same names and shapes; gradients and optimizer state use the same table.
import type { DenseShape, LayerSpec, NetworkSpec } from '../spec/network';

export interface TensorEntry {
  name: string;
  shape: number[];
  /** Offset in floats; a multiple of ALIGN_FLOATS so every tensor can be bound on its own. */
  offset: number;
  /** Elements. */
  size: number;
}

export interface ParameterLayout {
  tensors: TensorEntry[];
  /** Floats in the whole buffer, padding included. */
  totalFloats: number;
}

/** 256 bytes: WebGPU's minStorageBufferOffsetAlignment on every adapter. */
export const ALIGN_FLOATS = 64;

export function layerInputs(spec: NetworkSpec, layer: number): number {
  return layer === 0 ? spec.inputFeatures : spec.layers[layer - 1].units;
}

export function weightName(spec: NetworkSpec, layer: number): string {
  return `${spec.name}.${layer}.weight`;
}

export function biasName(spec: NetworkSpec, layer: number): string {
  return `${spec.name}.${layer}.bias`;
}

/** The per-class rows of a conditional network's first layer (the one-hot input's columns of its weight). */
export function classWeightName(spec: NetworkSpec): string {
  return `${spec.name}.0.class_weight`;
}

/** Classes of a conditional network, 0 for an unconditional one. */
export function networkClasses(spec: NetworkSpec): number {
  return spec.classes ?? 0;
}

export function parameterLayout(spec: NetworkSpec): ParameterLayout {
  const tensors: TensorEntry[] = [];
  let offset = 0;
  const add = (name: string, shape: number[]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    tensors.push({ name, shape, offset, size });
    offset += Math.ceil(size / ALIGN_FLOATS) * ALIGN_FLOATS;
  };
  spec.layers.forEach((layer, l) => {
    const width = layer.units * layer.pieces;
    add(weightName(spec, l), [layerInputs(spec, l), width]);
    add(biasName(spec, l), [width]);
    // Beside layer 0's own tensors, so an unconditional network's layout is unchanged and G's output
    // bias stays the last tensor.
    if (l === 0 && networkClasses(spec) > 0) add(classWeightName(spec), [networkClasses(spec), width]);
  });
  return { tensors, totalFloats: offset };
}

/** A range of a parameter buffer (floats) that one optimizer dispatch updates at lr * lrScale. */
export interface OptimizerSegment {
  offset: number;
  count: number;
  lrScale: number;
}

/**
 * The ranges of a network's buffer that take different learning rates: the whole buffer at 1, or for
 * a conditional network with `classLrScale` other than 1 the class rows at that scale and the rest at
 * 1. Every tensor starts on ALIGN_FLOATS, so each range is a valid storage-buffer binding.
 */
export function optimizerSegments(spec: NetworkSpec, classLrScale = 1): OptimizerSegment[] {
  const layout = parameterLayout(spec);
  if (networkClasses(spec) === 0 || classLrScale === 1) return [{ offset: 0, count: layout.totalFloats, lrScale: 1 }];
  const rows = tensor(layout, classWeightName(spec));
  const end = rows.offset + Math.ceil(rows.size / ALIGN_FLOATS) * ALIGN_FLOATS;
  const segments = [
    { offset: 0, count: rows.offset, lrScale: 1 },
    { offset: rows.offset, count: end - rows.offset, lrScale: classLrScale },
    { offset: end, count: layout.totalFloats - end, lrScale: 1 },
  ];
  return segments.filter((s) => s.count > 0);
}

export function tensor(layout: ParameterLayout, name: string): TensorEntry {
  const entry = layout.tensors.find((t) => t.name === name);
  if (!entry)
    throw new Error(`No tensor '${name}' in the layout (it has ${layout.tensors.map((t) => t.name).join(', ')}).`);
  return entry;
}

/** The view of one tensor inside a flat array laid out by `layout`. */
export function view<T extends Float32Array | Float64Array>(flat: T, layout: ParameterLayout, name: string): T {
  const { offset, size } = tensor(layout, name);
  return flat.subarray(offset, offset + size) as T;
}

export function layerShape(spec: NetworkSpec, layer: number, batch: number): DenseShape {
  const { units, pieces, activation } = spec.layers[layer];
  return { batch, inFeatures: layerInputs(spec, layer), units, pieces, activation };
}

/**
 * What a layer's product does to its input, as the dropout kernel's (keep, scale, shift): dropout
 * (when `withDropout`) of the layer's input map, kept inputs becoming scale * x + shift. Undefined
 * when the product sees its input as it is.
 */
export function inputTransform(
  layer: LayerSpec,
  withDropout: boolean,
): { keep: number; scale: number; shift: number } | undefined {
  const dropout = withDropout ? layer.dropout : undefined;
  const map = layer.inputMap;
  if (!dropout && !map) return undefined;
  const dropoutScale = dropout?.scale ?? 1;
  return { keep: dropout?.keep ?? 1, scale: dropoutScale * (map?.scale ?? 1), shift: dropoutScale * (map?.shift ?? 0) };
}
