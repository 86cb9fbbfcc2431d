// A trainer's state in and out. In the loop, nothing waits: the loss statistics, the optimizers'
// non-finite flag and, on sample iterations, the fixed-noise samples (and D's curve) are copied into
// readback rings and arrive a few iterations later (`Readbacks`). Between iterations, the whole
// training state a checkpoint holds is read back or loaded: parameters, the moving average,
// optimizer state and statistics.
import { ReadbackRing } from '../gpu/readback';
import { isSoftwareAdapter, waitYieldingCores } from '../gpu/wait';
import { clearStats } from '../kernels/gan_loss';
import { averageGanStats, GAN_STATS, GAN_STATS_LENGTH } from '../spec/stats';
import type { TrainingState } from '../spec/state';
import type { GpuNetwork } from '../nn/mlp';
import type { TrainingNetworks } from './networks';

export interface MetricsRecord {
  iter: number;
  d_loss: number;
  g_loss: number;
  d_real: number;
  d_fake: number;
  lr: number;
  momentum: number;
}

export interface SampleBatch {
  iter: number;
  /** G's output on the fixed noise, (count, features). */
  samples: Float32Array;
  count: number;
  /** 1-D data: D(x) on an even grid over the data's bounds. */
  discriminatorCurve?: Float32Array;
}

export class DivergenceError extends Error {
  override name = 'DivergenceError';
}

/** The copies out of the loop: statistics and flag on log iterations, samples (and curve) on sample iterations. */
export class Readbacks {
  private readonly statsRing: ReadbackRing;
  /** The optimizers' non-finite flag, copied with every statistics copy and under the same tag. */
  private readonly flagRing: ReadbackRing;
  private readonly sampleRing: ReadbackRing;
  private readonly curveRing?: ReadbackRing;
  private readonly pendingMetrics = new Map<number, { lr: number; momentum: number }>();

  constructor(
    private readonly nets: TrainingNetworks,
    /** Samples per copy, and floats in each. */
    private readonly samples: { count: number; features: number },
    curvePoints?: number,
  ) {
    const { rt } = nets;
    this.statsRing = new ReadbackRing(rt.device, GAN_STATS_LENGTH * 4, 4, 'stats.readback');
    this.flagRing = new ReadbackRing(rt.device, 4, 4, 'nonfinite.readback');
    this.sampleRing = new ReadbackRing(rt.device, samples.count * samples.features * 4, 2, 'samples.readback');
    if (curvePoints) this.curveRing = new ReadbackRing(rt.device, curvePoints * 4, 2, 'curve.readback');
  }

  /**
   * Copies the statistics and the flag out under `tag` (the iteration they end) with the schedule
   * they ran at, and starts a new window unless `keepStats`.
   */
  copyStats(
    encoder: GPUCommandEncoder,
    tag: number,
    schedule: { lr: number; momentum: number },
    keepStats: boolean,
  ): void {
    const { nets } = this;
    // Both rings have the same number of slots and are drained together, so both copies fit.
    if (this.statsRing.copy(encoder, nets.stats, tag) && this.flagRing.copy(encoder, nets.nonfinite, tag)) {
      if (!keepStats) clearStats(encoder, nets.stats);
      this.pendingMetrics.set(tag, schedule);
    }
  }

  /** Copies the fixed-noise samples (and D's curve) out under `tag`. */
  copySamples(encoder: GPUCommandEncoder, samples: GPUBuffer, curve: GPUBuffer | undefined, tag: number): void {
    this.sampleRing.copy(encoder, samples, tag);
    if (this.curveRing && curve) this.curveRing.copy(encoder, curve, tag);
  }

  /**
   * Waits for the GPU to finish what was submitted, then starts mapping the copies. On a software
   * adapter the main thread waits at the lowest priority, leaving the cores to the adapter's workers
   * (src/gpu/wait.ts).
   */
  async settle(): Promise<void> {
    const { rt } = this.nets;
    await waitYieldingCores(() => rt.device.queue.onSubmittedWorkDone(), isSoftwareAdapter(rt.context));
    this.statsRing.submitted();
    this.flagRing.submitted();
    this.sampleRing.submitted();
    this.curveRing?.submitted();
    // The maps of finished work resolve on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  /** Copies submitted but not yet collected. */
  get inFlight(): number {
    return (
      this.statsRing.inFlight + this.flagRing.inFlight + this.sampleRing.inFlight + (this.curveRing?.inFlight ?? 0)
    );
  }

  /** Metrics and samples that have arrived since the last call; throws on a non-finite value. */
  collect(): { metrics: MetricsRecord[]; samples: SampleBatch[] } {
    const flags = new Map(this.flagRing.drain().map(({ tag, data }) => [tag, new Uint32Array(data)[0]]));
    const metrics = this.statsRing.drain().map(({ tag, data }) => {
      const sums = new Float32Array(data, 0, GAN_STATS_LENGTH);
      const schedule = this.pendingMetrics.get(tag)!;
      this.pendingMetrics.delete(tag);
      if (sums[GAN_STATS.nonfinite] > 0) {
        throw new DivergenceError(
          `Training diverged by iteration ${tag}: D's logits became NaN or infinite (${sums[GAN_STATS.nonfinite]} values). Lower the learning rate.`,
        );
      }
      if (flags.get(tag)) {
        throw new DivergenceError(
          `Training diverged by iteration ${tag}: an update made a parameter of G or D NaN or infinite. Lower the learning rate.`,
        );
      }
      const mean = averageGanStats(sums);
      return {
        iter: tag,
        d_loss: mean.dLoss,
        g_loss: mean.gLoss,
        d_real: mean.dReal,
        d_fake: mean.dFake,
        lr: schedule.lr,
        momentum: schedule.momentum,
      };
    });
    const curves = new Map(
      this.curveRing
        ?.drain()
        .map(({ tag, data }) => [tag, new Float32Array(data).map((l) => 1 / (1 + Math.exp(-l)))]) ?? [],
    );
    const samples = this.sampleRing.drain().map(({ tag, data }) => ({
      iter: tag,
      samples: new Float32Array(data),
      count: this.samples.count,
      discriminatorCurve: curves.get(tag),
    }));
    return { metrics, samples };
  }

  destroy(): void {
    for (const ring of [this.statsRing, this.flagRing, this.sampleRing, this.curveRing]) ring?.destroy();
  }
}

/** Copies out everything a checkpoint holds at `iteration` (waits for the queue: call between iterations). */
export async function readState(nets: TrainingNetworks, iteration: number): Promise<TrainingState> {
  const { rt, generator, generatorAverage, discriminator, optimizerState } = nets;
  const read = (b: GPUBuffer, n: number) => rt.readF32(b, n);
  const network = async (net: GpuNetwork, state: GPUBuffer[]) => ({
    params: await read(net.params, net.layout.totalFloats),
    optimizer: await Promise.all(state.map((b) => read(b, net.layout.totalFloats))),
  });
  return {
    config: nets.config,
    iteration,
    generator: {
      ...(await network(generator, optimizerState.generator)),
      ...(generatorAverage && { average: await read(generatorAverage.params, generator.layout.totalFloats) }),
    },
    discriminator: await network(discriminator, optimizerState.discriminator),
    stats: await read(nets.stats, GAN_STATS_LENGTH),
  };
}

/** Loads a checkpoint's parameters, optimizer state and statistics (the caller takes its iteration). */
export async function loadState(nets: TrainingNetworks, state: TrainingState): Promise<void> {
  const queue = nets.rt.device.queue;
  const write = (b: GPUBuffer, data: Float32Array) =>
    queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
  await nets.generator.upload(state.generator.params);
  if (nets.generatorAverage) {
    // A state without an average (a run that kept none) starts one from G's weights.
    await nets.generatorAverage.upload(state.generator.average ?? state.generator.params);
  }
  // A file of G alone leaves D as the trainer made it.
  if (!state.generatorOnly) await nets.discriminator.upload(state.discriminator.params);
  state.generator.optimizer.forEach((data, i) => write(nets.optimizerState.generator[i], data));
  state.discriminator.optimizer.forEach((data, i) => write(nets.optimizerState.discriminator[i], data));
  // A weights-only state has no optimizer state or statistics: they start from zero.
  if (state.stats.length > 0) write(nets.stats, state.stats);
}

/** The parameter and optimizer-state tensors of `state` holding a NaN or an infinity, by checkpoint name. */
export function nonfiniteTensors(nets: TrainingNetworks, state: TrainingState): string[] {
  const names: string[] = [];
  for (const [player, net] of [
    ['generator', nets.generator],
    ['discriminator', nets.discriminator],
  ] as const) {
    const buffers: [string, Float32Array][] = [
      ['', state[player].params],
      ...state[player].optimizer.map((data, i): [string, Float32Array] => [` (optimizer state ${i})`, data]),
    ];
    for (const [suffix, data] of buffers) {
      for (const t of net.layout.tensors) {
        if (data.subarray(t.offset, t.offset + t.size).some((v) => !Number.isFinite(v))) names.push(t.name + suffix);
      }
    }
  }
  return names;
}
