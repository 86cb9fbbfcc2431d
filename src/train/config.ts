// The full description of a training run: data, the two networks, the game, the optimizer and its
// schedules. Presets (presets.ts) are complete configs; flags override single fields; `validateConfig`
// rejects anything out of range with the field's name, before anything is allocated.
import {
  dataFeatures,
  imageShape,
  isToyData,
  type ImageDataKind,
  type ImageShape,
  type TrainConfig,
} from '../spec/config';
import { GENERATOR_LOSSES } from '../spec/stats';
import { CIFAR10_IMAGE, DEFAULT_PRESET, MNIST_IMAGE, PRESETS } from './presets';

/** The most classes a conditional config may name (EMNIST's 62 and far more; the class rows are one (classes, width) tensor). */
export const MAX_CLASSES = 65535;

export class ConfigError extends Error {
  override name = 'ConfigError';
  /**
   * For a value out of range: the config field (`image.height`) and what is wrong with it, so that
   * a caller who set the field from a flag can name the flag instead (src/cli/train.ts resolveConfig).
   */
  constructor(
    message: string,
    readonly field?: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

export function presetConfig(name: string): TrainConfig {
  const preset = PRESETS[name];
  if (!preset) throw new ConfigError(`Unknown preset '${name}' (presets: ${Object.keys(PRESETS).join(', ')}).`);
  const config = structuredClone(preset);
  // Written out, so that a run's config.json says the shape and a config file may change it.
  if (!isToyData(config.data)) config.image ??= { ...imageShape(config)! };
  return config;
}

function check(condition: boolean, field: string, message: string): void {
  if (!condition) throw new ConfigError(`config field '${field}': ${message}`, field, message);
}

const positiveInteger = (v: number) => Number.isInteger(v) && v >= 1;

const DATA_KINDS: readonly string[] = [
  'mnist',
  'fashion-mnist',
  'cifar10',
  'idx',
  'images',
  'emoji',
  'toy-1d',
  'toy-2d-ring',
  'toy-2d-grid',
];
/** Image sides beyond this make a fully connected model of billions of weights; nothing here trains one. */
export const MAX_IMAGE_SIDE = 1024;

/** The image shape a data kind fixes; undefined where the files decide (IDX sets, image folders). */
export function fixedImageShape(data: ImageDataKind): ImageShape | undefined {
  if (data === 'mnist' || data === 'fashion-mnist') return MNIST_IMAGE;
  if (data === 'cifar10') return CIFAR10_IMAGE;
  return undefined;
}

/** validateConfig's image part, alone: a shape taken from the data after the whole config was checked (fit.ts). */
export function checkImageData(config: TrainConfig): void {
  const data = config.data as ImageDataKind;
  const image = config.image;
  check(image !== undefined, 'image', `data '${data}' needs the image shape {channels, height, width}`);
  const { channels, height, width } = image!;
  check(channels === 1 || channels === 3, 'image.channels', `must be 1 (grey) or 3 (colour), got ${channels}`);
  for (const [field, side] of [
    ['height', height],
    ['width', width],
  ] as const) {
    check(
      positiveInteger(side) && side <= MAX_IMAGE_SIDE,
      `image.${field}`,
      `must be an integer from 1 to ${MAX_IMAGE_SIDE}, got ${side}`,
    );
  }
  const fixed = fixedImageShape(data);
  if (fixed)
    check(
      channels === fixed.channels && height === fixed.height && width === fixed.width,
      'image',
      `'${data}' images are ${shapeText(fixed)}, not ${shapeText(image!)}`,
    );
  if (data === 'idx') check(channels === 1, 'image.channels', `IDX images are grey (1 channel), got ${channels}`);
  if (data === 'emoji')
    check(
      channels === 3 && height === width && height <= 64,
      'image',
      `Twemoji are 64 x 64 colour, read as 3 x S x S with S <= 64, got ${shapeText(image!)}`,
    );
  if (data === 'images')
    check(
      height === width,
      'image',
      `a folder of images is cut to squares, so height and width must be equal, got ${shapeText(image!)}`,
    );
  if (data === 'cifar10' || data === 'idx' || data === 'images') {
    check(config.dataDir !== '', 'dataDir', `data '${data}' is read from a directory of its files: give --data DIR`);
  }
}

/** Sets the config's image shape and G's output layer to match it (D's input follows dataFeatures); returns the config. */
export function withImageShape(config: TrainConfig, image: ImageShape): TrainConfig {
  config.image = { ...image };
  const layers = config.generator.layers;
  layers[layers.length - 1] = { ...layers[layers.length - 1], units: image.channels * image.height * image.width };
  return config;
}

/** "3 x 32 x 32": channels x height x width, as messages name shapes. */
export function shapeText(image: ImageShape): string {
  return `${image.channels} x ${image.height} x ${image.width}`;
}

export function validateConfig(config: TrainConfig): TrainConfig {
  check(DATA_KINDS.includes(config.data), 'data', `unknown data '${config.data}' (${DATA_KINDS.join(', ')})`);
  if (!isToyData(config.data)) checkImageData(config);
  for (const field of ['batch', 'k', 'iterations', 'logEvery', 'sampleEvery', 'checkpointEvery'] as const) {
    check(positiveInteger(config[field]), field, `must be a positive integer, got ${config[field]}`);
  }
  check(
    Number.isInteger(config.seed) && config.seed >= 0 && config.seed <= 0xffffffff,
    'seed',
    `must be an integer in [0, 2^32), got ${config.seed}`,
  );
  check(
    config.form === 'alternating' || config.form === 'simultaneous',
    'form',
    `must be 'alternating' or 'simultaneous', got '${config.form}'`,
  );
  check(
    config.form === 'alternating' || config.k === 1,
    'k',
    `the simultaneous form updates D and G from one pass, so k must be 1 (got ${config.k}); use --form alternating`,
  );
  check(
    Number.isInteger(config.classes) && config.classes >= 0 && config.classes <= MAX_CLASSES,
    'classes',
    `must be an integer in [0, ${MAX_CLASSES}] (0: unconditional), got ${config.classes}`,
  );
  check(config.classes !== 1, 'classes', 'a conditional GAN needs at least 2 classes (0: unconditional)');
  check(
    config.classes === 0 || !isToyData(config.data),
    'classes',
    `the toy data '${config.data}' has no labels, so it cannot train a conditional GAN`,
  );
  check(
    config.emaDecay >= 0 && config.emaDecay < 1,
    'emaDecay',
    `must be in [0, 1) (0: no average), got ${config.emaDecay}`,
  );
  check(
    Number.isInteger(config.emaStart) && config.emaStart >= 0,
    'emaStart',
    `must be an integer iteration >= 0, got ${config.emaStart}`,
  );
  check(config.realTarget > 0 && config.realTarget <= 1, 'realTarget', `must be in (0, 1], got ${config.realTarget}`);
  check(
    GENERATOR_LOSSES.includes(config.gLoss),
    'gLoss',
    `unknown loss '${config.gLoss}' (${GENERATOR_LOSSES.join(', ')})`,
  );
  check(positiveInteger(config.noise.dim), 'noise.dim', `must be a positive integer, got ${config.noise.dim}`);
  check(
    config.noise.distribution === 'uniform' || config.noise.distribution === 'gaussian',
    'noise.distribution',
    `must be 'uniform' or 'gaussian'`,
  );
  check(config.noise.low < config.noise.high, 'noise.low', `must be below noise.high`);
  check(config.noise.std > 0, 'noise.std', `must be positive`);
  const opt = config.optimizer;
  check(
    ['sgd-pylearn2', 'sgd-pytorch', 'adam'].includes(opt.kind),
    'optimizer.kind',
    `unknown optimizer '${opt.kind}' (sgd-pylearn2, sgd-pytorch, adam)`,
  );
  check(opt.lr > 0 && Number.isFinite(opt.lr), 'optimizer.lr', `must be positive and finite, got ${opt.lr}`);
  check(opt.lrDecay >= 1, 'optimizer.lrDecay', `must be at least 1, got ${opt.lrDecay}`);
  check(opt.lrFloor >= 0 && opt.lrFloor <= opt.lr, 'optimizer.lrFloor', `must be in [0, lr], got ${opt.lrFloor}`);
  for (const field of ['momentumStart', 'momentumEnd'] as const)
    check(opt[field] >= 0 && opt[field] < 1, `optimizer.${field}`, `must be in [0, 1), got ${opt[field]}`);
  check(
    opt.momentumRampEnd >= opt.momentumRampStart,
    'optimizer.momentumRampEnd',
    'must not be before momentumRampStart',
  );
  check(
    opt.beta1 >= 0 && opt.beta1 < 1 && opt.beta2 >= 0 && opt.beta2 < 1,
    'optimizer.beta1',
    'beta1 and beta2 must be in [0, 1)',
  );
  check(opt.epsilon > 0, 'optimizer.epsilon', 'must be positive');
  check(
    opt.generatorLrScale > 0 && Number.isFinite(opt.generatorLrScale),
    'optimizer.generatorLrScale',
    `must be positive and finite, got ${opt.generatorLrScale}`,
  );
  check(
    opt.classLrScale === undefined || (opt.classLrScale > 0 && Number.isFinite(opt.classLrScale)),
    'optimizer.classLrScale',
    `must be positive and finite, got ${opt.classLrScale}`,
  );
  for (const [name, network] of [
    ['generator', config.generator],
    ['discriminator', config.discriminator],
  ] as const) {
    check(network.layers.length >= 1, `${name}.layers`, 'needs at least one layer');
    check(network.initRange > 0, `${name}.initRange`, `must be positive, got ${network.initRange}`);
    network.layers.forEach((layer, l) => {
      const at = `${name}.layers[${l}]`;
      check(positiveInteger(layer.units), `${at}.units`, `must be a positive integer, got ${layer.units}`);
      check(positiveInteger(layer.pieces), `${at}.pieces`, `must be a positive integer, got ${layer.pieces}`);
      check(
        ['identity', 'relu', 'sigmoid', 'maxout'].includes(layer.activation),
        `${at}.activation`,
        `unknown activation '${layer.activation}'`,
      );
      check(layer.activation === 'maxout' || layer.pieces === 1, `${at}.pieces`, `only maxout layers have pieces`);
      if (layer.inputMap) {
        check(
          Number.isFinite(layer.inputMap.scale) && layer.inputMap.scale !== 0,
          `${at}.inputMap.scale`,
          `must be finite and not 0, got ${layer.inputMap.scale}`,
        );
        check(
          Number.isFinite(layer.inputMap.shift),
          `${at}.inputMap.shift`,
          `must be finite, got ${layer.inputMap.shift}`,
        );
      }
      if (layer.dropout) {
        check(
          layer.dropout.keep > 0 && layer.dropout.keep <= 1,
          `${at}.dropout.keep`,
          `must be in (0, 1], got ${layer.dropout.keep}`,
        );
        check(layer.dropout.scale > 0, `${at}.dropout.scale`, `must be positive, got ${layer.dropout.scale}`);
      }
    });
  }
  const gOut = config.generator.layers[config.generator.layers.length - 1].units;
  check(
    gOut === dataFeatures(config),
    'generator.layers',
    `the last layer has ${gOut} units but the data has ${dataFeatures(config)} features`,
  );
  const dOut = config.discriminator.layers[config.discriminator.layers.length - 1];
  check(
    dOut.units === 1 && dOut.activation === 'identity',
    'discriminator.layers',
    'the last layer must be 1 unit with identity activation (D is trained on its logit)',
  );
  check(!config.outputBiasFromData || !isToyData(config.data), 'outputBiasFromData', 'only image data has pixel means');
  const gLast = config.generator.layers[config.generator.layers.length - 1];
  check(
    !config.outputBiasFromData || gLast.activation === 'sigmoid',
    'outputBiasFromData',
    `the logit of the pixel means is a sigmoid output's bias; G's last layer is '${gLast.activation}'`,
  );
  check(
    config.generator.outputInitRange === undefined || config.generator.outputInitRange > 0,
    'generator.outputInitRange',
    `must be positive, got ${config.generator.outputInitRange}`,
  );
  check(
    config.discriminator.outputInitRange === undefined || config.discriminator.outputInitRange > 0,
    'discriminator.outputInitRange',
    `must be positive, got ${config.discriminator.outputInitRange}`,
  );
  if (config.data === 'cifar10') {
    check(
      gLast.activation === 'identity',
      'generator.layers',
      `CIFAR-10 is contrast-normalised as the paper's (values about -5..5, not [0, 1]), so G's last layer must be 'identity', got '${gLast.activation}'`,
    );
  }
  return config;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A config from JSON (a run's config.json, a file a user wrote, a checkpoint's metadata): fields it
 * leaves out come from the preset it names (the default preset if it names none), a field the config
 * does not have is an error naming it, and the result is validated. `source` names the file in errors.
 */
export function configFromJson(value: unknown, source: string): TrainConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${source}: a config is a JSON object`);
  const named = (value as { preset?: unknown }).preset ?? DEFAULT_PRESET;
  if (typeof named !== 'string' || !PRESETS[named])
    throw new ConfigError(
      `${source}: config field 'preset' must name a preset (${Object.keys(PRESETS).join(', ')}), got ${JSON.stringify(named)}`,
    );
  const merge = (base: Json, over: Json, path: string): Json => {
    if (base === null || typeof base !== 'object' || Array.isArray(base)) {
      if (typeof over !== typeof base || Array.isArray(over) !== Array.isArray(base))
        throw new ConfigError(
          `${source}: config field '${path}' must be ${Array.isArray(base) ? 'an array' : `a ${typeof base}`}, got ${JSON.stringify(over)}`,
        );
      return over;
    }
    if (typeof over !== 'object' || over === null || Array.isArray(over))
      throw new ConfigError(`${source}: config field '${path}' must be an object`);
    const merged: { [key: string]: Json } = { ...base };
    for (const [key, v] of Object.entries(over)) {
      if (!(key in base)) throw new ConfigError(`${source}: unknown config field '${path ? `${path}.` : ''}${key}'`);
      merged[key] = merge(base[key], v, path ? `${path}.${key}` : key);
    }
    return merged;
  };
  const config = merge(presetConfig(named) as unknown as Json, value as Json, '') as unknown as TrainConfig;
  try {
    return validateConfig(config);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${source}: ${err.message}`);
    throw err;
  }
}
