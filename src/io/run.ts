// A whole training run as the command line makes it, wherever the trainer lives: the loop's windows
// from the config, and everything a run produces (sample batches, metrics lines, progress, checkpoint
// bytes) handed to a sink. In Node the sink writes the files (src/cli/run-output.ts); in a page driven
// by `gan train --browser` it forwards them to Node, which writes them with the same sink.
import { encodeCheckpoint } from './checkpoint-format';
import { isToyData, type TrainConfig } from '../spec/config';
import { runTraining, type LoopOptions } from '../train/loop';
import { networkSpecs } from '../train/session';
import type { MetricsRecord, SampleBatch, Trainer } from '../train/trainer';

export type RunMetrics = MetricsRecord & { its_per_s: number };

export interface RunSink {
  samples(batch: SampleBatch): void | Promise<void>;
  metrics(record: RunMetrics): void | Promise<void>;
  /** After every window: progress. */
  window(iteration: number, itsPerSecond: number): void;
  checkpoint(bytes: Uint8Array, iteration: number): void | Promise<void>;
}

/** The loop of a run: to the config's last iteration, logging, sampling and saving as it says. */
export function runLoopOptions(config: TrainConfig): LoopOptions {
  return {
    until: config.iterations,
    logEvery: config.logEvery,
    sampleEvery: config.sampleEvery,
    checkpointEvery: config.checkpointEvery,
    // The toys' divergence is measured on every logged iteration's samples.
    sampleWithLogs: isToyData(config.data),
  };
}

export async function saveCheckpoint(trainer: Trainer, sink: RunSink): Promise<void> {
  await sink.checkpoint(encodeCheckpoint(await trainer.readState(), networkSpecs(trainer.config)), trainer.iteration);
}

/** Trains to the config's end, or until `shouldStop` (then saves a checkpoint); says which. */
export async function runToEnd(
  trainer: Trainer,
  sink: RunSink,
  shouldStop: () => boolean,
): Promise<{ stopped: boolean }> {
  await runTraining(trainer, runLoopOptions(trainer.config), {
    onSamples: (batch) => sink.samples(batch),
    onMetrics: (record) => sink.metrics(record),
    onWindow: (iteration, itsPerSecond) => sink.window(iteration, itsPerSecond),
    onCheckpoint: () => saveCheckpoint(trainer, sink),
    shouldStop,
  });
  const stopped = shouldStop() && trainer.iteration < trainer.config.iterations;
  if (stopped) await saveCheckpoint(trainer, sink);
  return { stopped };
}

/**
 * The lines of a metrics file a run continued from `iteration` keeps: those before it, and the line at
 * it only when it closes a whole window (a partial window's is logged again, whole, by the continuation).
 */
export function metricsUpTo(text: string, iteration: number, logEvery: number): string {
  const kept = text
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
  return kept.map((l) => l + '\n').join('');
}
