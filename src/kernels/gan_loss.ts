// Wrapper of shaders/gan_loss.wgsl: builds the loss dispatches once; the scheduler records them every
// iteration and copies the stats buffer out every N iterations (then zeroes it with clearStats).
import type { BufferBinding, Dispatch, Runtime } from '../gpu/runtime';
import { GAN_STATS_LENGTH, LOSS_CODE, type GeneratorLoss } from '../spec/stats';

const STATS_BYTES = GAN_STATS_LENGTH * 4;

/** One workgroup reduces the whole batch, so the sums come out in the same order every run. */
const ONE_WORKGROUP: [number] = [1];

/** The LOSS constant for a loss name; an unknown name is refused by name. */
function lossCode(loss: GeneratorLoss): number {
  const code = LOSS_CODE[loss];
  if (code === undefined)
    throw new RangeError(`gan_loss: unknown loss '${loss}' (known: ${Object.keys(LOSS_CODE).join(', ')})`);
  return code;
}

function checkCount(what: string, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff)
    throw new RangeError(`gan_loss: ${what} must be a positive integer (a u32), got ${n}`);
}

/** A zeroed stats buffer (GAN_STATS layout) for the loss kernels to add to. */
export function createStatsBuffer(rt: Runtime, label = 'gan_loss.stats'): GPUBuffer {
  return rt.createBuffer(label, STATS_BYTES);
}

/** Records the zeroing of a stats buffer, after the copy that reads it out. */
export function clearStats(encoder: GPUCommandEncoder, stats: GPUBuffer): void {
  encoder.clearBuffer(stats, 0, STATS_BYTES);
}

export interface DiscriminatorLossBuffers {
  /** D's logits on the data batch, (nReal). */
  logitsReal: BufferBinding;
  /** D's logits on the generated batch, (nFake). */
  logitsFake: BufferBinding;
  dlogitsReal: BufferBinding;
  dlogitsFake: BufferBinding;
  stats: BufferBinding;
}

/**
 * D's loss 0.5 * (BCE(D(x), realTarget) + BCE(D(G(z)), 0)) on logits (realTarget 1 unless given), the
 * same for both cross-entropy games; for `loss` 'least-squares', 1/2 mean (D(x) - realTarget)^2 +
 * 1/2 mean D(G(z))^2 on D's raw output. Writes both gradients, adds to stats.
 */
export function discriminatorLoss(
  rt: Runtime,
  sizes: { nReal: number; nFake: number; realTarget?: number; loss?: GeneratorLoss },
  buffers: DiscriminatorLossBuffers,
): Promise<Dispatch> {
  checkCount('nReal', sizes.nReal);
  checkCount('nFake', sizes.nFake);
  const code = lossCode(sizes.loss ?? 'non-saturating');
  const realTarget = sizes.realTarget ?? 1;
  if (!(realTarget > 0 && realTarget <= 1))
    throw new RangeError(`gan_loss: realTarget must be in (0, 1], got ${realTarget}`);
  return rt.dispatch({
    shader: 'gan_loss',
    entry: 'discriminator_loss',
    // One pipeline for both cross-entropy games (their D is the same): the constant only where it differs.
    constants: code === LOSS_CODE['least-squares'] ? { LOSS: code } : {},
    buffers: {
      logits_real: buffers.logitsReal,
      logits_fake: buffers.logitsFake,
      dlogits_real: buffers.dlogitsReal,
      dlogits_fake: buffers.dlogitsFake,
      stats: buffers.stats,
    },
    params: { n_real: sizes.nReal, n_fake: sizes.nFake, real_target: realTarget },
    workgroups: ONE_WORKGROUP,
  });
}

export interface GeneratorLossBuffers {
  /** D's logits on the generated batch, (n). */
  logitsFake: BufferBinding;
  dlogitsFake: BufferBinding;
  stats: BufferBinding;
}

/** G's loss on D's outputs for the generated batch (non-saturating, minimax or least squares): writes dlogits, adds to stats. */
export function generatorLoss(
  rt: Runtime,
  options: { n: number; loss: GeneratorLoss },
  buffers: GeneratorLossBuffers,
): Promise<Dispatch> {
  checkCount('n', options.n);
  const code = lossCode(options.loss);
  return rt.dispatch({
    shader: 'gan_loss',
    entry: 'generator_loss',
    constants: { LOSS: code },
    buffers: { logits_fake: buffers.logitsFake, dlogits_fake: buffers.dlogitsFake, stats: buffers.stats },
    // The generator reads only n_fake; the struct is shared with discriminator_loss.
    params: { n_real: 0, n_fake: options.n, real_target: 1 },
    workgroups: ONE_WORKGROUP,
  });
}
