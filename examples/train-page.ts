// The live training page: trains a preset in this tab with the same session and trainer as `gan
// train`, on MNIST, Fashion-MNIST or a folder of the user's own images (chosen or dropped), draws the
// samples with a render pipeline straight from the generator's output (grey or colour, at the data's
// size), charts the metrics, and saves and opens the command line's checkpoint files. A conditional
// model (cmnist-small) gets a class picker for the fixed-noise grid and an interpolation between two
// classes at fixed z.
//
// URL parameters: preset=NAME, config=JSON (a partial config merged onto its preset, as --config),
// autostart=1. Tests read window.ganPage and document.body.dataset.state.
import {
  attachCanvas,
  type CanvasPresent,
  checkpointToOnnx,
  checkBuffersFit,
  Clock,
  configFromJson,
  type ControllerMetrics,
  createTrainer,
  decodeCheckpoint,
  type FitOptions,
  fitRun,
  type FittedRun,
  destroyDataset,
  DeviceLostError,
  drawCanvases,
  encodeCheckpoint,
  type GpuContext,
  type ImageDataset,
  loadImageFolder,
  modelBuffers,
  modelLimits,
  networkSpecs,
  prepareData,
  presetConfig,
  presets,
  readImageData,
  Runtime,
  type SampleCanvas,
  type TrainConfig,
  type Trainer,
  TrainingController,
  type TrainingData,
  type TrainingState,
  type TrainedWeights,
  withImageShape,
} from '../src/index';
import type { ModelHost } from './image-pad';
import { InferenceView } from './inference-view';
import { InpaintView } from './inpaint-view';
import { offerEmoji } from './emoji-source';
import { $, canvasPresentation, Chart, download, freshCanvas, gpuFailureLine, pageDevice } from './common';
// The models docs/evaluation.md's figures come from (pretrained/README.md): bundled as files, fetched on demand.
import smallMnistUrl from '../pretrained/small-mnist.safetensors?url';
import paperMnistUrl from '../pretrained/paper-mnist.safetensors?url';

const PRETRAINED: Record<string, string> = { 'small-mnist': smallMnistUrl, 'paper-mnist': paperMnistUrl };

/** Where the page's data comes from: the two sets the page's server holds, or the user's own images. */
type DataSource = 'mnist' | 'fashion-mnist' | 'emoji' | 'images';
const SHIPPED: readonly string[] = ['mnist', 'fashion-mnist', 'emoji'];
const SOURCE_NAMES: Record<DataSource, string> = { mnist: 'MNIST', 'fashion-mnist': 'Fashion-MNIST', emoji: 'Twemoji', images: 'your images' };
const DOWNLOAD_SIZES: Record<string, string> = { mnist: '55 MB', 'fashion-mnist': '55 MB', emoji: 'about 3,800 PNG files, 18 MB' };
/** The presets whose data the page's server holds; any of them also trains on the user's images. */
const PAGE_PRESETS = Object.keys(presets).filter((name) => SHIPPED.includes(presets[name].data));
const STRIP_STEPS = 12;
const CLASS_STEPS = 10;

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
  pretrainedModel: $<HTMLSelectElement>('#pretrained-model'),
  data: $<HTMLSelectElement>('#data'),
  imageSource: $('#image-source'),
  folder: $<HTMLInputElement>('#folder'),
  imageSize: $<HTMLInputElement>('#image-size'),
  grey: $<HTMLInputElement>('#grey'),
  classes: $('#classes'),
  classSection: $('#class-section'),
  sampleClass: $<HTMLSelectElement>('#class'),
  classFrom: $<HTMLSelectElement>('#class-from'),
  classTo: $<HTMLSelectElement>('#class-to'),
};
/** How often the page copies the model out, to resume from if the device is lost. */
const KEEP_STATE_EVERY_MS = 10_000;
const status = $('#status');
const errorBox = $('#error');

function showError(message: string | undefined): void {
  errorBox.hidden = !message;
  errorBox.textContent = message ?? '';
}

type View = 'samples' | 'fixed' | 'strip' | 'class-strip';
const VIEW_CANVASES = ['#samples', '#fixed', '#strip', '#class-strip'];

/** A message of the browser's WebGPU that means the device (or the whole WebGPU instance) is gone, whichever call it came from. */
const LOST_MESSAGE = /Instance reference no longer exists|device (is|was) (lost|destroyed)/i;

/** Files dropped on the page, folders walked: each file's path (for class folders) as webkitRelativePath. */
async function droppedFiles(transfer: DataTransfer): Promise<File[]> {
  // Entries must be taken before the first await: the drop's data is gone after the event.
  const entries = Array.from(transfer.items, (item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  if (entries.length === 0) return Array.from(transfer.files);
  const files: File[] = [];
  const walk = async (entry: FileSystemEntry, path: string): Promise<void> => {
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      Object.defineProperty(file, 'webkitRelativePath', { value: `${path}${file.name}` });
      files.push(file);
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches (100 in Chrome) until it answers none.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${path}${entry.name}/`);
      }
    }
  };
  for (const entry of entries) await walk(entry, '');
  return files;
}

class TrainingPage {
  config!: TrainConfig;
  /** The config a data source is applied to: the model trained now, or the preset just chosen. */
  private base!: TrainConfig;
  /** The data on the GPU; `data.images` is the dataset it holds. */
  private data?: TrainingData;
  /** MNIST and Fashion-MNIST once fetched, kept for the page's later runs. */
  private readonly shipped = new Map<string, ImageDataset>();
  /** The user's images as last read, and the files they were read from (read again at another size). */
  images?: ImageDataset;
  private imageFiles?: File[];
  /** A conditional model's class of the whole fixed-noise grid (undefined: one class per row), and the class interpolation's ends. */
  private sampleClass?: number;
  private classPair = { from: 0, to: 1 };
  /** Every metrics record of this page's runs, in order (the charts' data). */
  readonly metrics: ControllerMetrics[] = [];
  /** The last G step's minibatch, G on the fixed noise, the interpolations: made with the first model (the class strip with the first conditional one). */
  private views?: Record<Exclude<View, 'class-strip'>, SampleCanvas> & { 'class-strip'?: SampleCanvas };
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

  /** What the device's loss said, once the device this page trains on is lost. */
  private lost?: string;
  /** The views of E and of the completion, told of every model. */
  modelViews?: { inference: InferenceView; inpaint: InpaintView };

  constructor(
    public context: GpuContext,
    public rt: Runtime,
    public clock: Clock,
    /** How the views reach the screen (common.ts canvasPresentation). */
    public present: CanvasPresent,
  ) {
    this.watch(context.device);
  }

  /** A lost device stops the run and offers the model kept, whether a window, a frame or nothing was under way. */
  private watch(device: GPUDevice): void {
    this.lost = undefined;
    void device.lost.then((info) => {
      if (device !== this.context.device) return;
      this.lost = `The GPU device was lost (${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''})`;
      this.controller.pause();
      this.controller.report(new DeviceLostError(`${this.lost}.`));
    });
  }

  get trainer(): Trainer {
    return this.controller.trainer;
  }

  get running(): boolean {
    return this.controller.state === 'running';
  }

  /** After a device loss: the same page on a new device, continuing from the state kept in memory. */
  async recover(context: GpuContext, present: CanvasPresent): Promise<void> {
    await this.controller.exclusive(async () => {
      this.context = context;
      this.watch(context.device);
      this.rt = new Runtime(context);
      this.clock = new Clock(context.device);
      for (const view of Object.values(this.views ?? {})) view.destroy();
      this.views = undefined;
      // A canvas keeps the kind of context it first gave: another way of presenting needs new canvases.
      if (present !== this.present) for (const selector of VIEW_CANVASES) freshCanvas(selector);
      this.present = present;
      // The old device's buffers are gone with it: the dataset is uploaded again, the trainer rebuilt.
      const run = { config: this.config, dataset: this.data?.images };
      this.data = undefined;
      await this.build(run, this.lastGood);
    });
  }

  /** The config's images on the CPU: fetched once (MNIST, Fashion-MNIST) or the user's, as last read. */
  private async dataset(config: TrainConfig): Promise<ImageDataset> {
    if (config.data === 'images') {
      if (!this.images) throw new Error(`Preset ${config.preset} trains on a folder of images: choose one (or drop images on the page) first.`);
      return this.images;
    }
    if (!SHIPPED.includes(config.data)) throw new Error(`This page trains on MNIST, Fashion-MNIST, Twemoji or your images, not '${config.data}' (the lab, lab.html, trains the toys).`);
    // Twemoji are read at the model's size, as the command line reads them.
    const key = config.data === 'emoji' ? `emoji-${config.image!.height}` : config.data;
    let dataset = this.shipped.get(key);
    if (!dataset) {
      status.textContent = `Loading ${SOURCE_NAMES[config.data as DataSource]} (${DOWNLOAD_SIZES[config.data]})…`;
      // From this page's server (data/mnist/, data/fashion-mnist/, data/emoji/), whatever directory a command-line run named.
      dataset = await readImageData({ ...config, dataDir: '' });
      this.shipped.set(key, dataset);
    }
    return dataset;
  }

  /** `config` on its data (fetched once, or the user's images) through fitRun: the one check of both for each model. */
  private async fit(config: TrainConfig, adopt: FitOptions['adopt'] = {}): Promise<FittedRun> {
    return fitRun(config, { dataset: await this.dataset(config), adopt, typed: { classes: `preset ${config.preset}` } });
  }

  /** A new trainer for a fitted run (the data is reused when it is the same), continuing `state` if given. */
  private async build(run: FittedRun, state?: TrainingState, encoder: TrainedWeights | 'keep' | undefined = state ? 'keep' : undefined): Promise<void> {
    const { config } = run;
    const dataset = run.dataset!;
    const previous = this.data;
    const fresh = previous?.images !== dataset;
    const data = fresh ? await prepareData(this.rt, run) : previous!;
    status.textContent = `Building ${config.preset}…`;
    let trainer: Trainer;
    try {
      checkBuffersFit(this.context.device.limits, 'this device', modelBuffers(config, dataset.train.count));
      trainer = await createTrainer(this.rt, this.clock, config, data);
      if (state) await trainer.loadState(state);
    } catch (err) {
      if (fresh) destroyDataset(data.dataset);
      throw err;
    }
    this.lastGood = state ?? (await trainer.readState());
    if (this.showRaw) trainer.show('raw');
    const conditional = config.classes > 0;
    if (conditional) this.applyClasses(trainer, dataset);
    if (this.views) {
      for (const view of [this.views.samples, this.views.fixed, this.views.strip]) await view.setTrainer(trainer);
      if (this.views['class-strip'] && !conditional) {
        this.views['class-strip'].destroy();
        this.views['class-strip'] = undefined;
      } else if (this.views['class-strip']) await this.views['class-strip'].setTrainer(trainer);
    } else {
      this.views = {
        samples: await attachCanvas(trainer, $<HTMLCanvasElement>('#samples'), { show: 'latest', label: 'samples', present: this.present }),
        fixed: await attachCanvas(trainer, $<HTMLCanvasElement>('#fixed'), { label: 'fixed', present: this.present }),
        strip: await attachCanvas(trainer, $<HTMLCanvasElement>('#strip'), { show: 'interpolation', steps: STRIP_STEPS, label: 'strip', present: this.present }),
      };
    }
    if (conditional) {
      this.views['class-strip'] ??= await attachCanvas(trainer, $<HTMLCanvasElement>('#class-strip'), { show: 'class-interpolation', steps: CLASS_STEPS, label: 'class-strip', present: this.present });
      await this.views['class-strip'].setClasses(this.classPair.from, this.classPair.to);
    }
    this.views.strip.setClass(this.sampleClass ?? 0);
    this.controller.setTrainer(trainer)?.destroy();
    if (fresh && previous) destroyDataset(previous.dataset);
    this.data = data;
    this.config = config;
    this.base = config;
    controls.rawGenerator.disabled = !trainer.generatorAverage;
    controls.rawGenerator.checked = trainer.shown === 'raw';
    this.showConfig();
    this.draw();
    this.showStatus();
    this.modelViews?.inference.modelChanged(encoder);
    this.modelViews?.inpaint.modelChanged();
  }

  /** The images the model trains on. */
  get trainingImages(): ImageDataset | undefined {
    return this.data?.images;
  }

  /** A conditional trainer's classes as the page's pickers have them; the pickers list the data's classes. */
  private applyClasses(trainer: Trainer, dataset: ImageDataset): void {
    const { classes } = trainer.config;
    const names = Array.from({ length: classes }, (_, c) => dataset.classNames?.[c] ?? String(c));
    if (this.sampleClass !== undefined && this.sampleClass >= classes) this.sampleClass = undefined;
    this.classPair = { from: Math.min(this.classPair.from, classes - 1), to: Math.min(this.classPair.to, classes - 1) };
    controls.sampleClass.replaceChildren(new Option('one class per row', 'rows'), ...names.map((name, c) => new Option(name, String(c))));
    controls.classFrom.replaceChildren(...names.map((name, c) => new Option(name, String(c))));
    controls.classTo.replaceChildren(...names.map((name, c) => new Option(name, String(c))));
    controls.sampleClass.value = this.sampleClass === undefined ? 'rows' : String(this.sampleClass);
    controls.classFrom.value = String(this.classPair.from);
    controls.classTo.value = String(this.classPair.to);
    trainer.setSampleClasses(this.sampleClass);
  }

  /** Starts a fresh model; `adopt`: what it takes from its data (fitRun). */
  async start(config: TrainConfig, adopt?: FitOptions['adopt']): Promise<void> {
    await this.controller.exclusive(async () => {
      await this.build(await this.fit(config, adopt));
      for (const chart of Object.values(this.charts)) chart.clear();
    });
  }

  /** A fresh model of the preset chosen, on the data chosen (the preset's own data when it ships and no images are chosen). */
  async choosePreset(name: string): Promise<void> {
    this.base = presetConfig(name);
    const source = controls.data.value === 'images' && this.images ? 'images' : (this.base.data as DataSource);
    await this.useSource(source);
  }

  /** A fresh model of the current preset on `source`; the user's images once chosen. */
  async useSource(source: DataSource): Promise<void> {
    controls.data.value = source;
    controls.imageSource.hidden = source !== 'images';
    if (source === 'images' && !this.images) {
      status.textContent = 'Choose a folder of PNG or JPEG images, or drop images on the page.';
      return;
    }
    try {
      // The image shape follows the data (G's output with it), and a conditional preset takes its classes.
      const config = { ...structuredClone(this.base), data: source, dataDir: source === 'images' ? this.images!.source : '' };
      // Another preset's model on Twemoji takes emoji-small's image size (32 x 32 in colour).
      if (source === 'emoji' && this.base.data !== 'emoji') withImageShape(config, presetConfig('emoji-small').image!);
      await this.start(config, { shape: true, classes: this.base.classes > 0 });
      this.controller.report();
    } catch (err) {
      this.controller.report(err);
      if (this.config) this.showConfig();
    }
  }

  /**
   * Reads the user's images (chosen or dropped) at the size and colour the controls say and trains
   * on them. A file that cannot be read is named in one message, and the model in training goes on.
   */
  async useImages(files?: File[]): Promise<void> {
    if (files) this.imageFiles = files;
    if (!this.imageFiles) return;
    const size = Number(controls.imageSize.value);
    status.textContent = `Reading ${this.imageFiles.length} files…`;
    let dataset: ImageDataset;
    try {
      dataset = await loadImageFolder(this.imageFiles, { size, grey: controls.grey.checked, seed: 1 });
    } catch (err) {
      this.controller.report(err);
      this.showStatus();
      return;
    }
    this.images = dataset;
    await this.useSource('images');
  }

  /** A conditional model's fixed-noise grid all of one class (undefined: one class per row); the z strip follows. */
  async chooseClass(classIndex: number | undefined): Promise<void> {
    await this.controller.exclusive(async () => {
      this.trainer.setSampleClasses(classIndex);
      this.views?.strip.setClass(classIndex ?? 0);
      this.sampleClass = classIndex;
      this.draw();
    });
  }

  /** The class interpolation from one class to another at the first fixed-noise z. */
  async chooseClassPair(from: number, to: number): Promise<void> {
    await this.controller.exclusive(async () => {
      await this.views?.['class-strip']?.setClasses(from, to);
      this.classPair = { from, to };
      this.draw();
    });
  }

  private showConfig(): void {
    const { config } = this;
    if (!PAGE_PRESETS.includes(config.preset)) controls.preset.add(new Option(config.preset, config.preset));
    controls.preset.value = config.preset;
    controls.data.value = config.data;
    controls.imageSource.hidden = config.data !== 'images';
    controls.classes.hidden = controls.classSection.hidden = !(config.classes > 0);
    controls.k.value = String(config.k);
    controls.lr.value = String(config.optimizer.lr);
    controls.batch.value = String(config.batch);
    controls.gLoss.value = config.gLoss;
    controls.optimizer.value = config.optimizer.kind;
  }

  private showStatus(): void {
    if (!this.config) return;
    const state = this.lost ? 'lost' : this.running ? 'running' : 'paused';
    const speed = this.controller.itsPerSecond;
    document.body.dataset.state = state;
    document.body.dataset.iteration = String(this.trainer.iteration);
    document.body.dataset.preset = this.config.preset;
    const images = this.config.data === 'images' && this.images ? ` (${this.images.source}: ${this.images.train.count + this.images.valid.count + this.images.test.count} images, ${this.config.image!.channels} x ${this.config.image!.height} x ${this.config.image!.width})` : '';
    status.textContent = `${this.context.adapterName} · ${this.config.preset} on ${SOURCE_NAMES[this.config.data as DataSource] ?? this.config.data}${images} · iteration ${this.trainer.iteration} · ${speed ? `${speed.toFixed(2)} it/s` : '–'} · ${state}`;
  }

  /**
   * A failed window or action says what went wrong, in one line. A lost device (however it shows: the
   * loop's DeviceLostError, the device's lost promise, or a call that answers that the WebGPU
   * instance is gone) also offers the model kept in this page; an error of the browser's WebGPU says
   * what failed and what to try.
   */
  private showFailure(err: Error | undefined): void {
    if (err && (err instanceof DeviceLostError || this.lost || LOST_MESSAGE.test(err.message))) {
      const line = err instanceof DeviceLostError ? err.message : `${this.lost ?? `The GPU device was lost (${err.message})`}.`;
      if (this.lastGood) {
        showError(`${line} The model of iteration ${this.lastGood.iteration} is kept in this page: resume from it on a new device; if the device is lost again, reload the page or restart the browser.`);
        controls.resume.textContent = `Resume from iteration ${this.lastGood.iteration}`;
        controls.resume.hidden = false;
      } else showError(`${line} Reload the page to start again.`);
      document.body.dataset.state = 'lost';
      return;
    }
    showError(err && gpuFailureLine(err, this.controller.state === 'error' ? 'A training step' : 'A GPU call'));
  }

  /**
   * G on the fixed noise and the interpolations, then their grids: one submission; views presented by
   * readback copy their pixels out once per draw, at the page's draw cadence. A failed draw is
   * reported and training goes on (a lost device is reported as such).
   */
  draw(): void {
    if (!this.views || this.lost) return;
    const { samples, fixed, strip } = this.views;
    const classStrip = this.views['class-strip'];
    try {
      drawCanvases(classStrip ? [samples, fixed, strip, classStrip] : [samples, fixed, strip]).catch((err: Error) => this.drawFailed(err));
    } catch (err) {
      this.drawFailed(err as Error);
    }
  }

  private drawFailed(err: Error): void {
    if (this.lost || LOST_MESSAGE.test(err.message)) {
      this.controller.pause();
      this.controller.report(new DeviceLostError(`The GPU device was lost while drawing the samples (${err.message}).`));
      return;
    }
    this.controller.report(new Error(`Drawing the samples failed (${err.name}: ${err.message}); training goes on. Reload the page if the views stay blank.`));
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
      let run: FittedRun;
      try {
        run = await fitRun(next, { dataset: this.data!.images });
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
      await this.build(run, state);
    }).then(() => this.controller.report(), (err) => this.controller.report(err));
  }

  async save(): Promise<void> {
    await this.controller.exclusive(async () => {
      const encoder = this.modelViews?.inference.encoder;
      const bytes = encodeCheckpoint({ ...(await this.trainer.readState()), encoder }, networkSpecs(this.config));
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

  /**
   * Opens a pretrained model: its fixed-noise grid and interpolation at once, paused, no training. A
   * model of G alone (paper-mnist) trains on, if started, against a D as the preset initialises it.
   */
  async loadPretrained(name: string): Promise<void> {
    this.pause();
    const file = `pretrained/${name}.safetensors`;
    await this.open(file, async () => {
      const response = await fetch(PRETRAINED[name]);
      if (!response.ok) throw new Error(`${file}: the server answered ${response.status} ${response.statusText}.`);
      return new Uint8Array(await response.arrayBuffer());
    });
  }

  private async open(name: string, read: () => Promise<Uint8Array>): Promise<void> {
    let state: TrainingState;
    try {
      state = decodeCheckpoint(await read(), name, networkSpecs);
      const { data } = state.config;
      if (data === 'images' && !this.images) throw new Error(`${name}: a model of a folder of images; choose the images (${state.config.dataDir}) first.`);
      if (data !== 'images' && !SHIPPED.includes(data)) throw new Error(`${name}: a ${data} checkpoint; this page trains on MNIST, Fashion-MNIST, Twemoji or your images${data.startsWith('toy') ? ' (open it in the lab, lab.html)' : ''}.`);
    } catch (err) {
      this.controller.report(err);
      return;
    }
    await this.controller.exclusive(async () => this.build(await this.fit(state.config), state, state.encoder)).then(
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
      const shown = this.views?.[view];
      if (!shown) throw new Error(`No '${view}' view: ${view === 'class-strip' ? 'the model is not conditional' : 'no model yet'}.`);
      const { width, height, pixels } = await shown.snapshot();
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
  if (config.data.startsWith('toy')) throw new Error(`Preset ${config.preset} is a toy; open the lab (lab.html) for it.`);
  if (!SHIPPED.includes(config.data)) throw new Error(`Preset ${config.preset} trains on ${config.data} files, which this page's server does not hold; train it with the command line, or choose a small preset and your own images.`);
  return config;
}

async function main(): Promise<void> {
  for (const name of PAGE_PRESETS) controls.preset.add(new Option(name, name));
  const params = new URLSearchParams(location.search);
  const config = initialConfig(params);
  const limits = modelLimits(presetConfig('paper-mnist'));
  for (const [name, value] of Object.entries(modelLimits(config))) limits[name] = Math.max(limits[name], value);
  // Asked before the page's device exists: a probe that loses its device leaves the next one working.
  const present = await canvasPresentation();
  const context = await pageDevice(limits);
  if (!context) return;
  const page = new TrainingPage(context, new Runtime(context), new Clock(context.device), present);
  controls.resume.addEventListener('click', async () => {
    controls.resume.hidden = true;
    const presentNow = await canvasPresentation();
    const fresh = await pageDevice(limits);
    if (!fresh) return;
    await page.recover(fresh, presentNow).then(
      () => page.controller.report(),
      (err: Error) => page.controller.report(err),
    );
  });
  (window as unknown as { ganPage: TrainingPage }).ganPage = page;
  const host: ModelHost = {
    get trainer() { return page.trainer; },
    get present() { return page.present; },
    get images() { return page.trainingImages; },
    exclusive: (action) => page.controller.exclusive(action),
    report: (err) => page.controller.report(err),
  };
  const inference = new InferenceView(host);
  page.modelViews = { inference, inpaint: new InpaintView(host, () => inference.encoder) };
  void offerEmoji(controls.data);
  await page.start(config);
  for (const control of [controls.start, controls.step, controls.save, controls.onnx, controls.load, controls.endpoints, controls.pretrained, controls.data, controls.folder]) control.disabled = false;
  controls.pretrained.addEventListener('click', () => void page.loadPretrained(controls.pretrainedModel.value));
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
  controls.preset.addEventListener('change', () => void page.choosePreset(controls.preset.value));
  controls.data.addEventListener('change', () => void page.useSource(controls.data.value as DataSource));
  controls.folder.addEventListener('change', () => {
    const files = Array.from(controls.folder.files ?? []);
    controls.folder.value = '';
    if (files.length > 0) void page.useImages(files);
  });
  for (const control of [controls.imageSize, controls.grey]) control.addEventListener('change', () => void page.useImages());
  // Images dropped anywhere on the page: files, or folders (walked, their subfolders the classes).
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    if (!e.dataTransfer) return;
    void droppedFiles(e.dataTransfer).then(
      (files) => page.useImages(files),
      (err: Error) => page.controller.report(err),
    );
  });
  controls.sampleClass.addEventListener('change', () => {
    const value = controls.sampleClass.value;
    void page.chooseClass(value === 'rows' ? undefined : Number(value)).catch((err: Error) => page.controller.report(err));
  });
  for (const control of [controls.classFrom, controls.classTo]) {
    control.addEventListener('change', () => void page.chooseClassPair(Number(controls.classFrom.value), Number(controls.classTo.value)).catch((err: Error) => page.controller.report(err)));
  }
  for (const control of [controls.k, controls.lr, controls.batch, controls.gLoss, controls.optimizer]) control.addEventListener('change', () => void page.applyControls());
  if (params.get('autostart') === '1') void page.run();
}

main().catch((err: Error) => {
  showError(err.message);
  document.body.dataset.state = 'error';
});
