// CPU twin of shaders/gan_loss.wgsl: the GAN losses on D's outputs, their gradients and the
// statistics the kernel adds to its stats buffer. Generic over Float32Array and Float64Array so that
// the gradient check can differentiate the same code in double precision.
import { GAN_STATS, GAN_STATS_LENGTH, type GeneratorLoss } from '../spec/stats';
import type { Vec } from './dense';

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
 * its gradient; t = `realTarget`, 1 in the paper, .9 for one-sided label smoothing. The same for both
 * cross-entropy games; `game` 'least-squares' is leastSquaresDiscriminatorLoss.
 */
export function discriminatorLoss<T extends Vec>(
  logitsReal: T,
  logitsFake: T,
  realTarget = 1,
  game: GeneratorLoss = 'non-saturating',
): DiscriminatorLossResult<T> {
  if (game === 'least-squares') return leastSquaresDiscriminatorLoss(logitsReal, logitsFake, realTarget);
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

/**
 * LSGAN's D (Mao et al., 2017) on D's raw output l, no sigmoid: 1/2 mean (l_real - t)^2 + 1/2 mean
 * l_fake^2, targets b = t = `realTarget` and a = 0, and its gradient. The stats' D(x) and D(G(z)) are
 * the mean raw outputs.
 */
function leastSquaresDiscriminatorLoss<T extends Vec>(
  logitsReal: T,
  logitsFake: T,
  realTarget: number,
): DiscriminatorLossResult<T> {
  const t = realTarget;
  const nReal = logitsReal.length;
  const nFake = logitsFake.length;
  const dlogitsReal = like(logitsReal, nReal);
  const dlogitsFake = like(logitsFake, nFake);
  let lossReal = 0;
  let dReal = 0;
  for (let i = 0; i < nReal; i++) {
    const l = logitsReal[i];
    lossReal += (l - t) ** 2;
    dReal += l;
    dlogitsReal[i] = (l - t) / nReal;
  }
  let lossFake = 0;
  let dFake = 0;
  for (let i = 0; i < nFake; i++) {
    const l = logitsFake[i];
    lossFake += l * l;
    dFake += l;
    dlogitsFake[i] = l / nFake;
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
 * G's loss on D's outputs for the generated batch: mean softplus(-l) (non-saturating),
 * mean -softplus(l) (minimax) or 1/2 mean (l - 1)^2 (least squares, l D's raw output), and its
 * gradient. The stats' D(G(z)) is the mean sigmoid(l), the mean l for least squares.
 */
export function generatorLoss<T extends Vec>(logitsFake: T, kind: GeneratorLoss): GeneratorLossResult<T> {
  const n = logitsFake.length;
  const dlogitsFake = like(logitsFake, n);
  let loss = 0;
  let dFake = 0;
  for (let i = 0; i < n; i++) {
    const l = logitsFake[i];
    if (kind === 'least-squares') {
      dFake += l;
      loss += 0.5 * (l - 1) ** 2;
      dlogitsFake[i] = (l - 1) / n;
      continue;
    }
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
