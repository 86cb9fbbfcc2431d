// The live MNIST page: trains a preset in this tab with the same session and trainer as `gan train`,
// draws the samples with a render pipeline straight from the generator's output, charts the
// metrics, and saves and opens the command line's checkpoint files.
//
// URL parameters: preset=NAME, config=JSON (a partial config merged onto its preset, as --config),
// autostart=1. Tests read window.ganPage and document.body.dataset.state.
import { decodeCheckpoint, encodeCheckpoint, type TrainingState } from '../src/io/checkpoint-format';
import { configFromJson, presetConfig, PRESETS, validateConfig, type TrainConfig } from '../src/train/config';
import { runTraining } from '../src/train/loop';
import type { RunMetrics } from '../src/train/run';
import { createTrainer, modelBuffers, modelLimits, networkSpecs, prepareData, IMAGE_SAMPLES, type TrainingData } from '../src/train/session';
import { Runtime } from '../src/gpu/runtime';
import { Clock } from '../src/gpu/clock';
import { ImageGrid, gridPixels, renderGridPixels, type GridShape } from '../src/kernels/render';
import { readMnist } from '#mnist-files';
import type { Mnist } from '../src/data/mnist-format';
import { checkBuffersFit, DeviceLostError, type GpuContext } from '../src/gpu/device';
import type { Trainer } from '../src/train/trainer';
import { $, ActionQueue, Chart, Interpolation, download, gpuCanvas, pageDevice, windowSize } from './common';
// The model README.md's figures come from (pretrained/README.md): bundled as a file, fetched on demand.
import pretrainedUrl from '../pretrained/small-mnist.safetensors?url';

const MNIST_PRESETS = Object.keys(PRESETS).filter((name) => PRESETS[name].data === 'mnist');
const STRIP_STEPS = 12;
const DIGIT = { width: 28, height: 28, zoom: 2 };

const controls = {
  preset: $<HTMLSelectElement>('#preset'),
  k: $<HTMLInputElement>('#k'),
  lr: $<HTMLInputElement>('#lr'),
  batch: $<HTMLInputElement>('#batch'),
  gLoss: $<HTMLSelectElement>('#gloss'),
  optimizer: $<HTMLSelectElement>('#optimizer'),
  start: $<HTMLButtonElement>('#start'),
  step: $<HTMLButtonElement>('#step'),
  save: $<HTMLButtonElement>('#save'),
  load: $<HTMLInputElement>('#load'),
  endpoints: $<HTMLButtonElement>('#endpoints'),
  resume: $<HTMLButtonElement>('#resume'),
  rawGenerator: $<HTMLInputElement>('#raw-generator'),
  pretrained: $<HTMLButtonElement>('#pretrained'),
};
/** How often the page copies the model out, to resume from if the device is lost. */
const KEEP_STATE_EVERY_MS = 10_000;
const status = $('#status');
const errorBox = $('#error');

function showError(message: string | undefined): void {
  errorBox.hidden = !message;
  errorBox.textContent = message ?? '';
}

class TrainingPage {
  config!: TrainConfig;
  trainer!: Trainer;
  private data?: TrainingData;
  private mnist?: Mnist;
  private interpolation?: Interpolation;
  running = false;
  /** Every metrics record of this page's runs, in order (the charts' data). */
  readonly metrics: RunMetrics[] = [];
  private itsPerSecond = 0;
  private snapshotGrid?: ImageGrid;
  private readonly queue = new ActionQueue();
  private canvases: Record<'samples' | 'fixed' | 'strip', { context: GPUCanvasContext; grid: ImageGrid }>;
  /** The state at the end of a recent window, kept so that a lost device loses at most a few seconds. */
  lastGood?: TrainingState;
  private lastGoodAt = 0;
  /** The fixed-noise grid and the interpolation show G's own weights, not their moving average. */
  private showRaw = false;
  private readonly charts = {
    losses: new Chart($('#charts'), 'losses', [{ label: 'D loss', stroke: '#1e6ec8' }, { label: 'G loss', stroke: '#dc5a1e' }]),
    outputs: new Chart($('#charts'), "D's mean output", [{ label: 'D(x)', stroke: '#1e6ec8' }, { label: 'D(G(z))', stroke: '#dc5a1e' }], { range: [0, 1] }),
    speed: new Chart($('#charts'), 'iterations per second', [{ label: 'it/s', stroke: '#289640' }]),
  };

  private constructor(
    public context: GpuContext,
    public rt: Runtime,
    public clock: Clock,
    canvases: TrainingPage['canvases'],
  ) {
    this.canvases = canvases;
  }

  static async create(context: GpuContext): Promise<TrainingPage> {
    const rt = new Runtime(context);
    return new TrainingPage(context, rt, new Clock(context.device), await TrainingPage.canvasesOn(context, rt));
  }

  private static async canvasesOn(context: GpuContext, rt: Runtime): Promise<TrainingPage['canvases']> {
    const canvas = async (selector: string, shape: GridShape) => {
      const size = gridPixels(shape);
      const { context: canvasContext, format } = gpuCanvas($<HTMLCanvasElement>(selector), context.device, size.width, size.height);
      return { context: canvasContext, grid: await ImageGrid.create(rt, format, shape, `render.${selector.slice(1)}`) };
    };
    const grid = { columns: 10, count: IMAGE_SAMPLES, ...DIGIT };
    return {
      samples: await canvas('#samples', grid),
      fixed: await canvas('#fixed', grid),
      strip: await canvas('#strip', { columns: STRIP_STEPS, count: STRIP_STEPS, ...DIGIT }),
    };
  }

  /** After a device loss: the same page on a new device, continuing from the state kept in memory. */
  async recover(context: GpuContext): Promise<void> {
    await this.queue.run(async () => {
      this.context = context;
      this.rt = new Runtime(context);
      this.clock = new Clock(context.device);
      this.canvases = await TrainingPage.canvasesOn(context, this.rt);
      this.snapshotGrid = undefined;
      // The old device's buffers are gone with it: the dataset is uploaded again, the trainer rebuilt.
      this.data = undefined;
      await this.build(this.config, this.lastGood);
    });
  }

  /** A new trainer for `config` (the data is reused when it is the same), continuing `state` if given. */
  private async build(config: TrainConfig, state?: TrainingState): Promise<void> {
    status.textContent = 'Loading MNIST (55 MB)…';
    this.mnist ??= await readMnist('');
    this.data ??= await prepareData(this.rt, config, { mnist: this.mnist });
    status.textContent = `Building ${config.preset}…`;
    checkBuffersFit(this.context.device.limits, 'this device', modelBuffers(config));
    const trainer = await createTrainer(this.rt, this.clock, config, this.data);
    if (state) await trainer.loadState(state);
    this.lastGood = state ?? (await trainer.readState());
    this.lastGoodAt = performance.now();
    this.trainer?.destroy();
    this.interpolation?.destroy();
    for (const { grid } of Object.values(this.canvases)) grid.forgetBuffers();
    this.trainer = trainer;
    this.config = config;
    if (this.showRaw) trainer.show('raw');
    controls.rawGenerator.disabled = !trainer.generatorAverage;
    controls.rawGenerator.checked = trainer.shown === 'raw';
    this.interpolation = await Interpolation.create(this.rt, this.clock, trainer, STRIP_STEPS);
    this.canvases.samples.grid.setShape({ columns: 10, count: Math.min(config.batch, IMAGE_SAMPLES), ...DIGIT });
    this.showConfig();
    this.draw();
    this.showStatus();
  }

  /** Starts a fresh model. */
  async start(config: TrainConfig): Promise<void> {
    await this.queue.run(async () => {
      await this.build(config);
      for (const chart of Object.values(this.charts)) chart.clear();
    });
  }

  private showConfig(): void {
    const { config } = this;
    if (!MNIST_PRESETS.includes(config.preset)) controls.preset.add(new Option(config.preset, config.preset));
    controls.preset.value = config.preset;
    controls.k.value = String(config.k);
    controls.lr.value = String(config.optimizer.lr);
    controls.batch.value = String(config.batch);
    controls.gLoss.value = config.gLoss;
    controls.optimizer.value = config.optimizer.kind;
  }

  private showStatus(): void {
    const state = this.running ? 'running' : 'paused';
    document.body.dataset.state = state;
    document.body.dataset.iteration = String(this.trainer.iteration);
    status.textContent = `${this.context.adapterName} · ${this.config.preset} · iteration ${this.trainer.iteration} · ${this.itsPerSecond ? `${this.itsPerSecond.toFixed(2)} it/s` : '–'} · ${state}`;
  }

  /** G on the fixed noise and the interpolation, then the three grids: one submission, no readback. */
  draw(): void {
    const { device } = this.rt;
    const encoder = device.createCommandEncoder({ label: 'views' });
    const pass = encoder.beginComputePass({ label: 'views' });
    this.trainer.recordSampling(pass);
    this.interpolation!.record(pass);
    pass.end();
    const target = (name: keyof TrainingPage['canvases']) => this.canvases[name].context.getCurrentTexture().createView();
    this.canvases.samples.grid.draw(encoder, target('samples'), this.trainer.latestSamples);
    this.canvases.fixed.grid.draw(encoder, target('fixed'), this.trainer.fixedNoiseSamples);
    this.canvases.strip.grid.draw(encoder, target('strip'), this.interpolation!.output);
    device.queue.submit([encoder.finish()]);
  }

  /** Trains `count` iterations (or to the next multiple of the window), logging at the end. */
  private async window(count: number): Promise<void> {
    const from = this.trainer.iteration;
    const until = (Math.floor(from / count) + 1) * count;
    await runTraining(this.trainer, { until, logEvery: count, sampleEvery: Number.MAX_SAFE_INTEGER, checkpointEvery: Number.MAX_SAFE_INTEGER }, {
      onMetrics: (record) => {
        this.itsPerSecond = record.its_per_s;
        this.metrics.push(record);
        this.charts.losses.add(record.iter, [record.d_loss, record.g_loss]);
        this.charts.outputs.add(record.iter, [record.d_real, record.d_fake]);
        this.charts.speed.add(record.iter, [record.its_per_s]);
      },
    });
    this.draw();
    this.showStatus();
    if (performance.now() - this.lastGoodAt > KEEP_STATE_EVERY_MS) await this.keepState();
  }

  private async keepState(): Promise<void> {
    this.lastGood = await this.trainer.readState();
    this.lastGoodAt = performance.now();
  }

  private fail(err: unknown): void {
    this.running = false;
    if (err instanceof DeviceLostError && this.lastGood) {
      showError(`${(err as Error).message} The model of iteration ${this.lastGood.iteration} is kept in this page.`);
      controls.resume.textContent = `Resume from iteration ${this.lastGood.iteration}`;
      controls.resume.hidden = false;
      document.body.dataset.state = 'lost';
      controls.start.textContent = 'Start';
      return;
    }
    showError((err as Error).message);
    controls.start.textContent = 'Start';
    this.showStatus();
  }

  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    controls.start.textContent = 'Pause';
    this.showStatus();
    while (this.running) {
      try {
        await this.queue.run(() => this.window(this.running ? windowSize(this.itsPerSecond) : 1));
      } catch (err) {
        this.fail(err);
      }
      // Lets clicks and frames in between windows.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  pause(): void {
    this.running = false;
    controls.start.textContent = 'Start';
    this.showStatus();
  }

  step(): Promise<void> {
    return this.queue.run(() => this.window(1)).catch((err) => this.fail(err));
  }

  /** The controls' values applied between two windows: same weights, new trainer. */
  async applyControls(): Promise<void> {
    await this.queue.run(async () => {
      const next = structuredClone(this.config);
      next.k = Number(controls.k.value);
      next.optimizer.lr = Number(controls.lr.value);
      next.batch = Number(controls.batch.value);
      next.gLoss = controls.gLoss.value as TrainConfig['gLoss'];
      next.optimizer.kind = controls.optimizer.value as TrainConfig['optimizer']['kind'];
      // k > 1 is Algorithm 1's alternating form, as on the command line.
      if (next.k > 1) next.form = 'alternating';
      try {
        validateConfig(next);
      } catch (err) {
        this.showConfig();
        throw err;
      }
      const state = await this.trainer.readState();
      if (next.optimizer.kind !== this.config.optimizer.kind) {
        // Another rule keeps other state: it starts from zero.
        const stateCount = next.optimizer.kind === 'adam' ? 2 : 1;
        for (const player of ['generator', 'discriminator'] as const) {
          state[player].optimizer = Array.from({ length: stateCount }, () => new Float32Array(state[player].params.length));
        }
      }
      await this.build(next, state);
    }).then(() => showError(undefined), (err) => showError((err as Error).message));
  }

  async save(): Promise<void> {
    await this.queue.run(async () => {
      const bytes = encodeCheckpoint(await this.trainer.readState(), networkSpecs(this.config));
      download(bytes as Uint8Array<ArrayBuffer>, `${this.config.preset}-${this.trainer.iteration}.safetensors`);
    });
  }

  /** Opens a checkpoint; a bad file is reported by name and the model in training goes on. */
  async load(file: File): Promise<void> {
    await this.open(file.name, async () => new Uint8Array(await file.arrayBuffer()));
  }

  /** Opens the pretrained model: its fixed-noise grid and interpolation at once, paused, no training. */
  async loadPretrained(): Promise<void> {
    this.pause();
    await this.open('pretrained/small-mnist.safetensors', async () => {
      const response = await fetch(pretrainedUrl);
      if (!response.ok) throw new Error(`pretrained/small-mnist.safetensors: the server answered ${response.status} ${response.statusText}.`);
      return new Uint8Array(await response.arrayBuffer());
    });
  }

  private async open(name: string, read: () => Promise<Uint8Array>): Promise<void> {
    let state: TrainingState;
    try {
      state = decodeCheckpoint(await read(), name, networkSpecs);
      if (state.config.data !== 'mnist') throw new Error(`${name}: a ${state.config.data} checkpoint; open it in the lab (lab.html).`);
    } catch (err) {
      showError((err as Error).message);
      return;
    }
    await this.queue.run(() => this.build(state.config, state)).then(
      () => showError(undefined),
      (err) => showError(`${name}: ${(err as Error).message}`),
    );
  }

  /** Shows G's own weights (raw) or their moving average in the fixed-noise grid and the interpolation. */
  async showGenerator(raw: boolean): Promise<void> {
    await this.queue.run(async () => {
      this.showRaw = raw;
      if (this.trainer.generatorAverage) this.trainer.show(raw ? 'raw' : 'average');
      controls.rawGenerator.checked = this.trainer.shown === 'raw';
      this.draw();
    });
  }

  newEndpoints(): void {
    this.interpolation?.newEndpoints();
    void this.queue.run(async () => this.draw());
  }

  /**
   * For tests and snapshots: a view drawn by the same render pipeline into an offscreen texture and
   * read back (headless Chromium on SwiftShader does not composite WebGPU canvases into screenshots).
   */
  async snapshot(view: 'samples' | 'fixed' | 'strip'): Promise<{ width: number; height: number; pixels: number[] }> {
    return this.queue.run(async () => {
      this.draw();
      const images = { samples: this.trainer.latestSamples, fixed: this.trainer.fixedNoiseSamples, strip: this.interpolation!.output }[view];
      const shape = view === 'strip' ? { columns: STRIP_STEPS, count: STRIP_STEPS, ...DIGIT } : { columns: 10, count: view === 'samples' ? Math.min(this.config.batch, IMAGE_SAMPLES) : IMAGE_SAMPLES, ...DIGIT };
      this.snapshotGrid ??= await ImageGrid.create(this.rt, 'rgba8unorm', shape, 'render.snapshot');
      const { width, height, pixels } = await renderGridPixels(this.rt, shape, images, this.snapshotGrid);
      return { width, height, pixels: Array.from(pixels) };
    });
  }

  /** For tests: G's output on the fixed noise, computed now. */
  async readFixedSamples(): Promise<number[]> {
    return this.queue.run(async () => Array.from(await this.trainer.readFixedNoiseSamples()));
  }
}

function initialConfig(params: URLSearchParams): TrainConfig {
  const preset = params.get('preset') ?? 'small-mnist';
  const overrides = params.get('config');
  const config = overrides ? configFromJson({ preset, ...JSON.parse(overrides) }, 'the URL parameter config') : presetConfig(preset);
  if (config.data !== 'mnist') throw new Error(`Preset ${config.preset} is a toy; open the lab (lab.html) for it.`);
  return config;
}

async function main(): Promise<void> {
  for (const name of MNIST_PRESETS) controls.preset.add(new Option(name, name));
  const params = new URLSearchParams(location.search);
  const config = initialConfig(params);
  const limits = modelLimits(presetConfig('paper-mnist'));
  for (const [name, value] of Object.entries(modelLimits(config))) limits[name] = Math.max(limits[name], value);
  const context = await pageDevice(limits);
  if (!context) return;
  const page = await TrainingPage.create(context);
  controls.resume.addEventListener('click', async () => {
    controls.resume.hidden = true;
    const fresh = await pageDevice(limits);
    if (!fresh) return;
    await page.recover(fresh).then(
      () => showError(undefined),
      (err: Error) => showError(err.message),
    );
  });
  (window as unknown as { ganPage: TrainingPage }).ganPage = page;
  await page.start(config);
  for (const control of [controls.start, controls.step, controls.save, controls.load, controls.endpoints, controls.pretrained]) control.disabled = false;
  controls.pretrained.addEventListener('click', () => void page.loadPretrained());
  controls.start.addEventListener('click', () => (page.running ? page.pause() : void page.run()));
  controls.step.addEventListener('click', () => void page.step());
  controls.save.addEventListener('click', () => void page.save());
  controls.endpoints.addEventListener('click', () => page.newEndpoints());
  controls.rawGenerator.addEventListener('change', () => void page.showGenerator(controls.rawGenerator.checked));
  controls.load.addEventListener('change', () => {
    const file = controls.load.files?.[0];
    if (file) void page.load(file);
    controls.load.value = '';
  });
  controls.preset.addEventListener('change', () => void page.start(presetConfig(controls.preset.value)).catch((err: Error) => showError(err.message)));
  for (const control of [controls.k, controls.lr, controls.batch, controls.gLoss, controls.optimizer]) control.addEventListener('change', () => void page.applyControls());
  if (params.get('autostart') === '1') void page.run();
}

main().catch((err: Error) => {
  showError(err.message);
  document.body.dataset.state = 'error';
});
