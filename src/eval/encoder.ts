// Learned approximate inference (the paper's "future work"): an inference net E: x -> z trained for a
// fixed G on pairs (G(z), z), z drawn from p_z on the GPU each step, and G(E(x)), the reconstruction
// of an image through E and G. Every step is our kernels: the noise, G's forward pass, E's forward and
// backward passes, the squared error in z and Adam; nothing is read back until training ends.
//
// The loss is the squared error in z, as the paper proposes, plus (with pixelWeight > 0, the default)
// the squared error of G(E(x)) against x through G's backward pass, G's weights frozen: the error in z
// alone stops short of the target (class agreement of G(E(x)) with the test labels), see
// src/spec/encoder.ts and docs/evaluation.md, "Inference and completion".
import { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { noiseDispatch } from '../kernels/noise';
import { clampValues, squaredErrorGrad } from '../kernels/sq_error';
import { GpuNetwork, GpuPass, networkAdam } from '../nn/mlp';
import { generatorSpec, type NoiseConfig, type TrainConfig } from '../spec/config';
import { encoderSpec, noiseRange, type EncoderConfig } from '../spec/encoder';
import type { NetworkSpec } from '../spec/network';
import { networkClasses } from '../nn/layout';
import { STREAM_DROPOUT, STREAM_NOISE } from '../spec/rng';
import { GENERATOR_DROPOUT_STREAM } from '../spec/keys';
import { initialParameters } from '../train/init';
import type { Rows } from './window';

/** The initial weights' network index (G 0, D 1, the classifier 2) and the noise's pass: keys no other draw uses. */
const ENCODER_NETWORK = 3;
export const ENCODER_PASS = 0xffe1;
/** Iterations submitted between waits: the queue stays short and the CPU does not spin meanwhile. */
const WAIT_EVERY = 100;
/** Fresh pairs (G(z), z) that measure E once trained. */
const HELD_OUT_BATCHES = 10;

export interface TrainedEncoder {
  params: Float32Array;
  /** Mean squared error per dimension of E(G(z)) against z, clamped, on fresh z after training. */
  zMse: number;
}

/** A trained G as inference sees it: its network, p_z, and its parameters (laid out by the spec's layout). */
export interface GeneratorModel {
  spec: NetworkSpec;
  noise: NoiseConfig;
  params: Float32Array;
}

/** A run's G with the given parameters (its moving average or its own weights). */
export function generatorModel(config: TrainConfig, params: Float32Array): GeneratorModel {
  return { spec: generatorSpec(config), noise: config.noise, params };
}

/** Values per image G draws: E's input. */
export function outputFeatures(spec: NetworkSpec): number {
  return spec.layers[spec.layers.length - 1].units;
}

/** G on the GPU (parameters uploaded), refused for a conditional G: E predicts z alone, without the class. */
export async function uploadGenerator(rt: Runtime, model: GeneratorModel, trainable = false): Promise<GpuNetwork> {
  if (networkClasses(model.spec) > 0)
    throw new RangeError(
      'inference: the generator is conditional; E and the completion fit z alone, so they take unconditional models only',
    );
  const network = new GpuNetwork(rt, model.spec, { trainable });
  await network.upload(model.params);
  return network;
}

/** Trains E for G; `onProgress` is called every WAIT_EVERY iterations. */
export async function trainEncoder(
  rt: Runtime,
  model: GeneratorModel,
  encoder: EncoderConfig,
  onProgress?: (iteration: number) => void,
): Promise<TrainedEncoder> {
  const { batch, iterations, seed } = encoder;
  const dim = model.noise.dim;
  const clock = new Clock(rt.device);
  const pixel = encoder.pixelWeight > 0;
  // Trainable only for the gradient buffer the pixel loss's backward pass binds; G's weights are never updated.
  const generator = await uploadGenerator(rt, model, pixel);
  const spec = encoderSpec(outputFeatures(model.spec), encoder.hidden, dim);
  const network = new GpuNetwork(rt, spec);
  await network.upload(initialParameters(spec, encoder.initRange, seed, ENCODER_NETWORK));
  const z = rt.createBuffer('encoder.z', batch * dim * 4);
  const dout = rt.createBuffer('encoder.dout', batch * dim * 4);
  const { optimizer, nonfinite, state } = await networkAdam(rt, network, 'encoder', encoder.lr);
  const gPass = GpuPass.create(
    generator,
    clock,
    batch,
    z,
    { seed, sub: ENCODER_PASS, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false },
    'encoder.g',
  );
  const ePass = GpuPass.create(
    network,
    clock,
    batch,
    gPass.output,
    { seed, sub: ENCODER_PASS, streamBase: STREAM_DROPOUT, dropout: false },
    'encoder.e',
  );
  const forward = [
    await noiseDispatch(
      rt,
      clock,
      { ...model.noise, rows: batch, cols: dim, seed, stream: STREAM_NOISE, sub: ENCODER_PASS },
      z,
    ),
    ...(await gPass.forward()),
    ...(await ePass.forward()),
  ];
  // The loss is the batch mean of each row's squared errors (halved): scale 1 / batch.
  const features = outputFeatures(model.spec);
  const own = pixel
    ? ['dfit', 'dpixel'].map((name, i) => rt.createBuffer(`encoder.${name}`, batch * (i ? dim : features) * 4))
    : [];
  const reconstruction = pixel
    ? GpuPass.create(
        generator,
        clock,
        batch,
        ePass.output,
        { seed, sub: ENCODER_PASS, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false },
        'encoder.g_of_e',
      )
    : undefined;
  const pixelLoss = reconstruction
    ? [
        ...(await reconstruction.forward()),
        await squaredErrorGrad(
          rt,
          { count: batch * features, scale: encoder.pixelWeight / batch },
          { pred: reconstruction.output, expected: gPass.output, dpred: own[0] },
        ),
        ...(await reconstruction.backward({ outputGrad: own[0], weightGrads: false, inputGrad: own[1] })),
      ]
    : [];
  const step = [
    ...forward,
    ...pixelLoss,
    await squaredErrorGrad(
      rt,
      { count: batch * dim, scale: 1 / batch },
      { pred: ePass.output, expected: z, addend: own[1], dpred: dout },
    ),
    ...(await ePass.backward({ outputGrad: dout })),
    optimizer.dispatch,
  ];
  const range = noiseRange(model.noise);
  const measure = range ? [...forward, await clampValues(rt, { count: batch * dim, ...range }, ePass.output)] : forward;
  try {
    for (let i = 0; i < iterations; i++) {
      // The clock keys the noise; Adam's step sets its bias corrections. Both are written before
      // this iteration's submission and after the previous one's.
      clock.set(i);
      optimizer.set({ step: i + 1 });
      rt.run(step, 'encoder.step');
      if ((i + 1) % WAIT_EVERY === 0) {
        await rt.device.queue.onSubmittedWorkDone();
        onProgress?.(i + 1);
      }
    }
    const [flag] = await rt.readU32(nonfinite, 1);
    if (flag) throw new Error('encoder training produced a non-finite parameter; lower its learning rate');
    let squared = 0;
    for (let b = 0; b < HELD_OUT_BATCHES; b++) {
      // Steps past the last training step: z the training never saw.
      clock.set(iterations + b);
      rt.run(measure, 'encoder.measure');
      const [predicted, truth] = [await rt.readF32(ePass.output, batch * dim), await rt.readF32(z, batch * dim)];
      for (let k = 0; k < batch * dim; k++) squared += (predicted[k] - truth[k]) ** 2;
    }
    return {
      params: (await rt.readF32(network.params)).slice(0, network.layout.totalFloats),
      zMse: squared / (HELD_OUT_BATCHES * batch * dim),
    };
  } finally {
    gPass.destroy();
    ePass.destroy();
    reconstruction?.destroy();
    generator.destroy();
    network.destroy();
    for (const b of [z, dout, ...own, ...state, clock.buffer]) b.destroy();
  }
}

/** E's weights as a checkpoint holds them. */
export interface TrainedWeights {
  hidden: number[];
  params: Float32Array;
}

/** E for `model`'s G on the GPU, parameters uploaded, for inference only. */
export async function uploadEncoder(rt: Runtime, model: GeneratorModel, encoder: TrainedWeights): Promise<GpuNetwork> {
  const network = new GpuNetwork(rt, encoderSpec(outputFeatures(model.spec), encoder.hidden, model.noise.dim), {
    trainable: false,
  });
  await network.upload(encoder.params);
  return network;
}

/** Writes rows [first, first + n) of `rows` as floats into `into` (zeros after them): the models' view of a batch. */
export function rowsChunk<T extends Float32Array>(rows: Rows, first: number, n: number, into: T): T {
  const scale = rows.scale ?? 1;
  into.fill(0);
  const values = rows.values.subarray(first * rows.features, (first + n) * rows.features);
  for (let i = 0; i < values.length; i++) into[i] = values[i] * scale;
  return into;
}

/** G(E(x)) batch by batch on the GPU: E's output clamped to p_z's range, then G. */
export class Reconstructor {
  private constructor(
    private readonly rt: Runtime,
    private readonly networks: GpuNetwork[],
    private readonly passes: GpuPass[],
    private readonly dispatches: Dispatch[],
    private readonly staging: GPUBuffer[],
    private readonly clock: Clock,
    readonly batch: number,
    readonly features: number,
    readonly dim: number,
  ) {}

  static async create(
    rt: Runtime,
    model: GeneratorModel,
    encoder: TrainedWeights,
    batch = 500,
  ): Promise<Reconstructor> {
    const features = outputFeatures(model.spec);
    const dim = model.noise.dim;
    const clock = new Clock(rt.device);
    const g = await uploadGenerator(rt, model);
    const e = await uploadEncoder(rt, model, encoder);
    const x = rt.createBuffer('reconstruct.x', batch * features * 4);
    const ePass = GpuPass.create(
      e,
      clock,
      batch,
      x,
      { seed: 0, sub: 0, streamBase: STREAM_DROPOUT, dropout: false },
      'reconstruct.e',
    );
    const gPass = GpuPass.create(
      g,
      clock,
      batch,
      ePass.output,
      { seed: 0, sub: 0, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false },
      'reconstruct.g',
    );
    const range = noiseRange(model.noise);
    const dispatches = [
      ...(await ePass.forward()),
      ...(range ? [await clampValues(rt, { count: batch * dim, ...range }, ePass.output)] : []),
      ...(await gPass.forward()),
    ];
    const staging = [batch * features, batch * dim].map((floats, i) =>
      rt.device.createBuffer({
        label: `reconstruct.readback${i}`,
        size: floats * 4,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
    );
    return new Reconstructor(rt, [e, g], [ePass, gPass], dispatches, staging, clock, batch, features, dim);
  }

  /** G(E(x)) of every row (count, features), and E(x) itself (count, dim). */
  async run(rows: Rows): Promise<{ images: Float32Array; z: Float32Array }> {
    if (rows.features !== this.features)
      throw new RangeError(`encoder: images of ${rows.features} values, the encoder takes ${this.features}`);
    const [ePass, gPass] = this.passes;
    const images = new Float32Array(rows.count * this.features);
    const z = new Float32Array(rows.count * this.dim);
    const chunk = new Float32Array(this.batch * this.features);
    for (let first = 0; first < rows.count; first += this.batch) {
      const n = Math.min(this.batch, rows.count - first);
      this.rt.device.queue.writeBuffer(ePass.input, 0, rowsChunk(rows, first, n, chunk));
      const encoder = this.rt.device.createCommandEncoder({ label: 'reconstruct' });
      const pass = encoder.beginComputePass({ label: 'reconstruct' });
      for (const d of this.dispatches) d.record(pass);
      pass.end();
      encoder.copyBufferToBuffer(gPass.output, 0, this.staging[0], 0, this.batch * this.features * 4);
      encoder.copyBufferToBuffer(ePass.output, 0, this.staging[1], 0, this.batch * this.dim * 4);
      this.rt.device.queue.submit([encoder.finish()]);
      for (const [i, [into, width]] of (
        [
          [images, this.features],
          [z, this.dim],
        ] as const
      ).entries()) {
        await this.staging[i].mapAsync(GPUMapMode.READ);
        into.set(new Float32Array(this.staging[i].getMappedRange(), 0, n * width), first * width);
        this.staging[i].unmap();
      }
    }
    return { images, z };
  }

  destroy(): void {
    for (const p of this.passes) p.destroy();
    for (const n of this.networks) n.destroy();
    for (const b of [...this.staging, this.passes[0].input, this.clock.buffer]) b.destroy();
  }
}
