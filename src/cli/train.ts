// `gan train`: a run from the command line on Dawn. Writes DIR/config.json, DIR/metrics.jsonl,
// DIR/samples-<iter>.png and DIR/checkpoint.safetensors; shows a progress bar on a terminal and
// plain lines otherwise.
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { acquireDevice, limitsForBuffers } from '../gpu/device';
import { Clock } from '../gpu/clock';
import { Runtime } from '../gpu/runtime';
import { loadMnist, pixelMeans, MNIST_TRAIN_COUNT } from '../data/mnist';
import { uploadMnist, uploadPoints, type GpuDataset } from '../data/dataset';
import { divergenceBins, histogram, jensenShannon, sampleToy, toyDistribution, type ToyKind } from '../data/toy';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeFileAtomic } from '../io/checkpoint';
import { densityPng, imageGridPng, scatterPng } from '../io/images';
import { parameterLayout } from '../nn/layout';
import { dataFeatures, discriminatorSpec, generatorSpec, presetConfig, validateConfig, DEFAULT_PRESET, type TrainConfig } from '../train/config';
import { initialParameters } from '../train/init';
import { runTraining } from '../train/loop';
import { Trainer, type SampleBatch } from '../train/trainer';

export interface TrainFlags {
  preset?: string;
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
  loss?: TrainConfig['gLoss'];
  optimizer?: TrainConfig['optimizer']['kind'];
  form?: TrainConfig['form'];
  adapter?: string;
}

/** Samples kept from the fixed noise: a 10 x 10 grid of digits, or enough points for the divergence. */
const IMAGE_SAMPLES = 100;
const TOY_SAMPLES = 4096;
const TOY_DATASET_SIZE = 20_000;
const CURVE_POINTS = 256;

function specs(config: TrainConfig) {
  return { generator: generatorSpec(config), discriminator: discriminatorSpec(config) };
}

/** The preset (or the checkpoint's config) with the flags applied on top. */
export function resolveConfig(flags: TrainFlags, resumed?: TrainConfig): TrainConfig {
  const config = resumed ? structuredClone(resumed) : presetConfig(flags.preset ?? DEFAULT_PRESET);
  if (resumed && flags.preset && flags.preset !== resumed.preset) {
    throw new Error(`--preset ${flags.preset} disagrees with the checkpoint's preset '${resumed.preset}'; leave --preset out when resuming.`);
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
    ['loss', () => (config.gLoss = flags.loss!)],
    ['optimizer', () => (config.optimizer.kind = flags.optimizer!)],
    ['form', () => (config.form = flags.form!)],
  ];
  for (const [flag, apply] of shaping) {
    if (flags[flag] === undefined) continue;
    if (resumed) throw new Error(`--${flag} cannot change when resuming: the checkpoint was trained with its own value.`);
    apply();
  }
  // k > 1 is Algorithm 1's alternating form; a user asking for it means that form.
  if (!resumed && flags.k !== undefined && flags.k > 1 && flags.form === undefined) config.form = 'alternating';
  return validateConfig(config);
}

interface PreparedData {
  dataset: GpuDataset;
  /** Toys: the histogram of the data on the divergence grid, and the points to draw. */
  toy?: { kind: ToyKind; reference: Float64Array; points: Float32Array };
  pixelMeans?: Float64Array;
}

function prepareData(rt: Runtime, config: TrainConfig): PreparedData {
  if (config.data === 'mnist') {
    const mnist = loadMnist(config.dataDir || undefined);
    return { dataset: uploadMnist(rt, mnist), pixelMeans: pixelMeans(mnist.train, MNIST_TRAIN_COUNT) };
  }
  const distribution = toyDistribution(config.data);
  const points = sampleToy(distribution, TOY_DATASET_SIZE, config.seed);
  const reference = histogram(points, distribution.dims, distribution.bounds, divergenceBins(distribution));
  return { dataset: uploadPoints(rt, points, distribution.dims, `dataset.${config.data}`), toy: { kind: config.data, reference, points } };
}

function samplePng(config: TrainConfig, data: PreparedData, batch: SampleBatch): Uint8Array {
  if (!data.toy) return imageGridPng(batch.samples, batch.count, 28, 28, 10);
  const distribution = toyDistribution(data.toy.kind);
  const shown = data.toy.points.subarray(0, 2000 * distribution.dims);
  if (distribution.dims === 2) return scatterPng(shown, batch.samples.subarray(0, 2000 * 2), distribution.bounds);
  return densityPng(data.toy.points, batch.samples, distribution.bounds, batch.discriminatorCurve);
}

function modelLimits(config: TrainConfig, dataset: { bytes: number }): Record<string, number> {
  const tensors = [{ name: 'dataset', bytes: dataset.bytes }];
  for (const spec of Object.values(specs(config))) tensors.push({ name: `${spec.name}.params`, bytes: parameterLayout(spec).totalFloats * 4 });
  const widest = Math.max(dataFeatures(config), ...config.generator.layers.map((l) => l.units * l.pieces), ...config.discriminator.layers.map((l) => l.units * l.pieces));
  tensors.push({ name: 'activations', bytes: Math.max(config.batch, TOY_SAMPLES) * widest * 4 });
  return limitsForBuffers(tensors);
}

export async function runTrainCommand(flags: TrainFlags): Promise<void> {
  const resumedState = flags.resume ? decodeCheckpoint(readCheckpointFile(flags.resume), flags.resume, specs) : undefined;
  const config = resolveConfig(flags, resumedState?.config);
  const out = flags.out ?? join('runs', config.preset);
  mkdirSync(out, { recursive: true });

  const datasetBytes = config.data === 'mnist' ? 50_000 * 784 : TOY_DATASET_SIZE * 2 * 4;
  const context = await acquireDevice({ adapter: flags.adapter, requiredLimits: modelLimits(config, { bytes: datasetBytes }) });
  const rt = new Runtime(context);
  const clock = new Clock(context.device);
  const data = prepareData(rt, config);
  const initial = {
    generator: initialParameters(generatorSpec(config), config.generator.initRange, config.seed, 0, config.outputBiasFromData ? data.pixelMeans : undefined),
    discriminator: initialParameters(discriminatorSpec(config), config.discriminator.initRange, config.seed, 1),
  };
  const toyDims = data.toy ? toyDistribution(data.toy.kind).dims : 0;
  const trainer = await Trainer.create(rt, clock, config, data.dataset, initial, {
    sampleCount: data.toy ? TOY_SAMPLES : IMAGE_SAMPLES,
    curve: toyDims === 1 ? { lo: toyDistribution('toy-1d').bounds[0], hi: toyDistribution('toy-1d').bounds[1], points: CURVE_POINTS } : undefined,
  });
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
          if (data.toy) {
            const distribution = toyDistribution(data.toy.kind);
            divergences.set(batch.iter, jensenShannon(data.toy.reference, histogram(batch.samples, distribution.dims, distribution.bounds, divergenceBins(distribution))));
          }
          if (batch.iter % config.sampleEvery === 0 || batch.iter === config.iterations) writeFileSync(join(out, `samples-${batch.iter}.png`), samplePng(config, data, batch));
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
          writeFileAtomic(checkpointPath, encodeCheckpoint(await trainer.readState(), specs(config)));
        },
        shouldStop: () => stopRequested,
      },
    );
    if (stopRequested) {
      writeFileAtomic(checkpointPath, encodeCheckpoint(await trainer.readState(), specs(config)));
    }
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
  }
  console.log(`${stopRequested ? 'Stopped' : 'Done'} at iteration ${trainer.iteration}. Checkpoint: ${checkpointPath}`);
  trainer.destroy();
  context.device.destroy();
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
