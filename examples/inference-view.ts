// Learned inference on the training page: G(E(x)) beside x, x a test image or one drawn with the
// mouse, and G along the line between E(x1) and E(x2) for two real images (the z strip's own view,
// src/view/interpolation.ts, given those ends). E comes with the checkpoint opened (`gan
// train-encoder` writes it) or is trained here by *Train encoder*, with the command line's
// trainEncoder, for the G the page shows; the training submits its steps in groups and waits on the
// queue between them, so the page stays responsive.
import {
  attachCanvas,
  DEFAULT_ENCODER,
  Reconstructor,
  type GeneratorModel,
  type SampleCanvas,
  type TrainedWeights,
  trainEncoder,
} from '../src/index';
import { $, freshCanvas } from './common';
import {
  ImagePad,
  type ModelHost,
  paintImage,
  shownGenerator,
  testCount,
  testImage,
  unsupportedReason,
} from './image-pad';

/** A smaller E than the command line's (784 -> 512 -> 512 -> 100), trained for fewer steps: seconds to a few minutes in a tab. */
const PAGE_ENCODER = { ...DEFAULT_ENCODER, hidden: [256] };
const STRIP_STEPS = 10;

const controls = {
  reason: $('#inference-reason'),
  train: $<HTMLButtonElement>('#train-encoder'),
  iterations: $<HTMLInputElement>('#encoder-iters'),
  encoderStatus: $('#encoder-status'),
  next: $<HTMLButtonElement>('#inference-next'),
  random: $<HTMLButtonElement>('#inference-random'),
  clear: $<HTMLButtonElement>('#inference-clear'),
  interpolate: $<HTMLButtonElement>('#inference-interpolate'),
  output: $<HTMLCanvasElement>('#inference-output'),
};

export class InferenceView {
  /** E for the model shown, when it has one. */
  encoder?: TrainedWeights;
  private readonly pad: ImagePad;
  private reconstruction: Float32Array = new Float32Array(0);
  private index = -1;
  private strip?: SampleCanvas;
  /** The reconstruction under way, so that tests and strokes wait for it. */
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly host: ModelHost) {
    this.pad = new ImagePad($<HTMLCanvasElement>('#inference-input'), 'draw', () => void this.reconstruct());
    controls.train.addEventListener('click', () => void this.train());
    controls.next.addEventListener('click', () => void this.showTestImage(this.index + 1));
    controls.random.addEventListener(
      'click',
      () => void this.showTestImage(Math.floor(Math.random() * testCount(this.host.images!))),
    );
    controls.clear.addEventListener('click', () => {
      this.pad.set(new Float32Array(this.pad.values.length), this.pad.shape);
      void this.reconstruct();
    });
    controls.interpolate.addEventListener('click', () => void this.interpolate());
  }

  /**
   * Another model in the page: `encoder` is the checkpoint's E, 'keep' keeps E (the same weights on a
   * new trainer: other settings, or a new device), undefined forgets it (a fresh model).
   */
  modelChanged(encoder: TrainedWeights | 'keep' | undefined): void {
    if (encoder !== 'keep') this.encoder = encoder;
    this.strip?.destroy();
    this.strip = undefined;
    $('#inference-strip').hidden = true;
    const reason = unsupportedReason(this.host.trainer);
    controls.reason.textContent = reason ?? '';
    controls.reason.hidden = !reason;
    for (const control of [controls.train, controls.next, controls.random, controls.clear]) control.disabled = !!reason;
    if (reason) {
      this.encoder = undefined;
      this.index = -1;
      controls.interpolate.disabled = true;
      // The last model's images would read as this model's.
      this.pad.canvas.width = controls.output.width = 0;
      return;
    }
    this.showEncoder(encoder === 'keep' || !this.encoder ? undefined : 'from the checkpoint');
    void this.showTestImage(Math.max(0, this.index));
  }

  private showEncoder(origin?: string): void {
    controls.interpolate.disabled = !this.encoder;
    document.body.dataset.encoder = this.encoder ? 'yes' : 'no';
    if (!this.encoder)
      controls.encoderStatus.textContent =
        'This model has no encoder: train one (or open a checkpoint of `gan train-encoder`).';
    else if (origin)
      controls.encoderStatus.textContent = `Encoder (hidden widths ${this.encoder.hidden.join(', ')}) ${origin}.`;
  }

  /** Trains E for the G shown now; the page goes on meanwhile. */
  async train(): Promise<void> {
    const iterations = Number(controls.iterations.value);
    if (!Number.isInteger(iterations) || iterations < 1) {
      this.host.report(new Error(`encoder iterations: ${controls.iterations.value} is not a positive whole number.`));
      return;
    }
    controls.train.disabled = true;
    document.body.dataset.encoder = 'training';
    const started = performance.now();
    try {
      const trainer = this.host.trainer;
      const model = await shownGenerator(this.host);
      const encoder = { ...PAGE_ENCODER, iterations, hidden: PAGE_ENCODER.hidden };
      controls.encoderStatus.textContent = `Training the encoder: 0 of ${iterations}…`;
      const trained = await trainEncoder(trainer.rt, model, encoder, (i) => {
        controls.encoderStatus.textContent = `Training the encoder: ${i} of ${iterations} (${((performance.now() - started) / 1000).toFixed(0)} s)…`;
      });
      // A model opened or started meanwhile has a G of its own: this E is not for it.
      if (this.host.trainer !== trainer) return;
      this.encoder = { hidden: encoder.hidden, params: trained.params };
      this.showEncoder(
        `trained here for iteration ${trainer.iteration}'s G: ${iterations} steps, squared error in z ${trained.zMse.toFixed(3)} per dimension`,
      );
      await this.reconstruct();
    } catch (err) {
      document.body.dataset.encoder = this.encoder ? 'yes' : 'no';
      this.host.report(new Error(`Training the encoder failed: ${(err as Error).message}`));
    } finally {
      controls.train.disabled = !!unsupportedReason(this.host.trainer);
    }
  }

  /** Test image `index` as x, and G(E(x)) beside it. */
  async showTestImage(index: number): Promise<void> {
    const images = this.host.images;
    if (!images || unsupportedReason(this.host.trainer)) return;
    const image = testImage(images, index);
    this.index = image.index;
    this.pad.set(image.values, image.shape);
    await this.reconstruct();
  }

  /** G(E(x)) for the x on the pad; without an encoder the right-hand side stays empty. */
  reconstruct(): Promise<void> {
    this.pending = this.pending.then(async () => {
      if (!this.encoder || this.pad.values.length === 0) {
        controls.output.width = controls.output.height = 0;
        this.reconstruction = new Float32Array(0);
        return;
      }
      try {
        const [{ images }] = await this.encode([this.pad.values]);
        this.reconstruction = images;
        paintImage(controls.output, images, this.pad.shape, this.pad.zoom);
      } catch (err) {
        this.host.report(err);
      }
    });
    return this.pending;
  }

  /** G(E(x)) and E(x) of each image, through the G shown now. */
  private async encode(xs: Float32Array[]): Promise<{ images: Float32Array; z: Float32Array }[]> {
    const model: GeneratorModel = await shownGenerator(this.host);
    const features = xs[0].length;
    const reconstructor = await Reconstructor.create(this.host.trainer.rt, model, this.encoder!, xs.length);
    try {
      const values = new Float32Array(xs.length * features);
      xs.forEach((x, i) => values.set(x, i * features));
      const { images, z } = await reconstructor.run({ values, count: xs.length, features });
      return xs.map((_, i) => ({
        images: images.subarray(i * features, (i + 1) * features),
        z: z.subarray(i * model.noise.dim, (i + 1) * model.noise.dim),
      }));
    } finally {
      reconstructor.destroy();
    }
  }

  /** G along the straight line from E(x) (the image shown) to E(the next test image). */
  async interpolate(): Promise<void> {
    const images = this.host.images;
    if (!this.encoder || !images) return;
    try {
      const other = testImage(images, this.index + 1);
      const [from, to] = await this.encode([this.pad.values, other.values]);
      const trainer = this.host.trainer;
      await this.host.exclusive(async () => {
        if (!this.strip || this.strip.trainer !== trainer) {
          this.strip?.destroy();
          const canvas = freshCanvas('#inference-strip');
          canvas.hidden = false;
          this.strip = await attachCanvas(trainer, canvas, {
            show: 'interpolation',
            steps: STRIP_STEPS,
            label: 'inference-strip',
            present: this.host.present,
          });
        }
        this.strip.setEndpoints(from.z, to.z);
        await this.strip.draw();
      });
    } catch (err) {
      this.host.report(err);
    }
  }

  /** For tests: x and G(E(x)) as drawn (planar floats), and the strip's pixels when there is one. */
  async snapshot(): Promise<{
    x: number[];
    reconstruction: number[];
    index: number;
    strip?: { width: number; height: number; pixels: number[] };
  }> {
    await this.pending;
    const strip = this.strip && (await this.host.exclusive(() => this.strip!.snapshot()));
    return {
      x: Array.from(this.pad.values),
      reconstruction: Array.from(this.reconstruction),
      index: this.index,
      strip: strip && { width: strip.width, height: strip.height, pixels: Array.from(strip.pixels) },
    };
  }

  /** E as the checkpoint saves it. */
  get weights(): TrainedWeights | undefined {
    return this.encoder;
  }
}
