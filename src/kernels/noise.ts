// Wrapper of shaders/noise.wgsl: builds noise dispatches once; the caller records them as often as it
// likes, and each recording draws fresh numbers because the clock's step is part of the key.
import type { Clock } from '../gpu/clock';
import { workgroupCount, type Dispatch, type Runtime } from '../gpu/runtime';
import { STREAM_CLASS, STREAM_NOISE } from '../spec/rng';

/** Invocations per workgroup; each covers 4 columns (one Philox draw). */
const WORKGROUP = 64;

/** The shape of z and the key of its draws, less the step, which the clock gives. */
export interface NoiseKey {
  rows: number;
  cols: number;
  seed: number;
  /** Defaults to STREAM_NOISE, the generator's input. */
  stream?: number;
  sub: number;
}

export interface UniformNoiseSpec extends NoiseKey {
  /** z is uniform on [low, high] (u < 1, but the float product may round up to high). */
  low: number;
  high: number;
}

export interface GaussianNoiseSpec extends NoiseKey {
  /** Defaults to 0. */
  mean?: number;
  std: number;
}

/** Either distribution, as a training config names it. */
export interface NoiseSpec extends NoiseKey {
  distribution: 'uniform' | 'gaussian';
  low: number;
  high: number;
  mean?: number;
  std: number;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`noise: ${message}`);
}

function keyParams(key: NoiseKey, output: GPUBuffer) {
  const { rows, cols, seed, stream = STREAM_NOISE, sub } = key;
  check(Number.isInteger(rows) && rows >= 1, `rows must be a positive integer, got ${rows}`);
  check(Number.isInteger(cols) && cols >= 1, `cols must be a positive integer, got ${cols}`);
  check(
    output.size >= rows * cols * 4,
    `buffer '${output.label}' holds ${output.size} bytes, fewer than ${rows} x ${cols} values need`,
  );
  return { rows, cols, seed, stream, sub };
}

/** Every entry point reads the whole params struct; the numbers an entry does not use are inert. */
const UNUSED = { low: 0, high: 1, mean: 0, deviation: 1, classes: 1 };

function noise(
  rt: Runtime,
  clock: Clock,
  entry: string,
  output: Record<string, GPUBuffer>,
  params: { rows: number; cols: number } & Record<string, number>,
): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'noise',
    entry,
    constants: { WORKGROUP },
    buffers: { ...output, clock: clock.buffer },
    params,
    workgroups: [workgroupCount(Math.ceil(params.cols / 4), WORKGROUP), params.rows],
  });
}

/** z (rows, cols) uniform on [low, high]: the paper's noise is [-sqrt 3, sqrt 3]. */
export async function uniformNoise(rt: Runtime, clock: Clock, spec: UniformNoiseSpec, z: GPUBuffer): Promise<Dispatch> {
  check(
    Number.isFinite(spec.low) && Number.isFinite(spec.high) && spec.low <= spec.high,
    `low ${spec.low} and high ${spec.high} must be finite with low <= high`,
  );
  return noise(rt, clock, 'uniform_noise', { z }, { ...keyParams(spec, z), ...UNUSED, low: spec.low, high: spec.high });
}

/** z (rows, cols) normal with the given mean and standard deviation (Box-Muller). */
export async function gaussianNoise(
  rt: Runtime,
  clock: Clock,
  spec: GaussianNoiseSpec,
  z: GPUBuffer,
): Promise<Dispatch> {
  const mean = spec.mean ?? 0;
  check(
    Number.isFinite(mean) && Number.isFinite(spec.std) && spec.std >= 0,
    `mean ${mean} and std ${spec.std} must be finite with std >= 0`,
  );
  return noise(rt, clock, 'gaussian_noise', { z }, { ...keyParams(spec, z), ...UNUSED, mean, deviation: spec.std });
}

/** The raw u32 draws of every element (rows, cols): the RNG's own test against the CPU twin. */
export async function noiseBits(rt: Runtime, clock: Clock, key: NoiseKey, bits: GPUBuffer): Promise<Dispatch> {
  return noise(rt, clock, 'noise_bits', { raw_bits: bits }, { ...keyParams(key, bits), ...UNUSED });
}

/** The noise a training config asks for: uniform on [low, high] or gaussian (mean, std). */
export async function noiseDispatch(rt: Runtime, clock: Clock, spec: NoiseSpec, z: GPUBuffer): Promise<Dispatch> {
  return spec.distribution === 'uniform' ? uniformNoise(rt, clock, spec, z) : gaussianNoise(rt, clock, spec, z);
}

/** The classes of a conditional G's rows, (rows) u32, uniform over [0, classes); `cols` is unused. */
export interface ClassNoiseKey {
  rows: number;
  classes: number;
  seed: number;
  /** Defaults to STREAM_CLASS. */
  stream?: number;
  sub: number;
}

/**
 * A class per row for a conditional G, drawn on the GPU (no labels uploaded per step): labels[r]
 * uniform over [0, classes), keyed like a gather's row.
 */
export async function classNoise(rt: Runtime, clock: Clock, key: ClassNoiseKey, labels: GPUBuffer): Promise<Dispatch> {
  const { rows, classes, seed, stream = STREAM_CLASS, sub } = key;
  check(Number.isInteger(rows) && rows >= 1, `rows must be a positive integer, got ${rows}`);
  check(Number.isInteger(classes) && classes >= 1, `classes must be a positive integer, got ${classes}`);
  check(labels.size >= rows * 4, `buffer '${labels.label}' holds ${labels.size} bytes, fewer than ${rows} labels need`);
  return rt.dispatch({
    shader: 'noise',
    entry: 'noise_classes',
    constants: { WORKGROUP },
    buffers: { labels, clock: clock.buffer },
    params: { ...UNUSED, rows, cols: 1, seed, stream, sub, classes },
    workgroups: [workgroupCount(rows, WORKGROUP)],
  });
}
