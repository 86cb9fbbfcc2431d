// One layout table for a network's parameters: name, shape and offset of every tensor in one flat
// buffer. The GPU path binds ranges of that buffer, the CPU reference slices the same ranges, and
// the checkpoint stores the same names and shapes; gradients and optimizer state use the same table.
import type { Activation } from '../reference/dense';

export interface DropoutConfig {
  /** Include probability of each input element. */
  keep: number;
  /** Multiplier of kept elements (1 / keep for inverted dropout). */
  scale: number;
}

export interface LayerSpec {
  units: number;
  activation: Activation;
  /** Maxout pieces per unit (1 unless activation is maxout). */
  pieces: number;
  /**
   * The layer sees scale * x + shift instead of its input x (before any dropout): D's first layer
   * sees MNIST's [0, 1] pixels on [-1, 1], so the background, 0 in the data, carries weight in
   * D's gradients.
   */
  inputMap?: InputMapConfig;
  /** Dropout on this layer's input. */
  dropout?: DropoutConfig;
}

export interface InputMapConfig {
  scale: number;
  shift: number;
}

export interface NetworkSpec {
  /** Prefix of the tensor names: 'generator' or 'discriminator'. */
  name: string;
  inputFeatures: number;
  layers: LayerSpec[];
}

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
  });
  return { tensors, totalFloats: offset };
}

export function tensor(layout: ParameterLayout, name: string): TensorEntry {
  const entry = layout.tensors.find((t) => t.name === name);
  if (!entry) throw new Error(`No tensor '${name}' in the layout (it has ${layout.tensors.map((t) => t.name).join(', ')}).`);
  return entry;
}

/** The view of one tensor inside a flat array laid out by `layout`. */
export function view<T extends Float32Array | Float64Array>(flat: T, layout: ParameterLayout, name: string): T {
  const { offset, size } = tensor(layout, name);
  return flat.subarray(offset, offset + size) as T;
}
