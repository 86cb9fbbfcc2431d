// Per-kernel figures on the GPU: each GEMM of the paper's forward and backward passes (GFLOP/s), the
// elementwise kernels of a step (GB/s), and where the time of one whole Trainer iteration goes
// (every dispatch of its plan timed on its own). Times come from timestamp queries when the adapter
// has them (src/gpu/timer.ts), else from the wall clock around submit and onSubmittedWorkDone.
import { Dispatch, type Runtime } from '../src/gpu/runtime';
import type { Clock } from '../src/gpu/clock';
import { GpuTimer } from '../src/gpu/timer';
import { isSoftwareAdapter, waitYieldingCores } from '../src/gpu/wait';
import { denseBackward, denseForward } from '../src/kernels/dense';
import { createNonfiniteFlag, createOptimizer } from '../src/kernels/optimizer';
import { allocateDenseBuffers } from '../src/nn/dense-buffers';
import { layerShape, parameterLayout } from '../src/nn/layout';
import type { DenseShape, NetworkSpec } from '../src/spec/network';
import type { Trainer } from '../src/train/trainer';
import { discriminatorSpec, generatorSpec, type TrainConfig } from '../src/spec/config';
import { spread } from './stats';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Times recorded work on the GPU; one instance per device. */
export class KernelClock {
  readonly timer: GpuTimer | undefined;
  readonly method: 'timestamp-query' | 'wall-clock';

  /** A software adapter computes on the CPU: the waits leave it the cores (src/gpu/wait.ts). */
  private readonly software: boolean;

  constructor(readonly rt: Runtime) {
    this.software = isSoftwareAdapter(rt.context);
    this.timer = GpuTimer.create(rt.device, 512);
    this.method = this.timer ? 'timestamp-query' : 'wall-clock';
  }

  /** Milliseconds of each group of dispatches, each group recorded `repeats` times in a compute pass of its own. */
  async timeGroups(groups: Dispatch[][], repeats = 1): Promise<number[]> {
    const { device } = this.rt;
    const encoder = device.createCommandEncoder({ label: 'bench' });
    groups.forEach((dispatches, i) => {
      const pass = encoder.beginComputePass({ label: `bench.${i}`, timestampWrites: this.timer?.pass(`group${i}`) });
      for (let r = 0; r < repeats; r++) for (const d of dispatches) d.record(pass);
      pass.end();
    });
    if (this.timer && !this.timer.resolve(encoder)) throw new Error('GpuTimer: no free readback slot');
    const started = performance.now();
    device.queue.submit([encoder.finish()]);
    this.timer?.submitted();
    await waitYieldingCores(() => device.queue.onSubmittedWorkDone(), this.software);
    const wall = performance.now() - started;
    if (!this.timer) {
      if (groups.length !== 1) throw new Error('without timestamp queries only one group can be timed at a time');
      return [wall / repeats];
    }
    for (let tries = 0; tries < 1000; tries++) {
      const [result] = this.timer.drain();
      if (result) return groups.map((_, i) => result.milliseconds[`group${i}`] / repeats);
      await sleep(1);
    }
    throw new Error('GpuTimer: the timestamps never arrived');
  }

  /** Median milliseconds of one run of `dispatches`, over `samples` samples of about `targetMs` each. */
  async time(dispatches: Dispatch[], samples: number, targetMs: number): Promise<number> {
    const [first] = await this.timeGroups([dispatches]);
    const repeats = Math.max(1, Math.min(50, Math.round(targetMs / Math.max(first, 1e-3))));
    const times: number[] = [];
    for (let s = 0; s < samples; s++) times.push((await this.timeGroups([dispatches], repeats))[0]);
    return spread(times).median;
  }
}

export interface GemmFigure {
  kernel: string;
  network: string;
  layer: number;
  shape: string;
  /** The product (m x k) (k x n). */
  m: number;
  n: number;
  k: number;
  ms: number;
  gflops: number;
}

export interface ElementwiseFigure {
  kernel: string;
  shape: string;
  bytes: number;
  ms: number;
  gb_per_s: number;
}

/** A rate; NaN (null in the JSON) for a dispatch that took less than the clock could see, which has none. */
function perMillisecond(amount: number, ms: number): number {
  return ms > 0 ? amount / ms : NaN;
}

/** The best GEMM rate among those the clock could measure. */
export function bestGflops(gemms: GemmFigure[]): number {
  return Math.max(...gemms.map((g) => g.gflops).filter(Number.isFinite));
}

function describe(shape: DenseShape): string {
  const out =
    shape.pieces > 1 ? `${shape.units}x${shape.pieces} ${shape.activation}` : `${shape.units} ${shape.activation}`;
  return `${shape.batch}x${shape.inFeatures} -> ${out}`;
}

const byLabel = (dispatches: Dispatch[], suffix: string) => dispatches.filter((d) => d.label.endsWith(suffix));

/**
 * GEMM FLOPs of one layer's products as the kernels execute them: forward, weight gradient, input
 * gradient. A maxout layer's input gradient multiplies every piece, the losers' zeros included
 * (shaders/dense.backward.wgsl says why), so it counts units * pieces columns like the others.
 */
export function layerFlops(shape: DenseShape): { forward: number; gradWeight: number; gradInput: number } {
  const product = 2 * shape.batch * shape.inFeatures * shape.units * shape.pieces;
  return { forward: product, gradWeight: product, gradInput: product };
}

/** A product (m x k) (k x n). */
export interface GemmDims {
  m: number;
  n: number;
  k: number;
}

/**
 * The shapes of one layer's products as the kernels execute them (and as the GEMM rows name them):
 * forward (batch x in) (in x width); input gradient (in x width) (width x batch), the transposed
 * weight's form; weight gradient (in x batch) (batch x width). width = units * pieces.
 */
export function layerProducts(shape: DenseShape): { forward: GemmDims; gradInput: GemmDims; gradWeight: GemmDims } {
  const width = shape.units * shape.pieces;
  return {
    forward: { m: shape.batch, n: width, k: shape.inFeatures },
    gradInput: { m: shape.inFeatures, n: shape.batch, k: width },
    gradWeight: { m: shape.inFeatures, n: width, k: shape.batch },
  };
}

export interface IterationGemm extends GemmDims {
  network: 'G' | 'D';
  layer: number;
  product: 'forward' | 'grad_input' | 'grad_weight';
  /** How often one iteration runs it. */
  count: number;
}

/**
 * Every GEMM of one iteration with how often the iteration runs it, counted as iterationFlops counts
 * them (their FLOPs sum to it): alternating form, per iteration k D steps (G forward, D forward on
 * real and fake, D backward on both with weights, D's first layer's input gradient unused) and one G
 * step (G forward, D forward, D backward to its input without weights, G backward with weights, G's
 * first layer's input gradient unused); the simultaneous form does the D step once and reuses its G
 * forward and D forward on the fakes for the G step.
 */
export function iterationGemms(config: TrainConfig): IterationGemm[] {
  const k = config.k;
  type Counts = { forward: number; weight: number; input: number; firstInput: number };
  const counts: { G: Counts; D: Counts } =
    config.form === 'simultaneous'
      ? { G: { forward: 1, weight: 1, input: 1, firstInput: 0 }, D: { forward: 2, weight: 2, input: 3, firstInput: 1 } }
      : {
          G: { forward: k + 1, weight: 1, input: 1, firstInput: 0 },
          D: { forward: 2 * k + 1, weight: 2 * k, input: 2 * k + 1, firstInput: 1 },
        };
  const out: IterationGemm[] = [];
  for (const spec of [generatorSpec(config), discriminatorSpec(config)]) {
    const network = spec.name === 'generator' ? 'G' : 'D';
    const c = counts[network];
    spec.layers.forEach((_, layer) => {
      const p = layerProducts(layerShape(spec, layer, config.batch));
      const input = layer > 0 ? c.input : c.firstInput;
      if (c.forward) out.push({ network, layer, product: 'forward', ...p.forward, count: c.forward });
      if (input) out.push({ network, layer, product: 'grad_input', ...p.gradInput, count: input });
      if (c.weight) out.push({ network, layer, product: 'grad_weight', ...p.gradWeight, count: c.weight });
    });
  }
  return out;
}

/** GEMM FLOPs of one iteration of Algorithm 1's alternating form, as the Trainer records it. */
export function iterationFlops(config: TrainConfig): number {
  const sum = (spec: NetworkSpec, what: (shape: DenseShape, l: number) => number) =>
    spec.layers.reduce((total, _, l) => total + what(layerShape(spec, l, config.batch), l), 0);
  const g = generatorSpec(config);
  const d = discriminatorSpec(config);
  const forward = (spec: NetworkSpec) => sum(spec, (s) => layerFlops(s).forward);
  // Backward: weight gradients, and input gradients of every layer but the first unless asked.
  const backward = (spec: NetworkSpec, weights: boolean, firstInput: boolean) =>
    sum(spec, (s, l) => (weights ? layerFlops(s).gradWeight : 0) + (l > 0 || firstInput ? layerFlops(s).gradInput : 0));
  const dStep = forward(g) + 2 * forward(d) + 2 * backward(d, true, false);
  const gStep = forward(g) + forward(d) + backward(d, false, true) + backward(g, true, false);
  if (config.form === 'simultaneous')
    return (
      forward(g) + 2 * forward(d) + 2 * backward(d, true, false) + backward(d, false, true) + backward(g, true, false)
    );
  return config.k * dStep + gStep;
}

/** Every GEMM of the paper's layers at the config's batch, timed alone, with its elementwise neighbours. */
export async function measureKernels(
  rt: Runtime,
  clock: Clock,
  config: TrainConfig,
  kernelClock: KernelClock,
  quick: boolean,
): Promise<{ gemms: GemmFigure[]; elementwise: ElementwiseFigure[] }> {
  const samples = quick ? 1 : 5;
  const targetMs = quick ? 40 : 250;
  const owned: { destroy(): void }[] = [];
  const buffer = (label: string, floats: number) => {
    const b = rt.createBuffer(`bench.${label}`, floats * 4);
    owned.push(b);
    return b;
  };
  const gemms: GemmFigure[] = [];
  const elementwise: ElementwiseFigure[] = [];
  const timeElementwise = async (kernel: string, shape: string, dispatch: Dispatch, bytes: number) => {
    const ms = await kernelClock.time([dispatch], samples, targetMs / 4);
    elementwise.push({ kernel, shape, bytes, ms, gb_per_s: perMillisecond(bytes, ms) / 1e6 });
  };
  clock.set(1);
  for (const spec of [generatorSpec(config), discriminatorSpec(config)]) {
    const network = spec.name === 'generator' ? 'G' : 'D';
    for (let l = 0; l < spec.layers.length; l++) {
      const shape = layerShape(spec, l, config.batch);
      const width = shape.units * shape.pieces;
      const { batch, inFeatures, units } = shape;
      const layer = spec.layers[l];
      const dropout = layer.dropout && { ...layer.dropout, seed: config.seed, stream: 100 + l, sub: 0 };
      // G's first layer never needs its input gradient; D's does, in the G step.
      const wantsInput = !(network === 'G' && l === 0);
      const layerBuffers = allocateDenseBuffers(rt, shape, {
        label: 'bench',
        dropout: dropout !== undefined,
        inputGrad: wantsInput,
      });
      owned.push(layerBuffers);
      const forward = await denseForward(rt, clock, shape, layerBuffers, dropout);
      const backward = await denseBackward(rt, clock, shape, layerBuffers, { dropout });
      const flops = layerFlops(shape);
      const described = describe(shape);
      const gemm = async (kernel: string, dispatch: Dispatch, { m, n, k }: GemmDims, f: number) => {
        const ms = await kernelClock.time([dispatch], samples, targetMs);
        gemms.push({ kernel, network, layer: l, shape: described, m, n, k, ms, gflops: perMillisecond(f, ms) / 1e6 });
      };
      const dims = layerProducts(shape);
      const product = forward.find((d) => !d.label.endsWith('.dropout'))!;
      await gemm(product.label, product, dims.forward, flops.forward);
      for (const d of byLabel(backward, '.grad_input')) await gemm(d.label, d, dims.gradInput, flops.gradInput);
      for (const d of byLabel(backward, '.grad_weight')) await gemm(d.label, d, dims.gradWeight, flops.gradWeight);
      for (const d of byLabel(forward, '.dropout'))
        await timeElementwise(d.label, `${network}.${l} ${batch}x${inFeatures}`, d, 2 * batch * inFeatures * 4);
      for (const d of byLabel(backward, '.preactivation'))
        await timeElementwise(d.label, `${network}.${l} ${described}`, d, (2 * batch * units + 2 * batch * width) * 4);
      for (const d of byLabel(backward, '.grad_bias'))
        await timeElementwise(d.label, `${network}.${l} ${described}`, d, (batch * width + width) * 4);
    }
  }
  // The optimizer over G's parameters (read p, g, v; write p, v).
  const g = generatorSpec(config);
  const count = parameterLayout(g).totalFloats;
  const nonfinite = createNonfiniteFlag(rt, 'bench.nonfinite');
  owned.push(nonfinite);
  const optimizer = await createOptimizer(
    rt,
    { rule: config.optimizer.kind, count },
    {
      grad: buffer('grad', count),
      param: buffer('param', count),
      velocity: buffer('velocity', count),
      firstMoment: buffer('m1', count),
      secondMoment: buffer('m2', count),
      nonfinite,
    },
    { lr: 1e-9, momentum: 0.5 },
  );
  await timeElementwise(
    optimizer.dispatch.label,
    `G parameters (${count})`,
    optimizer.dispatch,
    (config.optimizer.kind === 'adam' ? 7 : 5) * count * 4,
  );
  optimizer.uniform.buffer.destroy();
  for (const b of owned) b.destroy();
  return { gemms, elementwise };
}

export interface ProfileEntry {
  kernel: string;
  dispatches: number;
  ms: number;
  share: number;
}

/**
 * Where one iteration's time goes: the dispatches the Trainer records for an iteration, each timed
 * in a pass of its own, summed by kernel. Steps the trainer once to learn its plan.
 */
export async function profileIteration(
  trainer: Trainer,
  kernelClock: KernelClock,
  repeats: number,
): Promise<{ entries: ProfileEntry[]; totalMs: number }> {
  const plan: Dispatch[] = [];
  const record = Dispatch.prototype.record;
  Dispatch.prototype.record = function (this: Dispatch, pass: GPUComputePassEncoder) {
    plan.push(this);
    record.call(this, pass);
  };
  try {
    trainer.step({ log: false, sample: false });
  } finally {
    Dispatch.prototype.record = record;
  }
  await trainer.settle();
  if (!kernelClock.timer) return { entries: [], totalMs: NaN };
  const totals = new Map<string, { ms: number[]; dispatches: number }>();
  for (let r = 0; r < repeats; r++) {
    const times = await kernelClock.timeGroups(
      plan.map((d) => [d]),
      1,
    );
    const sums = new Map<string, number>();
    plan.forEach((d, i) => sums.set(d.label, (sums.get(d.label) ?? 0) + times[i]));
    for (const [label, ms] of sums) {
      const entry = totals.get(label) ?? { ms: [], dispatches: plan.filter((d) => d.label === label).length };
      entry.ms.push(ms);
      totals.set(label, entry);
    }
  }
  const entries = [...totals].map(([kernel, { ms, dispatches }]) => ({
    kernel,
    dispatches,
    ms: spread(ms).median,
    share: 0,
  }));
  const totalMs = entries.reduce((s, e) => s + e.ms, 0);
  for (const e of entries) e.share = e.ms / totalMs;
  entries.sort((a, b) => b.ms - a.ms);
  return { entries, totalMs };
}
