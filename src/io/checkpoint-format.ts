// Checkpoints: G's and D's parameters, the optimizer state, the running loss statistics, the
// iteration and the whole config in one safetensors file, named by the parameter layout table, with
// a SHA-256 of the data that decoding verifies. Encoding and decoding touch no file system, so the
// pages save and open the same files as the command line (./checkpoint.ts writes them to disk).
import type { TrainingState } from '../spec/state';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { parameterLayout } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type NamedTensor } from './safetensors';
import { configFromJson } from '../train/config';
import { dataFeatures, type TrainConfig } from '../spec/config';
import { ENCODER_NAME, encoderSpec } from '../spec/encoder';

export const CHECKPOINT_FORMAT = 'webgpu-gan/1';

/** The suffix of the averaged generator's tensors: `generator.0.weight.ema` beside `generator.0.weight`. */
export const AVERAGE_SUFFIX = 'ema';

/** The `contents` metadata of a file with weights only. */
const WEIGHTS_ONLY = 'weights';
/** The `contents` metadata of a file with G's weights only (and their average): a model to draw from. */
const GENERATOR_ONLY = 'generator weights';

const STATE_NAMES: Record<string, string[]> = {
  'sgd-pylearn2': ['velocity'],
  'sgd-pytorch': ['velocity'],
  adam: ['adam_m', 'adam_v'],
};

function stateNames(config: TrainConfig): string[] {
  return STATE_NAMES[config.optimizer.kind];
}

function splitNetwork(spec: NetworkSpec, flat: Float32Array, suffix: string, into: Record<string, NamedTensor>): void {
  for (const t of parameterLayout(spec).tensors) {
    into[suffix ? `${t.name}.${suffix}` : t.name] = {
      dtype: 'F32',
      shape: t.shape,
      data: flat.slice(t.offset, t.offset + t.size),
    };
  }
}

function joinNetwork(
  spec: NetworkSpec,
  suffix: string,
  tensors: Record<string, NamedTensor>,
  file: string,
): Float32Array {
  const layout = parameterLayout(spec);
  const named = (t: (typeof layout.tensors)[number]) => (suffix ? `${t.name}.${suffix}` : t.name);
  // Every tensor is checked before the flat buffer is made: its size comes from the config, and a
  // corrupt config must not allocate more than the file holds.
  for (const t of layout.tensors) {
    const found = tensors[named(t)];
    if (!found) throw new CheckpointError(`${file}: tensor '${named(t)}' is missing.`);
    if (found.dtype !== 'F32')
      throw new CheckpointError(`${file}: tensor '${named(t)}' is ${found.dtype}, expected F32.`);
    if (found.shape.join('x') !== t.shape.join('x')) {
      throw new CheckpointError(
        `${file}: tensor '${named(t)}' has shape ${found.shape.join('x')}, the config's model needs ${t.shape.join('x')}.`,
      );
    }
  }
  const flat = new Float32Array(layout.totalFloats);
  for (const t of layout.tensors) flat.set(tensors[named(t)].data as Float32Array, t.offset);
  return flat;
}

/**
 * `options.weightsOnly`: G's and D's weights (and G's average) only, for sampling and evaluation;
 * `options.generatorOnly`: G's (and its average) alone, for a model to draw from that is half the size.
 */
export function encodeCheckpoint(
  state: TrainingState,
  specs: { generator: NetworkSpec; discriminator: NetworkSpec },
  options: { weightsOnly?: boolean; generatorOnly?: boolean } = {},
): Uint8Array {
  const generatorOnly = options.generatorOnly || state.generatorOnly;
  const weightsOnly = options.weightsOnly || state.weightsOnly || generatorOnly;
  const tensors: Record<string, NamedTensor> = {};
  for (const player of generatorOnly ? (['generator'] as const) : (['generator', 'discriminator'] as const)) {
    splitNetwork(specs[player], state[player].params, '', tensors);
    if (!weightsOnly)
      stateNames(state.config).forEach((name, i) =>
        splitNetwork(specs[player], state[player].optimizer[i], name, tensors),
      );
  }
  if (state.generator.average) splitNetwork(specs.generator, state.generator.average, AVERAGE_SUFFIX, tensors);
  if (state.encoder)
    splitNetwork(
      encoderSpec(dataFeatures(state.config), state.encoder.hidden, state.config.noise.dim),
      state.encoder.params,
      '',
      tensors,
    );
  if (!weightsOnly) tensors['training.stats'] = { dtype: 'F32', shape: [state.stats.length], data: state.stats };
  const unsigned = encodeSafetensors(tensors, {});
  const digest = bytesToHex(sha256(dataSection(unsigned)));
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    iteration: String(state.iteration),
    seed: String(state.config.seed),
    rng: 'philox4x32-10; key (seed, stream), counter (column / 4, row, iteration, pass)',
    maxout_layout: 'weight columns piece * units + unit',
    config: JSON.stringify(state.config),
    contents: generatorOnly ? GENERATOR_ONLY : weightsOnly ? WEIGHTS_ONLY : 'training state',
    data_sha256: digest,
  });
}

function dataSection(file: Uint8Array): Uint8Array {
  const headerLength = Number(new DataView(file.buffer, file.byteOffset, file.byteLength).getBigUint64(0, true));
  return file.subarray(8 + headerLength);
}

export function decodeCheckpoint(
  bytes: Uint8Array,
  file: string,
  specsOf: (config: TrainConfig) => { generator: NetworkSpec; discriminator: NetworkSpec },
): TrainingState {
  const { tensors, metadata } = decodeSafetensors(bytes, file);
  if (metadata.format !== CHECKPOINT_FORMAT)
    throw new CheckpointError(
      `${file}: metadata format is ${JSON.stringify(metadata.format)}, expected '${CHECKPOINT_FORMAT}'.`,
    );
  if (metadata.data_sha256) {
    const digest = bytesToHex(sha256(dataSection(bytes)));
    if (digest !== metadata.data_sha256)
      throw new CheckpointError(
        `${file}: the data's SHA-256 does not match the one recorded in the header; the file is corrupt.`,
      );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(metadata.config ?? '');
  } catch {
    throw new CheckpointError(`${file}: metadata 'config' is missing or not JSON.`);
  }
  // A checkpoint from before the moving average existed has no emaDecay: its run kept no average.
  if (typeof parsed === 'object' && parsed !== null && !('emaDecay' in parsed)) parsed = { ...parsed, emaDecay: 0 };
  const config = configFromJson(parsed, `${file} (metadata 'config')`);
  const iteration = Number(metadata.iteration);
  if (!Number.isSafeInteger(iteration) || iteration < 0)
    throw new CheckpointError(`${file}: metadata 'iteration' is ${JSON.stringify(metadata.iteration)}.`);
  const specs = specsOf(config);
  const generatorOnly = metadata.contents === GENERATOR_ONLY;
  const weightsOnly = metadata.contents === WEIGHTS_ONLY || generatorOnly;
  const stats = weightsOnly ? { dtype: 'F32', data: new Float32Array(0) } : tensors['training.stats'];
  if (!stats || stats.dtype !== 'F32')
    throw new CheckpointError(`${file}: tensor 'training.stats' is missing or not F32.`);
  const network = (player: 'generator' | 'discriminator') => ({
    params: joinNetwork(specs[player], '', tensors, file),
    optimizer: weightsOnly ? [] : stateNames(config).map((name) => joinNetwork(specs[player], name, tensors, file)),
  });
  const generator = {
    ...network('generator'),
    ...(config.emaDecay > 0 && { average: joinNetwork(specs.generator, AVERAGE_SUFFIX, tensors, file) }),
  };
  const discriminator = generatorOnly ? { params: new Float32Array(0), optimizer: [] } : network('discriminator');
  const encoder = decodeEncoder(config, tensors, file);
  return {
    config,
    iteration,
    generator,
    discriminator,
    stats: stats.data as Float32Array,
    ...(weightsOnly && { weightsOnly }),
    ...(generatorOnly && { generatorOnly }),
    ...(encoder && { encoder }),
  };
}

/** E's tensors when the file has them: the hidden widths from the weights' shapes, then every tensor checked as G's are. */
function decodeEncoder(
  config: TrainConfig,
  tensors: Record<string, NamedTensor>,
  file: string,
): TrainingState['encoder'] {
  const weights: NamedTensor[] = [];
  for (let l = 0; tensors[`${ENCODER_NAME}.${l}.weight`]; l++) weights.push(tensors[`${ENCODER_NAME}.${l}.weight`]);
  if (weights.length === 0) return undefined;
  const hidden = weights.slice(0, -1).map((w) => w.shape[1]);
  if (weights.some((w) => w.shape.length !== 2) || hidden.some((units) => !Number.isInteger(units) || units < 1)) {
    throw new CheckpointError(
      `${file}: the encoder's weights have shapes ${weights.map((w) => w.shape.join('x')).join(', ')}; each must be (inputs, units).`,
    );
  }
  return {
    hidden,
    params: joinNetwork(encoderSpec(dataFeatures(config), hidden, config.noise.dim), '', tensors, file),
  };
}
