// D's last hidden layer for real images on the GPU, batch by batch (trunk-features.ts): D's forward
// pass less its output layer, in evaluation mode (no dropout), the features src/eval/semi-supervised.ts
// classifies. Twin: src/reference/mlp.ts mlpForward on discriminatorFeatureSpec(D).
import type { Runtime } from '../gpu/runtime';
import { networkClasses } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { TrunkFeatures } from './trunk-features';

/** `params`: D's own, laid out by `discriminator`'s layout; its output layer is left out. */
export async function discriminatorFeatures(
  rt: Runtime,
  discriminator: NetworkSpec,
  params: Float32Array,
  batch = 500,
): Promise<TrunkFeatures> {
  if (networkClasses(discriminator) > 0)
    throw new RangeError(
      'semi-supervised: the discriminator is conditional; its features depend on the class it is told, so it takes unconditional models only',
    );
  return TrunkFeatures.create(rt, discriminator, params, 'semi-supervised', batch);
}
