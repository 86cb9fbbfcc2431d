// `gan train`: a run from the command line, on Dawn or (--browser) in headless Chromium's WebGPU.
// Either way the same trainer runs and ./run-output.ts writes DIR/config.json, DIR/metrics.jsonl,
// DIR/samples-<iter>.png and DIR/checkpoint.safetensors (and with --keep-every, DIR/model-<iter>.safetensors),
// with a progress bar on a terminal and plain lines otherwise.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCheckpoint, readCheckpointFile } from '../io/checkpoint';
import type { TrainingState } from '../spec/state';
import { CheckpointError } from '../io/safetensors';
import { ConfigError, configFromJson, presetConfig, validateConfig, withImageShape } from '../train/config';
import { DEFAULT_PRESET, knownClasses } from '../train/presets';
import { fitRun, type FittedRun } from '../train/fit';
import { isToyData, type ImageDataKind, type TrainConfig } from '../spec/config';
import { fixedImageShape } from '../train/config';
import { runToEnd } from '../io/run';
import { DivergenceError } from '../train/trainer';
import { DeviceLostError } from '../gpu/device';
import { destroySession, networkSpecs, openSession, toyData } from '../train/session';
import { RunOutput } from './run-output';
import { FileSystemError, fileSystemErrorLine } from './fs-errors';
import { trainInBrowser } from './train-browser';

export interface TrainFlags {
  preset?: string;
  config?: string;
  iters?: number;
  batch?: number;
  k?: number;
  seed?: number;
  out?: string;
  resume?: string;
  data?: string;
  /** What --data holds: MNIST's four files (default), any IDX set, CIFAR-10's batches, a folder of images. */
  format?: ImageDataKind;
  /** --format images: the side the images are cut to (default 32). */
  size?: number;
  /** --format images: one grey channel instead of colour. */
  grey?: boolean;
  logEvery?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  /** Keep a weights-only model-<iter>.safetensors every this many iterations (for `gan report`). */
  keepEvery?: number;
  lr?: number;
  gLrScale?: number;
  realTarget?: number;
  emaDecay?: number;
  /** Sample PNGs from G itself instead of its moving average. */
  rawGenerator?: boolean;
  /** A conditional GAN: G and D see the class; classes from the data. */
  conditional?: boolean;
  loss?: TrainConfig['gLoss'];
  optimizer?: TrainConfig['optimizer']['kind'];
  form?: TrainConfig['form'];
  adapter?: string;
  /** Train in headless Chromium (the browser's WebGPU) instead of Dawn. */
  browser?: boolean;
}

/** The preset a --format trains when no --preset names one: small-mnist's recipe at the data's shape. */
export const FORMAT_PRESETS: Record<ImageDataKind, string> = {
  mnist: DEFAULT_PRESET,
  'fashion-mnist': 'fashion-small',
  cifar10: 'cifar10-small',
  idx: DEFAULT_PRESET,
  images: DEFAULT_PRESET,
  emoji: 'emoji-small',
};

/** --format, --size and --grey on the config: the data kind, and the image shape G's output follows. */
function applyFormat(config: TrainConfig, flags: TrainFlags, resumed: boolean): void {
  const format = flags.format ?? (isToyData(config.data) ? undefined : config.data);
  if ((flags.size !== undefined || flags.grey) && format !== 'images') {
    throw new ConfigError(
      `--size and --grey apply to --format images (a folder of PNG or JPEG), not to ${format ? `'${format}' data` : `the toy '${config.data}'`}.`,
    );
  }
  if (resumed) {
    if (flags.format !== undefined && flags.format !== config.data)
      throw new ConfigError(
        `--format ${flags.format} disagrees with the checkpoint's data '${config.data}'; leave --format out when resuming.`,
      );
    if (flags.size !== undefined || flags.grey)
      throw new ConfigError(
        '--size and --grey cannot change when resuming: the checkpoint was trained on its own image shape.',
      );
    return;
  }
  if (flags.format === undefined) return;
  if (isToyData(config.data))
    throw new ConfigError(
      `--format ${flags.format}: preset ${config.preset} trains on the toy '${config.data}', not on images.`,
    );
  config.data = flags.format;
  if (flags.format !== 'images') {
    // An IDX set's shape comes from its files once they are read (fitRun).
    const fixed = fixedImageShape(flags.format);
    if (fixed) withImageShape(config, fixed);
    return;
  }
  const side = flags.size ?? 32;
  withImageShape(config, { channels: flags.grey ? 1 : 3, height: side, width: side });
}

/**
 * The preset, the --config file or the checkpoint's config (at `resumedIteration`), with the flags
 * applied on top and checked, without its data; a run checks it once, with its data (fitRun).
 */
export function resolveConfig(flags: TrainFlags, resumed?: TrainConfig, resumedIteration = 0): TrainConfig {
  const config = assembleConfig(flags, resumed, resumedIteration);
  try {
    return validateConfig(config);
  } catch (err) {
    throw flagError(err, flags, config, !!resumed);
  }
}

/** resolveConfig's config before its check. */
function assembleConfig(flags: TrainFlags, resumed?: TrainConfig, resumedIteration = 0): TrainConfig {
  if (flags.config && (flags.preset || resumed))
    throw new ConfigError(
      `--config ${flags.config} cannot be combined with ${resumed ? '--resume' : '--preset'}: the file names its own preset.`,
    );
  const preset = flags.preset ?? (flags.format ? FORMAT_PRESETS[flags.format] : DEFAULT_PRESET);
  const config = resumed
    ? structuredClone(resumed)
    : flags.config
      ? readConfigFile(flags.config)
      : presetConfig(preset);
  applyFormat(config, flags, !!resumed);
  if (resumed && flags.preset && flags.preset !== resumed.preset) {
    throw new ConfigError(
      `--preset ${flags.preset} disagrees with the checkpoint's preset '${resumed.preset}'; leave --preset out when resuming.`,
    );
  }
  if (flags.iters !== undefined) config.iterations = flags.iters;
  if (flags.seed !== undefined) config.seed = flags.seed;
  if (flags.logEvery !== undefined) config.logEvery = flags.logEvery;
  if (flags.sampleEvery !== undefined) config.sampleEvery = flags.sampleEvery;
  if (flags.checkpointEvery !== undefined) config.checkpointEvery = flags.checkpointEvery;
  if (flags.data !== undefined) config.dataDir = flags.data;
  // An average of G changes neither player's path, so a resumed run without one may begin one here.
  if (resumed && flags.emaDecay !== undefined) {
    if (resumed.emaDecay > 0)
      throw new ConfigError(
        `--ema-decay cannot change when resuming: the checkpoint already keeps an average of G with decay ${resumed.emaDecay}.`,
      );
    if (flags.emaDecay === 0)
      throw new ConfigError(
        '--ema-decay 0 asks for no average, and the checkpoint keeps none: leave it out, or give a decay in (0, 1) to begin one.',
      );
    config.emaDecay = flags.emaDecay;
    config.emaStart = resumedIteration;
  }
  // These change the model or the game: a resumed run keeps the checkpoint's.
  const shaping: [keyof TrainFlags, () => void][] = [
    ['batch', () => (config.batch = flags.batch!)],
    ['k', () => (config.k = flags.k!)],
    ['lr', () => (config.optimizer.lr = flags.lr!)],
    ['gLrScale', () => (config.optimizer.generatorLrScale = flags.gLrScale!)],
    ['realTarget', () => (config.realTarget = flags.realTarget!)],
    ['emaDecay', () => (config.emaDecay = flags.emaDecay!)],
    ['loss', () => (config.gLoss = flags.loss!)],
    ['optimizer', () => (config.optimizer.kind = flags.optimizer!)],
    ['form', () => (config.form = flags.form!)],
    // MNIST, Fashion-MNIST and CIFAR-10 have 10 classes; an IDX set or a folder says how many once read (fitRun).
    [
      'conditional',
      () => {
        if (!flags.conditional) return;
        if (isToyData(config.data))
          throw new ConfigError(
            `--conditional: preset ${config.preset} trains on the toy '${config.data}', which has no classes to condition on; ${CONDITIONAL_DATA}.`,
          );
        config.classes = knownClasses(config.data) ?? 0;
      },
    ],
  ];
  for (const [flag, apply] of shaping) {
    if (flags[flag] === undefined || (resumed && flag === 'emaDecay')) continue;
    if (resumed)
      throw new ConfigError(
        `${typedFlag(flag, flags).split(' ')[0]} cannot change when resuming: the checkpoint was trained with its own value.`,
      );
    apply();
  }
  // k > 1 is Algorithm 1's alternating form; a user asking for it means that form.
  if (!resumed && flags.k !== undefined && flags.k > 1 && flags.form === undefined) config.form = 'alternating';
  return config;
}

/** What --conditional needs, for its refusal. */
const CONDITIONAL_DATA =
  'a conditional GAN needs labelled data: MNIST, Fashion-MNIST or CIFAR-10 (--format mnist, fashion-mnist, cifar10), an IDX set with labels (--format idx) or a folder of class folders (--format images)';

/** A flag as the user typed it: `--g-lr-scale 2`. */
function typedFlag(flag: keyof TrainFlags, flags: TrainFlags): string {
  return `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${flags[flag]}`;
}

/**
 * A config field out of range that a flag set is the flag's error: `--seed 4294967296: must be an
 * integer in [0, 2^32)`, not `config field 'seed'`, a name the user never typed. Fields the preset,
 * the config file or the checkpoint set keep validateConfig's message.
 */
function flagError(err: unknown, flags: TrainFlags, config: TrainConfig, resumed: boolean): unknown {
  if (!(err instanceof ConfigError) || err.field === undefined || err.reason === undefined) return err;
  const fields: Partial<Record<string, keyof TrainFlags>> = {
    iterations: 'iters',
    seed: 'seed',
    logEvery: 'logEvery',
    sampleEvery: 'sampleEvery',
    checkpointEvery: 'checkpointEvery',
    dataDir: 'data',
    batch: 'batch',
    k: 'k',
    'optimizer.lr': 'lr',
    'optimizer.lrFloor': 'lr',
    'optimizer.generatorLrScale': 'gLrScale',
    realTarget: 'realTarget',
    emaDecay: 'emaDecay',
    gLoss: 'loss',
    'optimizer.kind': 'optimizer',
    form: 'form',
    ...(!resumed && { 'image.height': 'size', 'image.width': 'size' }),
  };
  let flag = fields[err.field];
  // The simultaneous form asked for with a config's k > 1; a folder or IDX set asked for without --data.
  if (err.field === 'k' && flags.k === undefined && flags.form !== undefined) flag = 'form';
  if (err.field === 'dataDir' && flags.data === undefined && flags.format !== undefined) flag = 'format';
  if (flag === undefined || flags[flag] === undefined) return err;
  let reason = err.reason.replace(/, got \S+$/, '');
  if (err.field === 'optimizer.lrFloor')
    reason = `must be at least optimizer.lrFloor (${config.optimizer.lrFloor}), the floor the learning rate decays to`;
  return new ConfigError(`${typedFlag(flag, flags)}: ${reason}.`);
}

function readConfigFile(file: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not JSON (${(err as Error).message}).`);
  }
  return configFromJson(value, file);
}

export async function runTrainCommand(flags: TrainFlags): Promise<void> {
  const resumeBytes = flags.resume ? readCheckpointFile(flags.resume) : undefined;
  const resumed = resumeBytes ? decodeCheckpoint(resumeBytes, flags.resume!, networkSpecs) : undefined;
  if (resumed?.weightsOnly)
    throw new CheckpointError(
      `${flags.resume}: holds weights only, without the optimizer state a run continues from; it can be evaluated and opened in the page, not resumed.`,
    );
  const assembled = assembleConfig(flags, resumed?.config, resumed?.iteration);
  // Image data is read before anything is written: bad files stop the run with one line, and the
  // output directory of an earlier run is left as it was. A --browser run reads it in the page.
  const run = await fitRun(assembled, {
    readData: !flags.browser,
    // A new run on an IDX set takes the files' image shape, and a conditional one the data's classes.
    adopt: resumed ? {} : { shape: assembled.data === 'idx', classes: !!flags.conditional },
    typed: { classes: '--conditional', resume: flags.resume && `--resume ${flags.resume}` },
    explain: (err, config) => flagError(err, flags, config, !!resumed),
  });
  const { config } = run;
  // A resumed run with nothing left to train would only rewrite the run's files with no new iteration.
  if (resumed && config.iterations <= resumed.iteration) {
    const asked =
      flags.iters !== undefined
        ? `--iters ${flags.iters}`
        : `the run's ${config.iterations} iterations (no --iters given)`;
    throw new ConfigError(
      `${flags.resume} is at iteration ${resumed.iteration}, and ${asked} is not past it: give --iters above ${resumed.iteration} to continue.`,
    );
  }
  // The loop hands out the weights only at checkpoint iterations.
  if (flags.keepEvery !== undefined && flags.keepEvery % config.checkpointEvery !== 0) {
    throw new ConfigError(
      `--keep-every ${flags.keepEvery} must be a multiple of --checkpoint-every (${config.checkpointEvery}): models are kept only at checkpoints.`,
    );
  }
  const output = new RunOutput(flags.out ?? join('runs', config.preset), config, toyData(config), {
    keepEvery: flags.keepEvery,
  });
  // Ctrl-C stops after the current window and saves a checkpoint.
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  try {
    const { iteration, stopped } = flags.browser
      ? await trainInBrowser(config, output, {
          rawGenerator: !!flags.rawGenerator,
          resume: resumeBytes && { bytes: resumeBytes, file: flags.resume! },
          stop: stop.signal,
        })
      : await trainInNode(
          run,
          output,
          resumed,
          { adapter: flags.adapter, rawGenerator: !!flags.rawGenerator },
          stop.signal,
        );
    output.end(iteration, stopped);
  } catch (err) {
    throw withLastCheckpoint(err, output.checkpointPath);
  } finally {
    output.close();
    process.off('SIGINT', onSignal);
  }
}

/** A run that ends in divergence, device loss or a failed write says where its last good checkpoint is. */
export function withLastCheckpoint(err: unknown, checkpointPath: string): unknown {
  const lost = err instanceof DeviceLostError;
  const diskLine = fileSystemErrorLine(err);
  if (!lost && !(err instanceof DivergenceError) && diskLine === undefined) return err;
  let note = 'No checkpoint had been written yet.';
  if (existsSync(checkpointPath)) {
    const saved = decodeCheckpoint(readCheckpointFile(checkpointPath), checkpointPath, networkSpecs);
    const next = lost
      ? `continue with --resume ${checkpointPath}`
      : diskLine !== undefined
        ? `free the space or fix the directory, then continue with --resume ${checkpointPath}`
        : 'lower the learning rate and train again';
    note = `The last good checkpoint, ${checkpointPath} (iteration ${saved.iteration}), is intact: ${next}.`;
  }
  if (diskLine !== undefined) return new FileSystemError(`${diskLine} ${note}`);
  const message = `${(err as Error).message} ${note}`;
  return lost ? new DeviceLostError(message) : new DivergenceError(message);
}

async function trainInNode(
  run: FittedRun,
  output: RunOutput,
  resumed: TrainingState | undefined,
  options: { adapter?: string; rawGenerator: boolean },
  stop: AbortSignal,
) {
  const session = await openSession(run, { adapter: options.adapter });
  try {
    const { trainer } = session;
    if (resumed) await trainer.loadState(resumed);
    if (options.rawGenerator) trainer.show('raw');
    output.begin(trainer.iteration, session.context.adapterName, !!resumed);
    const { stopped } = await runToEnd(trainer, output, () => stop.aborted);
    return { iteration: trainer.iteration, stopped };
  } finally {
    destroySession(session);
  }
}
