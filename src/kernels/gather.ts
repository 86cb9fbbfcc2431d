// Wrapper of shaders/gather.wgsl: the minibatch of one training pass, drawn on the GPU from a
// dataset uploaded once (src/data/dataset.ts). Built once; each recording draws a fresh minibatch
// because the clock's step is part of the key.
import type { Clock } from '../gpu/clock';
import { workgroupCount, type Dispatch, type Runtime } from '../gpu/runtime';
import type { GpuDataset } from '../data/dataset';
import { STREAM_GATHER } from '../spec/rng';

/** Lanes per workgroup along the features. */
const WORKGROUP = 64;

/** The minibatch size and the key of its draws, less the step, which the clock gives. */
export interface GatherKey {
  batch: number;
  seed: number;
  /** Defaults to STREAM_GATHER. */
  stream?: number;
  sub: number;
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new RangeError(`gather: ${message}`);
}

/**
 * Draws `batch` rows uniformly, with replacement, from rows [first, first + count) of the dataset
 * into x (batch, features), scaled by dataset.scale, and the row numbers into indices (batch) u32.
 */
export async function gatherDispatch(rt: Runtime, clock: Clock, key: GatherKey, dataset: GpuDataset, out: { x: GPUBuffer; indices: GPUBuffer }): Promise<Dispatch> {
  const { batch, seed, stream = STREAM_GATHER, sub } = key;
  const { features, first, count, format } = dataset;
  check(Number.isInteger(batch) && batch >= 1, `batch must be a positive integer, got ${batch}`);
  check(Number.isInteger(features) && features >= 1, `the dataset's features must be a positive integer, got ${features}`);
  check(Number.isInteger(first) && first >= 0 && Number.isInteger(count) && count >= 1, `rows [${first}, ${first} + ${count}) are not a non-empty range`);
  const bytesPerValue = format === 'u8' ? 1 : 4;
  const needed = (first + count) * features * bytesPerValue;
  check(dataset.buffer.size >= needed, `dataset buffer '${dataset.buffer.label}' holds ${dataset.buffer.size} bytes, fewer than rows [${first}, ${first + count}) of ${features} ${format} values need (${needed})`);
  check(out.x.size >= batch * features * 4, `buffer '${out.x.label}' holds ${out.x.size} bytes, fewer than ${batch} x ${features} floats need`);
  check(out.indices.size >= batch * 4, `buffer '${out.indices.label}' holds ${out.indices.size} bytes, fewer than ${batch} indices need`);
  const u8 = format === 'u8';
  return rt.dispatch({
    shader: 'gather',
    entry: u8 ? 'gather_u8' : 'gather_f32',
    constants: { WORKGROUP },
    buffers: { [u8 ? 'dataset_u8' : 'dataset_f32']: dataset.buffer, x: out.x, indices: out.indices, clock: clock.buffer },
    params: { batch, features, first, count, seed, stream, sub, scale: dataset.scale },
    workgroups: [workgroupCount(features, WORKGROUP), batch],
  });
}
