// What the views and sample copies show, apart from training: the fixed noise of the sample grids
// and G (and its moving average) on it, D on an even grid of x for 1-D data (Figure 1's curve), a
// conditional model's classes for those samples and the interpolation between two classes
// (./class-interpolation.ts), and which generator is shown. All of it without dropout, keyed by
// FIXED_NOISE_PASS, built once and recorded into a training iteration's pass or between iterations.
import { FIXED_NOISE_PASS } from '../spec/keys';
import { dataFeatures, isConditional } from '../spec/config';
import type { GpuNetwork } from '../nn/mlp';
import type { Dispatch } from '../gpu/runtime';
import { ConfigError } from './config';
import { ClassInterpolation } from './class-interpolation';
import type { GeneratorRun, ShownGenerator, TrainingNetworks } from './networks';

export class Sampling {
  /** G on the fixed noise (and D's curve), per generator that can be shown. */
  private readonly runs = new Map<ShownGenerator, GeneratorRun>();
  private shownGenerator: ShownGenerator = 'raw';
  /** A conditional G's class of each fixed-noise sample (count) u32: one class per grid row unless the page chose others. */
  private fixedLabels?: GPUBuffer;
  private classList?: Uint32Array<ArrayBuffer>;
  /** The interpolation between two classes at fixed z, built on first use (setClassInterpolation). */
  private classInterpolation?: ClassInterpolation;
  /** 1-D data: D's logits on the curve's grid. */
  curve?: GPUBuffer;

  private constructor(
    private readonly nets: TrainingNetworks,
    /** How many fixed-noise samples. */
    readonly count: number,
    private readonly fixedNoise: GPUBuffer,
  ) {}

  /**
   * The fixed noise of the sample grids, G (and its average) on it, and (1-D data) D on an even grid
   * of x, without dropout. The average is shown when there is one.
   */
  static async create(
    nets: TrainingNetworks,
    count: number,
    curve?: { lo: number; hi: number; points: number },
  ): Promise<Sampling> {
    const { rt, clock, config } = nets;
    const sampling = new Sampling(nets, count, nets.buffer('samples.z', count * config.noise.dim));
    clock.set(0);
    rt.run([await nets.noise(sampling.fixedNoise, count, FIXED_NOISE_PASS)], 'samples.noise');
    if (isConditional(config)) {
      sampling.fixedLabels = nets.buffer('samples.labels', count);
      sampling.setClasses();
    }
    const curveDispatches: Dispatch[] = [];
    if (curve) {
      const grid = new Float32Array(curve.points).map(
        (_, i) => curve.lo + ((curve.hi - curve.lo) * i) / (curve.points - 1),
      );
      const xs = nets.own(rt.upload('curve.x', grid));
      const d = nets.pass(nets.discriminator, curve.points, xs, FIXED_NOISE_PASS, 'curve.d', false);
      sampling.curve = d.output;
      curveDispatches.push(...(await d.forward()));
    }
    for (const [shown, network] of nets.shownGenerators) {
      const g = nets.pass(
        network,
        count,
        sampling.fixedNoise,
        FIXED_NOISE_PASS,
        `samples.${network.spec.name}`,
        false,
        sampling.fixedLabels,
      );
      sampling.runs.set(shown, { dispatches: [...(await g.forward()), ...curveDispatches], output: g.output });
    }
    sampling.shownGenerator = nets.generatorAverage ? 'average' : 'raw';
    return sampling;
  }

  /** Whether the views and sample copies show G's moving average or G itself. */
  get shown(): ShownGenerator {
    return this.shownGenerator;
  }

  /** The network the views show: G's moving average, or G. */
  get shownNetwork(): GpuNetwork {
    return this.shownGenerator === 'average' ? this.nets.generatorAverage! : this.nets.generator;
  }

  /** Shows the average (when the config keeps one) or G itself in the views and sample copies. */
  show(generator: ShownGenerator): void {
    if (!this.runs.has(generator))
      throw new Error(`This run keeps no moving average of G (emaDecay is 0): only the raw generator can be shown.`);
    this.shownGenerator = generator;
  }

  private get shownRun(): GeneratorRun {
    return this.runs.get(this.shownGenerator)!;
  }

  /** The shown generator's output on the fixed noise, (count, features). */
  get output(): GPUBuffer {
    return this.shownRun.output;
  }

  /** Records the shown generator on the fixed noise (and D's curve) into a pass. */
  record(pass: GPUComputePassEncoder): void {
    for (const d of this.shownRun.dispatches) d.record(pass);
  }

  /** The shown generator on the fixed noise, computed now and read back (waits: between iterations only). */
  async read(): Promise<Float32Array> {
    const { rt, config } = this.nets;
    rt.run(this.shownRun.dispatches, 'samples.now');
    return rt.readF32(this.output, this.count * dataFeatures(config));
  }

  /** The grid's default classes: one class per row of a square grid (10 x 10 for 10 classes: row r = class r). */
  defaultClasses(): Uint32Array<ArrayBuffer> {
    const columns = Math.max(1, Math.round(Math.sqrt(this.count)));
    return Uint32Array.from({ length: this.count }, (_, i) => Math.floor(i / columns) % this.nets.config.classes);
  }

  /** A conditional model's classes for the fixed-noise samples (Trainer.setSampleClasses). */
  setClasses(classes?: number | number[] | Uint32Array): void {
    const { rt, config } = this.nets;
    if (!this.fixedLabels)
      throw new ConfigError(
        `config field 'classes': this model is not conditional (classes 0), so its samples have no class to choose`,
      );
    const count = this.count;
    const list =
      classes === undefined
        ? this.defaultClasses()
        : typeof classes === 'number'
          ? new Uint32Array(count).fill(classes)
          : Uint32Array.from(classes);
    if (list.length !== count)
      throw new RangeError(
        `setSampleClasses: ${list.length} classes given for ${count} samples (give one class, or one per sample)`,
      );
    const asked = typeof classes === 'number' ? [classes] : classes === undefined ? [] : Array.from(classes);
    const bad = asked.find((c) => !Number.isInteger(c) || c < 0 || c >= config.classes);
    if (bad !== undefined)
      throw new RangeError(`setSampleClasses: class ${bad} is not an integer in [0, ${config.classes})`);
    this.classList = list;
    rt.device.queue.writeBuffer(this.fixedLabels, 0, list);
  }

  /** The class of each fixed-noise sample (a copy); undefined for an unconditional model. */
  get classes(): Uint32Array | undefined {
    return this.classList?.slice();
  }

  /** The interpolation between two classes at fixed z (Trainer.setClassInterpolation). */
  async setClassInterpolation(
    from: number,
    to: number,
    options: { steps?: number; sample?: number } = {},
  ): Promise<void> {
    const { config } = this.nets;
    const classes = config.classes;
    if (!isConditional(config))
      throw new ConfigError(
        `config field 'classes': this model is not conditional (classes 0), so it has no classes to interpolate`,
      );
    const { steps = 10, sample = 0 } = options;
    for (const [name, c] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (!Number.isInteger(c) || c < 0 || c >= classes)
        throw new RangeError(`setClassInterpolation: '${name}' class ${c} is not an integer in [0, ${classes})`);
    }
    if (!Number.isInteger(steps) || steps < 2)
      throw new RangeError(`setClassInterpolation: steps must be an integer of at least 2, got ${steps}`);
    if (!Number.isInteger(sample) || sample < 0 || sample >= this.count)
      throw new RangeError(
        `setClassInterpolation: sample ${sample} is not one of the ${this.count} fixed-noise samples`,
      );
    if (this.classInterpolation && this.classInterpolation.steps !== steps) {
      this.classInterpolation.destroy();
      this.classInterpolation = undefined;
    }
    this.classInterpolation ??= await ClassInterpolation.build(this.nets, steps);
    this.classInterpolation.set(from, to, this.fixedNoise, sample);
  }

  /** The shown generator's class interpolation: its dispatches and output, (steps, features). */
  get interpolation(): GeneratorRun {
    if (!this.classInterpolation)
      throw new Error('No class interpolation yet: call setClassInterpolation(from, to) first.');
    return this.classInterpolation.run(this.shownGenerator);
  }

  /** The class interpolation computed now and read back, (steps, features) (waits: between iterations only). */
  async readInterpolation(): Promise<Float32Array> {
    const { rt, config } = this.nets;
    const run = this.interpolation;
    rt.run(run.dispatches, 'class_interpolation.now');
    return rt.readF32(run.output, this.classInterpolation!.steps * dataFeatures(config));
  }

  destroy(): void {
    this.classInterpolation?.destroy();
  }
}
