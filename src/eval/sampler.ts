// Samples for the evaluation, drawn on the GPU in batches: G(z) with z from the noise kernel (keyed by
// a seed, so an evaluation is reproducible), G on given z (the interpolation figure), or uniform
// pixel noise (the Parzen window's lower anchor). One batch's dispatches are built once and replayed;
// each batch is copied out through one reusable staging buffer.
import { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { classNoise, noiseDispatch, uniformNoise } from '../kernels/noise';
import { GpuNetwork, GpuPass } from '../nn/mlp';
import { STREAM_NOISE } from '../spec/rng';
import { generatorSpec, isConditional, type TrainConfig } from '../spec/config';
import { GENERATOR_DROPOUT_STREAM } from '../spec/keys';

/**
 * The pass numbers of the evaluation's draws. Training draws with passes 4j + {0, 1, 2} and the
 * sample grids with 0xffff, so these keys never meet a training draw; the batch number is the step.
 */
export const EVAL_SAMPLE_PASS = 0xfff0;
export const EVAL_INTERPOLATION_PASS = 0xfff1;
export const EVAL_NOISE_IMAGES_PASS = 0xfff2;

class BatchRunner {
  private readonly staging: GPUBuffer;
  private readonly labelStaging?: GPUBuffer;
  /** The classes of the rows of the last `draw` (a conditional G's), else undefined. */
  drawnClasses?: Uint32Array;

  /** `labels`: a conditional G's (batch) u32 classes, read back beside the output. */
  constructor(
    private readonly rt: Runtime,
    private readonly clock: Clock,
    private readonly dispatches: Dispatch[],
    private readonly output: GPUBuffer,
    readonly batch: number,
    readonly features: number,
    private readonly labels?: GPUBuffer,
  ) {
    this.staging = rt.device.createBuffer({
      label: 'eval.samples.readback',
      size: batch * features * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    if (labels)
      this.labelStaging = rt.device.createBuffer({
        label: 'eval.labels.readback',
        size: batch * 4,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      });
  }

  /** Runs the batch with the clock at `step` and copies its first `count` rows into `into` at row `row` (and their classes into `classes`). */
  async run(step: number, into: Float32Array, row: number, count: number, classes?: Uint32Array): Promise<void> {
    this.clock.set(step);
    const encoder = this.rt.device.createCommandEncoder({ label: 'eval.batch' });
    const pass = encoder.beginComputePass({ label: 'eval.batch' });
    for (const d of this.dispatches) d.record(pass);
    pass.end();
    encoder.copyBufferToBuffer(this.output, 0, this.staging, 0, this.batch * this.features * 4);
    if (this.labels && this.labelStaging)
      encoder.copyBufferToBuffer(this.labels, 0, this.labelStaging, 0, this.batch * 4);
    this.rt.device.queue.submit([encoder.finish()]);
    await this.staging.mapAsync(GPUMapMode.READ);
    into.set(new Float32Array(this.staging.getMappedRange(), 0, count * this.features), row * this.features);
    this.staging.unmap();
    if (classes && this.labelStaging) {
      await this.labelStaging.mapAsync(GPUMapMode.READ);
      classes.set(new Uint32Array(this.labelStaging.getMappedRange(), 0, count), row);
      this.labelStaging.unmap();
    }
  }

  /** `count` rows, batch after batch (step = batch number). */
  async draw(count: number): Promise<Float32Array> {
    const out = new Float32Array(count * this.features);
    const classes = this.labels ? new Uint32Array(count) : undefined;
    for (let b = 0; b * this.batch < count; b++)
      await this.run(b, out, b * this.batch, Math.min(this.batch, count - b * this.batch), classes);
    this.drawnClasses = classes;
    return out;
  }

  destroy(): void {
    this.staging.destroy();
    this.labelStaging?.destroy();
  }
}

export interface GeneratorSamplerOptions {
  /** Seed of the noise z. */
  seed: number;
  batch?: number;
}

/** G from a checkpoint's parameters on the GPU, in evaluation mode (no dropout). */
export class GeneratorSampler {
  private constructor(
    private readonly rt: Runtime,
    private readonly network: GpuNetwork,
    private readonly pass: GpuPass,
    private readonly z: GPUBuffer,
    private readonly sampling: BatchRunner,
    private readonly decoding: BatchRunner,
    readonly noiseDim: number,
    readonly features: number,
    /** A conditional G's classes (0 unconditional), and the buffer of the rows' classes it reads. */
    readonly classes: number,
    private readonly labels?: GPUBuffer,
  ) {}

  static async create(
    rt: Runtime,
    config: TrainConfig,
    params: Float32Array,
    options: GeneratorSamplerOptions,
  ): Promise<GeneratorSampler> {
    const batch = options.batch ?? 500;
    const clock = new Clock(rt.device);
    const spec = generatorSpec(config);
    const network = new GpuNetwork(rt, spec, { trainable: false });
    await network.upload(params);
    const noiseDim = config.noise.dim;
    const z = rt.createBuffer('eval.z', batch * noiseDim * 4);
    // A conditional G: each row's class drawn uniformly by the noise kernel, keyed as z is.
    const classes = isConditional(config) ? config.classes : 0;
    const labels = classes > 0 ? rt.createBuffer('eval.labels', batch * 4) : undefined;
    const pass = GpuPass.create(
      network,
      clock,
      batch,
      z,
      { seed: options.seed, sub: EVAL_SAMPLE_PASS, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false },
      'eval.g',
      labels,
    );
    const forward = await pass.forward();
    const noise = await noiseDispatch(
      rt,
      clock,
      { ...config.noise, rows: batch, cols: noiseDim, seed: options.seed, stream: STREAM_NOISE, sub: EVAL_SAMPLE_PASS },
      z,
    );
    const drawClasses = labels
      ? [await classNoise(rt, clock, { rows: batch, classes, seed: options.seed, sub: EVAL_SAMPLE_PASS }, labels)]
      : [];
    const features = spec.layers[spec.layers.length - 1].units;
    const sampling = new BatchRunner(
      rt,
      clock,
      [noise, ...drawClasses, ...forward],
      pass.output,
      batch,
      features,
      labels,
    );
    const decoding = new BatchRunner(rt, clock, forward, pass.output, batch, features);
    return new GeneratorSampler(rt, network, pass, z, sampling, decoding, noiseDim, features, classes, labels);
  }

  /** `count` samples G(z), z drawn from the config's p_z with the sampler's seed (a conditional G's classes uniform, see `sampledClasses`). */
  sample(count: number): Promise<Float32Array> {
    return this.sampling.draw(count);
  }

  /** A conditional G: the class asked for of each sample of the last `sample` call; undefined for an unconditional one. */
  get sampledClasses(): Uint32Array | undefined {
    return this.sampling.drawnClasses;
  }

  /**
   * G(z) for given z, (count, noiseDim) row-major; a conditional G draws row i as class classes[i]
   * (default: i modulo the classes).
   */
  async decode(z: Float32Array, count: number, classes?: ArrayLike<number>): Promise<Float32Array> {
    const out = new Float32Array(count * this.features);
    const batch = this.decoding.batch;
    const padded = new Float32Array(batch * this.noiseDim);
    const paddedClasses = new Uint32Array(batch);
    for (let first = 0; first < count; first += batch) {
      const n = Math.min(batch, count - first);
      padded.fill(0).set(z.subarray(first * this.noiseDim, (first + n) * this.noiseDim));
      this.rt.device.queue.writeBuffer(this.z, 0, padded);
      if (this.labels) {
        for (let i = 0; i < batch; i++)
          paddedClasses[i] = i < n ? (classes ? classes[first + i] : (first + i) % this.classes) : 0;
        this.rt.device.queue.writeBuffer(this.labels, 0, paddedClasses);
      }
      await this.decoding.run(0, out, first, n);
    }
    return out;
  }

  destroy(): void {
    this.labels?.destroy();
    this.sampling.destroy();
    this.decoding.destroy();
    this.pass.destroy();
    this.network.destroy();
    this.z.destroy();
  }
}

/** `count` draws from p_z itself (rows of `dim`), for choosing interpolation endpoints. */
export async function drawNoise(
  rt: Runtime,
  config: TrainConfig,
  count: number,
  seed: number,
  sub: number,
): Promise<Float32Array> {
  const clock = new Clock(rt.device);
  const z = rt.createBuffer('eval.endpoints', count * config.noise.dim * 4);
  const runner = new BatchRunner(
    rt,
    clock,
    [
      await noiseDispatch(
        rt,
        clock,
        { ...config.noise, rows: count, cols: config.noise.dim, seed, stream: STREAM_NOISE, sub },
        z,
      ),
    ],
    z,
    count,
    config.noise.dim,
  );
  const out = await runner.draw(count);
  runner.destroy();
  z.destroy();
  clock.buffer.destroy();
  return out;
}

/** Images of uniform noise on [0, 1]: the Parzen window's "no model at all" anchor. */
export async function noiseImages(
  rt: Runtime,
  count: number,
  features: number,
  seed: number,
  batch = 500,
): Promise<Float32Array> {
  const clock = new Clock(rt.device);
  const rows = Math.min(batch, count);
  const images = rt.createBuffer('eval.noise_images', rows * features * 4);
  const dispatch = await uniformNoise(
    rt,
    clock,
    { rows, cols: features, low: 0, high: 1, seed, stream: STREAM_NOISE, sub: EVAL_NOISE_IMAGES_PASS },
    images,
  );
  const runner = new BatchRunner(rt, clock, [dispatch], images, rows, features);
  const out = await runner.draw(count);
  runner.destroy();
  images.destroy();
  clock.buffer.destroy();
  return out;
}
