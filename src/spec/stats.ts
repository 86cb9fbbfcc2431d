// The layouts of the statistics buffers the loss kernels accumulate on the GPU and the CPU twins
// reproduce, and the loss choices the kernels read as override constants.

// GAN losses (shaders/gan_loss.wgsl).
/** Index of each sum in the stats buffer (the STAT_* constants of shaders/gan_loss.wgsl). */
export const GAN_STATS = {
  /** Sum over discriminator_loss calls of D's loss. */
  dLossSum: 0,
  /** Sum over discriminator_loss calls of mean D(x): sigmoid of D's logit, or D's raw output for least squares. */
  dRealSum: 1,
  /** Sum over discriminator_loss calls of mean D(G(z)), as dRealSum. */
  dFakeSum: 2,
  /** Number of discriminator_loss calls. */
  dCount: 3,
  /** Sum over generator_loss calls of G's loss. */
  gLossSum: 4,
  /** Sum over generator_loss calls of mean D(G(z)), as dRealSum. */
  gFakeSum: 5,
  /** Number of generator_loss calls. */
  gCount: 6,
  /** Logits that were NaN or +-Inf, in either entry point: training has diverged when this is > 0. */
  nonfinite: 7,
} as const;

/** Floats in the stats buffer. */
export const GAN_STATS_LENGTH = 8;

/**
 * The game (config field gLoss, `gan train --loss`). With D's cross-entropy on sigmoid(D's logit), G
 * minimises -log D(G(z)) ('non-saturating', the paper's practical choice, the default) or
 * log(1 - D(G(z))) ('minimax'). 'least-squares' (Mao et al., 2017, LSGAN) changes both players: D's
 * raw output, no sigmoid, is regressed on real_target for the data and 0 for the samples, and G
 * minimises 1/2 E[(D(G(z)) - 1)^2].
 */
export type GeneratorLoss = 'non-saturating' | 'minimax' | 'least-squares';

/** Every loss, in the order --help and error messages list them. */
export const GENERATOR_LOSSES: readonly GeneratorLoss[] = ['non-saturating', 'minimax', 'least-squares'];

/** The LOSS override constant of shaders/gan_loss.wgsl (both entry points). */
export const LOSS_CODE: Record<GeneratorLoss, number> = { 'non-saturating': 0, minimax: 1, 'least-squares': 2 };

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
  if (sums.length < GAN_STATS_LENGTH)
    throw new RangeError(`GAN stats: ${sums.length} values given, the layout has ${GAN_STATS_LENGTH}`);
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

// Softmax cross-entropy of the --score classifier (shaders/softmax_xent.wgsl).
/** Index of each sum in the stats buffer (the STAT_* constants of shaders/softmax_xent.wgsl). */
export const XENT_STATS = { lossSum: 0, correctSum: 1, count: 2 } as const;
export const XENT_STATS_LENGTH = 4;
