// A network trained on labelled rows with softmax cross-entropy and Adam, all on the GPU with our
// kernels: each step gathers a minibatch (drawn with replacement, keyed by the step), runs the network
// forward and backward without dropout, and updates it; no readback until the caller asks for the
// parameters. What the score's classifier (classifier.ts) and the softmax on D's features
// (semi-supervised.ts) both train with.
import { Clock } from '../gpu/clock';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { destroyDataset, type GpuDataset } from '../data/dataset';
import { gatherDispatch } from '../kernels/gather';
import { createXentStats, softmaxCrossEntropy } from '../kernels/softmax_xent';
import { GpuNetwork, GpuPass, networkAdam } from '../nn/mlp';
import type { NetworkSpec } from '../spec/network';
import { STREAM_DROPOUT, STREAM_GATHER } from '../spec/rng';

/** Iterations submitted between waits: the queue stays short and the CPU does not spin meanwhile. */
const WAIT_EVERY = 100;

export interface SupervisedOptions {
  batch: number;
  lr: number;
  /** The minibatch draws' key: seed, and `pass`, the key no other draw of the project uses. */
  seed: number;
  pass: number;
  /** Names the buffers and the errors. */
  label: string;
}

export class SupervisedTraining {
  /** Steps taken so far. */
  steps = 0;

  private constructor(
    private readonly rt: Runtime,
    private readonly network: GpuNetwork,
    private readonly pass: GpuPass,
    private readonly step: Dispatch[],
    private readonly clock: Clock,
    private readonly optimizer: Awaited<ReturnType<typeof networkAdam>>,
    private readonly dataset: GpuDataset,
    private readonly buffers: GPUBuffer[],
    private readonly label: string,
  ) {}

  /**
   * `spec` starts from `initial` and learns `labels` (one class per row of `dataset`, which the
   * training then owns and destroys).
   */
  static async create(
    rt: Runtime,
    spec: NetworkSpec,
    initial: Float32Array,
    dataset: GpuDataset,
    labels: ArrayLike<number>,
    options: SupervisedOptions,
  ): Promise<SupervisedTraining> {
    const { batch, seed, pass: sub, label } = options;
    const classes = spec.layers[spec.layers.length - 1].units;
    const clock = new Clock(rt.device);
    const network = new GpuNetwork(rt, spec);
    await network.upload(initial);
    const labelBuffer = rt.upload(`${label}.labels`, Uint32Array.from(labels));
    const x = rt.createBuffer(`${label}.x`, batch * spec.inputFeatures * 4);
    const indices = rt.createBuffer(`${label}.indices`, batch * 4);
    const dlogits = rt.createBuffer(`${label}.dlogits`, batch * classes * 4);
    const stats = createXentStats(rt, `${label}.stats`);
    const optimizer = await networkAdam(rt, network, label, options.lr);
    const pass = GpuPass.create(
      network,
      clock,
      batch,
      x,
      { seed, sub, streamBase: STREAM_DROPOUT, dropout: false },
      label,
    );
    const step = [
      await gatherDispatch(rt, clock, { batch, seed, stream: STREAM_GATHER, sub }, dataset, { x, indices }),
      ...(await pass.forward()),
      await softmaxCrossEntropy(
        rt,
        { batch, classes },
        { logits: pass.output, labels: labelBuffer, indices, dlogits, stats },
      ),
      ...(await pass.backward({ outputGrad: dlogits })),
      optimizer.optimizer.dispatch,
    ];
    const buffers = [labelBuffer, x, indices, dlogits, stats, ...optimizer.state, clock.buffer];
    return new SupervisedTraining(rt, network, pass, step, clock, optimizer, dataset, buffers, label);
  }

  /** Steps on until `steps` have been taken. */
  async trainTo(steps: number): Promise<void> {
    for (; this.steps < steps; this.steps++) {
      // The clock keys the minibatch; Adam's step sets its bias corrections. Both are written
      // before this iteration's submission and after the previous one's.
      this.clock.set(this.steps);
      this.optimizer.optimizer.set({ step: this.steps + 1 });
      this.rt.run(this.step, `${this.label}.step`);
      if ((this.steps + 1) % WAIT_EVERY === 0) await this.rt.device.queue.onSubmittedWorkDone();
    }
  }

  /** The parameters now; refused if any became non-finite. */
  async params(): Promise<Float32Array> {
    const [flag] = await this.rt.readU32(this.optimizer.nonfinite, 1);
    if (flag) throw new Error(`${this.label}: training produced a non-finite parameter; lower its learning rate`);
    return (await this.rt.readF32(this.network.params)).slice(0, this.network.layout.totalFloats);
  }

  destroy(): void {
    this.pass.destroy();
    this.network.destroy();
    destroyDataset(this.dataset);
    for (const b of this.buffers) b.destroy();
  }
}
