// A canvas that shows what a trainer generates, drawn by the render pipelines of src/view/render.ts
// straight from the trainer's buffers (no readback): a grid of images for image data (grey or colour,
// at the run's image shape), the plane for 2-D toys (D's output over it, G's image of a grid of
// noise, real and generated points). It follows the generator the trainer shows (trainer.shown: G or
// the moving average of its weights).
//
//   const view = await attachCanvas(trainer, document.querySelector('canvas'));
//   ... after each training window: view.draw();
//
// Everything a frame uses (passes, uniforms, bind groups) is made when the view or its trainer is
// set; a frame records one compute pass and one render pass and submits once. The plane's contents
// are plane-scene.ts's, the interpolation's z segment interpolation.ts's, and a view of a browser
// whose WebGPU canvases fail reaches the screen through present.ts's readback.
import type { Runtime } from '../gpu/runtime';
import { gridPixels, ImageGrid, PlaneRenderer, renderPixels } from './render';
import { isConditional } from '../spec/config';
import type { Trainer } from '../train/trainer';
import { Interpolation } from './interpolation';
import { PlaneScene } from './plane-scene';
import { CanvasReadback, type CanvasPresent } from './present';
import {
  canvasPixels,
  gridShape,
  imageLook,
  preferredFormat,
  type CanvasTarget,
  type SampleCanvasOptions,
  type SampleView,
} from './view-options';

export { Interpolation } from './interpolation';
export { probeCanvasPresentation, type CanvasPresent } from './present';
export type { CanvasTarget, SampleCanvasOptions, SampleView } from './view-options';

export class SampleCanvas {
  private size: { width: number; height: number };
  private current!: Trainer;
  private grid?: ImageGrid;
  private plane?: PlaneRenderer;
  private scene?: PlaneScene;
  private snapshotGrid?: ImageGrid;
  private snapshotPlane?: PlaneRenderer;
  private interpolation?: Interpolation;
  /** The interpolation's class (conditional models), kept for the next trainer. */
  private segmentClass = 0;
  /** The class interpolation's ends and the fixed-noise sample whose z it holds, kept for the next trainer. */
  private classPair = { from: 0, to: 1, sample: 0 };
  private readonly show: SampleView;
  private readonly label: string;

  private constructor(
    readonly rt: Runtime,
    readonly canvas: CanvasTarget,
    /** The canvas's WebGPU context ('webgpu' views) or 2-D context ('readback' views). */
    readonly context: GPUCanvasContext | undefined,
    /** 'readback' views: the offscreen target and the copy out of it. */
    private readonly readback: CanvasReadback | undefined,
    readonly format: GPUTextureFormat,
    private readonly options: SampleCanvasOptions,
    size: { width: number; height: number },
  ) {
    this.show = options.show ?? 'fixed';
    this.label = options.label ?? `canvas.${this.show}`;
    this.size = size;
  }

  /** The canvas's size in pixels: the view whole (it follows the image shape of the trainer shown). */
  get width(): number {
    return this.size.width;
  }

  get height(): number {
    return this.size.height;
  }

  /**
   * Sizes `canvas` for the view, configures its WebGPU context on the trainer's device and builds
   * the view. 1-D toys have no canvas view (their picture is a curve: SampleBatch.discriminatorCurve).
   */
  static async create(
    source: Trainer | { trainer: Trainer },
    canvas: CanvasTarget,
    options: SampleCanvasOptions = {},
  ): Promise<SampleCanvas> {
    const trainer = 'trainer' in source ? source.trainer : source;
    const size = canvasPixels(trainer, options);
    canvas.width = size.width;
    canvas.height = size.height;
    let view: SampleCanvas;
    if (options.present === 'readback') {
      const context2d = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
      if (!context2d)
        throw new Error(
          'This canvas gives no 2-D context (it may already have a WebGPU or WebGL one): a readback view needs a fresh canvas.',
        );
      view = new SampleCanvas(
        trainer.rt,
        canvas,
        undefined,
        new CanvasReadback(trainer.rt.device, context2d, options.label ?? `canvas.${options.show ?? 'fixed'}`),
        'rgba8unorm',
        options,
        size,
      );
    } else {
      const context = canvas.getContext('webgpu') as GPUCanvasContext | null;
      if (!context) throw new Error('This canvas gives no WebGPU context (it may already have a 2-D or WebGL one).');
      const format = options.format ?? preferredFormat();
      context.configure({ device: trainer.rt.device, format, alphaMode: 'opaque' });
      view = new SampleCanvas(trainer.rt, canvas, context, undefined, format, options, size);
    }
    await view.setTrainer(trainer);
    return view;
  }

  get trainer(): Trainer {
    return this.current;
  }

  /**
   * Shows another trainer on the same device (a new model, or the same one with other settings):
   * rebuilds what the frames use. The caller destroys the old trainer afterwards.
   */
  async setTrainer(trainer: Trainer): Promise<void> {
    if (trainer.rt.device !== this.rt.device)
      throw new Error('The new trainer is on another device: make a new SampleCanvas for it.');
    if ((this.grid && !imageLook(trainer.config)) || (this.plane && imageLook(trainer.config)))
      throw new Error(
        `This canvas shows ${this.grid ? 'images' : '2-D points'}; the new trainer's data (${trainer.config.data}) needs a SampleCanvas of its own.`,
      );
    if (imageLook(trainer.config)) {
      const shape = gridShape(trainer, this.options);
      if (this.show === 'class-interpolation') {
        if (!isConditional(trainer.config))
          throw new Error(
            `The class-interpolation view needs a conditional model; preset ${trainer.config.preset} has no classes (config field 'classes' is 0).`,
          );
        const { from, to, sample } = this.classPair;
        const last = trainer.config.classes - 1;
        await trainer.setClassInterpolation(Math.min(from, last), Math.min(to, last), { steps: shape.count, sample });
      }
      const interpolation =
        this.show === 'interpolation'
          ? await Interpolation.create(
              trainer,
              shape.count,
              isConditional(trainer.config) ? Math.min(this.segmentClass, trainer.config.classes - 1) : 0,
            )
          : undefined;
      this.grid ??= await ImageGrid.create(this.rt, this.format, shape, `render.${this.label}`);
      this.grid.forgetBuffers();
      this.grid.setShape(shape);
      this.snapshotGrid?.forgetBuffers();
      this.interpolation?.destroy();
      this.interpolation = interpolation;
      this.current = trainer;
      this.resize(canvasPixels(trainer, this.options));
      this.grid.prepare(this.images);
    } else {
      canvasPixels(trainer, this.options);
      this.plane ??= await PlaneRenderer.create(this.rt, this.format);
      const bounds = {
        lo: this.options.plane?.lo ?? -3,
        hi: this.options.plane?.hi ?? 3,
        width: this.width,
        height: this.height,
      };
      const scene = await PlaneScene.create(trainer, this.plane, bounds, {
        latest: this.show === 'latest',
        count: this.options.count,
      });
      this.scene?.destroy();
      this.scene = scene;
      this.current = trainer;
    }
  }

  /** Another image shape (other data) needs another canvas size; the next frame's texture has it. */
  private resize(size: { width: number; height: number }): void {
    if (size.width === this.size.width && size.height === this.size.height) return;
    this.canvas.width = size.width;
    this.canvas.height = size.height;
    this.size = size;
  }

  /** The images buffer drawn now. */
  private get images(): GPUBuffer {
    if (this.interpolation) return this.interpolation.output;
    if (this.show === 'class-interpolation') return this.current.classInterpolationSamples;
    return this.show === 'latest' ? this.current.latestSamples : this.current.fixedNoiseSamples;
  }

  /** The interpolation view: two new endpoints (drawn at the next frame). */
  newEndpoints(): void {
    this.interpolation?.newEndpoints();
  }

  /** The interpolation view: the segment between two given z (drawn at the next frame). */
  setEndpoints(from: ArrayLike<number>, to: ArrayLike<number>): void {
    if (!this.interpolation) throw new Error(`setEndpoints: this view shows '${this.show}', not 'interpolation'.`);
    this.interpolation.setEndpoints(from, to);
  }

  /** The interpolation view of a conditional model: the class along the segment (drawn at the next frame). */
  setClass(classIndex: number): void {
    this.interpolation?.setClass(classIndex);
    this.segmentClass = classIndex;
  }

  /**
   * The class-interpolation view: from class `from` to class `to` at the z of fixed-noise sample
   * `sample` (default the first), drawn at the next frame. Between training windows (it writes
   * buffers the trainer's plan reads), as Trainer.setClassInterpolation.
   */
  async setClasses(from: number, to: number, sample = this.classPair.sample): Promise<void> {
    if (this.show !== 'class-interpolation')
      throw new Error(`setClasses: this view shows '${this.show}', not 'class-interpolation'.`);
    await this.current.setClassInterpolation(from, to, { steps: gridShape(this.current, this.options).count, sample });
    this.classPair = { from, to, sample };
    this.grid!.prepare(this.images);
  }

  /** Records what the frame computes (G on the fixed noise or a segment, D over the plane, G's mesh). */
  recordCompute(pass: GPUComputePassEncoder): void {
    if (this.show === 'fixed') this.current.recordSampling(pass);
    if (this.show === 'class-interpolation') this.current.recordClassInterpolation(pass);
    this.interpolation?.record(pass);
    this.scene?.record(pass);
  }

  /** How the view reaches the screen. */
  get present(): CanvasPresent {
    return this.context ? 'webgpu' : 'readback';
  }

  /**
   * Records the frame's render pass into `target` (default: the canvas's current texture, or for a
   * 'readback' view its offscreen texture and the copy out of it, which `present` then shows; a
   * readback view whose last frame is still being read records nothing).
   */
  recordDraw(encoder: GPUCommandEncoder, target?: GPUTextureView): void {
    if (target || this.context) {
      this.render(encoder, target ?? this.context!.getCurrentTexture().createView());
      return;
    }
    this.readback!.record(encoder, this.width, this.height, (view) => this.render(encoder, view));
  }

  private render(encoder: GPUCommandEncoder, view: GPUTextureView): void {
    if (this.grid) this.grid.draw(encoder, view, this.images);
    else this.plane!.draw(encoder, view, this.scene!.layers());
  }

  /**
   * After the frame's submission: a 'readback' view shows the frame it recorded (resolves when shown;
   * rejects when the GPU fails). Nothing to do for a 'webgpu' view, or when no frame was recorded.
   */
  presentFrame(): Promise<void> {
    return this.readback?.present() ?? Promise.resolve();
  }

  /**
   * Computes and draws a frame: one submission, no readback ('readback' views: one copy out, read
   * after the submission). Resolves when the frame is shown.
   */
  draw(): Promise<void> {
    return drawCanvases([this]);
  }

  /**
   * The frame drawn into an offscreen texture and read back, row-major RGBA bytes of what the canvas
   * shows (the image grid at its current size). For tests and snapshots: it allocates and waits.
   */
  async snapshot(): Promise<{ width: number; height: number; pixels: Uint8Array }> {
    const compute = this.rt.device.createCommandEncoder({ label: `${this.label}.snapshot` });
    const pass = compute.beginComputePass({ label: `${this.label}.snapshot` });
    this.recordCompute(pass);
    pass.end();
    this.rt.device.queue.submit([compute.finish()]);
    if (this.grid) {
      const shape = gridShape(this.current, this.options);
      const { width, height } = gridPixels(shape);
      this.snapshotGrid ??= await ImageGrid.create(this.rt, 'rgba8unorm', shape, `render.${this.label}.snapshot`);
      this.snapshotGrid.setShape(shape);
      const images = this.images;
      return {
        width,
        height,
        pixels: await renderPixels(this.rt, width, height, (encoder, target) =>
          this.snapshotGrid!.draw(encoder, target, images),
        ),
      };
    }
    this.snapshotPlane ??= await PlaneRenderer.create(this.rt, 'rgba8unorm');
    const layers = [...this.scene!.layers()];
    return {
      width: this.width,
      height: this.height,
      pixels: await renderPixels(this.rt, this.width, this.height, (encoder, target) =>
        this.snapshotPlane!.draw(encoder, target, layers),
      ),
    };
  }

  /** Frees the view's buffers (not the trainer's) and unconfigures the canvas. */
  destroy(): void {
    this.grid?.destroy();
    this.snapshotGrid?.destroy();
    this.interpolation?.destroy();
    this.scene?.destroy();
    this.scene = undefined;
    this.readback?.destroy();
    this.context?.unconfigure();
  }
}

/** A view of `source`'s samples in `canvas`: SampleCanvas.create. */
export function attachCanvas(
  source: Trainer | { trainer: Trainer },
  canvas: CanvasTarget,
  options: SampleCanvasOptions = {},
): Promise<SampleCanvas> {
  return SampleCanvas.create(source, canvas, options);
}

/**
 * Computes and draws several views of one device: one compute pass, one render pass each, one
 * submission. Throws when recording or submitting fails; the promise is the 'readback' views'
 * pixels being shown (resolved at once for 'webgpu' views), and rejects when reading them fails.
 */
export function drawCanvases(views: SampleCanvas[]): Promise<void> {
  if (views.length === 0) return Promise.resolve();
  const { device } = views[0].rt;
  const encoder = device.createCommandEncoder({ label: 'canvas.frame' });
  const pass = encoder.beginComputePass({ label: 'canvas.frame' });
  for (const view of views) view.recordCompute(pass);
  pass.end();
  for (const view of views) view.recordDraw(encoder);
  device.queue.submit([encoder.finish()]);
  return Promise.all(views.map((view) => view.presentFrame())).then(() => undefined);
}
