// CPU twin of shaders/softmax_xent.wgsl: softmax cross-entropy of a batch of logits, its gradient
// and the statistics the kernel adds to its stats buffer. Generic over Float32Array and
// Float64Array so that a gradient check can run the same code in double precision.
import type { Vec } from './dense';

export interface CrossEntropyResult<T extends Vec> {
  /** The batch's mean loss. */
  loss: number;
  /** The fraction of rows whose first largest logit is the label. */
  accuracy: number;
  /** d(mean loss) / d logits, (batch, classes). */
  dlogits: T;
}

/** Row i's label is labels[indices[i]]. */
export function softmaxCrossEntropy<T extends Vec>(
  logits: T,
  labels: ArrayLike<number>,
  indices: ArrayLike<number>,
  batch: number,
  classes: number,
): CrossEntropyResult<T> {
  const dlogits = (
    logits instanceof Float64Array ? new Float64Array(batch * classes) : new Float32Array(batch * classes)
  ) as T;
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < batch; i++) {
    const base = i * classes;
    const label = labels[indices[i]];
    let m = logits[base];
    let best = 0;
    for (let c = 1; c < classes; c++) {
      if (logits[base + c] > m) {
        m = logits[base + c];
        best = c;
      }
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total += Math.exp(logits[base + c] - m);
    for (let c = 0; c < classes; c++)
      dlogits[base + c] = (Math.exp(logits[base + c] - m) / total - (c === label ? 1 : 0)) / batch;
    loss += m + Math.log(total) - logits[base + label];
    if (best === label) correct++;
  }
  return { loss: loss / batch, accuracy: correct / batch, dlogits };
}
