// The training page's model and its life: one TrainingController trains it in windows, a model is
// built for a fitted run (the data uploaded once, the views and the views of E and of the completion
// told), the status line and the charts follow it, and a lost device is reported with the model
// kept, to resume from on a new device. What the controls do with it is training-page.ts's.
import {
  type CanvasPresent,
  checkBuffersFit,
  Clock,
  type ControllerMetrics,
  createTrainer,
  type FitOptions,
  fitRun,
  type FittedRun,
  destroyDataset,
  DeviceLostError,
  drawCanvases,
  type GpuContext,
  type ImageDataset,
  modelBuffers,
  prepareData,
  Runtime,
  type TrainConfig,
  type Trainer,
  TrainingController,
  type TrainingData,
  type TrainingState,
  type TrainedWeights,
} from '../src/index';
import { $, Chart, gpuFailureLine } from './common';
import type { InferenceView } from './inference-view';
import type { InpaintView } from './inpaint-view';
import type { SemiSupervisedView } from './semi-view';
import { controls, type DataSource, PAGE_PRESETS, showError, SOURCE_NAMES, status } from './page-controls';
import { PageData } from './page-data';
import { PageViews } from './page-views';

/** How often the page copies the model out, to resume from if the device is lost. */
const KEEP_STATE_EVERY_MS = 10_000;
/** A message of the browser's WebGPU that means the device (or the whole WebGPU instance) is gone, whichever call it came from. */
const LOST_MESSAGE = /Instance reference no longer exists|device (is|was) (lost|destroyed)/i;

export class PageModel {
  config!: TrainConfig;
  /** The config a data source is applied to: the model trained now, or the preset just chosen. */
  protected base!: TrainConfig;
  /** The data on the GPU; `data.images` is the dataset it holds. */
  protected data?: TrainingData;
  /** The page's images: its server's sets and the user's. */
  protected readonly sources = new PageData();
  /** Every metrics record of this page's runs, in order (the charts' data). */
  readonly metrics: ControllerMetrics[] = [];
  protected readonly views = new PageViews();
  /** The state at the end of a recent window, kept so that a lost device loses at most a few seconds. */
  lastGood?: TrainingState;
  /** The fixed-noise grid and the interpolation show G's own weights, not their moving average. */
  protected showRaw = false;
  protected readonly charts = {
    losses: new Chart($('#charts'), 'losses', [
      { label: 'D loss', stroke: '#1e6ec8' },
      { label: 'G loss', stroke: '#dc5a1e' },
    ]),
    outputs: new Chart(
      $('#charts'),
      "D's mean output",
      [
        { label: 'D(x)', stroke: '#1e6ec8' },
        { label: 'D(G(z))', stroke: '#dc5a1e' },
      ],
      { range: [0, 1] },
    ),
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
  modelViews?: { inference: InferenceView; inpaint: InpaintView; semi: SemiSupervisedView };

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
      this.views.forget(present !== this.present);
      this.present = present;
      // The old device's buffers are gone with it: the dataset is uploaded again, the trainer rebuilt.
      const run = { config: this.config, dataset: this.data?.images };
      this.data = undefined;
      await this.build(run, this.lastGood);
    });
  }

  /** `config` on its data (fetched once, or the user's images) through fitRun: the one check of both for each model. */
  protected async fit(config: TrainConfig, adopt: FitOptions['adopt'] = {}): Promise<FittedRun> {
    return fitRun(config, {
      dataset: await this.sources.dataset(config),
      adopt,
      typed: { classes: `preset ${config.preset}` },
    });
  }

  /** A new trainer for a fitted run (the data is reused when it is the same), continuing `state` if given. */
  protected async build(
    run: FittedRun,
    state?: TrainingState,
    encoder: TrainedWeights | 'keep' | undefined = state ? 'keep' : undefined,
  ): Promise<void> {
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
    await this.views.setTrainer(trainer, dataset, this.present);
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
    this.modelViews?.semi.modelChanged();
  }

  /** The images the model trains on. */
  get trainingImages(): ImageDataset | undefined {
    return this.data?.images;
  }

  protected showConfig(): void {
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

  protected showStatus(): void {
    if (!this.config) return;
    const state = this.lost ? 'lost' : this.running ? 'running' : 'paused';
    const speed = this.controller.itsPerSecond;
    const chosen = this.sources.images;
    document.body.dataset.state = state;
    document.body.dataset.iteration = String(this.trainer.iteration);
    document.body.dataset.preset = this.config.preset;
    const images =
      this.config.data === 'images' && chosen
        ? ` (${chosen.source}: ${chosen.train.count + chosen.valid.count + chosen.test.count} images, ${this.config.image!.channels} x ${this.config.image!.height} x ${this.config.image!.width})`
        : '';
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
      const line =
        err instanceof DeviceLostError ? err.message : `${this.lost ?? `The GPU device was lost (${err.message})`}.`;
      if (this.lastGood) {
        showError(
          `${line} The model of iteration ${this.lastGood.iteration} is kept in this page: resume from it on a new device; if the device is lost again, reload the page or restart the browser.`,
        );
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
    if (this.lost) return;
    try {
      drawCanvases(this.views.shown).catch((err: Error) => this.drawFailed(err));
    } catch (err) {
      this.drawFailed(err as Error);
    }
  }

  private drawFailed(err: Error): void {
    if (this.lost || LOST_MESSAGE.test(err.message)) {
      this.controller.pause();
      this.controller.report(
        new DeviceLostError(`The GPU device was lost while drawing the samples (${err.message}).`),
      );
      return;
    }
    this.controller.report(
      new Error(
        `Drawing the samples failed (${err.name}: ${err.message}); training goes on. Reload the page if the views stay blank.`,
      ),
    );
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
