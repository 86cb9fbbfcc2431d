// Learning-rate decay and momentum ramp as functions of the iteration, as pylearn2 computes them:
// ExponentialDecay divides the rate after every minibatch (update i uses lr / decay^i, floored), and
// MomentumAdjustor moves momentum linearly between two epochs, stepping once per epoch.
import type { OptimizerConfig } from './config';

export function learningRate(optimizer: OptimizerConfig, iteration: number): number {
  return Math.max(optimizer.lr / optimizer.lrDecay ** iteration, optimizer.lrFloor);
}

export function momentum(optimizer: OptimizerConfig, iteration: number, iterationsPerEpoch: number): number {
  const epoch = Math.floor(iteration / iterationsPerEpoch);
  const span = optimizer.momentumRampEnd - optimizer.momentumRampStart;
  const progress =
    span === 0
      ? epoch >= optimizer.momentumRampEnd
        ? 1
        : 0
      : Math.min(1, Math.max(0, (epoch - optimizer.momentumRampStart) / span));
  return optimizer.momentumStart * (1 - progress) + optimizer.momentumEnd * progress;
}
