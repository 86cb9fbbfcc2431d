// Completing partial images with a trained G (the paper's p(x_S | x_not S)): for an image and a mask of
// its known pixels, z is fitted by Adam on the known pixels' squared error through G's backward pass
// (G's weights frozen, the gradient taken down to G's input), clamped to p_z's range after every step,
// and the unknown pixels are filled in from G(z). z starts from E(x) when the checkpoint has an
// encoder (E sees the image with its unknown pixels 0), else from a few random z per image, of which
// the one that fits the known pixels best is kept. Every step is our kernels; the rows are independent
// (Adam is elementwise and the loss a per-row sum), so a batch completes many images, or many starts
// of one image, at once.
import { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { noiseDispatch } from '../kernels/noise';
import { createNonfiniteFlag, createOptimizer, type Optimizer } from '../kernels/optimizer';
import { clampValues, squaredErrorGrad } from '../kernels/sq_error';
import { GpuPass, type GpuNetwork } from '../nn/mlp';
import { noiseRange } from '../spec/encoder';
import { STREAM_DROPOUT, STREAM_NOISE } from '../spec/rng';
import { GENERATOR_DROPOUT_STREAM } from '../spec/keys';
import {
  outputFeatures,
  rowsChunk,
  uploadEncoder,
  uploadGenerator,
  type GeneratorModel,
  type TrainedWeights,
} from './encoder';
import type { Rows } from './window';

/** The random starts' noise pass: a key no other draw uses. */
export const INPAINT_PASS = 0xffe2;

export interface InpaintOptions {
  seed: number;
  /** Adam steps on z (default 200). */
  steps?: number;
  /** Adam's learning rate on z (default 0.05: p_z's range is a few units wide). */
  lr?: number;
  /** Random starts per image without an encoder (default 4); 1 with one. */
  restarts?: number;
  /** Images completed in one batch at most (default 250). */
  images?: number;
}

export const DEFAULT_INPAINT = { steps: 200, lr: 0.05, restarts: 4, images: 250 };

/** 1 for the top half of every channel's rows, 0 for the bottom half: (channels x height x width). */
export function maskBottomHalf(channels: number, height: number, width: number): Float32Array {
  const mask = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++)
    mask.fill(1, c * height * width, c * height * width + Math.floor(height / 2) * width);
  return mask;
}

/** A random half of the pixels known (1), the rest hidden (0), from a seeded shuffle. */
export function maskRandomHalf(features: number, seed: number): Float32Array {
  const order = Array.from({ length: features }, (_, i) => i);
  let state = (seed ^ 0x9e3779b9) >>> 0;
  const next = () => {
    // mulberry32: a small seeded generator; the mask need not share the kernels' keys.
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let i = features - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const mask = new Float32Array(features);
  for (let i = 0; i < Math.floor(features / 2); i++) mask[order[i]] = 1;
  return mask;
}

export interface Completion {
  /** The known pixels kept, the unknown ones G(z)'s: (count, features). */
  completed: Float32Array;
  /** The image with its unknown pixels 0, what the classifier would see without a completion. */
  masked: Float32Array;
  /** G(z) itself at the fitted z. */
  fit: Float32Array;
  /** The fitted z, (count, dim). */
  z: Float32Array;
}

export class Inpainter {
  private constructor(
    private readonly rt: Runtime,
    private readonly clock: Clock,
    private readonly networks: GpuNetwork[],
    private readonly passes: GpuPass[],
    private readonly buffers: {
      x: GPUBuffer;
      mask: GPUBuffer;
      z: GPUBuffer;
      own: GPUBuffer[];
      moments: GPUBuffer[];
      staging: GPUBuffer[];
    },
    /** What starts z: E's forward pass (its output then copied to z) or the noise. */
    private readonly start: Dispatch[],
    /** z clamped to p_z's range (empty for a gaussian p_z). */
    private readonly clamp: Dispatch[],
    private readonly step: Dispatch[],
    /** G's forward pass alone: G(z) at the fitted z. */
    private readonly fitForward: Dispatch[],
    private readonly optimizer: Optimizer,
    /** Where E's output is when z starts from it. */
    private readonly encoded: GPUBuffer | undefined,
    readonly rows: number,
    readonly restarts: number,
    readonly steps: number,
    readonly features: number,
    readonly dim: number,
  ) {}

  static async create(
    rt: Runtime,
    model: GeneratorModel,
    encoder: TrainedWeights | undefined,
    options: InpaintOptions,
  ): Promise<Inpainter> {
    const { steps, lr, images } = { ...DEFAULT_INPAINT, ...options };
    const restarts = encoder ? 1 : (options.restarts ?? DEFAULT_INPAINT.restarts);
    if (
      !Number.isInteger(steps) ||
      steps < 1 ||
      !Number.isInteger(restarts) ||
      restarts < 1 ||
      !Number.isInteger(images) ||
      images < 1
    ) {
      throw new RangeError(
        `inpaint: steps (${steps}), restarts (${restarts}) and images (${images}) must be positive integers`,
      );
    }
    const rows = images * restarts;
    const features = outputFeatures(model.spec);
    const dim = model.noise.dim;
    const clock = new Clock(rt.device);
    // Trainable only for the gradient buffer the backward pass binds; G's weights are never updated.
    const g = await uploadGenerator(rt, model, true);
    const [x, mask, dfit] = ['x', 'mask', 'dfit'].map((name) =>
      rt.createBuffer(`inpaint.${name}`, rows * features * 4),
    );
    const [z, dz] = ['z', 'dz'].map((name) => rt.createBuffer(`inpaint.${name}`, rows * dim * 4));
    const moments = [0, 1].map((m) => rt.createBuffer(`inpaint.adam_${m ? 'v' : 'm'}`, rows * dim * 4));
    const nonfinite = createNonfiniteFlag(rt, 'inpaint.nonfinite');
    const gPass = GpuPass.create(
      g,
      clock,
      rows,
      z,
      { seed: 0, sub: 0, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false },
      'inpaint.g',
    );
    const optimizer = await createOptimizer(
      rt,
      { rule: 'adam', count: rows * dim },
      { grad: dz, param: z, firstMoment: moments[0], secondMoment: moments[1], nonfinite },
      { lr, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
    );
    const range = noiseRange(model.noise);
    const clamp = range ? [await clampValues(rt, { count: rows * dim, ...range }, z)] : [];
    const networks = [g];
    const passes = [gPass];
    let start: Dispatch[];
    let encoded: GPUBuffer | undefined;
    if (encoder) {
      // E reads the masked image, which x holds while z starts (complete() writes it there first).
      const e = await uploadEncoder(rt, model, encoder);
      const ePass = GpuPass.create(
        e,
        clock,
        rows,
        x,
        { seed: 0, sub: 0, streamBase: STREAM_DROPOUT, dropout: false },
        'inpaint.e',
      );
      networks.push(e);
      passes.push(ePass);
      start = await ePass.forward();
      encoded = ePass.output;
    } else {
      start = [
        await noiseDispatch(
          rt,
          clock,
          { ...model.noise, rows, cols: dim, seed: options.seed, stream: STREAM_NOISE, sub: INPAINT_PASS },
          z,
        ),
      ];
    }
    // The loss of each row is half its known pixels' squared error: rows do not share a scale.
    const forward = await gPass.forward();
    const step = [
      ...forward,
      await squaredErrorGrad(
        rt,
        { count: rows * features, scale: 1 },
        { pred: gPass.output, expected: x, mask, dpred: dfit },
      ),
      ...(await gPass.backward({ outputGrad: dfit, weightGrads: false, inputGrad: dz })),
      optimizer.dispatch,
      ...clamp,
    ];
    const staging = [rows * features, rows * dim].map((floats, i) =>
      rt.device.createBuffer({
        label: `inpaint.readback${i}`,
        size: floats * 4,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
    );
    const buffers = { x, mask, z, own: [x, mask, dfit, z, dz, nonfinite, ...moments, clock.buffer], moments, staging };
    return new Inpainter(
      rt,
      clock,
      networks,
      passes,
      buffers,
      start,
      clamp,
      step,
      forward,
      optimizer,
      encoded,
      rows,
      restarts,
      steps,
      features,
      dim,
    );
  }

  /**
   * Completes every row of `rows` whose known pixels are `mask`'s 1s (one mask of `features` for all).
   * `onProgress`, for a page that shows the fit as it goes: every 50 steps, G(z) of the best start so
   * far for the rows of the batch under way (`out.fit`); reading it back does not change the fit.
   */
  async complete(
    rows: Rows,
    mask: Float32Array,
    onProgress?: (step: number, fit: Float32Array) => void,
  ): Promise<Completion> {
    const { features, dim, restarts } = this;
    if (rows.features !== features)
      throw new RangeError(`inpaint: images of ${rows.features} values, G draws ${features}`);
    if (mask.length !== features)
      throw new RangeError(`inpaint: a mask of ${mask.length} values for images of ${features}`);
    const perBatch = this.rows / restarts;
    const out: Completion = {
      completed: new Float32Array(rows.count * features),
      masked: new Float32Array(rows.count * features),
      fit: new Float32Array(rows.count * features),
      z: new Float32Array(rows.count * dim),
    };
    const chunk = new Float32Array(perBatch * features);
    const batchX = new Float32Array(this.rows * features);
    const masks = new Float32Array(this.rows * features);
    for (let r = 0; r < this.rows; r++) masks.set(mask, r * features);
    this.rt.device.queue.writeBuffer(this.buffers.mask, 0, masks);
    for (let first = 0, b = 0; first < rows.count; first += perBatch, b++) {
      const n = Math.min(perBatch, rows.count - first);
      rowsChunk(rows, first, n, chunk);
      // Row i * restarts + s is start s of image i; each holds the masked image (unknown pixels 0).
      for (let i = 0; i < perBatch; i++)
        for (let s = 0; s < restarts; s++)
          for (let k = 0; k < features; k++)
            batchX[(i * restarts + s) * features + k] = chunk[i * features + k] * mask[k];
      this.rt.device.queue.writeBuffer(this.buffers.x, 0, batchX);
      this.startBatch(b);
      for (let s = 0; s < this.steps; s++) {
        // Adam's step sets its bias corrections, written before this step's submission.
        this.optimizer.set({ step: s + 1 });
        this.rt.run(this.step, 'inpaint.step');
        if ((s + 1) % 50 !== 0) continue;
        await this.rt.device.queue.onSubmittedWorkDone();
        if (onProgress && s + 1 < this.steps) {
          this.rt.run(this.fitForward, 'inpaint.fit');
          const [fit, z] = await this.read();
          this.keepBest(fit, z, batchX, mask, first, n, out);
          onProgress(s + 1, out.fit);
        }
      }
      this.rt.run(this.fitForward, 'inpaint.fit');
      const [fit, z] = await this.read();
      this.keepBest(fit, z, batchX, mask, first, n, out);
    }
    for (let i = 0; i < rows.count * features; i++) {
      const m = mask[i % features];
      out.masked[i] = rowsValue(rows, i) * m;
      out.completed[i] = m ? rowsValue(rows, i) : out.fit[i];
    }
    return out;
  }

  /** z of batch `b` from E(masked x) or from p_z, and Adam's moments cleared. */
  private startBatch(b: number): void {
    this.clock.set(b);
    const encoder = this.rt.device.createCommandEncoder({ label: 'inpaint.start' });
    for (const m of this.buffers.moments) encoder.clearBuffer(m);
    const run = (dispatches: Dispatch[]) => {
      const pass = encoder.beginComputePass({ label: 'inpaint.start' });
      for (const d of dispatches) d.record(pass);
      pass.end();
    };
    run(this.start);
    if (this.encoded) encoder.copyBufferToBuffer(this.encoded, 0, this.buffers.z, 0, this.rows * this.dim * 4);
    run(this.clamp);
    this.rt.device.queue.submit([encoder.finish()]);
  }

  private async read(): Promise<[Float32Array, Float32Array]> {
    const encoder = this.rt.device.createCommandEncoder({ label: 'inpaint.read' });
    encoder.copyBufferToBuffer(this.passes[0].output, 0, this.buffers.staging[0], 0, this.rows * this.features * 4);
    encoder.copyBufferToBuffer(this.buffers.z, 0, this.buffers.staging[1], 0, this.rows * this.dim * 4);
    this.rt.device.queue.submit([encoder.finish()]);
    const out: Float32Array[] = [];
    for (const staging of this.buffers.staging) {
      await staging.mapAsync(GPUMapMode.READ);
      out.push(new Float32Array(staging.getMappedRange()).slice());
      staging.unmap();
    }
    return [out[0], out[1]];
  }

  /** For each image, the start whose G(z) fits the known pixels best. */
  private keepBest(
    fit: Float32Array,
    z: Float32Array,
    batchX: Float32Array,
    mask: Float32Array,
    first: number,
    n: number,
    out: Completion,
  ): void {
    const { features, dim, restarts } = this;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestError = Infinity;
      for (let s = 0; s < restarts; s++) {
        const row = i * restarts + s;
        let error = 0;
        for (let k = 0; k < features; k++)
          error += mask[k] * (fit[row * features + k] - batchX[row * features + k]) ** 2;
        if (error < bestError) [best, bestError] = [row, error];
      }
      out.fit.set(fit.subarray(best * features, (best + 1) * features), (first + i) * features);
      out.z.set(z.subarray(best * dim, (best + 1) * dim), (first + i) * dim);
    }
  }

  destroy(): void {
    for (const p of this.passes) p.destroy();
    for (const n of this.networks) n.destroy();
    for (const b of [...this.buffers.own, ...this.buffers.staging]) b.destroy();
  }
}

/** Element i of the rows as the models see it. */
function rowsValue(rows: Rows, i: number): number {
  return rows.values[i] * (rows.scale ?? 1);
}
