// The live MNIST page: trains a preset in this tab with the same session and trainer as `gan train`,
// draws the samples with a render pipeline straight from the generator's output, charts the
// metrics, and saves and opens the command line's checkpoint files.
//
// URL parameters: preset=NAME, config=JSON (a partial config merged onto its preset, as --config),
// autostart=1. Tests read window.ganPage and document.body.dataset.state.
import {
  attachCanvas,
  checkpointToOnnx,
  checkBuffersFit,
  Clock,
  configFromJson,
  type ControllerMetrics,
  createTrainer,
  decodeCheckpoint,
  DeviceLostError,
  drawCanvases,
  encodeCheckpoint,
  type GpuContext,
  loadMnist,
  type Mnist,
  modelBuffers,
  modelLimits,
  networkSpecs,
  prepareData,
  presetConfig,
  presets,
  Runtime,
  type SampleCanvas,
  type TrainConfig,
  type Trainer,
  TrainingController,
  type TrainingData,
  type TrainingState,
  validateConfig,
} from '../src/index';
import { $, Chart, download, pageDevice } from './common';
// The model README.md's figures come from (pretrained/README.md): bundled as a file, fetched on demand.
import pretrainedUrl from '../pretrained/small-mnist.safetensors?url';

const MNIST_PRESETS = Object.keys(presets).filter((name) => presets[name].data === 'mnist');
const STRIP_STEPS = 12;

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
  onnx: $<HTMLButtonElement>('#onnx'),
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

type View = 'samples' | 'fixed' | 'strip';

class TrainingPage {
  config!: TrainConfig;
  private data?: TrainingData;
  private mnist?: Mnist;
  /** Every metrics record of this page's runs, in order (the charts' data). */
  readonly metrics: ControllerMetrics[] = [];
  /** The last G step's minibatch, G on the fixed noise, the interpolation: made with the first model. */
  private views?: Record<View, SampleCanvas>;
  /** The state at the end of a recent window, kept so that a lost device loses at most a few seconds. */
  lastGood?: TrainingState;
  /** The fixed-noise grid and the interpolation show G's own weights, not their moving average. */
  private showRaw = false;
  private readonly charts = {
    losses: new Chart($('#charts'), 'losses', [{ label: 'D loss', stroke: '#1e6ec8' }, { label: 'G loss', stroke: '#dc5a1e' }]),
    outputs: new Chart($('#charts'), "D's mean output", [{ label: 'D(x)', stroke: '#1e6ec8' }, { label: 'D(G(z))', stroke: '#dc5a1e' }], { range: [0, 1] }),
    speed: new Chart($('#charts'), 'iterations per second', [{ label: 'it/s', stroke: '#289640' }]),
  };
  readonly controller = new TrainingController({
    checkpointEveryMs: KEEP_STATE_EVERY_MS,
    onMetrics: (record) => {
      this.metrics.push(record);
      this.charts.losses.add(record.iter, [record.d_loss, record.g_loss]);
      this.charts.outputs.add(record.iter, [record.d_real, record.d_fake]);
      this.charts.speed.add(record.iter, [record.its_per_s]);
    },
    onWindow: () => {
      this.draw();
      this.showStatus();
    },
    onCheckpoint: async () => void (this.lastGood = await this.trainer.readState()),
    onState: (state) => {
      controls.start.textContent = state === 'running' ? 'Pause' : 'Start';
      this.showStatus();
    },
    onError: (err) => this.showFailure(err),
  });

  constructor(
    public context: GpuContext,
    public rt: Runtime,
    public clock: Clock,
  ) {}

  get trainer(): Trainer {
    return this.controller.trainer;
  }

  get running(): boolean {
    return this.controller.state === 'running';
  }

  /** After a device loss: the same page on a new device, continuing from the state kept in memory. */
  async recover(context: GpuContext): Promise<void> {
    await this.controller.exclusive(async () => {
      this.context = context;
      this.rt = new Runtime(context);
      this.clock = new Clock(context.device);
      for (const view of Object.values(this.views ?? {})) view.destroy();
      this.views = undefined;
      // The old device's buffers are gone with it: the dataset is uploaded again, the trainer rebuilt.
      this.data = undefined;
      await this.build(this.config, this.lastGood);
    });
  }

  /** A new trainer for `config` (the data is reused when it is the same), continuing `state` if given. */
  private async build(config: TrainConfig, state?: TrainingState): Promise<void> {
    status.textContent = 'Loading MNIST (55 MB)…';
    this.mnist ??= await loadMnist();
    this.data ??= await prepareData(this.rt, config, { mnist: this.mnist });
    status.textContent = `Building ${config.preset}…`;
    checkBuffersFit(this.context.device.limits, 'this device', modelBuffers(config));
    const trainer = await createTrainer(this.rt, this.clock, config, this.data);
    if (state) await trainer.loadState(state);
    this.lastGood = state ?? (await trainer.readState());
    if (this.showRaw) trainer.show('raw');
    if (this.views) for (const view of Object.values(this.views)) await view.setTrainer(trainer);
    else {
      this.views = {
        samples: await attachCanvas(trainer, $<HTMLCanvasElement>('#samples'), { show: 'latest', label: 'samples' }),
        fixed: await attachCanvas(trainer, $<HTMLCanvasElement>('#fixed'), { label: 'fixed' }),
        strip: await attachCanvas(trainer, $<HTMLCanvasElement>('#strip'), { show: 'interpolation', steps: STRIP_STEPS, label: 'strip' }),
      };
    }
    this.controller.setTrainer(trainer)?.destroy();
    this.config = config;
    controls.rawGenerator.disabled = !trainer.generatorAverage;
    controls.rawGenerator.checked = trainer.shown === 'raw';
    this.showConfig();
    this.draw();
    this.showStatus();
  }

  /** Starts a fresh model. */
  async start(config: TrainConfig): Promise<void> {
    await this.controller.exclusive(async () => {
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
    if (!this.config) return;
    const state = this.running ? 'running' : 'paused';
    const speed = this.controller.itsPerSecond;
    document.body.dataset.state = state;
    document.body.dataset.iteration = String(this.trainer.iteration);
    status.textContent = `${this.context.adapterName} · ${this.config.preset} · iteration ${this.trainer.iteration} · ${speed ? `${speed.toFixed(2)} it/s` : '–'} · ${state}`;
  }

  /** A failed window says what went wrong; a lost device also offers the model kept in this page. */
  private showFailure(err: Error | undefined): void {
    if (err instanceof DeviceLostError && this.lastGood) {
      showError(`${err.message} The model of iteration ${this.lastGood.iteration} is kept in this page.`);
      controls.resume.textContent = `Resume from iteration ${this.lastGood.iteration}`;
      controls.resume.hidden = false;
      document.body.dataset.state = 'lost';
      return;
    }
    showError(err?.message);
  }

  /** G on the fixed noise and the interpolation, then the three grids: one submission, no readback. */
  draw(): void {
    if (this.views) drawCanvases([this.views.samples, this.views.fixed, this.views.strip]);
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

  /** The controls' values applied between two windows: same weights, new trainer. */
  async applyControls(): Promise<void> {
    await this.controller.exclusive(async () => {
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
    }).then(() => this.controller.report(), (err) => this.controller.report(err));
  }

  async save(): Promise<void> {
    await this.controller.exclusive(async () => {
      const bytes = encodeCheckpoint(await this.trainer.readState(), networkSpecs(this.config));
      download(bytes as Uint8Array<ArrayBuffer>, `${this.config.preset}-${this.trainer.iteration}.safetensors`);
    });
  }

  /** G as an ONNX model: the weights the views show (the moving average unless raw G is ticked). */
  async saveOnnx(): Promise<void> {
    await this.controller.exclusive(async () => {
      const bytes = checkpointToOnnx(await this.trainer.readState(), 'generator', { rawGenerator: this.trainer.shown === 'raw' });
      download(bytes as Uint8Array<ArrayBuffer>, `${this.config.preset}-${this.trainer.iteration}.generator.onnx`);
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
      this.controller.report(err);
      return;
    }
    await this.controller.exclusive(() => this.build(state.config, state)).then(
      () => this.controller.report(),
      (err) => this.controller.report(new Error(`${name}: ${(err as Error).message}`)),
    );
  }

  /** Shows G's own weights (raw) or their moving average in the fixed-noise grid and the interpolation. */
  async showGenerator(raw: boolean): Promise<void> {
    await this.controller.exclusive(async () => {
      this.showRaw = raw;
      if (this.trainer.generatorAverage) this.trainer.show(raw ? 'raw' : 'average');
      controls.rawGenerator.checked = this.trainer.shown === 'raw';
      this.draw();
    });
  }

  newEndpoints(): void {
    this.views?.strip.newEndpoints();
    void this.controller.exclusive(async () => this.draw());
  }

  /**
   * For tests and snapshots: a view drawn by the same render pipeline into an offscreen texture and
   * read back (headless Chromium on SwiftShader does not composite WebGPU canvases into screenshots).
   */
  async snapshot(view: View): Promise<{ width: number; height: number; pixels: number[] }> {
    return this.controller.exclusive(async () => {
      this.draw();
      const { width, height, pixels } = await this.views![view].snapshot();
      return { width, height, pixels: Array.from(pixels) };
    });
  }

  /** For tests: G's output on the fixed noise, computed now. */
  async readFixedSamples(): Promise<number[]> {
    return this.controller.exclusive(async () => Array.from(await this.trainer.readFixedNoiseSamples()));
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
  const page = new TrainingPage(context, new Runtime(context), new Clock(context.device));
  controls.resume.addEventListener('click', async () => {
    controls.resume.hidden = true;
    const fresh = await pageDevice(limits);
    if (!fresh) return;
    await page.recover(fresh).then(
      () => page.controller.report(),
      (err: Error) => page.controller.report(err),
    );
  });
  (window as unknown as { ganPage: TrainingPage }).ganPage = page;
  await page.start(config);
  for (const control of [controls.start, controls.step, controls.save, controls.onnx, controls.load, controls.endpoints, controls.pretrained]) control.disabled = false;
  controls.pretrained.addEventListener('click', () => void page.loadPretrained());
  controls.start.addEventListener('click', () => (page.running ? page.pause() : void page.run()));
  controls.step.addEventListener('click', () => void page.step());
  controls.save.addEventListener('click', () => void page.save());
  controls.onnx.addEventListener('click', () => void page.saveOnnx().catch((err) => page.controller.report(err)));
  controls.endpoints.addEventListener('click', () => page.newEndpoints());
  controls.rawGenerator.addEventListener('change', () => void page.showGenerator(controls.rawGenerator.checked));
  controls.load.addEventListener('change', () => {
    const file = controls.load.files?.[0];
    if (file) void page.load(file);
    controls.load.value = '';
  });
  controls.preset.addEventListener('change', () => void page.start(presetConfig(controls.preset.value)).catch((err: Error) => page.controller.report(err)));
  for (const control of [controls.k, controls.lr, controls.batch, controls.gLoss, controls.optimizer]) control.addEventListener('change', () => void page.applyControls());
  if (params.get('autostart') === '1') void page.run();
}

main().catch((err: Error) => {
  showError(err.message);
  document.body.dataset.state = 'error';
});
