// The training page's sample views: the last G step's minibatch, G on the fixed noise, the z strip and
// (for a conditional model) the class interpolation, each a SampleCanvas on the trainer's buffers, and
// the class pickers that choose what a conditional model draws.
import { attachCanvas, type CanvasPresent, type ImageDataset, type SampleCanvas, type Trainer } from '../src/index';
import { $, freshCanvas } from './common';
import { controls } from './page-controls';

export type View = 'samples' | 'fixed' | 'strip' | 'class-strip';
const VIEW_CANVASES = ['#samples', '#fixed', '#strip', '#class-strip'];
const STRIP_STEPS = 12;
const CLASS_STEPS = 10;

export class PageViews {
  /** The last G step's minibatch, G on the fixed noise, the interpolations: made with the first model (the class strip with the first conditional one). */
  private views?: Record<Exclude<View, 'class-strip'>, SampleCanvas> & { 'class-strip'?: SampleCanvas };
  /** A conditional model's class of the whole fixed-noise grid (undefined: one class per row), and the class interpolation's ends. */
  private sampleClass?: number;
  private classPair = { from: 0, to: 1 };

  /** Shows `trainer` (of `dataset`'s images) in every view, making the views with the first model. */
  async setTrainer(trainer: Trainer, dataset: ImageDataset, present: CanvasPresent): Promise<void> {
    const conditional = trainer.config.classes > 0;
    if (conditional) this.applyClasses(trainer, dataset);
    if (this.views) {
      for (const view of [this.views.samples, this.views.fixed, this.views.strip]) await view.setTrainer(trainer);
      if (this.views['class-strip'] && !conditional) {
        this.views['class-strip'].destroy();
        this.views['class-strip'] = undefined;
      } else if (this.views['class-strip']) await this.views['class-strip'].setTrainer(trainer);
    } else {
      this.views = {
        samples: await attachCanvas(trainer, $<HTMLCanvasElement>('#samples'), {
          show: 'latest',
          label: 'samples',
          present,
        }),
        fixed: await attachCanvas(trainer, $<HTMLCanvasElement>('#fixed'), { label: 'fixed', present }),
        strip: await attachCanvas(trainer, $<HTMLCanvasElement>('#strip'), {
          show: 'interpolation',
          steps: STRIP_STEPS,
          label: 'strip',
          present,
        }),
      };
    }
    if (conditional) {
      this.views['class-strip'] ??= await attachCanvas(trainer, $<HTMLCanvasElement>('#class-strip'), {
        show: 'class-interpolation',
        steps: CLASS_STEPS,
        label: 'class-strip',
        present,
      });
      await this.views['class-strip'].setClasses(this.classPair.from, this.classPair.to);
    }
    this.views.strip.setClass(this.sampleClass ?? 0);
  }

  /** The views drawn in one frame. */
  get shown(): SampleCanvas[] {
    if (!this.views) return [];
    const { samples, fixed, strip } = this.views;
    const classStrip = this.views['class-strip'];
    return classStrip ? [samples, fixed, strip, classStrip] : [samples, fixed, strip];
  }

  /**
   * After a device loss: the views are made again with the next model; a canvas keeps the kind of
   * context it first gave, so another way of presenting needs new canvases.
   */
  forget(changePresent: boolean): void {
    for (const view of Object.values(this.views ?? {})) view.destroy();
    this.views = undefined;
    if (changePresent) for (const selector of VIEW_CANVASES) freshCanvas(selector);
  }

  /** A conditional trainer's classes as the page's pickers have them; the pickers list the data's classes. */
  private applyClasses(trainer: Trainer, dataset: ImageDataset): void {
    const { classes } = trainer.config;
    const names = Array.from({ length: classes }, (_, c) => dataset.classNames?.[c] ?? String(c));
    if (this.sampleClass !== undefined && this.sampleClass >= classes) this.sampleClass = undefined;
    this.classPair = { from: Math.min(this.classPair.from, classes - 1), to: Math.min(this.classPair.to, classes - 1) };
    controls.sampleClass.replaceChildren(
      new Option('one class per row', 'rows'),
      ...names.map((name, c) => new Option(name, String(c))),
    );
    controls.classFrom.replaceChildren(...names.map((name, c) => new Option(name, String(c))));
    controls.classTo.replaceChildren(...names.map((name, c) => new Option(name, String(c))));
    controls.sampleClass.value = this.sampleClass === undefined ? 'rows' : String(this.sampleClass);
    controls.classFrom.value = String(this.classPair.from);
    controls.classTo.value = String(this.classPair.to);
    trainer.setSampleClasses(this.sampleClass);
  }

  /** A conditional model's fixed-noise grid all of one class (undefined: one class per row); the z strip follows. Between windows. */
  chooseClass(trainer: Trainer, classIndex: number | undefined): void {
    trainer.setSampleClasses(classIndex);
    this.views?.strip.setClass(classIndex ?? 0);
    this.sampleClass = classIndex;
  }

  /** The class interpolation from one class to another at the first fixed-noise z. Between windows. */
  async chooseClassPair(from: number, to: number): Promise<void> {
    await this.views?.['class-strip']?.setClasses(from, to);
    this.classPair = { from, to };
  }

  newEndpoints(): void {
    this.views?.strip.newEndpoints();
  }

  /** A view drawn into an offscreen texture and read back. Between windows. */
  async snapshot(view: View): Promise<{ width: number; height: number; pixels: number[] }> {
    const shown = this.views?.[view];
    if (!shown)
      throw new Error(
        `No '${view}' view: ${view === 'class-strip' ? 'the model is not conditional' : 'no model yet'}.`,
      );
    const { width, height, pixels } = await shown.snapshot();
    return { width, height, pixels: Array.from(pixels) };
  }
}
