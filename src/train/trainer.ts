// The scheduler: Algorithm 1 on the GPU. Every dispatch of an iteration (noise, minibatch gather,
// forward and backward passes, losses and updates) is built once into a step plan; each
// iteration writes the clock and the optimizers' uniforms, replays the plan into one compute pass
// and submits once. Nothing is read back in the loop: the loss statistics, and on sample iterations
// a batch from fixed noise, are copied out through readback rings and arrive a few iterations later.
//
// `Trainer` is the one face of that to the loop, the pages, the command line and the tests; the work
// is done by its parts, each built once:
//   ./networks.ts  G, D, G's moving average, optimizer state, statistics; the passes built over them
//   ./plan.ts      the step plan: one iteration's dispatches, recorded once per parity and replayed
//   ./sampling.ts  the fixed noise and G on it, the shown generator, a conditional G's classes and
//                  (./class-interpolation.ts) the strip between two classes
//   ./state.ts     state in and out: the readback rings behind `collect`, checkpoint read and load
import type { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import type { GpuDataset } from '../data/dataset';
import type { GpuNetwork } from '../nn/mlp';
import { dataFeatures, isConditional, type TrainConfig } from '../spec/config';
import type { TrainingState } from '../spec/state';
import { ConfigError } from './config';
import { TrainingNetworks, type ShownGenerator } from './networks';
import { StepPlan } from './plan';
import { Sampling } from './sampling';
import { loadState, nonfiniteTensors, Readbacks, readState, type MetricsRecord, type SampleBatch } from './state';

export { DivergenceError, type MetricsRecord, type SampleBatch } from './state';
export type { ShownGenerator } from './networks';

export interface TrainerOptions {
  /** Generated samples copied out on sample iterations (fixed noise). */
  sampleCount: number;
  /** 1-D data: where D is evaluated for the Figure 1 curve, and how many points. */
  curve?: { lo: number; hi: number; points: number };
}

export class Trainer {
  iteration = 0;
  private readonly nets: TrainingNetworks;
  private readonly readbacks: Readbacks;
  private plan!: StepPlan;
  private sampling!: Sampling;

  private constructor(
    readonly rt: Runtime,
    readonly clock: Clock,
    readonly config: TrainConfig,
    readonly dataset: GpuDataset,
    readonly options: TrainerOptions,
  ) {
    if (isConditional(config)) {
      if (!dataset.labels)
        throw new ConfigError(
          `config field 'classes': ${config.classes} classes asked for, but the data '${config.data}' has no labels`,
        );
      if (dataset.classes !== config.classes)
        throw new ConfigError(
          `config field 'classes': ${config.classes} classes asked for, but the data '${config.data}' has ${dataset.classes}`,
        );
    }
    this.nets = new TrainingNetworks(rt, clock, config);
    this.readbacks = new Readbacks(
      this.nets,
      { count: options.sampleCount, features: dataFeatures(config) },
      options.curve?.points,
    );
  }

  /** Builds the networks, uploads the initial parameters, and makes both step plans. */
  static async create(
    rt: Runtime,
    clock: Clock,
    config: TrainConfig,
    dataset: GpuDataset,
    initial: { generator: Float32Array; discriminator: Float32Array },
    options: TrainerOptions,
  ): Promise<Trainer> {
    const trainer = new Trainer(rt, clock, config, dataset, options);
    await trainer.nets.upload(initial);
    trainer.plan = await StepPlan.create(trainer.nets, dataset);
    trainer.sampling = await Sampling.create(trainer.nets, options.sampleCount, options.curve);
    return trainer;
  }

  get generator(): GpuNetwork {
    return this.nets.generator;
  }

  get discriminator(): GpuNetwork {
    return this.nets.discriminator;
  }

  /** The moving average of G's weights (config.emaDecay > 0), updated after every G update. */
  get generatorAverage(): GpuNetwork | undefined {
    return this.nets.generatorAverage;
  }

  /** Optimizer state, laid out like each network's parameters (velocity, or Adam's two moments). */
  get optimizerState(): { generator: GPUBuffer[]; discriminator: GPUBuffer[] } {
    return this.nets.optimizerState;
  }

  /** The loss statistics of the current window, summed on the GPU (src/spec/stats.ts). */
  get stats(): GPUBuffer {
    return this.nets.stats;
  }

  /** The optimizers' flag: set when an update made a parameter NaN or infinite. */
  get nonfinite(): GPUBuffer {
    return this.nets.nonfinite;
  }

  /**
   * Records and submits one iteration. `log` copies the statistics out (they arrive through
   * `collect`) and starts a new window, unless `keepStats` (a run ending between two logs reports
   * its partial window but keeps it running, so a resumed run logs what an uninterrupted one
   * would); `sample` copies the fixed-noise samples.
   */
  step(flags: { log: boolean; sample: boolean; keepStats?: boolean }): void {
    const i = this.iteration;
    const encoder = this.rt.device.createCommandEncoder({ label: `iteration ${i}` });
    const pass = encoder.beginComputePass({ label: `iteration ${i}` });
    const schedule = this.plan.replay(pass, i);
    if (flags.sample) this.sampling.record(pass);
    pass.end();
    if (flags.log) this.readbacks.copyStats(encoder, i + 1, schedule, flags.keepStats ?? false);
    if (flags.sample) this.readbacks.copySamples(encoder, this.sampling.output, this.sampling.curve, i + 1);
    this.rt.device.queue.submit([encoder.finish()]);
    this.iteration = i + 1;
  }

  /** Waits for the GPU to finish what was submitted, then starts mapping the copies (Readbacks.settle). */
  settle(): Promise<void> {
    return this.readbacks.settle();
  }

  /** Readback copies submitted but not yet collected. */
  get copiesInFlight(): number {
    return this.readbacks.inFlight;
  }

  /** Metrics and samples that have arrived since the last call; throws on a non-finite value. */
  collect(): { metrics: MetricsRecord[]; samples: SampleBatch[] } {
    return this.readbacks.collect();
  }

  /**
   * The update dispatches (D's k, G's one, the average's): what tests look for in the recorded order.
   * With a class lr scale an update is several dispatches; each is named by its first.
   */
  get updateDispatches(): { discriminator: Dispatch[]; generator: Dispatch; average?: Dispatch } {
    return this.plan.updateDispatches;
  }

  /** The buffer holding the G step's most recent generated batch (the other plan writes next). */
  get latestSamples(): GPUBuffer {
    return this.plan.samples(this.iteration + 1);
  }

  /** Whether the views and sample copies show G's moving average or G itself. */
  get shown(): ShownGenerator {
    return this.sampling.shown;
  }

  /** The network the views show: G's moving average, or G. */
  get shownNetwork(): GpuNetwork {
    return this.sampling.shownNetwork;
  }

  /** Shows the average (when the config keeps one) or G itself in the views and sample copies. */
  show(generator: ShownGenerator): void {
    this.sampling.show(generator);
  }

  /** The shown generator's output on the fixed noise, (sampleCount, features): refreshed on sample iterations and by `recordSampling`. */
  get fixedNoiseSamples(): GPUBuffer {
    return this.sampling.output;
  }

  /** Records the shown generator on the fixed noise (and D's curve) into a pass, without training: views between iterations. */
  recordSampling(pass: GPUComputePassEncoder): void {
    this.sampling.record(pass);
  }

  /** The shown generator on the fixed noise, computed now and read back (waits: between iterations only). */
  readFixedNoiseSamples(): Promise<Float32Array> {
    return this.sampling.read();
  }

  /** The grid's default classes: one class per row of a square grid (10 x 10 for 10 classes: row r = class r). */
  defaultSampleClasses(): Uint32Array<ArrayBuffer> {
    return this.sampling.defaultClasses();
  }

  /**
   * A conditional model's classes for the fixed-noise samples: one class for all of them (a number),
   * one per sample (an array of sampleCount classes), or none given: the default grid, one class per
   * row. The samples keep their z, so the same noise is drawn as another class; the views and sample
   * copies show it from the next recording on (`recordSampling`, a sample iteration or
   * `readFixedNoiseSamples`). Between iterations only (it writes a buffer the plan reads).
   */
  setSampleClasses(classes?: number | number[] | Uint32Array): void {
    this.sampling.setClasses(classes);
  }

  /** The class of each fixed-noise sample (a copy); undefined for an unconditional model. */
  get sampleClasses(): Uint32Array | undefined {
    return this.sampling.classes;
  }

  /**
   * The interpolation between two classes at fixed z (the page's strip): `steps` samples, all from
   * fixed-noise sample `sample`'s z, whose one-hot class goes in a straight line from `from` to `to`
   * (t = 0, 1 / (steps - 1), ..., 1): G's first layer sees (1 - t) E[from] + t E[to], the rows of the
   * class rows that mixture of one-hots picks. Built on first use (its buffers, pipelines and bind
   * groups); later calls with the same `steps` only rewrite two small buffers. The samples land in
   * `classInterpolationSamples` when `recordClassInterpolation` is recorded (or
   * `readClassInterpolation` is called). Between iterations only.
   */
  setClassInterpolation(from: number, to: number, options: { steps?: number; sample?: number } = {}): Promise<void> {
    return this.sampling.setClassInterpolation(from, to, options);
  }

  /** The shown generator's class interpolation, (steps, features): filled by `recordClassInterpolation`. */
  get classInterpolationSamples(): GPUBuffer {
    return this.sampling.interpolation.output;
  }

  /** Records the shown generator's class interpolation into a pass (after setClassInterpolation). */
  recordClassInterpolation(pass: GPUComputePassEncoder): void {
    for (const d of this.sampling.interpolation.dispatches) d.record(pass);
  }

  /** The class interpolation computed now and read back, (steps, features) (waits: between iterations only). */
  readClassInterpolation(): Promise<Float32Array> {
    return this.sampling.readInterpolation();
  }

  /** The parameter and optimizer-state tensors holding a NaN or an infinity, by checkpoint name. */
  async nonfiniteTensors(): Promise<string[]> {
    return nonfiniteTensors(this.nets, await this.readState());
  }

  /** Copies out everything a checkpoint holds (waits for the queue: call between iterations). */
  readState(): Promise<TrainingState> {
    return readState(this.nets, this.iteration);
  }

  /** Continues from a checkpoint: parameters, optimizer state, statistics and iteration. */
  async loadState(state: TrainingState): Promise<void> {
    await loadState(this.nets, state);
    this.iteration = state.iteration;
  }

  destroy(): void {
    this.sampling.destroy();
    this.readbacks.destroy();
    this.nets.destroy();
  }
}
