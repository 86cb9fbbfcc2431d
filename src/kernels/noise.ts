// Wrapper of shaders/noise.wgsl.
import type { Clock } from '../gpu/clock';
import { workgroupCount, type Dispatch, type Runtime } from '../gpu/runtime';

const WORKGROUP = 64;

export interface NoiseSpec {
  rows: number;
  cols: number;
  distribution: 'uniform' | 'gaussian';
  /** uniform on [low, high]; gaussian with mean 0 and standard deviation std. */
  low: number;
  high: number;
  std: number;
  seed: number;
  stream: number;
  sub: number;
}

function params(spec: Omit<NoiseSpec, 'distribution'>) {
  for (const field of ['rows', 'cols'] as const) {
    if (!Number.isInteger(spec[field]) || spec[field] < 1) throw new RangeError(`noise: ${field} must be a positive integer, got ${spec[field]}`);
  }
  const { rows, cols, seed, stream, sub, low, high, std } = spec;
  return { rows, cols, seed, stream, sub, low, high, deviation: std };
}

function workgroups(spec: { rows: number; cols: number }): [number, number] {
  return [workgroupCount(Math.ceil(spec.cols / 4), WORKGROUP), spec.rows];
}

/** Fills z (rows, cols) with fresh noise keyed by (seed, stream) and (clock step, sub). */
export function noiseDispatch(rt: Runtime, clock: Clock, spec: NoiseSpec, z: GPUBuffer): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'noise',
    entry: `${spec.distribution}_noise`,
    constants: { WORKGROUP },
    buffers: { z, clock: clock.buffer },
    params: params(spec),
    workgroups: workgroups(spec),
  });
}

/** Writes the raw draws of every element (rows, cols) as u32: the RNG's own test. */
export function noiseBitsDispatch(rt: Runtime, clock: Clock, spec: Omit<NoiseSpec, 'distribution' | 'low' | 'high' | 'std'>, bits: GPUBuffer): Promise<Dispatch> {
  return rt.dispatch({
    shader: 'noise',
    entry: 'noise_bits',
    constants: { WORKGROUP },
    buffers: { raw_bits: bits, clock: clock.buffer },
    params: params({ ...spec, low: 0, high: 1, std: 1 }),
    workgroups: workgroups(spec),
  });
}
