// D's last hidden layer for real images on the GPU, batch by batch: D's forward pass less its output
// layer, in evaluation mode (no dropout), the features src/eval/semi-supervised.ts classifies. Twin:
// src/reference/mlp.ts mlpForward on discriminatorFeatureSpec(D).
import { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { GpuNetwork, GpuPass } from '../nn/mlp';
import { networkClasses, parameterLayout, tensor } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { STREAM_DROPOUT } from '../spec/rng';
import { discriminatorFeatureSpec } from '../spec/semi-supervised';
import { rowsChunk } from './encoder';
import type { Rows } from './window';

/** D's last hidden layer on the GPU, batch by batch: a forward pass in evaluation mode. */
export class DiscriminatorFeatures {
  private constructor(
    private readonly rt: Runtime,
    private readonly network: GpuNetwork,
    private readonly pass: GpuPass,
    private readonly forward: Dispatch[],
    private readonly staging: GPUBuffer,
    private readonly clock: Clock,
    readonly batch: number,
    readonly inputs: number,
    readonly features: number,
  ) {}

  /** `params`: D's own, laid out by `discriminator`'s layout; its output layer is left out. */
  static async create(
    rt: Runtime,
    discriminator: NetworkSpec,
    params: Float32Array,
    batch = 500,
  ): Promise<DiscriminatorFeatures> {
    if (networkClasses(discriminator) > 0)
      throw new RangeError(
        'semi-supervised: the discriminator is conditional; its features depend on the class it is told, so it takes unconditional models only',
      );
    const layout = parameterLayout(discriminator);
    if (params.length !== layout.totalFloats)
      throw new RangeError(
        `semi-supervised: ${params.length} discriminator parameters, its layout has ${layout.totalFloats}`,
      );
    const spec = discriminatorFeatureSpec(discriminator);
    const network = new GpuNetwork(rt, spec, { trainable: false });
    const trunk = new Float32Array(network.layout.totalFloats);
    for (const t of network.layout.tensors)
      trunk.set(params.subarray(tensor(layout, t.name).offset, tensor(layout, t.name).offset + t.size), t.offset);
    await network.upload(trunk);
    const clock = new Clock(rt.device);
    const input = rt.createBuffer('semi.features.x', batch * spec.inputFeatures * 4);
    const pass = GpuPass.create(
      network,
      clock,
      batch,
      input,
      { seed: 0, sub: 0, streamBase: STREAM_DROPOUT, dropout: false },
      'semi.features',
    );
    const features = spec.layers[spec.layers.length - 1].units;
    const staging = rt.device.createBuffer({
      label: 'semi.features.readback',
      size: batch * features * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    return new DiscriminatorFeatures(
      rt,
      network,
      pass,
      await pass.forward(),
      staging,
      clock,
      batch,
      spec.inputFeatures,
      features,
    );
  }

  /** The features (count, features) of every row. */
  async run(rows: Rows): Promise<Float32Array> {
    if (rows.features !== this.inputs)
      throw new RangeError(
        `semi-supervised: images of ${rows.features} values, the discriminator takes ${this.inputs}`,
      );
    const out = new Float32Array(rows.count * this.features);
    const chunk = new Float32Array(this.batch * this.inputs);
    for (let first = 0; first < rows.count; first += this.batch) {
      const n = Math.min(this.batch, rows.count - first);
      this.rt.device.queue.writeBuffer(this.pass.input, 0, rowsChunk(rows, first, n, chunk));
      const encoder = this.rt.device.createCommandEncoder({ label: 'semi.features' });
      const pass = encoder.beginComputePass({ label: 'semi.features' });
      for (const d of this.forward) d.record(pass);
      pass.end();
      encoder.copyBufferToBuffer(this.pass.output, 0, this.staging, 0, this.batch * this.features * 4);
      this.rt.device.queue.submit([encoder.finish()]);
      await this.staging.mapAsync(GPUMapMode.READ);
      out.set(new Float32Array(this.staging.getMappedRange(), 0, n * this.features), first * this.features);
      this.staging.unmap();
    }
    return out;
  }

  destroy(): void {
    this.pass.destroy();
    this.network.destroy();
    for (const b of [this.staging, this.pass.input, this.clock.buffer]) b.destroy();
  }
}
