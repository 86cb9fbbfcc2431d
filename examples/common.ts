// What the pages share: the device (or a plain message when the browser has no WebGPU), a serialised
// queue of actions (training windows, loads, saves never overlap), canvases for the render
// pipelines, uPlot charts of the metrics, and a z interpolation drawn through G on the GPU.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { acquireDevice, GpuUnavailableError, type GpuContext } from '../src/gpu/device';
import type { Runtime } from '../src/gpu/runtime';
import type { Clock } from '../src/gpu/clock';
import { GpuPass, type GpuNetwork } from '../src/nn/mlp';
import { GENERATOR_DROPOUT_STREAM } from '../src/train/keys';
import type { TrainConfig } from '../src/train/config';
import type { Trainer } from '../src/train/trainer';
import type { Dispatch } from '../src/gpu/runtime';

export const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

const WEBGPU_HELP =
  'This page trains on the GPU through WebGPU, and this browser offers none. Use Chrome or Edge 113 or newer ' +
  '(Windows, macOS, ChromeOS, Android). On Linux, start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan, ' +
  'or turn on chrome://flags/#enable-unsafe-webgpu and restart it. Safari 26 and Firefox 141 or newer also have WebGPU.';

/** A device with `requiredLimits`, or undefined after the page has said plainly why there is none. */
export async function pageDevice(requiredLimits: Record<string, number>): Promise<GpuContext | undefined> {
  const say = (detail: string) => {
    const box = $('#no-webgpu');
    box.hidden = false;
    box.querySelector('.detail')!.textContent = detail;
    document.body.dataset.state = 'no-webgpu';
  };
  if (!('gpu' in navigator)) {
    say(WEBGPU_HELP);
    return undefined;
  }
  try {
    return await acquireDevice({ requiredLimits });
  } catch (err) {
    say(err instanceof GpuUnavailableError ? WEBGPU_HELP : (err as Error).message);
    return undefined;
  }
}

/** Runs actions one after another: a click waits for the training window in flight to end. */
export class ActionQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(action: () => Promise<T>): Promise<T> {
    const next = this.tail.then(action);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

/** A canvas drawn by a render pipeline: its WebGPU context, sized to `width` x `height` pixels. */
export function gpuCanvas(canvas: HTMLCanvasElement, device: GPUDevice, width: number, height: number): { context: GPUCanvasContext; format: GPUTextureFormat } {
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('webgpu')!;
  const format = navigator.gpu.getPreferredCanvasFormat();
  context.configure({ device, format, alphaMode: 'opaque' });
  return { context, format };
}

export interface Series {
  label: string;
  stroke: string;
}

/** A uPlot line chart of metrics against the iteration, appended to as records arrive. */
export class Chart {
  private readonly plot: uPlot;
  private readonly columns: number[][];

  constructor(container: HTMLElement, title: string, series: Series[], options: { width?: number; height?: number; range?: [number, number] } = {}) {
    this.columns = [[], ...series.map(() => [])];
    this.plot = new uPlot(
      {
        title,
        width: options.width ?? 360,
        height: options.height ?? 180,
        scales: { x: { time: false }, ...(options.range ? { y: { range: options.range } } : {}) },
        axes: [{ label: 'iteration' }, {}],
        series: [{ label: 'iteration' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5 }))],
        legend: { live: false },
      },
      this.columns as uPlot.AlignedData,
      container,
    );
  }

  add(iteration: number, values: number[]): void {
    this.columns[0].push(iteration);
    values.forEach((v, i) => this.columns[i + 1].push(v));
    this.plot.setData(this.columns as uPlot.AlignedData);
  }

  clear(): void {
    for (const column of this.columns) column.length = 0;
    this.plot.setData(this.columns as uPlot.AlignedData);
  }
}

/** One noise vector from the config's noise distribution (the page's own draws: not the run's RNG). */
function drawNoise(config: TrainConfig): Float32Array {
  const { dim, distribution, low, high, std } = config.noise;
  return Float32Array.from({ length: dim }, () => {
    if (distribution === 'uniform') return low + (high - low) * Math.random();
    const u = 1 - Math.random();
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
  });
}

/**
 * The paper's Figure 3: G along a straight line in z space, `steps` points from one random z to
 * another. The z rows are written when new endpoints are drawn; G's pass is built once per trainer
 * and recorded with each view update.
 */
export class Interpolation {
  private readonly z: GPUBuffer;
  /** A pass per network the trainer can show (G, and its moving average when it keeps one). */
  private readonly passes = new Map<GpuNetwork, { pass: GpuPass; dispatches: Dispatch[] }>();

  private constructor(private readonly rt: Runtime, private readonly config: TrainConfig, private readonly trainer: Trainer, readonly steps: number) {
    this.z = rt.createBuffer('interpolation.z', steps * config.noise.dim * 4);
  }

  static async create(rt: Runtime, clock: Clock, trainer: Trainer, steps: number): Promise<Interpolation> {
    const interpolation = new Interpolation(rt, trainer.config, trainer, steps);
    for (const network of [trainer.generator, trainer.generatorAverage]) {
      if (!network) continue;
      const pass = GpuPass.create(network, clock, steps, interpolation.z, { seed: trainer.config.seed, sub: 0, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false }, `interpolation.${network.spec.name}`);
      interpolation.passes.set(network, { pass, dispatches: await pass.forward() });
    }
    interpolation.newEndpoints();
    return interpolation;
  }

  private get shown(): { pass: GpuPass; dispatches: Dispatch[] } {
    return this.passes.get(this.trainer.shownNetwork)!;
  }

  /** The images along the segment, from the generator the trainer shows. */
  get output(): GPUBuffer {
    return this.shown.pass.output;
  }

  newEndpoints(): void {
    const [from, to] = [drawNoise(this.config), drawNoise(this.config)];
    const dim = this.config.noise.dim;
    const rows = new Float32Array(this.steps * dim);
    for (let s = 0; s < this.steps; s++) {
      const t = s / (this.steps - 1);
      for (let j = 0; j < dim; j++) rows[s * dim + j] = (1 - t) * from[j] + t * to[j];
    }
    this.rt.device.queue.writeBuffer(this.z, 0, rows);
  }

  record(pass: GPUComputePassEncoder): void {
    for (const d of this.shown.dispatches) d.record(pass);
  }

  destroy(): void {
    this.z.destroy();
    for (const { pass } of this.passes.values()) pass.destroy();
  }
}

/** Iterations per training window: about half a second of work, so the page stays responsive. */
export function windowSize(itsPerSecond: number): number {
  return Math.max(1, Math.min(50, Math.round(itsPerSecond / 2)));
}

/** Saves bytes as a file download. */
export function download(bytes: Uint8Array<ArrayBuffer>, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
