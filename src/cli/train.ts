// `gan train`: a run from the command line on Dawn. Writes DIR/config.json, DIR/metrics.jsonl,
// DIR/samples-<iter>.png and DIR/checkpoint.safetensors; shows a progress bar on a terminal and
// plain lines otherwise.
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeFileAtomic } from '../io/checkpoint';
import { ConfigError, configFromJson, presetConfig, validateConfig, DEFAULT_PRESET, type TrainConfig } from '../train/config';
import { runTraining } from '../train/loop';
import { DivergenceError } from '../train/trainer';
import { createSession, destroySession, networkSpecs, samplePng, toyDivergence } from '../train/session';

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
  logEvery?: number;
  sampleEvery?: number;
  checkpointEvery?: number;
  lr?: number;
  gLrScale?: number;
  loss?: TrainConfig['gLoss'];
  optimizer?: TrainConfig['optimizer']['kind'];
  form?: TrainConfig['form'];
  adapter?: string;
}

/** The preset, the --config file or the checkpoint's config, with the flags applied on top. */
export function resolveConfig(flags: TrainFlags, resumed?: TrainConfig): TrainConfig {
  if (flags.config && (flags.preset || resumed)) throw new ConfigError(`--config ${flags.config} cannot be combined with ${resumed ? '--resume' : '--preset'}: the file names its own preset.`);
  const config = resumed ? structuredClone(resumed) : flags.config ? readConfigFile(flags.config) : presetConfig(flags.preset ?? DEFAULT_PRESET);
  if (resumed && flags.preset && flags.preset !== resumed.preset) {
    throw new ConfigError(`--preset ${flags.preset} disagrees with the checkpoint's preset '${resumed.preset}'; leave --preset out when resuming.`);
  }
  if (flags.iters !== undefined) config.iterations = flags.iters;
  if (flags.seed !== undefined) config.seed = flags.seed;
  if (flags.logEvery !== undefined) config.logEvery = flags.logEvery;
  if (flags.sampleEvery !== undefined) config.sampleEvery = flags.sampleEvery;
  if (flags.checkpointEvery !== undefined) config.checkpointEvery = flags.checkpointEvery;
  if (flags.data !== undefined) config.dataDir = flags.data;
  // These change the model or the game: a resumed run keeps the checkpoint's.
  const shaping: [keyof TrainFlags, () => void][] = [
    ['batch', () => (config.batch = flags.batch!)],
    ['k', () => (config.k = flags.k!)],
    ['lr', () => (config.optimizer.lr = flags.lr!)],
    ['gLrScale', () => (config.optimizer.generatorLrScale = flags.gLrScale!)],
    ['loss', () => (config.gLoss = flags.loss!)],
    ['optimizer', () => (config.optimizer.kind = flags.optimizer!)],
    ['form', () => (config.form = flags.form!)],
  ];
  for (const [flag, apply] of shaping) {
    if (flags[flag] === undefined) continue;
    if (resumed) throw new ConfigError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot change when resuming: the checkpoint was trained with its own value.`);
    apply();
  }
  // k > 1 is Algorithm 1's alternating form; a user asking for it means that form.
  if (!resumed && flags.k !== undefined && flags.k > 1 && flags.form === undefined) config.form = 'alternating';
  return validateConfig(config);
}

function readConfigFile(file: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the config file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`);
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
  const resumedState = flags.resume ? decodeCheckpoint(readCheckpointFile(flags.resume), flags.resume, networkSpecs) : undefined;
  const config = resolveConfig(flags, resumedState?.config);
  const out = flags.out ?? join('runs', config.preset);
  mkdirSync(out, { recursive: true });

  const session = await createSession(config, { adapter: flags.adapter });
  const { context, trainer, data } = session;
  if (resumedState) await trainer.loadState(resumedState);

  writeFileSync(join(out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const metricsPath = join(out, 'metrics.jsonl');
  keepMetricsUpTo(metricsPath, trainer.iteration, config.logEvery);
  const checkpointPath = join(out, 'checkpoint.safetensors');

  const terminal = process.stderr.isTTY;
  const bar = terminal
    ? new cliProgress.SingleBar({ format: '{bar} {value}/{total} | {speed} it/s | d_loss {d_loss} g_loss {g_loss} D(x) {d_real} D(G(z)) {d_fake}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  const latest = { d_loss: '-', g_loss: '-', d_real: '-', d_fake: '-', speed: '-' };
  bar?.start(config.iterations, trainer.iteration, latest);
  console.log(`${resumedState ? `Resuming at iteration ${trainer.iteration}` : 'Training'}: preset ${config.preset} on ${context.adapterName}, ${config.iterations} iterations, output in ${out}`);

  const divergences = new Map<number, number>();
  let stopRequested = false;
  const onSignal = () => {
    stopRequested = true;
  };
  process.once('SIGINT', onSignal);
  try {
    await runTraining(
      trainer,
      { until: config.iterations, logEvery: config.logEvery, sampleEvery: config.sampleEvery, checkpointEvery: config.checkpointEvery, sampleWithLogs: !!data.toy },
      {
        onSamples: (batch) => {
          const js = toyDivergence(data, batch.samples);
          if (js !== undefined) divergences.set(batch.iter, js);
          if (batch.iter % config.sampleEvery === 0 || batch.iter === config.iterations) writeFileSync(join(out, `samples-${batch.iter}.png`), samplePng(data, batch));
        },
        onMetrics: (record) => {
          const line = { ...record, ...(divergences.has(record.iter) ? { js: divergences.get(record.iter) } : {}) };
          divergences.delete(record.iter);
          appendFileSync(metricsPath, JSON.stringify(line) + '\n');
          const fixed = (v: number) => v.toFixed(3);
          Object.assign(latest, { d_loss: fixed(record.d_loss), g_loss: fixed(record.g_loss), d_real: fixed(record.d_real), d_fake: fixed(record.d_fake), speed: record.its_per_s.toFixed(2) });
          if (!bar) {
            const js = 'js' in line ? ` js ${(line.js as number).toFixed(4)}` : '';
            console.log(`iter ${record.iter}/${config.iterations} d_loss ${latest.d_loss} g_loss ${latest.g_loss} D(x) ${latest.d_real} D(G(z)) ${latest.d_fake}${js} lr ${record.lr.toPrecision(4)} momentum ${record.momentum.toFixed(3)} ${latest.speed} it/s`);
          }
        },
        onWindow: (iteration) => bar?.update(iteration, latest),
        onCheckpoint: async () => {
          writeFileAtomic(checkpointPath, encodeCheckpoint(await trainer.readState(), networkSpecs(config)));
        },
        shouldStop: () => stopRequested,
      },
    );
    if (stopRequested) {
      writeFileAtomic(checkpointPath, encodeCheckpoint(await trainer.readState(), networkSpecs(config)));
    }
  } catch (err) {
    if (err instanceof DivergenceError && existsSync(checkpointPath)) {
      const saved = decodeCheckpoint(readCheckpointFile(checkpointPath), checkpointPath, networkSpecs);
      throw new DivergenceError(`${err.message} The last good checkpoint, ${checkpointPath} (iteration ${saved.iteration}), is intact.`);
    }
    throw err;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
  }
  console.log(`${stopRequested ? 'Stopped' : 'Done'} at iteration ${trainer.iteration}. Checkpoint: ${checkpointPath}`);
  destroySession(session);
}

/**
 * A resumed run continues the metrics file: lines past the checkpoint's iteration are dropped, and
 * so is a partial window's line at the checkpoint itself (the resumed run logs that window whole).
 */
function keepMetricsUpTo(path: string, iteration: number, logEvery: number): void {
  if (!existsSync(path)) return;
  if (iteration === 0) {
    writeFileSync(path, '');
    return;
  }
  const kept = readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter((line) => {
      try {
        const { iter } = JSON.parse(line) as { iter: number };
        return iter < iteration || (iter === iteration && iteration % logEvery === 0);
      } catch {
        return false;
      }
    });
  writeFileSync(path, kept.map((l) => l + '\n').join(''));
}
