// The decay schedule of the moving average of G's weights, shared by shaders/ema.wgsl's wrapper and its twin.

/**
 * The decay of G update `step` (1-based): t / (t + 1) until it reaches `decay`, then `decay`. The
 * average starts as the initial weights, so for the first 1 / (1 - decay) updates it is the plain
 * mean of every weight G has had (Polyak averaging: the initial weights count once, not for most of
 * the average, as a constant decay from the start would make them), and an exponential moving
 * average with that horizon after. TensorFlow's (1 + t) / (10 + t) would hold the decay below .999
 * until update 8,990, so that the horizon of a run of a few thousand updates would not be the
 * configured one; measured with bench/recipe_search.py, the longer horizon scores better. 0 turns
 * averaging off.
 */
export function emaDecayAt(decay: number, step: number): number {
  return Math.min(decay, step / (step + 1));
}

/** The uniform's values for a decay: decay and 1 - decay, each computed in float64 and rounded once. */
export function emaWeights(decay: number): { decay: number; weight: number } {
  return { decay, weight: 1 - decay };
}

/** The decay applied after iteration `iteration` (0-based) of a run whose average began at `emaStart`. */
export function emaDecayAfter(config: { emaDecay: number; emaStart: number }, iteration: number): number {
  return emaDecayAt(config.emaDecay, iteration + 1 - config.emaStart);
}
