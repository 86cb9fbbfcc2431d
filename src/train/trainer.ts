// The scheduler: Algorithm 1 on the GPU. Every dispatch of an iteration (noise, minibatch gather,
// forward and backward passes, losses and updates) is built once into a step plan; each
// iteration writes the clock and the optimizers' uniforms, replays the plan into one compute pass
// and submits once. Nothing is read back in the loop: the loss statistics, and on sample iterations
// a batch from fixed noise, are copied out through readback rings and arrive a few iterations later.
//
// Two forms:
//   alternating  (Algorithm 1 as written) k times: fresh z and x, D forward on both, D update; then
//                fresh z, G forward, D forward on the samples, G update through D.
//   simultaneous (the authors' AdversaryCost2, k = 1) one z and x; G forward once; D on both with
//                separate dropout masks; D's and G's gradients from that one pass; both updated.
//
// The RNG keys of every pass are in ./keys.ts; src/reference/step.ts is the CPU twin of one iteration.
import type { Clock } from '../gpu/clock';
import { ReadbackRing } from '../gpu/readback';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { isSoftwareAdapter, waitYieldingCores } from '../gpu/wait';
import { clearStats, createStatsBuffer, discriminatorLoss, generatorLoss } from '../kernels/gan_loss';
import { averageGanStats, GAN_STATS, GAN_STATS_LENGTH } from '../spec/stats';
import { createNonfiniteFlag, createOptimizer, type Optimizer } from '../kernels/optimizer';
import { createEmaUpdate, type EmaUpdate } from '../kernels/ema';
import { emaDecayAt } from '../spec/ema';
import { noiseDispatch } from '../kernels/noise';
import { gatherDispatch } from '../kernels/gather';
import type { GpuDataset } from '../data/dataset';
import { GpuNetwork, GpuPass } from '../nn/mlp';
import { STREAM_GATHER, STREAM_NOISE } from '../spec/rng';
import { DISCRIMINATOR_DROPOUT_STREAM, FAKE_PASS, FIXED_NOISE_PASS, GENERATOR_DROPOUT_STREAM, REAL_PASS, dStepPass, gStepPass } from '../spec/keys';
import { dataFeatures, discriminatorSpec, generatorSpec, type TrainConfig } from '../spec/config';
import { learningRate, momentum } from '../spec/schedule';
import type { TrainingState } from '../spec/state';

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

export interface TrainerOptions {
  /** Generated samples copied out on sample iterations (fixed noise). */
  sampleCount: number;
  /** 1-D data: where D is evaluated for the Figure 1 curve, and how many points. */
  curve?: { lo: number; hi: number; points: number };
}

interface Plan {
  dispatches: Dispatch[];
  /** G's output of the G step: the batch a viewer reads while the next plan writes the other. */
  samples: GPUBuffer;
}

/** Which generator the views and sample copies show: the moving average of G's weights, or G itself. */
export type ShownGenerator = 'average' | 'raw';

export class Trainer {
  iteration = 0;
  readonly generator: GpuNetwork;
  readonly discriminator: GpuNetwork;
  /** The moving average of G's weights (config.emaDecay > 0), updated after every G update. */
  readonly generatorAverage?: GpuNetwork;
  private emaUpdate?: EmaUpdate;
  /** Optimizer state, laid out like each network's parameters (velocity, or Adam's two moments). */
  readonly optimizerState: { generator: GPUBuffer[]; discriminator: GPUBuffer[] };
  readonly stats: GPUBuffer;
  readonly nonfinite: GPUBuffer;
  private readonly plans: Plan[] = [];
  /** G on the fixed noise (and D's curve), per generator that can be shown. */
  private readonly sampling = new Map<ShownGenerator, { dispatches: Dispatch[]; output: GPUBuffer }>();
  private shownGenerator: ShownGenerator = 'raw';
  private dOptimizers: Optimizer[] = [];
  private gOptimizer!: Optimizer;
  private readonly statsRing: ReadbackRing;
  /** The optimizers' non-finite flag, copied with every statistics copy and under the same tag. */
  private readonly flagRing: ReadbackRing;
  private readonly sampleRing: ReadbackRing;
  private readonly curveRing?: ReadbackRing;
  private readonly owned: { destroy(): void }[] = [];
  private readonly iterationsPerEpoch: number;
  private fixedNoise!: GPUBuffer;
  private curveOutput?: GPUBuffer;
  private readonly pendingMetrics = new Map<number, { lr: number; momentum: number }>();

  private constructor(
    readonly rt: Runtime,
    readonly clock: Clock,
    readonly config: TrainConfig,
    readonly dataset: GpuDataset,
    readonly options: TrainerOptions,
  ) {
    this.generator = new GpuNetwork(rt, generatorSpec(config));
    this.discriminator = new GpuNetwork(rt, discriminatorSpec(config));
    if (config.emaDecay > 0) this.generatorAverage = new GpuNetwork(rt, { ...generatorSpec(config), name: 'generator_average' }, { trainable: false });
    const stateCount = config.optimizer.kind === 'adam' ? 2 : 1;
    const state = (network: GpuNetwork) =>
      Array.from({ length: stateCount }, (_, i) => rt.createBuffer(`${network.spec.name}.optimizer_state${i}`, network.layout.totalFloats * 4));
    this.optimizerState = { generator: state(this.generator), discriminator: state(this.discriminator) };
    this.stats = createStatsBuffer(rt);
    this.nonfinite = createNonfiniteFlag(rt);
    this.statsRing = new ReadbackRing(rt.device, GAN_STATS_LENGTH * 4, 4, 'stats.readback');
    this.flagRing = new ReadbackRing(rt.device, 4, 4, 'nonfinite.readback');
    this.sampleRing = new ReadbackRing(rt.device, options.sampleCount * dataFeatures(config) * 4, 2, 'samples.readback');
    if (options.curve) this.curveRing = new ReadbackRing(rt.device, options.curve.points * 4, 2, 'curve.readback');
    this.iterationsPerEpoch = Math.max(1, Math.floor(dataset.count / config.batch));
    this.owned.push(this.generator, this.discriminator, ...(this.generatorAverage ? [this.generatorAverage] : []), this.statsRing, this.flagRing, this.sampleRing, ...(this.curveRing ? [this.curveRing] : []));
  }

  /** Builds the networks, uploads the initial parameters, and makes both step plans. */
  static async create(rt: Runtime, clock: Clock, config: TrainConfig, dataset: GpuDataset, initial: { generator: Float32Array; discriminator: Float32Array }, options: TrainerOptions): Promise<Trainer> {
    const trainer = new Trainer(rt, clock, config, dataset, options);
    await trainer.generator.upload(initial.generator);
    await trainer.generatorAverage?.upload(initial.generator);
    await trainer.discriminator.upload(initial.discriminator);
    await trainer.buildOptimizers();
    for (const parity of [0, 1]) trainer.plans.push(await trainer.buildPlan(parity));
    await trainer.buildSampling();
    return trainer;
  }

  private buffer(label: string, floats: number): GPUBuffer {
    const b = this.rt.createBuffer(label, floats * 4);
    this.owned.push(b);
    return b;
  }

  private pass(network: GpuNetwork, batch: number, input: GPUBuffer, sub: number, label: string, dropout = true): GpuPass {
    const streamBase = network === this.generator ? GENERATOR_DROPOUT_STREAM : DISCRIMINATOR_DROPOUT_STREAM;
    const pass = GpuPass.create(network, this.clock, batch, input, { seed: this.config.seed, sub, streamBase, dropout }, label);
    this.owned.push(pass);
    return pass;
  }

  private noise(z: GPUBuffer, rows: number, sub: number): Promise<Dispatch> {
    const { noise, seed } = this.config;
    return noiseDispatch(this.rt, this.clock, { ...noise, rows, cols: noise.dim, seed, stream: STREAM_NOISE, sub }, z);
  }

  private async buildOptimizers(): Promise<void> {
    const { kind, beta1, beta2, epsilon } = this.config.optimizer;
    const hyper = { ...this.hyperparameters(0), beta1, beta2, epsilon };
    const make = (network: GpuNetwork, state: GPUBuffer[]) =>
      createOptimizer(
        this.rt,
        { rule: kind, count: network.layout.totalFloats },
        { grad: network.grads, param: network.params, velocity: state[0], firstMoment: state[0], secondMoment: state[1], nonfinite: this.nonfinite },
        hyper,
      );
    // One optimizer per D step of an iteration: each has its own uniform, so Adam's step count is
    // right for every one of the k updates recorded into a single submission.
    for (let j = 0; j < this.config.k; j++) this.dOptimizers.push(await make(this.discriminator, this.optimizerState.discriminator));
    this.gOptimizer = await make(this.generator, this.optimizerState.generator);
    if (this.generatorAverage) {
      const count = this.generator.layout.totalFloats;
      this.emaUpdate = await createEmaUpdate(this.rt, count, { param: this.generator.params, average: this.generatorAverage.params }, emaDecayAt(this.config.emaDecay, 1));
    }
  }

  /** G's update, then (with an average) the average's: the dispatches that end every plan. */
  private get generatorUpdates(): Dispatch[] {
    return [this.gOptimizer.dispatch, ...(this.emaUpdate ? [this.emaUpdate.dispatch] : [])];
  }

  private hyperparameters(iteration: number): { lr: number; momentum: number } {
    return { lr: learningRate(this.config.optimizer, iteration), momentum: momentum(this.config.optimizer, iteration, this.iterationsPerEpoch) };
  }

  private async buildPlan(parity: number): Promise<Plan> {
    const { batch, k, form, gLoss } = this.config;
    const noiseDim = this.config.noise.dim;
    const features = dataFeatures(this.config);
    const p = `plan${parity}`;
    const z = this.buffer(`${p}.z`, batch * noiseDim);
    const x = this.buffer(`${p}.x`, batch * features);
    const indices = this.buffer(`${p}.indices`, batch);
    const dlogitsReal = this.buffer(`${p}.dlogits_real`, batch);
    const dlogitsFake = this.buffer(`${p}.dlogits_fake`, batch);
    const dlogitsG = this.buffer(`${p}.dlogits_g`, batch);
    const sampleGrad = this.buffer(`${p}.sample_grad`, batch * features);
    const gather = (sub: number) => gatherDispatch(this.rt, this.clock, { batch, seed: this.config.seed, stream: STREAM_GATHER, sub }, this.dataset, { x, indices });
    const dLoss = (real: GpuPass, fake: GpuPass) =>
      discriminatorLoss(this.rt, { nReal: batch, nFake: batch, realTarget: this.config.realTarget }, { logitsReal: real.output, logitsFake: fake.output, dlogitsReal, dlogitsFake, stats: this.stats });
    const gLossDispatch = (fake: GpuPass) => generatorLoss(this.rt, { n: batch, loss: gLoss }, { logitsFake: fake.output, dlogitsFake: dlogitsG, stats: this.stats });
    const dBackward = async (real: GpuPass, fake: GpuPass) => [
      ...(await real.backward({ outputGrad: dlogitsReal })),
      ...(await fake.backward({ outputGrad: dlogitsFake, accumulate: true })),
    ];
    const gBackward = async (g: GpuPass, fake: GpuPass) => [
      ...(await fake.backward({ outputGrad: dlogitsG, weightGrads: false, inputGrad: sampleGrad })),
      ...(await g.backward({ outputGrad: sampleGrad })),
    ];
    const dispatches: Dispatch[] = [];

    /** D step j's passes: fresh z and x, G forward, D forward on both, D's loss. */
    const discriminatorStep = async (j: number, label: string) => {
      const sub = dStepPass(j);
      const g = this.pass(this.generator, batch, z, sub, `${label}.g`);
      const real = this.pass(this.discriminator, batch, x, sub + REAL_PASS, `${label}.d_real`);
      const fake = this.pass(this.discriminator, batch, g.output, sub + FAKE_PASS, `${label}.d_fake`);
      const forward = [
        await this.noise(z, batch, sub),
        await gather(sub),
        ...(await g.forward()),
        ...(await real.forward()),
        ...(await fake.forward()),
        await dLoss(real, fake),
      ];
      return { g, real, fake, forward };
    };

    if (form === 'simultaneous') {
      const { g, real, fake, forward } = await discriminatorStep(0, p);
      dispatches.push(
        ...forward,
        await gLossDispatch(fake),
        ...(await dBackward(real, fake)),
        ...(await gBackward(g, fake)),
        this.dOptimizers[0].dispatch,
        ...this.generatorUpdates,
      );
      return { dispatches, samples: g.output };
    }

    for (let j = 0; j < k; j++) {
      const { real, fake, forward } = await discriminatorStep(j, `${p}.d_step${j}`);
      dispatches.push(...forward, ...(await dBackward(real, fake)), this.dOptimizers[j].dispatch);
    }
    const sub = gStepPass(k);
    const g = this.pass(this.generator, batch, z, sub, `${p}.g_step.g`);
    const fake = this.pass(this.discriminator, batch, g.output, sub + FAKE_PASS, `${p}.g_step.d_fake`);
    dispatches.push(
      await this.noise(z, batch, sub),
      ...(await g.forward()),
      ...(await fake.forward()),
      await gLossDispatch(fake),
      ...(await gBackward(g, fake)),
      ...this.generatorUpdates,
    );
    return { dispatches, samples: g.output };
  }

  /**
   * The fixed noise of the sample grids, G (and its average) on it, and (1-D data) D on an even grid
   * of x, without dropout. The average is shown when there is one.
   */
  private async buildSampling(): Promise<void> {
    const { sampleCount, curve } = this.options;
    this.fixedNoise = this.buffer('samples.z', sampleCount * this.config.noise.dim);
    this.clock.set(0);
    this.rt.run([await this.noise(this.fixedNoise, sampleCount, FIXED_NOISE_PASS)], 'samples.noise');
    const curveDispatches: Dispatch[] = [];
    if (curve) {
      const grid = new Float32Array(curve.points).map((_, i) => curve.lo + ((curve.hi - curve.lo) * i) / (curve.points - 1));
      const xs = this.rt.upload('curve.x', grid);
      this.owned.push(xs);
      const d = this.pass(this.discriminator, curve.points, xs, FIXED_NOISE_PASS, 'curve.d', false);
      this.curveOutput = d.output;
      curveDispatches.push(...(await d.forward()));
    }
    const generators: [ShownGenerator, GpuNetwork | undefined][] = [['raw', this.generator], ['average', this.generatorAverage]];
    for (const [shown, network] of generators) {
      if (!network) continue;
      const g = this.pass(network, sampleCount, this.fixedNoise, FIXED_NOISE_PASS, `samples.${network.spec.name}`, false);
      this.sampling.set(shown, { dispatches: [...(await g.forward()), ...curveDispatches], output: g.output });
    }
    this.shownGenerator = this.generatorAverage ? 'average' : 'raw';
  }

  /** Whether the views and sample copies show G's moving average or G itself. */
  get shown(): ShownGenerator {
    return this.shownGenerator;
  }

  /** The network the views show: G's moving average, or G. */
  get shownNetwork(): GpuNetwork {
    return this.shownGenerator === 'average' ? this.generatorAverage! : this.generator;
  }

  /** Shows the average (when the config keeps one) or G itself in the views and sample copies. */
  show(generator: ShownGenerator): void {
    if (!this.sampling.has(generator)) throw new Error(`This run keeps no moving average of G (emaDecay is 0): only the raw generator can be shown.`);
    this.shownGenerator = generator;
  }

  private get shownSampling(): { dispatches: Dispatch[]; output: GPUBuffer } {
    return this.sampling.get(this.shownGenerator)!;
  }

  /** The update dispatches (D's k, G's one, the average's): what tests look for in the recorded order. */
  get updateDispatches(): { discriminator: Dispatch[]; generator: Dispatch; average?: Dispatch } {
    return { discriminator: this.dOptimizers.map((o) => o.dispatch), generator: this.gOptimizer.dispatch, average: this.emaUpdate?.dispatch };
  }

  /** The shown generator's output on the fixed noise, (sampleCount, features): refreshed on sample iterations and by `recordSampling`. */
  get fixedNoiseSamples(): GPUBuffer {
    return this.shownSampling.output;
  }

  /** Records the shown generator on the fixed noise (and D's curve) into a pass, without training: views between iterations. */
  recordSampling(pass: GPUComputePassEncoder): void {
    for (const d of this.shownSampling.dispatches) d.record(pass);
  }

  /** The shown generator on the fixed noise, computed now and read back (waits: between iterations only). */
  async readFixedNoiseSamples(): Promise<Float32Array> {
    this.rt.run(this.shownSampling.dispatches, 'samples.now');
    return this.rt.readF32(this.fixedNoiseSamples, this.options.sampleCount * dataFeatures(this.config));
  }

  /** The buffer holding the G step's most recent generated batch (the other plan writes next). */
  get latestSamples(): GPUBuffer {
    return this.plans[(this.iteration + 1) % 2].samples;
  }

  /**
   * Records and submits one iteration. `log` copies the statistics out (they arrive through
   * `collect`) and starts a new window, unless `keepStats` (a run ending between two logs reports
   * its partial window but keeps it running, so a resumed run logs what an uninterrupted one
   * would); `sample` copies the fixed-noise samples.
   */
  step(flags: { log: boolean; sample: boolean; keepStats?: boolean }): void {
    const i = this.iteration;
    const { lr, momentum } = this.hyperparameters(i);
    this.clock.set(i);
    for (let j = 0; j < this.dOptimizers.length; j++) this.dOptimizers[j].set({ lr, momentum, step: i * this.config.k + j + 1 });
    this.gOptimizer.set({ lr: lr * this.config.optimizer.generatorLrScale, momentum, step: i + 1 });
    this.emaUpdate?.setDecay(emaDecayAt(this.config.emaDecay, i + 1));
    const encoder = this.rt.device.createCommandEncoder({ label: `iteration ${i}` });
    const pass = encoder.beginComputePass({ label: `iteration ${i}` });
    for (const d of this.plans[i % 2].dispatches) d.record(pass);
    if (flags.sample) this.recordSampling(pass);
    pass.end();
    if (flags.log) {
      const tag = i + 1;
      // Both rings have the same number of slots and are drained together, so both copies fit.
      if (this.statsRing.copy(encoder, this.stats, tag) && this.flagRing.copy(encoder, this.nonfinite, tag)) {
        if (!flags.keepStats) clearStats(encoder, this.stats);
        this.pendingMetrics.set(tag, { lr, momentum });
      }
    }
    if (flags.sample) {
      this.sampleRing.copy(encoder, this.fixedNoiseSamples, i + 1);
      if (this.curveRing && this.curveOutput) this.curveRing.copy(encoder, this.curveOutput, i + 1);
    }
    this.rt.device.queue.submit([encoder.finish()]);
    this.iteration = i + 1;
  }

  /**
   * Waits for the GPU to finish what was submitted, then starts mapping the copies. On a software
   * adapter the main thread waits at the lowest priority, leaving the cores to the adapter's workers
   * (src/gpu/wait.ts).
   */
  async settle(): Promise<void> {
    await waitYieldingCores(() => this.rt.device.queue.onSubmittedWorkDone(), isSoftwareAdapter(this.rt.context));
    this.statsRing.submitted();
    this.flagRing.submitted();
    this.sampleRing.submitted();
    this.curveRing?.submitted();
    // The maps of finished work resolve on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }

  /** Readback copies submitted but not yet collected. */
  get copiesInFlight(): number {
    return this.statsRing.inFlight + this.flagRing.inFlight + this.sampleRing.inFlight + (this.curveRing?.inFlight ?? 0);
  }

  /** Metrics and samples that have arrived since the last call; throws on a non-finite value. */
  collect(): { metrics: MetricsRecord[]; samples: SampleBatch[] } {
    const flags = new Map(this.flagRing.drain().map(({ tag, data }) => [tag, new Uint32Array(data)[0]]));
    const metrics = this.statsRing.drain().map(({ tag, data }) => {
      const sums = new Float32Array(data, 0, GAN_STATS_LENGTH);
      const schedule = this.pendingMetrics.get(tag)!;
      this.pendingMetrics.delete(tag);
      if (sums[GAN_STATS.nonfinite] > 0) {
        throw new DivergenceError(`Training diverged by iteration ${tag}: D's logits became NaN or infinite (${sums[GAN_STATS.nonfinite]} values). Lower the learning rate.`);
      }
      if (flags.get(tag)) {
        throw new DivergenceError(`Training diverged by iteration ${tag}: an update made a parameter of G or D NaN or infinite. Lower the learning rate.`);
      }
      const mean = averageGanStats(sums);
      return { iter: tag, d_loss: mean.dLoss, g_loss: mean.gLoss, d_real: mean.dReal, d_fake: mean.dFake, lr: schedule.lr, momentum: schedule.momentum };
    });
    const curves = new Map(this.curveRing?.drain().map(({ tag, data }) => [tag, new Float32Array(data).map((l) => 1 / (1 + Math.exp(-l)))]) ?? []);
    const samples = this.sampleRing.drain().map(({ tag, data }) => ({ iter: tag, samples: new Float32Array(data), count: this.options.sampleCount, discriminatorCurve: curves.get(tag) }));
    return { metrics, samples };
  }

  /** The parameter and optimizer-state tensors holding a NaN or an infinity, by checkpoint name. */
  async nonfiniteTensors(): Promise<string[]> {
    const state = await this.readState();
    const names: string[] = [];
    for (const [player, net] of [['generator', this.generator], ['discriminator', this.discriminator]] as const) {
      const buffers: [string, Float32Array][] = [['', state[player].params], ...state[player].optimizer.map((data, i): [string, Float32Array] => [` (optimizer state ${i})`, data])];
      for (const [suffix, data] of buffers) {
        for (const t of net.layout.tensors) {
          if (data.subarray(t.offset, t.offset + t.size).some((v) => !Number.isFinite(v))) names.push(t.name + suffix);
        }
      }
    }
    return names;
  }

  /** Copies out everything a checkpoint holds (waits for the queue: call between iterations). */
  async readState(): Promise<TrainingState> {
    const read = (b: GPUBuffer, n: number) => this.rt.readF32(b, n);
    const network = async (net: GpuNetwork, state: GPUBuffer[]) => ({
      params: await read(net.params, net.layout.totalFloats),
      optimizer: await Promise.all(state.map((b) => read(b, net.layout.totalFloats))),
    });
    return {
      config: this.config,
      iteration: this.iteration,
      generator: {
        ...(await network(this.generator, this.optimizerState.generator)),
        ...(this.generatorAverage && { average: await read(this.generatorAverage.params, this.generator.layout.totalFloats) }),
      },
      discriminator: await network(this.discriminator, this.optimizerState.discriminator),
      stats: await read(this.stats, GAN_STATS_LENGTH),
    };
  }

  /** Continues from a checkpoint: parameters, optimizer state, statistics and iteration. */
  async loadState(state: TrainingState): Promise<void> {
    const queue = this.rt.device.queue;
    const write = (b: GPUBuffer, data: Float32Array) => queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
    await this.generator.upload(state.generator.params);
    if (this.generatorAverage) {
      // A state without an average (a run that kept none) starts one from G's weights.
      await this.generatorAverage.upload(state.generator.average ?? state.generator.params);
    }
    await this.discriminator.upload(state.discriminator.params);
    state.generator.optimizer.forEach((data, i) => write(this.optimizerState.generator[i], data));
    state.discriminator.optimizer.forEach((data, i) => write(this.optimizerState.discriminator[i], data));
    // A weights-only state has no optimizer state or statistics: they start from zero.
    if (state.stats.length > 0) write(this.stats, state.stats);
    this.iteration = state.iteration;
  }

  destroy(): void {
    for (const o of this.owned) o.destroy();
    for (const b of [...this.optimizerState.generator, ...this.optimizerState.discriminator, this.stats, this.nonfinite]) b.destroy();
  }
}
