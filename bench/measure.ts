// Iterations per second of one model, ours and the peers', in repetitions that take turns: ours, then
// TF.js (as it comes and with our yielding wait), then PyTorch, repetition by repetition, so a
// change in the machine's load falls on all of them. Each system's repetition is sized from its
// warm-up to take about the same time, so a fast adapter is not timed on a handful of milliseconds.
import type { Trainer } from '../src/train/trainer';
import { waitYieldingCores } from '../src/gpu/wait';
import type { TfjsGan } from './tfjs_gan';
import type { TorchPeer } from './torch';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One repetition of ours: `iterations` steps submitted back to back, then one wait (Trainer.settle,
 * which on a software adapter leaves the cores to the adapter, src/gpu/wait.ts); the statistics are
 * copied out on the last step, as a logging training loop does.
 */
export async function oursRepetition(trainer: Trainer, iterations: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) trainer.step({ log: i === iterations - 1, sample: false });
  await trainer.settle();
  const seconds = (performance.now() - started) / 1000;
  for (let tries = 0; tries < 100 && trainer.copiesInFlight > 0; tries++) {
    await sleep(1);
    trainer.collect();
  }
  trainer.collect();
  return iterations / seconds;
}

/**
 * TF.js as it comes awaits its readback while Dawn busy-polls; with `yieldCores` its wait yields the
 * cores as ours does, which separates the work from the waiting in the comparison.
 */
export async function tfjsRepetition(gan: TfjsGan, iterations: number, yieldCores: boolean): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) gan.step();
  const loss = await waitYieldingCores(() => gan.sync(), yieldCores);
  if (!Number.isFinite(loss)) throw new Error(`TF.js's G loss is ${loss}`);
  return iterations / ((performance.now() - started) / 1000);
}

/** Iterations that take about `seconds` at `rate` it/s, within [1, 2000]. */
export function iterationsFor(rate: number, seconds: number): number {
  return Math.max(1, Math.min(2000, Math.round(rate * seconds)));
}

export interface ModelRates {
  ours: number[];
  tfjs: number[];
  tfjsYielding: number[];
  torch: number[];
  /** Iterations per repetition of each system. */
  iterations: { ours: number; tfjs: number; torch: number };
}

export interface MeasureOptions {
  reps: number;
  /** Seconds a repetition should take. */
  seconds: number;
  tfjs?: TfjsGan;
  /** Also time TF.js with our yielding wait (software adapters, where the wait takes a core). */
  tfjsYielding?: boolean;
  torch?: TorchPeer;
}

export async function measureModel(trainer: Trainer, options: MeasureOptions): Promise<ModelRates> {
  const { tfjs, torch } = options;
  // Warm-up (pipelines, caches, TF.js's shader compilation, torch's allocator), which also sizes the repetitions.
  await oursRepetition(trainer, 1);
  const iterations = {
    ours: iterationsFor(await oursRepetition(trainer, 2), options.seconds),
    tfjs: 0,
    torch: 0,
  };
  if (tfjs) {
    await tfjsRepetition(tfjs, 1, false);
    iterations.tfjs = iterationsFor(await tfjsRepetition(tfjs, 1, false), options.seconds);
  }
  if (torch) iterations.torch = iterationsFor(await torch.repetition(2), options.seconds);
  const rates: ModelRates = { ours: [], tfjs: [], tfjsYielding: [], torch: [], iterations };
  for (let r = 0; r < options.reps; r++) {
    rates.ours.push(await oursRepetition(trainer, iterations.ours));
    if (tfjs) rates.tfjs.push(await tfjsRepetition(tfjs, iterations.tfjs, false));
    if (tfjs && options.tfjsYielding) rates.tfjsYielding.push(await tfjsRepetition(tfjs, iterations.tfjs, true));
    if (torch) rates.torch.push(await torch.repetition(iterations.torch));
  }
  return rates;
}
