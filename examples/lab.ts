// The lab (GAN Lab's idea on this project's kernels): a toy GAN trained in the tab. For 2-D data the
// plane shows real and generated points, D's output over the plane (D's forward pass on a grid of
// points, the same dense kernels) and G's image of a grid of noise points, all drawn from GPU buffers;
// the Jensen-Shannon divergence between data and samples is charted as it falls. For 1-D data it
// shows the paper's Figure 1: p_data, p_g and D along x.
//
// URL parameters: distribution=NAME, autostart=1. Tests read window.ganLab.
import uPlot from 'uplot';
import { presetConfig, type TrainConfig } from '../src/train/config';
import { runTraining } from '../src/train/loop';
import { createTrainer, modelLimits, prepareData, toyDivergence, TOY_DATASET_SIZE, type TrainingData } from '../src/train/session';
import { histogram } from '../src/data/toy';
import { Runtime } from '../src/gpu/runtime';
import { Clock } from '../src/gpu/clock';
import { GpuPass } from '../src/nn/mlp';
import { PlaneRenderer, type PlaneLayer } from '../src/kernels/render';
import type { GpuContext } from '../src/gpu/device';
import type { Dispatch } from '../src/gpu/runtime';
import type { SampleBatch, Trainer } from '../src/train/trainer';
import { $, ActionQueue, Chart, gpuCanvas, pageDevice, windowSize } from './common';

const HEATMAP_GRID = 48;
const MESH_GRID = 16;
const SHOWN_POINTS = 1000;
const PLANE_PIXELS = 480;
const BOUNDS = { lo: -3, hi: 3 };

const controls = { distribution: $<HTMLSelectElement>('#distribution'), start: $<HTMLButtonElement>('#start'), step: $<HTMLButtonElement>('#step'), clear: $<HTMLButtonElement>('#clear') };
const status = $('#status');
const errorBox = $('#error');
const showError = (message?: string) => {
  errorBox.hidden = !message;
  errorBox.textContent = message ?? '';
};

/** A distribution drawn with the mouse: each stroke point becomes a small gaussian blob. */
class Drawing {
  readonly points: [number, number][] = [];
  private readonly context: CanvasRenderingContext2D;
  constructor(private readonly canvas: HTMLCanvasElement) {
    this.context = canvas.getContext('2d')!;
    let down = false;
    canvas.addEventListener('pointerdown', (e) => ((down = controls.distribution.value === 'drawn'), this.add(e)));
    canvas.addEventListener('pointermove', (e) => down && this.add(e));
    window.addEventListener('pointerup', () => (down = false));
  }
  private add(event: PointerEvent): void {
    if (controls.distribution.value !== 'drawn') return;
    const rect = this.canvas.getBoundingClientRect();
    const u = (event.clientX - rect.left) / rect.width;
    const v = (event.clientY - rect.top) / rect.height;
    this.points.push([BOUNDS.lo + u * (BOUNDS.hi - BOUNDS.lo), BOUNDS.hi - v * (BOUNDS.hi - BOUNDS.lo)]);
    this.context.fillStyle = 'rgba(30, 110, 200, 0.5)';
    this.context.beginPath();
    this.context.arc(u * this.canvas.width, v * this.canvas.height, 4, 0, 2 * Math.PI);
    this.context.fill();
  }
  clear(): void {
    this.points.length = 0;
    this.context.clearRect(0, 0, this.canvas.width, this.canvas.height);
  }
  /** TOY_DATASET_SIZE points around the strokes (standard deviation 0.08). */
  dataset(): Float32Array<ArrayBuffer> {
    if (this.points.length === 0) throw new Error('Draw a distribution on the plane first (hold the mouse button down and drag).');
    const out = new Float32Array(TOY_DATASET_SIZE * 2);
    for (let i = 0; i < TOY_DATASET_SIZE; i++) {
      const [x, y] = this.points[i % this.points.length];
      const r = 0.08 * Math.sqrt(-2 * Math.log(1 - Math.random()));
      const a = 2 * Math.PI * Math.random();
      out.set([x + r * Math.cos(a), y + r * Math.sin(a)], 2 * i);
    }
    return out;
  }
}

class Lab {
  config!: TrainConfig;
  /** The distribution the current model learns (a value of the distribution control). */
  kind?: string;
  trainer!: Trainer;
  data!: TrainingData;
  running = false;
  /** The divergence at every logged iteration of the current run: [iteration, js]. */
  readonly divergences: [number, number][] = [];
  private itsPerSecond = 0;
  private views: { dispatches: Dispatch[]; layers: PlaneLayer[]; owned: { destroy(): void }[] } = { dispatches: [], layers: [], owned: [] };
  private readonly queue = new ActionQueue();
  private readonly js = new Chart($('#charts'), 'Jensen-Shannon divergence (nats)', [{ label: 'JS(p_data, p_g)', stroke: '#7a3ea8' }]);
  private readonly losses = new Chart($('#charts'), 'losses', [{ label: 'D loss', stroke: '#1e6ec8' }, { label: 'G loss', stroke: '#dc5a1e' }]);
  private line?: uPlot;

  constructor(
    readonly context: GpuContext,
    readonly rt: Runtime,
    readonly clock: Clock,
    private readonly plane: PlaneRenderer,
    private readonly canvas: GPUCanvasContext,
    readonly drawing: Drawing,
  ) {}

  async start(kind: string): Promise<void> {
    await this.queue.run(async () => {
      const config = presetConfig(kind === 'drawn' ? 'toy-2d-ring' : kind);
      config.iterations = Number.MAX_SAFE_INTEGER;
      const data = await prepareData(this.rt, config, kind === 'drawn' ? { points: this.drawing.dataset() } : {});
      const trainer = await createTrainer(this.rt, this.clock, config, data);
      this.trainer?.destroy();
      this.data?.dataset.buffer.destroy();
      for (const o of this.views.owned) o.destroy();
      [this.config, this.data, this.trainer, this.kind] = [config, data, trainer, kind];
      this.divergences.length = 0;
      this.js.clear();
      this.losses.clear();
      const twoD = data.toy!.distribution.dims === 2;
      $('#plane-view').hidden = !twoD;
      $('#line-view').hidden = twoD;
      this.views = twoD ? await this.planeViews() : { dispatches: [], layers: [], owned: [] };
      this.draw();
      this.showStatus();
    });
  }

  /** D on a grid over the plane and G on a grid of noise, built once per model; the plane's layers. */
  private async planeViews(): Promise<Lab['views']> {
    const { rt, clock, trainer, config } = this;
    const { lo, hi } = BOUNDS;
    const cells = new Float32Array(HEATMAP_GRID * HEATMAP_GRID * 2);
    for (let j = 0; j < HEATMAP_GRID; j++) for (let i = 0; i < HEATMAP_GRID; i++) cells.set([lo + ((i + 0.5) * (hi - lo)) / HEATMAP_GRID, lo + ((j + 0.5) * (hi - lo)) / HEATMAP_GRID], 2 * (j * HEATMAP_GRID + i));
    const noise = new Float32Array(MESH_GRID * MESH_GRID * 2);
    for (let r = 0; r < MESH_GRID; r++) for (let c = 0; c < MESH_GRID; c++) noise.set([-2 + (4 * c) / (MESH_GRID - 1), -2 + (4 * r) / (MESH_GRID - 1)], 2 * (r * MESH_GRID + c));
    const cellBuffer = rt.upload('lab.heatmap.x', cells);
    const noiseBuffer = rt.upload('lab.mesh.z', noise);
    const real = rt.upload('lab.real', this.data.toy!.points.slice(0, SHOWN_POINTS * 2));
    const rng = { seed: config.seed, sub: 0, streamBase: 0, dropout: false };
    const dPass = GpuPass.create(trainer.discriminator, clock, HEATMAP_GRID * HEATMAP_GRID, cellBuffer, rng, 'lab.heatmap.d');
    const gPass = GpuPass.create(trainer.generator, clock, MESH_GRID * MESH_GRID, noiseBuffer, rng, 'lab.mesh.g');
    const bounds = { ...BOUNDS, width: PLANE_PIXELS, height: PLANE_PIXELS };
    const layers = [
      this.plane.layer('heatmap', dPass.output, HEATMAP_GRID, bounds),
      this.plane.layer('manifold', gPass.output, MESH_GRID, bounds, { color: [0.35, 0.35, 0.35, 0.6] }),
      this.plane.layer('points', real, SHOWN_POINTS, bounds, { color: [0.12, 0.43, 0.78, 0.7], size: 3 }),
      this.plane.layer('points', trainer.fixedNoiseSamples, SHOWN_POINTS, bounds, { color: [0.86, 0.35, 0.12, 0.8], size: 3 }),
    ];
    return { dispatches: [...(await dPass.forward()), ...(await gPass.forward())], layers, owned: [cellBuffer, noiseBuffer, real, dPass, gPass, ...layers.map((l) => l.uniform)] };
  }

  /** G on the fixed noise, D over the plane, G's mesh, then the plane: one submission, no readback. */
  draw(): void {
    if (this.views.layers.length === 0) return;
    const encoder = this.rt.device.createCommandEncoder({ label: 'lab.views' });
    const pass = encoder.beginComputePass({ label: 'lab.views' });
    this.trainer.recordSampling(pass);
    for (const d of this.views.dispatches) d.record(pass);
    pass.end();
    this.plane.draw(encoder, this.canvas.getCurrentTexture().createView(), this.views.layers);
    this.rt.device.queue.submit([encoder.finish()]);
  }

  private showLine(batch: SampleBatch): void {
    const { distribution, points } = this.data.toy!;
    const [lo, hi] = distribution.bounds;
    const bins = 64;
    const xs = Array.from({ length: bins }, (_, i) => lo + ((i + 0.5) * (hi - lo)) / bins);
    const density = (h: Float64Array) => Array.from(h.subarray(0, bins), (v) => (v * bins) / (hi - lo));
    const curve = batch.discriminatorCurve ?? new Float32Array(bins);
    const d = xs.map((x) => curve[Math.min(curve.length - 1, Math.round(((x - lo) / (hi - lo)) * (curve.length - 1)))]);
    const columns = [xs, density(histogram(points, 1, [lo, hi], bins)), density(histogram(batch.samples, 1, [lo, hi], bins)), d] as uPlot.AlignedData;
    if (!this.line) {
      this.line = new uPlot(
        {
          width: 480,
          height: 280,
          scales: { x: { time: false } },
          series: [{ label: 'x' }, { label: 'p_data', stroke: '#1e6ec8' }, { label: 'p_g', stroke: '#dc5a1e' }, { label: 'D(x)', stroke: '#289640', dash: [6, 4] }],
        },
        columns,
        $('#line'),
      );
    } else this.line.setData(columns);
  }

  private async window(count: number): Promise<void> {
    const until = (Math.floor(this.trainer.iteration / count) + 1) * count;
    await runTraining(this.trainer, { until, logEvery: count, sampleEvery: Number.MAX_SAFE_INTEGER, checkpointEvery: Number.MAX_SAFE_INTEGER, sampleWithLogs: true }, {
      onSamples: (batch) => {
        const js = toyDivergence(this.data, batch.samples)!;
        this.divergences.push([batch.iter, js]);
        this.js.add(batch.iter, [js]);
        if (this.data.toy!.distribution.dims === 1) this.showLine(batch);
      },
      onMetrics: (record) => {
        this.itsPerSecond = record.its_per_s;
        this.losses.add(record.iter, [record.d_loss, record.g_loss]);
      },
    });
    this.draw();
    this.showStatus();
  }

  private showStatus(): void {
    const state = this.running ? 'running' : 'paused';
    document.body.dataset.state = state;
    document.body.dataset.iteration = String(this.trainer.iteration);
    const js = this.divergences.at(-1);
    status.textContent = `${this.context.adapterName} · ${controls.distribution.value} · iteration ${this.trainer.iteration} · ${js ? `JS ${js[1].toFixed(3)}` : ''} · ${this.itsPerSecond ? `${this.itsPerSecond.toFixed(2)} it/s` : '–'} · ${state}`;
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    controls.start.textContent = 'Pause';
    while (this.running) {
      // The divergence is measured at each window's end: windows of at least 5 iterations.
      await this.queue.run(() => this.window(Math.max(5, windowSize(this.itsPerSecond)))).catch((err) => {
        this.running = false;
        showError((err as Error).message);
      });
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    controls.start.textContent = 'Start';
    this.showStatus();
  }

  pause(): void {
    this.running = false;
  }

  step(): Promise<void> {
    return this.queue.run(() => this.window(1)).catch((err) => showError((err as Error).message));
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  controls.distribution.value = params.get('distribution') ?? 'toy-2d-ring';
  const limits = modelLimits(presetConfig('toy-2d-grid'));
  const context = await pageDevice(limits);
  if (!context) return;
  const rt = new Runtime(context);
  const { context: canvas, format } = gpuCanvas($<HTMLCanvasElement>('#plane'), context.device, PLANE_PIXELS, PLANE_PIXELS);
  const lab = new Lab(context, rt, new Clock(context.device), await PlaneRenderer.create(rt, format), canvas, new Drawing($<HTMLCanvasElement>('#strokes')));
  (window as unknown as { ganLab: Lab }).ganLab = lab;
  const restart = () => {
    lab.pause();
    return lab.start(controls.distribution.value).then(
      () => (showError(undefined), true),
      (err: Error) => (showError(err.message), false),
    );
  };
  controls.start.addEventListener('click', async () => {
    if (lab.running) lab.pause();
    else if (lab.kind === controls.distribution.value || (await restart())) void lab.run();
  });
  controls.step.addEventListener('click', () => void lab.step());
  controls.clear.addEventListener('click', () => lab.drawing.clear());
  controls.distribution.addEventListener('change', () => (controls.distribution.value === 'drawn' ? lab.pause() : void restart()));
  if (controls.distribution.value !== 'drawn') await restart();
  controls.start.disabled = false;
  controls.step.disabled = false;
  if (params.get('autostart') === '1') void lab.run();
}

main().catch((err: Error) => {
  showError(err.message);
  document.body.dataset.state = 'error';
});
