// CPU twin of shaders/gan_loss.wgsl: the GAN losses on D's logits, their gradients and the
// statistics the kernel adds to its stats buffer. Generic over Float32Array and Float64Array so that
// the gradient check can differentiate the same code in double precision.
import type { Vec } from './dense';

/** Index of each sum in the stats buffer (the STAT_* constants of shaders/gan_loss.wgsl). */
export const GAN_STATS = {
  /** Sum over discriminator_loss calls of D's loss. */
  dLossSum: 0,
  /** Sum over discriminator_loss calls of mean D(x). */
  dRealSum: 1,
  /** Sum over discriminator_loss calls of mean D(G(z)). */
  dFakeSum: 2,
  /** Number of discriminator_loss calls. */
  dCount: 3,
  /** Sum over generator_loss calls of G's loss. */
  gLossSum: 4,
  /** Sum over generator_loss calls of mean D(G(z)). */
  gFakeSum: 5,
  /** Number of generator_loss calls. */
  gCount: 6,
  /** Logits that were NaN or +-Inf, in either entry point: training has diverged when this is > 0. */
  nonfinite: 7,
} as const;

/** Floats in the stats buffer. */
export const GAN_STATS_LENGTH = 8;

/** What G minimises: -log D(G(z)) (the paper's practical choice, the default) or log(1 - D(G(z))). */
export type GeneratorLoss = 'non-saturating' | 'minimax';

/** The G_LOSS override constant of generator_loss. */
export const G_LOSS_CODE: Record<GeneratorLoss, number> = { 'non-saturating': 0, minimax: 1 };

/** log(1 + exp(z)) without overflow. */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log(1 + Math.exp(-Math.abs(z)));
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

function like<T extends Vec>(a: T, n: number): T {
  return (a instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as T;
}

function countNonfinite(logits: Vec): number {
  let count = 0;
  for (const l of logits) if (!Number.isFinite(l)) count++;
  return count;
}

export interface DiscriminatorLossResult<T extends Vec> {
  loss: number;
  dlogitsReal: T;
  dlogitsFake: T;
  /** What one call adds to the stats buffer, indexed by GAN_STATS. */
  stats: Float64Array;
}

/**
 * D's loss 0.5 * (mean [t softplus(-l_real) + (1 - t) softplus(l_real)] + mean softplus(l_fake)) and
 * its gradient; t = `realTarget`, 1 in the paper, .9 for one-sided label smoothing.
 */
export function discriminatorLoss<T extends Vec>(logitsReal: T, logitsFake: T, realTarget = 1): DiscriminatorLossResult<T> {
  const t = realTarget;
  const nReal = logitsReal.length;
  const nFake = logitsFake.length;
  const dlogitsReal = like(logitsReal, nReal);
  const dlogitsFake = like(logitsFake, nFake);
  let lossReal = 0;
  let dReal = 0;
  for (let i = 0; i < nReal; i++) {
    const l = logitsReal[i];
    lossReal += t * softplus(-l) + (t !== 1 ? (1 - t) * softplus(l) : 0);
    dReal += sigmoid(l);
    // 0.5 * (sigmoid(l) - t) / n_real, written without cancellation as the kernel does.
    dlogitsReal[i] = (0.5 * ((1 - t) * sigmoid(l) - t * sigmoid(-l))) / nReal;
  }
  let lossFake = 0;
  let dFake = 0;
  for (let i = 0; i < nFake; i++) {
    const l = logitsFake[i];
    lossFake += softplus(l);
    dFake += sigmoid(l);
    dlogitsFake[i] = (0.5 * sigmoid(l)) / nFake;
  }
  const loss = 0.5 * (lossReal / nReal + lossFake / nFake);
  const stats = new Float64Array(GAN_STATS_LENGTH);
  stats[GAN_STATS.dLossSum] = loss;
  stats[GAN_STATS.dRealSum] = dReal / nReal;
  stats[GAN_STATS.dFakeSum] = dFake / nFake;
  stats[GAN_STATS.dCount] = 1;
  stats[GAN_STATS.nonfinite] = countNonfinite(logitsReal) + countNonfinite(logitsFake);
  return { loss, dlogitsReal, dlogitsFake, stats };
}

export interface GeneratorLossResult<T extends Vec> {
  loss: number;
  dlogitsFake: T;
  /** What one call adds to the stats buffer, indexed by GAN_STATS. */
  stats: Float64Array;
}

/**
 * G's loss on D's logits for the generated batch: mean softplus(-l) (non-saturating) or
 * mean -softplus(l) (minimax), and its gradient.
 */
export function generatorLoss<T extends Vec>(logitsFake: T, kind: GeneratorLoss): GeneratorLossResult<T> {
  const n = logitsFake.length;
  const dlogitsFake = like(logitsFake, n);
  let loss = 0;
  let dFake = 0;
  for (let i = 0; i < n; i++) {
    const l = logitsFake[i];
    dFake += sigmoid(l);
    if (kind === 'minimax') {
      loss -= softplus(l);
      dlogitsFake[i] = -sigmoid(l) / n;
    } else {
      loss += softplus(-l);
      dlogitsFake[i] = -sigmoid(-l) / n;
    }
  }
  const stats = new Float64Array(GAN_STATS_LENGTH);
  stats[GAN_STATS.gLossSum] = loss / n;
  stats[GAN_STATS.gFakeSum] = dFake / n;
  stats[GAN_STATS.gCount] = 1;
  stats[GAN_STATS.nonfinite] = countNonfinite(logitsFake);
  return { loss: loss / n, dlogitsFake, stats };
}

/** The means over the calls a stats buffer has seen; NaN for a player with no call. */
export interface GanStatsAverages {
  dLoss: number;
  dReal: number;
  dFake: number;
  gLoss: number;
  gFake: number;
  dCount: number;
  gCount: number;
  nonfinite: number;
}

/** Turns the sums read back from a stats buffer into means (what metrics.jsonl logs). */
export function averageGanStats(sums: ArrayLike<number>): GanStatsAverages {
  if (sums.length < GAN_STATS_LENGTH) throw new RangeError(`GAN stats: ${sums.length} values given, the layout has ${GAN_STATS_LENGTH}`);
  const dCount = sums[GAN_STATS.dCount];
  const gCount = sums[GAN_STATS.gCount];
  return {
    dLoss: sums[GAN_STATS.dLossSum] / dCount,
    dReal: sums[GAN_STATS.dRealSum] / dCount,
    dFake: sums[GAN_STATS.dFakeSum] / dCount,
    gLoss: sums[GAN_STATS.gLossSum] / gCount,
    gFake: sums[GAN_STATS.gFakeSum] / gCount,
    dCount,
    gCount,
    nonfinite: sums[GAN_STATS.nonfinite],
  };
}
