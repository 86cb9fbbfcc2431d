// The step plan: every dispatch of one Algorithm-1 iteration (noise, minibatch gather, forward and
// backward passes, losses and updates), built once with its pipelines, bind groups and buffers, and
// replayed into the iteration's compute pass. Two recordings, by the iteration's parity, each with
// its own G output, so a viewer reads the last G step's batch while the next one writes the other.
//
// Two forms:
//   alternating  (Algorithm 1 as written) k times: fresh z and x, D forward on both, D update; then
//                fresh z, G forward, D forward on the samples, G update through D.
//   simultaneous (the authors' AdversaryCost2, k = 1) one z and x; G forward once; D on both with
//                separate dropout masks; D's and G's gradients from that one pass; both updated.
//
// The RNG keys of every pass are in ../spec/keys.ts; src/reference/step.ts is the CPU twin of one iteration.
import type { Dispatch } from '../gpu/runtime';
import { discriminatorLoss, generatorLoss } from '../kernels/gan_loss';
import { createOptimizer, type Optimizer } from '../kernels/optimizer';
import { createEmaUpdate, type EmaUpdate } from '../kernels/ema';
import { gatherDispatch, gatherLabelsDispatch } from '../kernels/gather';
import { optimizerSegments } from '../nn/layout';
import type { GpuDataset } from '../data/dataset';
import type { GpuNetwork, GpuPass } from '../nn/mlp';
import { STREAM_GATHER } from '../spec/rng';
import { FAKE_PASS, REAL_PASS, dStepPass, gStepPass } from '../spec/keys';
import { emaDecayAfter, emaDecayAt } from '../spec/ema';
import { dataFeatures, isConditional } from '../spec/config';
import { learningRate, momentum } from '../spec/schedule';
import type { TrainingNetworks } from './networks';

interface Recording {
  dispatches: Dispatch[];
  /** G's output of the G step: the batch a viewer reads while the next recording writes the other. */
  samples: GPUBuffer;
}

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

export class StepPlan {
  private readonly recordings: Recording[] = [];
  private readonly dOptimizers: NetworkOptimizer[] = [];
  private gOptimizer!: NetworkOptimizer;
  private emaUpdate?: EmaUpdate;
  private readonly iterationsPerEpoch: number;

  private constructor(
    private readonly nets: TrainingNetworks,
    private readonly dataset: GpuDataset,
  ) {
    this.iterationsPerEpoch = Math.max(1, Math.floor(dataset.count / nets.config.batch));
  }

  /** The optimizers, then the recordings of both parities. */
  static async create(nets: TrainingNetworks, dataset: GpuDataset): Promise<StepPlan> {
    const plan = new StepPlan(nets, dataset);
    await plan.buildOptimizers();
    for (const parity of [0, 1]) plan.recordings.push(await plan.record(parity));
    return plan;
  }

  /** The schedules' lr and momentum at an iteration. */
  private hyperparameters(iteration: number): { lr: number; momentum: number } {
    const { optimizer } = this.nets.config;
    return {
      lr: learningRate(optimizer, iteration),
      momentum: momentum(optimizer, iteration, this.iterationsPerEpoch),
    };
  }

  /**
   * Replays iteration `i` into a pass: first writes its clock and the optimizers' and the average's
   * uniforms (lr, momentum, step, decay). Returns the schedule's lr and momentum, for the metrics.
   */
  replay(pass: GPUComputePassEncoder, i: number): { lr: number; momentum: number } {
    const { config, clock } = this.nets;
    const schedule = this.hyperparameters(i);
    const { lr, momentum } = schedule;
    clock.set(i);
    for (let j = 0; j < this.dOptimizers.length; j++)
      this.dOptimizers[j].set({ lr, momentum, step: i * config.k + j + 1 });
    this.gOptimizer.set({ lr: lr * config.optimizer.generatorLrScale, momentum, step: i + 1 });
    this.emaUpdate?.setDecay(emaDecayAfter(config, i));
    for (const d of this.recordings[i % 2].dispatches) d.record(pass);
    return schedule;
  }

  /** The G step's generated batch of iteration `i`'s recording. */
  samples(i: number): GPUBuffer {
    return this.recordings[i % 2].samples;
  }

  /**
   * The update dispatches (D's k, G's one, the average's): what tests look for in the recorded order.
   * With a class lr scale an update is several dispatches; each is named by its first.
   */
  get updateDispatches(): { discriminator: Dispatch[]; generator: Dispatch; average?: Dispatch } {
    return {
      discriminator: this.dOptimizers.map((o) => o.dispatches[0]),
      generator: this.gOptimizer.dispatches[0],
      average: this.emaUpdate?.dispatch,
    };
  }

  private async buildOptimizers(): Promise<void> {
    const { rt, config, optimizerState, generator, discriminator, generatorAverage, nonfinite } = this.nets;
    const { kind, beta1, beta2, epsilon } = config.optimizer;
    const hyper = { ...this.hyperparameters(0), beta1, beta2, epsilon };
    const make = async (network: GpuNetwork, state: GPUBuffer[]) => {
      const parts: { optimizer: Optimizer; lrScale: number }[] = [];
      for (const { offset, count, lrScale } of optimizerSegments(network.spec, config.optimizer.classLrScale)) {
        const range = (buffer: GPUBuffer) => ({ buffer, offset: offset * 4, size: count * 4 });
        const optimizer = await createOptimizer(
          rt,
          { rule: kind, count },
          {
            grad: range(network.grads),
            param: range(network.params),
            velocity: range(state[0]),
            firstMoment: range(state[0]),
            secondMoment: state[1] && range(state[1]),
            nonfinite,
          },
          { ...hyper, lr: hyper.lr * lrScale },
        );
        parts.push({ optimizer, lrScale });
      }
      return new NetworkOptimizer(parts);
    };
    // One optimizer per D step of an iteration: each has its own uniform, so Adam's step count is
    // right for every one of the k updates recorded into a single submission.
    for (let j = 0; j < config.k; j++) this.dOptimizers.push(await make(discriminator, optimizerState.discriminator));
    this.gOptimizer = await make(generator, optimizerState.generator);
    if (generatorAverage) {
      const count = generator.layout.totalFloats;
      this.emaUpdate = await createEmaUpdate(
        rt,
        count,
        { param: generator.params, average: generatorAverage.params },
        emaDecayAt(config.emaDecay, 1),
      );
    }
  }

  /** G's update, then (with an average) the average's: the dispatches that end every recording. */
  private get generatorUpdates(): Dispatch[] {
    return [...this.gOptimizer.dispatches, ...(this.emaUpdate ? [this.emaUpdate.dispatch] : [])];
  }

  /** Builds the recording of one parity: its buffers, passes and dispatches, in Algorithm 1's order. */
  private async record(parity: number): Promise<Recording> {
    const nets = this.nets;
    const { rt, clock, config, stats, generator, discriminator } = nets;
    const { batch, k, form, gLoss } = config;
    const noiseDim = config.noise.dim;
    const features = dataFeatures(config);
    const p = `plan${parity}`;
    const z = nets.buffer(`${p}.z`, batch * noiseDim);
    const x = nets.buffer(`${p}.x`, batch * features);
    const indices = nets.buffer(`${p}.indices`, batch);
    const dlogitsReal = nets.buffer(`${p}.dlogits_real`, batch);
    const dlogitsFake = nets.buffer(`${p}.dlogits_fake`, batch);
    const dlogitsG = nets.buffer(`${p}.dlogits_g`, batch);
    const sampleGrad = nets.buffer(`${p}.sample_grad`, batch * features);
    // A conditional GAN's classes: G's rows' from the noise kernel (D's fake pass reads the same),
    // the minibatch's from the gather's labels.
    const conditional = isConditional(config);
    const gLabels = conditional ? nets.buffer(`${p}.g_labels`, batch) : undefined;
    const realLabels = conditional ? nets.buffer(`${p}.real_labels`, batch) : undefined;
    const gather = async (sub: number) => [
      await gatherDispatch(rt, clock, { batch, seed: config.seed, stream: STREAM_GATHER, sub }, this.dataset, {
        x,
        indices,
      }),
      ...(realLabels ? [await gatherLabelsDispatch(rt, batch, this.dataset, { indices, rowLabels: realLabels })] : []),
    ];
    const dLoss = (real: GpuPass, fake: GpuPass) =>
      discriminatorLoss(
        rt,
        { nReal: batch, nFake: batch, realTarget: config.realTarget, loss: gLoss },
        { logitsReal: real.output, logitsFake: fake.output, dlogitsReal, dlogitsFake, stats },
      );
    const gLossDispatch = (fake: GpuPass) =>
      generatorLoss(rt, { n: batch, loss: gLoss }, { logitsFake: fake.output, dlogitsFake: dlogitsG, stats });
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
      const g = nets.pass(generator, batch, z, sub, `${label}.g`, true, gLabels);
      const real = nets.pass(discriminator, batch, x, sub + REAL_PASS, `${label}.d_real`, true, realLabels);
      const fake = nets.pass(discriminator, batch, g.output, sub + FAKE_PASS, `${label}.d_fake`, true, gLabels);
      const forward = [
        ...(await nets.noiseAndClasses(z, gLabels, batch, sub)),
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
    const g = nets.pass(generator, batch, z, sub, `${p}.g_step.g`, true, gLabels);
    const fake = nets.pass(discriminator, batch, g.output, sub + FAKE_PASS, `${p}.g_step.d_fake`, true, gLabels);
    dispatches.push(
      ...(await nets.noiseAndClasses(z, gLabels, batch, sub)),
      ...(await g.forward()),
      ...(await fake.forward()),
      await gLossDispatch(fake),
      ...(await gBackward(g, fake)),
      ...this.generatorUpdates,
    );
    return { dispatches, samples: g.output };
  }
}
