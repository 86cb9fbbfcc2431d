// Wrapper of shaders/gather.wgsl.
import type { Clock } from '../gpu/clock';
import { workgroupCount, type Dispatch, type Runtime } from '../gpu/runtime';
import type { GpuDataset } from '../data/dataset';

const WORKGROUP = 64;

export interface GatherKey {
  batch: number;
  seed: number;
  stream: number;
  sub: number;
}

/** Draws `batch` rows of the dataset's range into x (batch, features) and their numbers into indices. */
export function gatherDispatch(rt: Runtime, clock: Clock, key: GatherKey, dataset: GpuDataset, out: { x: GPUBuffer; indices: GPUBuffer }): Promise<Dispatch> {
  if (!Number.isInteger(key.batch) || key.batch < 1) throw new RangeError(`gather: batch must be a positive integer, got ${key.batch}`);
  if (!Number.isInteger(dataset.count) || dataset.count < 1) throw new RangeError(`gather: the dataset range is empty`);
  const source: Record<string, GPUBuffer> = { [dataset.format === 'u8' ? 'dataset_u8' : 'dataset_f32']: dataset.buffer };
  return rt.dispatch({
    shader: 'gather',
    entry: dataset.format === 'u8' ? 'gather_u8' : 'gather_f32',
    constants: { WORKGROUP },
    buffers: { ...source, x: out.x, indices: out.indices, clock: clock.buffer },
    params: { batch: key.batch, features: dataset.features, first: dataset.first, count: dataset.count, seed: key.seed, stream: key.stream, sub: key.sub, scale: dataset.scale },
    workgroups: [workgroupCount(dataset.features, WORKGROUP), key.batch],
  });
}
