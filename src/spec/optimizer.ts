// The optimizers' rules and hyperparameters, as the kernel's uniform and its CPU twin read them.

/** Momentum as pylearn2 (the paper) or PyTorch / TF.js define it, or Adam. */
export type OptimizerRule = 'sgd-pylearn2' | 'sgd-pytorch' | 'adam';

export interface OptimizerHyperparameters {
  lr: number;
  /** SGD's momentum m. */
  momentum: number;
  /** Adam's decay rates and the epsilon added to the denominator. */
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Adam: the 1-based number of the update about to be applied (for the bias corrections). */
  step: number;
}

/** Everything but the learning rate, at the usual values (Adam's from Kingma and Ba). */
export const DEFAULT_HYPERPARAMETERS: Omit<OptimizerHyperparameters, 'lr'> = {
  momentum: 0,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-8,
  step: 1,
};

/** Adam's bias corrections 1 - beta^t for step t >= 1; the wrapper writes them into the uniform. */
export function adamBiasCorrections(beta1: number, beta2: number, step: number): { bias1: number; bias2: number } {
  return { bias1: 1 - beta1 ** step, bias2: 1 - beta2 ** step };
}
