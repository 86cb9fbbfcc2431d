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
import { emaDecayAfter, emaDecayAt } from '../spec/ema';
import { classNoise, noiseDispatch } from '../kernels/noise';
import { gatherDispatch, gatherLabelsDispatch } from '../kernels/gather';
import { denseForward } from '../kernels/dense';
import { ConfigError } from './config';
import { classWeightName, optimizerSegments } from '../nn/layout';
import type { GpuDataset } from '../data/dataset';
import { GpuNetwork, GpuPass } from '../nn/mlp';
import { STREAM_GATHER, STREAM_NOISE } from '../spec/rng';
import { DISCRIMINATOR_DROPOUT_STREAM, FAKE_PASS, FIXED_NOISE_PASS, GENERATOR_DROPOUT_STREAM, REAL_PASS, dStepPass, gStepPass } from '../spec/keys';
import { dataFeatures, discriminatorSpec, generatorSpec, isConditional, type TrainConfig } from '../spec/config';
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

interface ClassInterpolation {
  steps: number;
  /** The one z, repeated on every row. */
  z: GPUBuffer;
  /** (steps, classes): row i the mixture of the two one-hots at t = i / (steps - 1). */
  mix: GPUBuffer;
  runs: Map<ShownGenerator, { dispatches: Dispatch[]; output: GPUBuffer }>;
  destroy(): void;
}

/** Which generator the views and sample copies show: the moving average of G's weights, or G itself. */
export type ShownGenerator = 'average' | 'raw';

/** One network's update: an optimizer per range of its buffer that takes its own lr (optimizerSegments). */
class NetworkOptimizer {
  constructor(private readonly parts: { optimizer: Optimizer; lrScale: number }[]) {}

  get dispatches(): Dispatch[] {
    return this.parts.map((p) => p.optimizer.dispatch);
  }

  set(changes: { lr: number; momentum: number; step: number }): void {
    for (const { optimizer, lrScale } of this.parts) optimizer.set({ ...changes, lr: changes.lr * lrScale });
  }
}

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
  private dOptimizers: NetworkOptimizer[] = [];
  private gOptimizer!: NetworkOptimizer;
  private readonly statsRing: ReadbackRing;
  /** The optimizers' non-finite flag, copied with every statistics copy and under the same tag. */
  private readonly flagRing: ReadbackRing;
  private readonly sampleRing: ReadbackRing;
  private readonly curveRing?: ReadbackRing;
  private readonly owned: { destroy(): void }[] = [];
  private readonly iterationsPerEpoch: number;
  private fixedNoise!: GPUBuffer;
  /** A conditional G's class of each fixed-noise sample (sampleCount) u32: one class per grid row unless the page chose others. */
  private fixedLabels?: GPUBuffer;
  private sampleClassList?: Uint32Array<ArrayBuffer>;
  /** The interpolation between two classes at fixed z, built on first use (setClassInterpolation). */
  private classInterpolation?: ClassInterpolation;
  private curveOutput?: GPUBuffer;
  private readonly pendingMetrics = new Map<number, { lr: number; momentum: number }>();

  private constructor(
    readonly rt: Runtime,
    readonly clock: Clock,
    readonly config: TrainConfig,
    readonly dataset: GpuDataset,
    readonly options: TrainerOptions,
  ) {
    if (isConditional(config)) {
      if (!dataset.labels) throw new ConfigError(`config field 'classes': ${config.classes} classes asked for, but the data '${config.data}' has no labels`);
      if (dataset.classes !== config.classes) throw new ConfigError(`config field 'classes': ${config.classes} classes asked for, but the data '${config.data}' has ${dataset.classes}`);
    }
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

  private pass(network: GpuNetwork, batch: number, input: GPUBuffer, sub: number, label: string, dropout = true, labels?: GPUBuffer): GpuPass {
    const streamBase = network === this.discriminator ? DISCRIMINATOR_DROPOUT_STREAM : GENERATOR_DROPOUT_STREAM;
    const pass = GpuPass.create(network, this.clock, batch, input, { seed: this.config.seed, sub, streamBase, dropout }, label, labels);
    this.owned.push(pass);
    return pass;
  }

  private noise(z: GPUBuffer, rows: number, sub: number): Promise<Dispatch> {
    const { noise, seed } = this.config;
    return noiseDispatch(this.rt, this.clock, { ...noise, rows, cols: noise.dim, seed, stream: STREAM_NOISE, sub }, z);
  }

  /** z and, for a conditional G, the class of each row, keyed by the same pass. */
  private async noiseAndClasses(z: GPUBuffer, labels: GPUBuffer | undefined, rows: number, sub: number): Promise<Dispatch[]> {
    const classes = labels ? [await classNoise(this.rt, this.clock, { rows, classes: this.config.classes, seed: this.config.seed, sub }, labels)] : [];
    return [await this.noise(z, rows, sub), ...classes];
  }

  private async buildOptimizers(): Promise<void> {
    const { kind, beta1, beta2, epsilon } = this.config.optimizer;
    const hyper = { ...this.hyperparameters(0), beta1, beta2, epsilon };
    const make = async (network: GpuNetwork, state: GPUBuffer[]) => {
      const parts: { optimizer: Optimizer; lrScale: number }[] = [];
      for (const { offset, count, lrScale } of optimizerSegments(network.spec, this.config.optimizer.classLrScale)) {
        const range = (buffer: GPUBuffer) => ({ buffer, offset: offset * 4, size: count * 4 });
        const optimizer = await createOptimizer(
          this.rt,
          { rule: kind, count },
          { grad: range(network.grads), param: range(network.params), velocity: range(state[0]), firstMoment: range(state[0]), secondMoment: state[1] && range(state[1]), nonfinite: this.nonfinite },
          { ...hyper, lr: hyper.lr * lrScale },
        );
        parts.push({ optimizer, lrScale });
      }
      return new NetworkOptimizer(parts);
    };
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
    return [...this.gOptimizer.dispatches, ...(this.emaUpdate ? [this.emaUpdate.dispatch] : [])];
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
    // A conditional GAN's classes: G's rows' from the noise kernel (D's fake pass reads the same),
    // the minibatch's from the gather's labels.
    const conditional = isConditional(this.config);
    const gLabels = conditional ? this.buffer(`${p}.g_labels`, batch) : undefined;
    const realLabels = conditional ? this.buffer(`${p}.real_labels`, batch) : undefined;
    const gather = async (sub: number) => [
      await gatherDispatch(this.rt, this.clock, { batch, seed: this.config.seed, stream: STREAM_GATHER, sub }, this.dataset, { x, indices }),
      ...(realLabels ? [await gatherLabelsDispatch(this.rt, batch, this.dataset, { indices, rowLabels: realLabels })] : []),
    ];
    const dLoss = (real: GpuPass, fake: GpuPass) =>
      discriminatorLoss(this.rt, { nReal: batch, nFake: batch, realTarget: this.config.realTarget, loss: gLoss }, { logitsReal: real.output, logitsFake: fake.output, dlogitsReal, dlogitsFake, stats: this.stats });
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
      const g = this.pass(this.generator, batch, z, sub, `${label}.g`, true, gLabels);
      const real = this.pass(this.discriminator, batch, x, sub + REAL_PASS, `${label}.d_real`, true, realLabels);
      const fake = this.pass(this.discriminator, batch, g.output, sub + FAKE_PASS, `${label}.d_fake`, true, gLabels);
      const forward = [
        ...(await this.noiseAndClasses(z, gLabels, batch, sub)),
        ...(await gather(sub)),
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
        ...this.dOptimizers[0].dispatches,
        ...this.generatorUpdates,
      );
      return { dispatches, samples: g.output };
    }

    for (let j = 0; j < k; j++) {
      const { real, fake, forward } = await discriminatorStep(j, `${p}.d_step${j}`);
      dispatches.push(...forward, ...(await dBackward(real, fake)), ...this.dOptimizers[j].dispatches);
    }
    const sub = gStepPass(k);
    const g = this.pass(this.generator, batch, z, sub, `${p}.g_step.g`, true, gLabels);
    const fake = this.pass(this.discriminator, batch, g.output, sub + FAKE_PASS, `${p}.g_step.d_fake`, true, gLabels);
    dispatches.push(
      ...(await this.noiseAndClasses(z, gLabels, batch, sub)),
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
    if (isConditional(this.config)) {
      this.fixedLabels = this.buffer('samples.labels', sampleCount);
      this.setSampleClasses();
    }
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
      const g = this.pass(network, sampleCount, this.fixedNoise, FIXED_NOISE_PASS, `samples.${network.spec.name}`, false, this.fixedLabels);
      this.sampling.set(shown, { dispatches: [...(await g.forward()), ...curveDispatches], output: g.output });
    }
    this.shownGenerator = this.generatorAverage ? 'average' : 'raw';
  }

  /** The grid's default classes: one class per row of a square grid (10 x 10 for 10 classes: row r = class r). */
  defaultSampleClasses(): Uint32Array<ArrayBuffer> {
    const count = this.options.sampleCount;
    const columns = Math.max(1, Math.round(Math.sqrt(count)));
    return Uint32Array.from({ length: count }, (_, i) => Math.floor(i / columns) % this.config.classes);
  }

  /**
   * A conditional model's classes for the fixed-noise samples: one class for all of them (a number),
   * one per sample (an array of sampleCount classes), or none given: the default grid, one class per
   * row. The samples keep their z, so the same noise is drawn as another class; the views and sample
   * copies show it from the next recording on (`recordSampling`, a sample iteration or
   * `readFixedNoiseSamples`). Between iterations only (it writes a buffer the plan reads).
   */
  setSampleClasses(classes?: number | number[] | Uint32Array): void {
    if (!this.fixedLabels) throw new ConfigError(`config field 'classes': this model is not conditional (classes 0), so its samples have no class to choose`);
    const count = this.options.sampleCount;
    const list = classes === undefined ? this.defaultSampleClasses() : typeof classes === 'number' ? new Uint32Array(count).fill(classes) : Uint32Array.from(classes);
    if (list.length !== count) throw new RangeError(`setSampleClasses: ${list.length} classes given for ${count} samples (give one class, or one per sample)`);
    const asked = typeof classes === 'number' ? [classes] : classes === undefined ? [] : Array.from(classes);
    const bad = asked.find((c) => !Number.isInteger(c) || c < 0 || c >= this.config.classes);
    if (bad !== undefined) throw new RangeError(`setSampleClasses: class ${bad} is not an integer in [0, ${this.config.classes})`);
    this.sampleClassList = list;
    this.rt.device.queue.writeBuffer(this.fixedLabels, 0, list);
  }

  /** The class of each fixed-noise sample (a copy); undefined for an unconditional model. */
  get sampleClasses(): Uint32Array | undefined {
    return this.sampleClassList?.slice();
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
  async setClassInterpolation(from: number, to: number, options: { steps?: number; sample?: number } = {}): Promise<void> {
    const classes = this.config.classes;
    if (!isConditional(this.config)) throw new ConfigError(`config field 'classes': this model is not conditional (classes 0), so it has no classes to interpolate`);
    const { steps = 10, sample = 0 } = options;
    for (const [name, c] of [['from', from], ['to', to]] as const) {
      if (!Number.isInteger(c) || c < 0 || c >= classes) throw new RangeError(`setClassInterpolation: '${name}' class ${c} is not an integer in [0, ${classes})`);
    }
    if (!Number.isInteger(steps) || steps < 2) throw new RangeError(`setClassInterpolation: steps must be an integer of at least 2, got ${steps}`);
    if (!Number.isInteger(sample) || sample < 0 || sample >= this.options.sampleCount) throw new RangeError(`setClassInterpolation: sample ${sample} is not one of the ${this.options.sampleCount} fixed-noise samples`);
    if (this.classInterpolation && this.classInterpolation.steps !== steps) {
      this.classInterpolation.destroy();
      this.classInterpolation = undefined;
    }
    this.classInterpolation ??= await this.buildClassInterpolation(steps);
    const mix = new Float32Array(steps * classes);
    for (let i = 0; i < steps; i++) {
      const t = i / (steps - 1);
      mix[i * classes + from] += 1 - t;
      mix[i * classes + to] += t;
    }
    const { rt } = this;
    rt.device.queue.writeBuffer(this.classInterpolation.mix, 0, mix);
    const dim = this.config.noise.dim;
    const encoder = rt.device.createCommandEncoder({ label: 'class_interpolation.z' });
    for (let i = 0; i < steps; i++) encoder.copyBufferToBuffer(this.fixedNoise, sample * dim * 4, this.classInterpolation.z, i * dim * 4, dim * 4);
    rt.device.queue.submit([encoder.finish()]);
  }

  private async buildClassInterpolation(steps: number): Promise<ClassInterpolation> {
    const { rt } = this;
    const classes = this.config.classes;
    const owned: { destroy(): void }[] = [];
    const make = (label: string, floats: number) => {
      const b = rt.createBuffer(label, floats * 4);
      owned.push(b);
      return b;
    };
    const first = this.generator.spec.layers[0];
    const width = first.units * first.pieces;
    const z = make('class_interpolation.z', steps * this.config.noise.dim);
    const mix = make('class_interpolation.mix', steps * classes);
    const zeros = make('class_interpolation.zeros', width);
    const rows = make('class_interpolation.rows', steps * width);
    const labels = rt.upload('class_interpolation.labels', Uint32Array.from({ length: steps }, (_, i) => i));
    owned.push(labels);
    const runs = new Map<ShownGenerator, { dispatches: Dispatch[]; output: GPUBuffer }>();
    const generators: [ShownGenerator, GpuNetwork | undefined][] = [['raw', this.generator], ['average', this.generatorAverage]];
    for (const [shown, network] of generators) {
      if (!network) continue;
      // The mixed class rows, (steps, width) = mix (steps, classes) x E (classes, width): the dense
      // product itself, with an identity activation and a zero bias.
      const mixRows = await denseForward(rt, this.clock, { batch: steps, inFeatures: classes, units: width, pieces: 1, activation: 'identity' }, {
        x: mix,
        weight: network.range(network.params, classWeightName(network.spec)),
        bias: zeros,
        y: rows,
      });
      const g = GpuPass.create(network, this.clock, steps, z, { seed: this.config.seed, sub: FIXED_NOISE_PASS, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false }, `class_interpolation.${network.spec.name}`, { labels, rows: { buffer: rows, count: steps } });
      owned.push(g);
      runs.set(shown, { dispatches: [...mixRows, ...(await g.forward())], output: g.output });
    }
    return { steps, z, mix, runs, destroy: () => owned.forEach((o) => o.destroy()) };
  }

  /** The shown generator's class interpolation, (steps, features): filled by `recordClassInterpolation`. */
  get classInterpolationSamples(): GPUBuffer {
    return this.interpolationRun().output;
  }

  /** Records the shown generator's class interpolation into a pass (after setClassInterpolation). */
  recordClassInterpolation(pass: GPUComputePassEncoder): void {
    for (const d of this.interpolationRun().dispatches) d.record(pass);
  }

  /** The class interpolation computed now and read back, (steps, features) (waits: between iterations only). */
  async readClassInterpolation(): Promise<Float32Array> {
    const run = this.interpolationRun();
    this.rt.run(run.dispatches, 'class_interpolation.now');
    return this.rt.readF32(run.output, this.classInterpolation!.steps * dataFeatures(this.config));
  }

  private interpolationRun(): { dispatches: Dispatch[]; output: GPUBuffer } {
    if (!this.classInterpolation) throw new Error('No class interpolation yet: call setClassInterpolation(from, to) first.');
    return this.classInterpolation.runs.get(this.shownGenerator)!;
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

  /**
   * The update dispatches (D's k, G's one, the average's): what tests look for in the recorded order.
   * With a class lr scale an update is several dispatches; each is named by its first.
   */
  get updateDispatches(): { discriminator: Dispatch[]; generator: Dispatch; average?: Dispatch } {
    return { discriminator: this.dOptimizers.map((o) => o.dispatches[0]), generator: this.gOptimizer.dispatches[0], average: this.emaUpdate?.dispatch };
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
    this.emaUpdate?.setDecay(emaDecayAfter(this.config, i));
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
    // A file of G alone leaves D as the trainer made it.
    if (!state.generatorOnly) await this.discriminator.upload(state.discriminator.params);
    state.generator.optimizer.forEach((data, i) => write(this.optimizerState.generator[i], data));
    state.discriminator.optimizer.forEach((data, i) => write(this.optimizerState.discriminator[i], data));
    // A weights-only state has no optimizer state or statistics: they start from zero.
    if (state.stats.length > 0) write(this.stats, state.stats);
    this.iteration = state.iteration;
  }

  destroy(): void {
    this.classInterpolation?.destroy();
    for (const o of this.owned) o.destroy();
    for (const b of [...this.optimizerState.generator, ...this.optimizerState.discriminator, this.stats, this.nonfinite]) b.destroy();
  }
}
