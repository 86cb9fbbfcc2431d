// The lab (GAN Lab's idea on this project's kernels): a toy GAN trained in the tab. For 2-D data the
// plane shows real and generated points, D's output over the plane (D's forward pass on a grid of
// points, the same dense kernels) and G's image of a grid of noise points, all drawn from GPU buffers;
// the Jensen-Shannon divergence between data and samples is charted as it falls. For 1-D data it
// shows the paper's Figure 1: p_data, p_g and D along x.
//
// URL parameters: distribution=NAME, autostart=1. Tests read window.ganLab.
import uPlot from 'uplot';
import {
  attachCanvas,
  Clock,
  createTrainer,
  fitRun,
  type CanvasPresent,
  type GpuContext,
  histogram,
  modelLimits,
  prepareData,
  presetConfig,
  Runtime,
  type SampleBatch,
  type SampleCanvas,
  TOY_DATASET_SIZE,
  toyDivergence,
  type TrainConfig,
  type Trainer,
  TrainingController,
  type TrainingData,
} from '../src/index';
import { $, canvasPresentation, Chart, gpuFailureLine, pageDevice } from './common';

const PLANE_PIXELS = 480;
const BOUNDS = { lo: -3, hi: 3 };

const controls = {
  distribution: $<HTMLSelectElement>('#distribution'),
  start: $<HTMLButtonElement>('#start'),
  step: $<HTMLButtonElement>('#step'),
  clear: $<HTMLButtonElement>('#clear'),
};
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
    if (this.points.length === 0)
      throw new Error('Draw a distribution on the plane first (hold the mouse button down and drag).');
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
  data!: TrainingData;
  /** The divergence at every logged iteration of the current run: [iteration, js]. */
  readonly divergences: [number, number][] = [];
  /** The plane, made with the first 2-D model. */
  private plane?: SampleCanvas;
  private readonly js = new Chart($('#charts'), 'Jensen-Shannon divergence (nats)', [
    { label: 'JS(p_data, p_g)', stroke: '#7a3ea8' },
  ]);
  private readonly losses = new Chart($('#charts'), 'losses', [
    { label: 'D loss', stroke: '#1e6ec8' },
    { label: 'G loss', stroke: '#dc5a1e' },
  ]);
  private line?: uPlot;
  readonly controller = new TrainingController({
    // The divergence is measured at each window's end: windows of at least 5 iterations.
    minWindow: 5,
    sampleWithLogs: true,
    onSamples: (batch) => {
      const js = toyDivergence(this.data, batch.samples)!;
      this.divergences.push([batch.iter, js]);
      this.js.add(batch.iter, [js]);
      if (this.data.toy!.distribution.dims === 1) this.showLine(batch);
    },
    onMetrics: (record) => this.losses.add(record.iter, [record.d_loss, record.g_loss]),
    onWindow: () => {
      this.draw();
      this.showStatus();
    },
    onState: (state) => {
      controls.start.textContent = state === 'running' ? 'Pause' : 'Start';
      this.showStatus();
    },
    onError: (err) =>
      showError(err && gpuFailureLine(err, this.controller.state === 'error' ? 'A training step' : 'A GPU call')),
  });

  constructor(
    readonly context: GpuContext,
    readonly rt: Runtime,
    readonly clock: Clock,
    readonly drawing: Drawing,
    /** How the plane reaches the screen (common.ts canvasPresentation). */
    readonly present: CanvasPresent,
  ) {}

  get trainer(): Trainer {
    return this.controller.trainer;
  }

  get running(): boolean {
    return this.controller.state === 'running';
  }

  private get twoD(): boolean {
    return this.data?.toy!.distribution.dims === 2;
  }

  async start(kind: string): Promise<void> {
    await this.controller.exclusive(async () => {
      // The lab trains until paused.
      const { config } = await fitRun({
        ...presetConfig(kind === 'drawn' ? 'toy-2d-ring' : kind),
        iterations: Number.MAX_SAFE_INTEGER,
      });
      const data = await prepareData(this.rt, { config }, kind === 'drawn' ? { points: this.drawing.dataset() } : {});
      const trainer = await createTrainer(this.rt, this.clock, config, data);
      const twoD = data.toy!.distribution.dims === 2;
      if (twoD && this.plane) await this.plane.setTrainer(trainer);
      else if (twoD)
        this.plane = await attachCanvas(trainer, $<HTMLCanvasElement>('#plane'), {
          plane: { ...BOUNDS, pixels: PLANE_PIXELS },
          label: 'lab.plane',
          present: this.present,
        });
      this.controller.setTrainer(trainer)?.destroy();
      this.data?.dataset.buffer.destroy();
      [this.config, this.data, this.kind] = [config, data, kind];
      this.divergences.length = 0;
      this.js.clear();
      this.losses.clear();
      $('#plane-view').hidden = !twoD;
      $('#line-view').hidden = twoD;
      this.draw();
      this.showStatus();
    });
  }

  /**
   * G on the fixed noise, D over the plane, G's mesh, then the plane: one submission (a readback plane
   * copies its pixels out once per draw). A failed draw is reported and training goes on.
   */
  draw(): void {
    if (!this.twoD || !this.plane) return;
    const failed = (err: Error) =>
      this.controller.report(
        new Error(
          `Drawing the plane failed (${err.name}: ${err.message}); training goes on. Reload the page if the plane stays blank.`,
        ),
      );
    try {
      this.plane.draw().catch(failed);
    } catch (err) {
      failed(err as Error);
    }
  }

  private showLine(batch: SampleBatch): void {
    const { distribution, points } = this.data.toy!;
    const [lo, hi] = distribution.bounds;
    const bins = 64;
    const xs = Array.from({ length: bins }, (_, i) => lo + ((i + 0.5) * (hi - lo)) / bins);
    const density = (h: Float64Array) => Array.from(h.subarray(0, bins), (v) => (v * bins) / (hi - lo));
    const curve = batch.discriminatorCurve ?? new Float32Array(bins);
    const d = xs.map((x) => curve[Math.min(curve.length - 1, Math.round(((x - lo) / (hi - lo)) * (curve.length - 1)))]);
    const columns = [
      xs,
      density(histogram(points, 1, [lo, hi], bins)),
      density(histogram(batch.samples, 1, [lo, hi], bins)),
      d,
    ] as uPlot.AlignedData;
    if (!this.line) {
      this.line = new uPlot(
        {
          width: 480,
          height: 280,
          scales: { x: { time: false } },
          series: [
            { label: 'x' },
            { label: 'p_data', stroke: '#1e6ec8' },
            { label: 'p_g', stroke: '#dc5a1e' },
            { label: 'D(x)', stroke: '#289640', dash: [6, 4] },
          ],
        },
        columns,
        $('#line'),
      );
    } else this.line.setData(columns);
  }

  private showStatus(): void {
    if (!this.config) return;
    const state = this.running ? 'running' : 'paused';
    const speed = this.controller.itsPerSecond;
    document.body.dataset.state = state;
    document.body.dataset.iteration = String(this.trainer.iteration);
    const js = this.divergences.at(-1);
    status.textContent = `${this.context.adapterName} · ${controls.distribution.value} · iteration ${this.trainer.iteration} · ${js ? `JS ${js[1].toFixed(3)}` : ''} · ${speed ? `${speed.toFixed(2)} it/s` : '–'} · ${state}`;
  }

  /**
   * For tests: the plane drawn by the same render pipelines into an offscreen texture and read back
   * (headless Chromium on SwiftShader does not composite WebGPU canvases into screenshots).
   */
  async snapshot(): Promise<{ width: number; height: number; pixels: number[] }> {
    return this.controller.exclusive(async () => {
      if (!this.twoD || !this.plane) throw new Error('The plane shows 2-D data only.');
      const { width, height, pixels } = await this.plane.snapshot();
      return { width, height, pixels: Array.from(pixels) };
    });
  }

  run(): Promise<void> {
    return this.controller.run();
  }

  pause(): void {
    this.controller.pause();
  }

  step(): Promise<void> {
    return this.controller.step(1);
  }
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  controls.distribution.value = params.get('distribution') ?? 'toy-2d-ring';
  const limits = modelLimits(presetConfig('toy-2d-grid'));
  // Asked before the page's device exists: a probe that loses its device leaves the next one working.
  const present = await canvasPresentation();
  const context = await pageDevice(limits);
  if (!context) return;
  const lab = new Lab(
    context,
    new Runtime(context),
    new Clock(context.device),
    new Drawing($<HTMLCanvasElement>('#strokes')),
    present,
  );
  (window as unknown as { ganLab: Lab }).ganLab = lab;
  const restart = () => {
    lab.pause();
    return lab.start(controls.distribution.value).then(
      () => (lab.controller.report(), true),
      (err: Error) => (lab.controller.report(err), false),
    );
  };
  controls.start.addEventListener('click', async () => {
    if (lab.running) lab.pause();
    else if (lab.kind === controls.distribution.value || (await restart())) void lab.run();
  });
  controls.step.addEventListener('click', () => void lab.step());
  controls.clear.addEventListener('click', () => lab.drawing.clear());
  controls.distribution.addEventListener('change', () =>
    controls.distribution.value === 'drawn' ? lab.pause() : void restart(),
  );
  if (controls.distribution.value !== 'drawn') await restart();
  controls.start.disabled = false;
  controls.step.disabled = false;
  if (params.get('autostart') === '1') void lab.run();
}

main().catch((err: Error) => {
  showError(err.message);
  document.body.dataset.state = 'error';
});
