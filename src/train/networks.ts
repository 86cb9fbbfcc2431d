// What a trainer trains and keeps: G, D and (config.emaDecay > 0) the moving average of G's weights,
// the optimizer state laid out like each network's parameters, the loss statistics and the
// optimizers' non-finite flag. The step plan (./plan.ts) and the sampling (./sampling.ts) build
// their passes, buffers and noise through it, keyed by the run's seed, and it destroys them all.
import type { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { createStatsBuffer } from '../kernels/gan_loss';
import { createNonfiniteFlag } from '../kernels/optimizer';
import { classNoise, noiseDispatch } from '../kernels/noise';
import { GpuNetwork, GpuPass } from '../nn/mlp';
import { STREAM_NOISE } from '../spec/rng';
import { DISCRIMINATOR_DROPOUT_STREAM, GENERATOR_DROPOUT_STREAM } from '../spec/keys';
import { discriminatorSpec, generatorSpec, type TrainConfig } from '../spec/config';

/** Which generator the views and sample copies show: the moving average of G's weights, or G itself. */
export type ShownGenerator = 'average' | 'raw';

/** A generator run on fixed inputs (the fixed noise, a class interpolation): its dispatches and output. */
export interface GeneratorRun {
  dispatches: Dispatch[];
  output: GPUBuffer;
}

export class TrainingNetworks {
  readonly generator: GpuNetwork;
  readonly discriminator: GpuNetwork;
  /** The moving average of G's weights (config.emaDecay > 0), updated after every G update. */
  readonly generatorAverage?: GpuNetwork;
  /** Optimizer state, laid out like each network's parameters (velocity, or Adam's two moments). */
  readonly optimizerState: { generator: GPUBuffer[]; discriminator: GPUBuffer[] };
  readonly stats: GPUBuffer;
  readonly nonfinite: GPUBuffer;
  private readonly owned: { destroy(): void }[] = [];

  constructor(
    readonly rt: Runtime,
    readonly clock: Clock,
    readonly config: TrainConfig,
  ) {
    this.generator = new GpuNetwork(rt, generatorSpec(config));
    this.discriminator = new GpuNetwork(rt, discriminatorSpec(config));
    if (config.emaDecay > 0)
      this.generatorAverage = new GpuNetwork(
        rt,
        { ...generatorSpec(config), name: 'generator_average' },
        { trainable: false },
      );
    const stateCount = config.optimizer.kind === 'adam' ? 2 : 1;
    const state = (network: GpuNetwork) =>
      Array.from({ length: stateCount }, (_, i) =>
        rt.createBuffer(`${network.spec.name}.optimizer_state${i}`, network.layout.totalFloats * 4),
      );
    this.optimizerState = { generator: state(this.generator), discriminator: state(this.discriminator) };
    this.stats = createStatsBuffer(rt);
    this.nonfinite = createNonfiniteFlag(rt);
    this.owned.push(this.generator, this.discriminator, ...(this.generatorAverage ? [this.generatorAverage] : []));
  }

  /** Uploads the initial parameters: G's also start its average. */
  async upload(initial: { generator: Float32Array; discriminator: Float32Array }): Promise<void> {
    await this.generator.upload(initial.generator);
    await this.generatorAverage?.upload(initial.generator);
    await this.discriminator.upload(initial.discriminator);
  }

  /** The generators the views can show: G, and its average when the run keeps one. */
  get shownGenerators(): [ShownGenerator, GpuNetwork][] {
    const generators: [ShownGenerator, GpuNetwork | undefined][] = [
      ['raw', this.generator],
      ['average', this.generatorAverage],
    ];
    return generators.filter((entry): entry is [ShownGenerator, GpuNetwork] => entry[1] !== undefined);
  }

  /** Keeps `o` until `destroy`. */
  own<T extends { destroy(): void }>(o: T): T {
    this.owned.push(o);
    return o;
  }

  buffer(label: string, floats: number): GPUBuffer {
    return this.own(this.rt.createBuffer(label, floats * 4));
  }

  pass(
    network: GpuNetwork,
    batch: number,
    input: GPUBuffer,
    sub: number,
    label: string,
    dropout = true,
    labels?: GPUBuffer,
  ): GpuPass {
    const streamBase = network === this.discriminator ? DISCRIMINATOR_DROPOUT_STREAM : GENERATOR_DROPOUT_STREAM;
    return this.own(
      GpuPass.create(
        network,
        this.clock,
        batch,
        input,
        { seed: this.config.seed, sub, streamBase, dropout },
        label,
        labels,
      ),
    );
  }

  noise(z: GPUBuffer, rows: number, sub: number): Promise<Dispatch> {
    const { noise, seed } = this.config;
    return noiseDispatch(this.rt, this.clock, { ...noise, rows, cols: noise.dim, seed, stream: STREAM_NOISE, sub }, z);
  }

  /** z and, for a conditional G, the class of each row, keyed by the same pass. */
  async noiseAndClasses(z: GPUBuffer, labels: GPUBuffer | undefined, rows: number, sub: number): Promise<Dispatch[]> {
    const classes = labels
      ? [
          await classNoise(
            this.rt,
            this.clock,
            { rows, classes: this.config.classes, seed: this.config.seed, sub },
            labels,
          ),
        ]
      : [];
    return [await this.noise(z, rows, sub), ...classes];
  }

  destroy(): void {
    for (const o of this.owned) o.destroy();
    for (const b of [
      ...this.optimizerState.generator,
      ...this.optimizerState.discriminator,
      this.stats,
      this.nonfinite,
    ])
      b.destroy();
  }
}
