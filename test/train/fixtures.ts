// Small configs and datasets for the scheduler's tests: the paper's structure (maxout D with dropout,
// sigmoid G with its bias from pixel means, pylearn2 momentum) at sizes a software adapter runs in
// moments, on a synthetic byte dataset shaped like MNIST or on a toy distribution.
import { presetConfig, validateConfig } from '../../src/train/config';
import { discriminatorSpec, generatorSpec, type TrainConfig } from '../../src/spec/config';
import { uploadPoints, type GpuDataset } from '../../src/data/dataset';
import { sampleToy, toyDistribution } from '../../src/data/toy';
import { initialParameters } from '../../src/train/init';
import { Trainer } from '../../src/train/trainer';
import type { Runtime } from '../../src/gpu/runtime';
import type { Clock } from '../../src/gpu/clock';
import type { ReferenceDataset } from '../../src/reference/step';
import { seededRandom } from '../helpers';

/** paper-mnist's structure at a tiny width. */
export function tinyImageConfig(changes: Partial<TrainConfig> = {}): TrainConfig {
  const config = presetConfig('paper-mnist');
  config.noise.dim = 8;
  config.generator.layers = [
    { units: 16, pieces: 1, activation: 'relu' },
    { units: 784, pieces: 1, activation: 'sigmoid' },
  ];
  config.discriminator.layers = config.discriminator.layers.map((layer, i) =>
    i < 2 ? { ...layer, units: 8, pieces: 3 } : layer,
  );
  config.batch = 10;
  config.optimizer.momentumRampStart = 0;
  config.optimizer.momentumRampEnd = 2;
  return validateConfig({ ...config, ...changes });
}

export function tinyToyConfig(changes: Partial<TrainConfig> = {}): TrainConfig {
  const config = presetConfig('toy-2d-ring');
  config.generator.layers = [
    { units: 12, pieces: 1, activation: 'relu' },
    { units: 2, pieces: 1, activation: 'identity' },
  ];
  config.discriminator.layers = [
    // An input map without dropout, as small-mnist's D has (with other numbers: the toys' points are not pixels).
    { units: 6, pieces: 2, activation: 'maxout', inputMap: { scale: 0.5, shift: 0.25 } },
    { units: 6, pieces: 2, activation: 'maxout', dropout: { keep: 0.5, scale: 2 } },
    { units: 1, pieces: 1, activation: 'identity', dropout: { keep: 0.5, scale: 2 } },
  ];
  config.batch = 16;
  return validateConfig({ ...config, ...changes });
}

/** A dataset of random bytes shaped like MNIST (300 images), on the GPU and for the reference. */
export function syntheticImages(rt: Runtime): { gpu: GpuDataset; reference: ReferenceDataset; means: Float64Array } {
  const random = seededRandom(5);
  const count = 300;
  const bytes = Uint8Array.from({ length: count * 784 }, () => (random() < 0.8 ? 0 : Math.floor(random() * 256)));
  const words = new Uint32Array(bytes.length / 4);
  new Uint8Array(words.buffer).set(bytes);
  const means = new Float64Array(784);
  for (let i = 0; i < bytes.length; i++) means[i % 784] += bytes[i] / 255 / count;
  // Ten classes, as MNIST's, for the conditional configs (the others ignore them).
  const labels = Uint32Array.from({ length: count }, () => Math.floor(random() * 10));
  return {
    gpu: {
      buffer: rt.upload('test.images', words),
      format: 'u8',
      features: 784,
      first: 0,
      count,
      scale: 1 / 255,
      labels: rt.upload('test.labels', labels),
      classes: 10,
    },
    reference: { values: bytes, first: 0, count, scale: 1 / 255, labels },
    means,
  };
}

export function toyData(
  rt: Runtime,
  config: TrainConfig,
  count = 2000,
): { gpu: GpuDataset; reference: ReferenceDataset; points: Float32Array } {
  const distribution = toyDistribution(config.data as 'toy-2d-ring');
  const points = sampleToy(distribution, count, config.seed);
  return {
    gpu: uploadPoints(rt, points, distribution.dims, 'test.toy'),
    reference: { values: points, first: 0, count, scale: 1 },
    points,
  };
}

export function initial(config: TrainConfig, means?: Float64Array) {
  return {
    generator: initialParameters(
      generatorSpec(config),
      config.generator.initRange,
      config.seed,
      0,
      config.outputBiasFromData ? means : undefined,
    ),
    discriminator: initialParameters(discriminatorSpec(config), config.discriminator.initRange, config.seed, 1),
  };
}

export async function makeTrainer(
  rt: Runtime,
  clock: Clock,
  config: TrainConfig,
  dataset: GpuDataset,
  means?: Float64Array,
  sampleCount = 16,
): Promise<Trainer> {
  return Trainer.create(rt, clock, config, dataset, initial(config, means), { sampleCount });
}
