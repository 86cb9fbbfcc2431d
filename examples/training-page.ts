// The training page: what its controls do with the model (page-model.ts), each queued between two
// training windows: a preset, a data source or the user's images (a fresh model), the class pickers,
// the settings (the same weights on a new trainer), checkpoints saved and opened, the pretrained
// models, raw G or its moving average; and, for tests, the views' snapshots.
import {
  checkpointToOnnx,
  decodeCheckpoint,
  type FitOptions,
  fitRun,
  type FittedRun,
  encodeCheckpoint,
  networkSpecs,
  presetConfig,
  type TrainConfig,
  type TrainingState,
  withImageShape,
} from '../src/index';
import { download } from './common';
import { controls, type DataSource, SHIPPED, status } from './page-controls';
import { PageModel } from './page-model';
import type { View } from './page-views';
// The models docs/evaluation.md's figures come from (pretrained/README.md): bundled as files, fetched on demand.
import smallMnistUrl from '../pretrained/small-mnist.safetensors?url';
import paperMnistUrl from '../pretrained/paper-mnist.safetensors?url';

const PRETRAINED: Record<string, string> = { 'small-mnist': smallMnistUrl, 'paper-mnist': paperMnistUrl };

export class TrainingPage extends PageModel {
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
    const source = controls.data.value === 'images' && this.sources.images ? 'images' : (this.base.data as DataSource);
    await this.useSource(source);
  }

  /** A fresh model of the current preset on `source`; the user's images once chosen. */
  async useSource(source: DataSource): Promise<void> {
    controls.data.value = source;
    controls.imageSource.hidden = source !== 'images';
    if (source === 'images' && !this.sources.images) {
      status.textContent = 'Choose a folder of PNG or JPEG images, or drop images on the page.';
      return;
    }
    try {
      // The image shape follows the data (G's output with it), and a conditional preset takes its classes.
      const config = {
        ...structuredClone(this.base),
        data: source,
        dataDir: source === 'images' ? this.sources.images!.source : '',
      };
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
    try {
      if (!(await this.sources.readImages(files))) return;
    } catch (err) {
      this.controller.report(err);
      this.showStatus();
      return;
    }
    await this.useSource('images');
  }

  /** A conditional model's fixed-noise grid all of one class (undefined: one class per row); the z strip follows. */
  async chooseClass(classIndex: number | undefined): Promise<void> {
    await this.controller.exclusive(async () => {
      this.views.chooseClass(this.trainer, classIndex);
      this.draw();
    });
  }

  /** The class interpolation from one class to another at the first fixed-noise z. */
  async chooseClassPair(from: number, to: number): Promise<void> {
    await this.controller.exclusive(async () => {
      await this.views.chooseClassPair(from, to);
      this.draw();
    });
  }

  /** The controls' values applied between two windows: same weights, new trainer. */
  async applyControls(): Promise<void> {
    await this.controller
      .exclusive(async () => {
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
            state[player].optimizer = Array.from(
              { length: stateCount },
              () => new Float32Array(state[player].params.length),
            );
          }
        }
        await this.build(run, state);
      })
      .then(
        () => this.controller.report(),
        (err) => this.controller.report(err),
      );
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
      const bytes = checkpointToOnnx(await this.trainer.readState(), 'generator', {
        rawGenerator: this.trainer.shown === 'raw',
      });
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
      if (data === 'images' && !this.sources.images)
        throw new Error(`${name}: a model of a folder of images; choose the images (${state.config.dataDir}) first.`);
      if (data !== 'images' && !SHIPPED.includes(data))
        throw new Error(
          `${name}: a ${data} checkpoint; this page trains on MNIST, Fashion-MNIST, Twemoji or your images${data.startsWith('toy') ? ' (open it in the lab, lab.html)' : ''}.`,
        );
    } catch (err) {
      this.controller.report(err);
      return;
    }
    await this.controller
      .exclusive(async () => this.build(await this.fit(state.config), state, state.encoder))
      .then(
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
    this.views.newEndpoints();
    void this.controller.exclusive(async () => this.draw());
  }

  /**
   * For tests and snapshots: a view drawn by the same render pipeline into an offscreen texture and
   * read back (headless Chromium on SwiftShader does not composite WebGPU canvases into screenshots).
   */
  async snapshot(view: View): Promise<{ width: number; height: number; pixels: number[] }> {
    return this.controller.exclusive(async () => {
      this.draw();
      return this.views.snapshot(view);
    });
  }

  /** For tests: G's output on the fixed noise, computed now. */
  async readFixedSamples(): Promise<number[]> {
    return this.controller.exclusive(async () => Array.from(await this.trainer.readFixedNoiseSamples()));
  }
}
