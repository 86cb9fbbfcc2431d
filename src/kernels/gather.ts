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
 * into x (batch, features), scaled by dataset.scale (and contrast-normalised by the row's
 * (offset, scale) pair when the dataset has a contrast buffer), and the row numbers into indices (batch) u32.
 */
export async function gatherDispatch(
  rt: Runtime,
  clock: Clock,
  key: GatherKey,
  dataset: GpuDataset,
  out: { x: GPUBuffer; indices: GPUBuffer },
): Promise<Dispatch> {
  const { batch, seed, stream = STREAM_GATHER, sub } = key;
  const { features, first, count, format } = dataset;
  check(Number.isInteger(batch) && batch >= 1, `batch must be a positive integer, got ${batch}`);
  check(
    Number.isInteger(features) && features >= 1,
    `the dataset's features must be a positive integer, got ${features}`,
  );
  check(
    Number.isInteger(first) && first >= 0 && Number.isInteger(count) && count >= 1,
    `rows [${first}, ${first} + ${count}) are not a non-empty range`,
  );
  const bytesPerValue = format === 'u8' ? 1 : 4;
  const needed = (first + count) * features * bytesPerValue;
  check(
    dataset.buffer.size >= needed,
    `dataset buffer '${dataset.buffer.label}' holds ${dataset.buffer.size} bytes, fewer than rows [${first}, ${first + count}) of ${features} ${format} values need (${needed})`,
  );
  check(
    out.x.size >= batch * features * 4,
    `buffer '${out.x.label}' holds ${out.x.size} bytes, fewer than ${batch} x ${features} floats need`,
  );
  check(
    out.indices.size >= batch * 4,
    `buffer '${out.indices.label}' holds ${out.indices.size} bytes, fewer than ${batch} indices need`,
  );
  const u8 = format === 'u8';
  const { contrast } = dataset;
  if (contrast) {
    check(u8, `contrast normalisation applies to byte datasets, not ${format}`);
    check(
      contrast.size >= (first + count) * 2 * 4,
      `contrast buffer '${contrast.label}' holds ${contrast.size} bytes, fewer than rows [${first}, ${first + count}) of (offset, scale) need (${(first + count) * 8})`,
    );
  }
  const buffers: Record<string, GPUBuffer> = {
    [u8 ? 'dataset_u8' : 'dataset_f32']: dataset.buffer,
    x: out.x,
    indices: out.indices,
    clock: clock.buffer,
  };
  if (contrast) buffers.contrast = contrast;
  return rt.dispatch({
    shader: 'gather',
    entry: contrast ? 'gather_u8_contrast' : u8 ? 'gather_u8' : 'gather_f32',
    constants: { WORKGROUP },
    buffers,
    params: { batch, features, first, count, seed, stream, sub, scale: dataset.scale },
    workgroups: [workgroupCount(features, WORKGROUP), batch],
  });
}

/**
 * The class of each row the gather drew (labels[indices[r]]) into rowLabels (batch) u32, for a
 * conditional GAN: recorded after the gather whose indices it reads, from the dataset's label buffer.
 */
export async function gatherLabelsDispatch(
  rt: Runtime,
  batch: number,
  dataset: GpuDataset,
  out: { indices: GPUBuffer; rowLabels: GPUBuffer },
): Promise<Dispatch> {
  const labels = dataset.labels;
  check(
    labels !== undefined,
    `dataset buffer '${dataset.buffer.label}' has no labels, so a conditional GAN cannot train on it`,
  );
  check(
    labels!.size >= (dataset.first + dataset.count) * 4,
    `label buffer '${labels!.label}' holds ${labels!.size} bytes, fewer than rows [${dataset.first}, ${dataset.first + dataset.count}) need`,
  );
  check(
    out.indices.size >= batch * 4 && out.rowLabels.size >= batch * 4,
    `buffers '${out.indices.label}' and '${out.rowLabels.label}' must hold ${batch} u32 each`,
  );
  return rt.dispatch({
    shader: 'gather',
    entry: 'gather_labels',
    constants: { WORKGROUP },
    buffers: { labels: labels!, indices: out.indices, row_labels: out.rowLabels },
    params: {
      batch,
      features: dataset.features,
      first: dataset.first,
      count: dataset.count,
      seed: 0,
      stream: 0,
      sub: 0,
      scale: 1,
    },
    workgroups: [workgroupCount(batch, WORKGROUP)],
  });
}
