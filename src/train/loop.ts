// The driving loop shared by the command line and the page: submit iterations, wait rarely, hand
// metrics and samples to the caller as they arrive.
//
// Waiting is rare and mostly asleep: Dawn's Node binding busy-polls a CPU core while a GPU promise
// is pending, which on a software adapter takes a core from the GPU's own threads. So after
// submitting a window of iterations the loop first sleeps for most of the time the window is
// expected to take (QueuePace: never longer than its work, paused or not), and only then awaits the
// queue.
import { watchDevice } from '../gpu/device';
import { QueuePace } from './pace';
import { DivergenceError, type MetricsRecord, type SampleBatch, type Trainer } from './trainer';

export interface LoopHooks {
  /** One record per logged iteration, with the iterations per second of its window. */
  onMetrics?(record: MetricsRecord & { its_per_s: number }): void | Promise<void>;
  onSamples?(batch: SampleBatch): void | Promise<void>;
  /** Called between windows at checkpoint iterations, with the queue idle. */
  onCheckpoint?(iteration: number): void | Promise<void>;
  /** Called after every window: for progress bars. */
  onWindow?(iteration: number, itsPerSecond: number): void;
  /** Return true to stop after the current window. */
  shouldStop?(): boolean;
}

export interface LoopOptions {
  /** Stop when the trainer's iteration reaches this. */
  until: number;
  logEvery: number;
  sampleEvery: number;
  checkpointEvery: number;
  /** Also copy samples on every log iteration (the toys' divergence needs them). */
  sampleWithLogs?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Trainer.collect, with the tensors that hold NaN or infinity added to a divergence's message. */
async function collectNamingDivergence(trainer: Trainer): Promise<ReturnType<Trainer['collect']>> {
  try {
    return trainer.collect();
  } catch (err) {
    if (!(err instanceof DivergenceError)) throw err;
    const names = await trainer.nonfiniteTensors();
    const which =
      names.length === 0
        ? 'No parameter is non-finite yet.'
        : `Non-finite tensors: ${names.slice(0, 6).join(', ')}${names.length > 6 ? ` and ${names.length - 6} more` : ''}.`;
    throw new DivergenceError(`${err.message} ${which}`);
  }
}

export async function runTraining(trainer: Trainer, options: LoopOptions, hooks: LoopHooks = {}): Promise<void> {
  const device = watchDevice(trainer.rt.device);
  try {
    await loop(trainer, options, hooks, device);
  } finally {
    device.stop();
  }
}

async function loop(
  trainer: Trainer,
  options: LoopOptions,
  hooks: LoopHooks,
  device: ReturnType<typeof watchDevice>,
): Promise<void> {
  const { until, logEvery, sampleEvery, checkpointEvery } = options;
  const pace = new QueuePace();
  while (trainer.iteration < until) {
    const windowStart = trainer.iteration;
    // A window ends at the next log or checkpoint boundary, or at the end.
    const next = (every: number) => (Math.floor(windowStart / every) + 1) * every;
    const windowEnd = Math.min(until, next(logEvery), next(checkpointEvery));
    const started = performance.now();
    while (trainer.iteration < windowEnd) {
      const done = trainer.iteration + 1;
      const boundary = done % logEvery === 0;
      const log = boundary || done === until;
      const sample = done % sampleEvery === 0 || done === until || (!!options.sampleWithLogs && log);
      trainer.step({ log, sample, keepStats: !boundary });
    }
    const sleepMs = pace.sleepMs(windowEnd - windowStart);
    if (sleepMs > 0) await sleep(sleepMs);
    const awaited = performance.now();
    await trainer.settle();
    device.check(`during iterations ${windowStart + 1} to ${windowEnd}`);
    const now = performance.now();
    const seconds = (now - started) / 1000;
    const itsPerSecond = (windowEnd - windowStart) / seconds;
    pace.record(windowEnd - windowStart, seconds, now - awaited);
    // The copies were mapped after the queue went idle; give the maps a few turns to land.
    let arrived = await collectNamingDivergence(trainer);
    for (let tries = 0; tries < 100 && trainer.copiesInFlight > 0; tries++) {
      await sleep(1);
      const more = await collectNamingDivergence(trainer);
      arrived = { metrics: [...arrived.metrics, ...more.metrics], samples: [...arrived.samples, ...more.samples] };
    }
    for (const batch of arrived.samples) await hooks.onSamples?.(batch);
    for (const record of arrived.metrics) await hooks.onMetrics?.({ ...record, its_per_s: itsPerSecond });
    hooks.onWindow?.(trainer.iteration, itsPerSecond);
    if (trainer.iteration % checkpointEvery === 0 || trainer.iteration === until)
      await hooks.onCheckpoint?.(trainer.iteration);
    if (hooks.shouldStop?.()) break;
  }
}
