// CPU twin of shaders/optimizer.wgsl: the same updates in plain loops, in place on Float32Arrays, so
// every stored value is rounded to float32 as the kernel's are. The hyperparameters are rounded to
// float32 first because that is what the kernel reads from its uniform. The kernel takes 4 elements
// per invocation in vec4 arithmetic, which is componentwise: element by element, the same update.
import { adamBiasCorrections, type OptimizerHyperparameters } from '../spec/optimizer';

export interface SgdState {
  param: Float32Array;
  velocity: Float32Array;
}

export interface AdamState {
  param: Float32Array;
  firstMoment: Float32Array;
  secondMoment: Float32Array;
}

const f32 = Math.fround;

/** v = m v - lr g; p = p + v, in place. Returns whether a parameter became NaN or infinite. */
export function sgdPylearn2Step(
  state: SgdState,
  grad: Float32Array,
  hyper: Pick<OptimizerHyperparameters, 'lr' | 'momentum'>,
): boolean {
  const { param, velocity } = state;
  const lr = f32(hyper.lr);
  const momentum = f32(hyper.momentum);
  let nonfinite = false;
  for (let i = 0; i < param.length; i++) {
    velocity[i] = momentum * velocity[i] - lr * grad[i];
    param[i] = param[i] + velocity[i];
    if (!Number.isFinite(param[i])) nonfinite = true;
  }
  return nonfinite;
}

/** v = m v + g; p = p - lr v, in place. Returns whether a parameter became NaN or infinite. */
export function sgdPytorchStep(
  state: SgdState,
  grad: Float32Array,
  hyper: Pick<OptimizerHyperparameters, 'lr' | 'momentum'>,
): boolean {
  const { param, velocity } = state;
  const lr = f32(hyper.lr);
  const momentum = f32(hyper.momentum);
  let nonfinite = false;
  for (let i = 0; i < param.length; i++) {
    velocity[i] = momentum * velocity[i] + grad[i];
    param[i] = param[i] - lr * velocity[i];
    if (!Number.isFinite(param[i])) nonfinite = true;
  }
  return nonfinite;
}

/** One Adam update at step hyper.step, in place. Returns whether a parameter became NaN or infinite. */
export function adamStep(
  state: AdamState,
  grad: Float32Array,
  hyper: Pick<OptimizerHyperparameters, 'lr' | 'beta1' | 'beta2' | 'epsilon' | 'step'>,
): boolean {
  const { param, firstMoment, secondMoment } = state;
  const corrections = adamBiasCorrections(hyper.beta1, hyper.beta2, hyper.step);
  const [lr, beta1, beta2, epsilon] = [f32(hyper.lr), f32(hyper.beta1), f32(hyper.beta2), f32(hyper.epsilon)];
  const [bias1, bias2] = [f32(corrections.bias1), f32(corrections.bias2)];
  let nonfinite = false;
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    firstMoment[i] = beta1 * firstMoment[i] + (1 - beta1) * g;
    secondMoment[i] = beta2 * secondMoment[i] + (1 - beta2) * g * g;
    param[i] = param[i] - (lr * (firstMoment[i] / bias1)) / (Math.sqrt(secondMoment[i] / bias2) + epsilon);
    if (!Number.isFinite(param[i])) nonfinite = true;
  }
  return nonfinite;
}
