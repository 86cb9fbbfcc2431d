// The paper's Figure 3 as a view's source: G along a straight line in z space, on the GPU, for
// SampleCanvas's 'interpolation' view (canvas.ts).
import { GpuPass, type GpuNetwork } from '../nn/mlp';
import { isConditional } from '../spec/config';
import { GENERATOR_DROPOUT_STREAM } from '../spec/keys';
import type { Trainer } from '../train/trainer';

/** One noise vector from the config's noise distribution (the view's own draws: not the run's RNG). */
function drawNoise(noise: Trainer['config']['noise']): Float32Array {
  const { dim, distribution, low, high, std } = noise;
  return Float32Array.from({ length: dim }, () => {
    if (distribution === 'uniform') return low + (high - low) * Math.random();
    const u = 1 - Math.random();
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
  });
}

/**
 * The paper's Figure 3: G along a straight line in z space, `steps` points from one random z to
 * another. The z rows are written when new endpoints are drawn; G's pass is built once per network
 * the trainer can show and recorded with each frame.
 */
export class Interpolation {
  private readonly z: GPUBuffer;
  /** A conditional G's class of every point (one class for the whole segment). */
  private readonly labels?: GPUBuffer;
  private readonly passes = new Map<
    GpuNetwork,
    { pass: GpuPass; dispatches: { record(pass: GPUComputePassEncoder): void }[] }
  >();

  private constructor(
    private readonly trainer: Trainer,
    readonly steps: number,
  ) {
    this.z = trainer.rt.createBuffer('interpolation.z', steps * trainer.config.noise.dim * 4);
    if (isConditional(trainer.config)) this.labels = trainer.rt.createBuffer('interpolation.labels', steps * 4);
  }

  static async create(trainer: Trainer, steps: number, classIndex = 0): Promise<Interpolation> {
    const interpolation = new Interpolation(trainer, steps);
    for (const network of [trainer.generator, trainer.generatorAverage]) {
      if (!network) continue;
      const rng = { seed: trainer.config.seed, sub: 0, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false };
      const pass = GpuPass.create(
        network,
        trainer.clock,
        steps,
        interpolation.z,
        rng,
        `interpolation.${network.spec.name}`,
        interpolation.labels,
      );
      interpolation.passes.set(network, { pass, dispatches: await pass.forward() });
    }
    interpolation.newEndpoints();
    if (interpolation.labels) interpolation.setClass(classIndex);
    return interpolation;
  }

  /** A conditional model's class along the segment (drawn at the next frame); ignored by an unconditional one. */
  setClass(classIndex: number): void {
    if (!this.labels) return;
    const classes = this.trainer.config.classes;
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes)
      throw new RangeError(`interpolation: class ${classIndex} is not an integer in [0, ${classes})`);
    this.trainer.rt.device.queue.writeBuffer(this.labels, 0, new Uint32Array(this.steps).fill(classIndex));
  }

  private get shown() {
    return this.passes.get(this.trainer.shownNetwork)!;
  }

  /** The images along the segment, from the generator the trainer shows. */
  get output(): GPUBuffer {
    return this.shown.pass.output;
  }

  /** Two new random endpoints (drawn at the next frame). */
  newEndpoints(): void {
    const { noise } = this.trainer.config;
    this.setEndpoints(drawNoise(noise), drawNoise(noise));
  }

  /** The segment between two given z (E(x1) and E(x2), say), drawn at the next frame. */
  setEndpoints(from: ArrayLike<number>, to: ArrayLike<number>): void {
    const { dim } = this.trainer.config.noise;
    if (from.length !== dim || to.length !== dim)
      throw new RangeError(`interpolation: endpoints of ${from.length} and ${to.length} values for a noise of ${dim}`);
    const rows = new Float32Array(this.steps * dim);
    for (let s = 0; s < this.steps; s++) {
      const t = this.steps === 1 ? 0 : s / (this.steps - 1);
      for (let j = 0; j < dim; j++) rows[s * dim + j] = (1 - t) * from[j] + t * to[j];
    }
    this.trainer.rt.device.queue.writeBuffer(this.z, 0, rows);
  }

  record(pass: GPUComputePassEncoder): void {
    for (const d of this.shown.dispatches) d.record(pass);
  }

  destroy(): void {
    this.z.destroy();
    this.labels?.destroy();
    for (const { pass } of this.passes.values()) pass.destroy();
  }
}
