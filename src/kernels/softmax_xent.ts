// Wrapper of shaders/softmax_xent.wgsl: the classifier's loss dispatch, built once and recorded
// every training step; the stats buffer is copied out now and then and zeroed with clearXentStats.
import type { BufferBinding, Dispatch, Runtime } from '../gpu/runtime';
import { XENT_STATS_LENGTH } from '../spec/stats';

const STATS_BYTES = XENT_STATS_LENGTH * 4;

export function createXentStats(rt: Runtime, label = 'softmax_xent.stats'): GPUBuffer {
  return rt.createBuffer(label, STATS_BYTES);
}

export function clearXentStats(encoder: GPUCommandEncoder, stats: GPUBuffer): void {
  encoder.clearBuffer(stats, 0, STATS_BYTES);
}

export interface CrossEntropyBuffers {
  /** (batch, classes). */
  logits: BufferBinding;
  /** The dataset's labels (N) u32. */
  labels: BufferBinding;
  /** The batch's dataset rows (batch) u32. */
  indices: BufferBinding;
  /** (batch, classes), written. */
  dlogits: BufferBinding;
  stats: BufferBinding;
}

/** Mean softmax cross-entropy of the batch: writes d(loss)/d(logits), adds loss and accuracy to stats. */
export function softmaxCrossEntropy(
  rt: Runtime,
  sizes: { batch: number; classes: number },
  buffers: CrossEntropyBuffers,
): Promise<Dispatch> {
  for (const [what, n] of Object.entries(sizes)) {
    if (!Number.isInteger(n) || n < 1 || n > 0xffffffff)
      throw new RangeError(`softmax_xent: ${what} must be a positive integer (a u32), got ${n}`);
  }
  return rt.dispatch({
    shader: 'softmax_xent',
    entry: 'softmax_cross_entropy',
    buffers: {
      logits: buffers.logits,
      labels: buffers.labels,
      indices: buffers.indices,
      dlogits: buffers.dlogits,
      stats: buffers.stats,
    },
    params: { batch: sizes.batch, classes: sizes.classes },
    workgroups: [1],
  });
}
