// Completing partial images on the training page (the paper's p(x_S | x_not S)): the user erases part
// of a test image with the mouse, or hides its bottom half, and the command line's Inpainter fits z to
// the known pixels through G's backward pass; the completed image keeps the known pixels and takes the
// erased ones from G(z), shown every 50 steps as the fit goes. z starts from E(masked x) when the page
// has an encoder (InferenceView's), else from the best of the Inpainter's random starts.
import { DEFAULT_INPAINT, Inpainter, maskBottomHalf, type TrainedWeights } from '../src/index';
import { $ } from './common';
import {
  ImagePad,
  type ModelHost,
  paintImage,
  shownGenerator,
  testCount,
  testImage,
  unsupportedReason,
} from './image-pad';

const controls = {
  reason: $('#inpaint-reason'),
  next: $<HTMLButtonElement>('#inpaint-next'),
  random: $<HTMLButtonElement>('#inpaint-random'),
  bottom: $<HTMLButtonElement>('#inpaint-bottom'),
  restore: $<HTMLButtonElement>('#inpaint-restore'),
  status: $('#inpaint-status'),
  output: $<HTMLCanvasElement>('#inpaint-output'),
};

export class InpaintView {
  private readonly pad: ImagePad;
  private index = -1;
  private completed: Float32Array = new Float32Array(0);
  /** The completion under way; strokes made meanwhile are completed after it. */
  private pending: Promise<void> = Promise.resolve();
  private seed = 0;
  /** Frames of the fit shown before its end, over all completions (tests read it). */
  private progressShown = 0;

  constructor(
    private readonly host: ModelHost,
    /** E when the page has one (the inference view's). */
    private readonly encoder: () => TrainedWeights | undefined,
  ) {
    this.pad = new ImagePad($<HTMLCanvasElement>('#inpaint-input'), 'erase', () => void this.complete());
    controls.next.addEventListener('click', () => void this.showTestImage(this.index + 1));
    controls.random.addEventListener(
      'click',
      () => void this.showTestImage(Math.floor(Math.random() * testCount(this.host.images!))),
    );
    controls.bottom.addEventListener('click', () => void this.hideBottomHalf());
    controls.restore.addEventListener('click', () => void this.showTestImage(this.index));
  }

  /** Another model in the page: the view starts again from its test image, or says why it cannot. */
  modelChanged(): void {
    const reason = unsupportedReason(this.host.trainer);
    controls.reason.textContent = reason ?? '';
    controls.reason.hidden = !reason;
    for (const control of [controls.next, controls.random, controls.bottom, controls.restore])
      control.disabled = !!reason;
    if (reason) {
      // The last model's images would read as this model's.
      this.pad.canvas.width = controls.output.width = 0;
      return;
    }
    void this.showTestImage(Math.max(0, this.index));
  }

  /** Test image `index`, every pixel known (nothing to complete yet). */
  async showTestImage(index: number): Promise<void> {
    const images = this.host.images;
    if (!images || unsupportedReason(this.host.trainer)) return;
    await this.pending;
    const image = testImage(images, index);
    this.index = image.index;
    this.pad.set(image.values, image.shape);
    this.completed = image.values.slice();
    paintImage(controls.output, this.completed, image.shape, this.pad.zoom);
    controls.status.textContent = 'Erase part of the image with the mouse, or hide its bottom half.';
  }

  async hideBottomHalf(): Promise<void> {
    const { channels, height, width } = this.pad.shape;
    this.pad.hide(maskBottomHalf(channels, height, width));
    await this.complete();
  }

  /** Fits z to the known pixels and fills in the erased ones from G(z). */
  complete(): Promise<void> {
    this.pending = this.pending.then(async () => {
      if (this.pad.values.length === 0 || this.pad.mask.every((m) => m === 1)) return;
      const encoder = this.encoder();
      const mask = this.pad.channelMask();
      const x = this.pad.values.slice();
      const started = performance.now();
      document.body.dataset.inpaint = 'running';
      controls.status.textContent = `Completing: ${DEFAULT_INPAINT.steps} Adam steps on z from ${encoder ? 'E(x)' : `the best of ${DEFAULT_INPAINT.restarts} random z`}…`;
      try {
        const model = await shownGenerator(this.host);
        const inpainter = await Inpainter.create(this.host.trainer.rt, model, encoder, {
          seed: this.seed++,
          images: 1,
        });
        try {
          // The fit as it goes: the known pixels kept, the erased ones G(z)'s at the step reached.
          const { completed } = await inpainter.complete(
            { values: x, count: 1, features: x.length },
            mask,
            (step, fit) => {
              paintImage(
                controls.output,
                fit.map((v, i) => (mask[i] ? x[i] : v)),
                this.pad.shape,
                this.pad.zoom,
              );
              controls.status.textContent = `Completing: step ${step} of ${inpainter.steps}…`;
              this.progressShown++;
            },
          );
          this.completed = completed;
          paintImage(controls.output, completed, this.pad.shape, this.pad.zoom);
          controls.status.textContent = `Completed in ${((performance.now() - started) / 1000).toFixed(1)} s, z started from ${encoder ? 'E(x)' : 'random z'}.`;
        } finally {
          inpainter.destroy();
        }
      } catch (err) {
        this.host.report(new Error(`The completion failed: ${(err as Error).message}`));
      } finally {
        document.body.dataset.inpaint = 'done';
      }
    });
    return this.pending;
  }

  /** For tests: x, its mask of known pixels (one plane) and the completed image, planar floats. */
  async snapshot(): Promise<{ x: number[]; mask: number[]; completed: number[]; progressShown: number }> {
    await this.pending;
    return {
      x: Array.from(this.pad.values),
      mask: Array.from(this.pad.mask),
      completed: Array.from(this.completed),
      progressShown: this.progressShown,
    };
  }
}
