// A trained network's last hidden layer for given images on the GPU, batch by batch: the network less
// its output layer, in evaluation mode (no dropout), each batch's features read back. What the score's
// classifier (classifier.ts: its features and, with its output layer on the CPU, its classes) and D's
// features with few labels (discriminator-features.ts) both run. Twin: src/reference/mlp.ts
// mlpForward on trunkSpec(spec).
import { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { GpuNetwork, GpuPass } from '../nn/mlp';
import { parameterLayout, tensor } from '../nn/layout';
import type { NetworkSpec } from '../spec/network';
import { STREAM_DROPOUT } from '../spec/rng';
import { discriminatorFeatureSpec } from '../spec/semi-supervised';
import { rowsChunk } from './encoder';
import type { Rows } from './window';

/** `spec` less its output layer and without dropout: the network whose output is the features. */
export const trunkSpec = discriminatorFeatureSpec;

export class TrunkFeatures {
  private constructor(
    private readonly rt: Runtime,
    private readonly network: GpuNetwork,
    private readonly pass: GpuPass,
    private readonly forward: Dispatch[],
    private readonly staging: GPUBuffer,
    private readonly clock: Clock,
    private readonly label: string,
    readonly batch: number,
    readonly inputs: number,
    readonly features: number,
  ) {}

  /** `params`: the whole network's, laid out by `spec`'s layout; `label` names the buffers and the errors. */
  static async create(
    rt: Runtime,
    spec: NetworkSpec,
    params: Float32Array,
    label: string,
    batch = 500,
  ): Promise<TrunkFeatures> {
    const layout = parameterLayout(spec);
    if (params.length !== layout.totalFloats)
      throw new RangeError(
        `${label}: ${params.length} parameters, the layout of ${spec.name} has ${layout.totalFloats}`,
      );
    const trunk = trunkSpec(spec);
    const network = new GpuNetwork(rt, trunk, { trainable: false });
    const trunkParams = new Float32Array(network.layout.totalFloats);
    for (const t of network.layout.tensors) {
      const whole = tensor(layout, t.name);
      trunkParams.set(params.subarray(whole.offset, whole.offset + t.size), t.offset);
    }
    await network.upload(trunkParams);
    const clock = new Clock(rt.device);
    const input = rt.createBuffer(`${label}.features.x`, batch * trunk.inputFeatures * 4);
    const pass = GpuPass.create(
      network,
      clock,
      batch,
      input,
      { seed: 0, sub: 0, streamBase: STREAM_DROPOUT, dropout: false },
      `${label}.features`,
    );
    const features = trunk.layers[trunk.layers.length - 1].units;
    const staging = rt.device.createBuffer({
      label: `${label}.features.readback`,
      size: batch * features * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    const forward = await pass.forward();
    return new TrunkFeatures(rt, network, pass, forward, staging, clock, label, batch, trunk.inputFeatures, features);
  }

  /** The features (count, features) of every row. */
  async run(rows: Rows): Promise<Float32Array> {
    if (rows.features !== this.inputs)
      throw new RangeError(`${this.label}: images of ${rows.features} values, the network takes ${this.inputs}`);
    const out = new Float32Array(rows.count * this.features);
    const chunk = new Float32Array(this.batch * this.inputs);
    for (let first = 0; first < rows.count; first += this.batch) {
      const n = Math.min(this.batch, rows.count - first);
      this.rt.device.queue.writeBuffer(this.pass.input, 0, rowsChunk(rows, first, n, chunk));
      const encoder = this.rt.device.createCommandEncoder({ label: `${this.label}.features` });
      const pass = encoder.beginComputePass({ label: `${this.label}.features` });
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
