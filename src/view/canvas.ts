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
// set; a frame records one compute pass and one render pass and submits once.
//
// Where the browser cannot show a WebGPU canvas (headless Chromium started with --enable-unsafe-webgpu
// alone, SwiftShader without --enable-features=Vulkan: the first frame presented destroys the device,
// and every later call answers "A valid external Instance reference no longer exists."), a view is
// made with present: 'readback' instead: the same render pass draws into an offscreen texture, which
// is copied out after the frame's submission and put into a 2-D canvas. That is one readback per
// frame, at the page's draw cadence (never per training step), and a frame whose previous readback
// is still in flight is skipped. probeCanvasPresentation tells which a browser needs.
import type { Runtime } from '../gpu/runtime';
import { gridPixels, ImageGrid, PlaneRenderer, renderPixels, type GridShape, type PlaneLayer } from './render';
import { GpuPass, type GpuNetwork } from '../nn/mlp';
import { imageShape, isConditional, type TrainConfig } from '../spec/config';
import { GENERATOR_DROPOUT_STREAM } from '../spec/keys';
import type { Trainer } from '../train/trainer';

/** A canvas element, or an OffscreenCanvas (in a worker). */
export type CanvasTarget = HTMLCanvasElement | OffscreenCanvas;

/**
 * How a view reaches the screen: 'webgpu' renders into the canvas's WebGPU context; 'readback'
 * renders into an offscreen texture and puts its pixels into the canvas's 2-D context after each
 * frame (for browsers whose WebGPU canvases fail: probeCanvasPresentation).
 */
export type CanvasPresent = 'webgpu' | 'readback';

/** What a view draws: see SampleCanvasOptions.show. */
export type SampleView = 'fixed' | 'latest' | 'interpolation' | 'class-interpolation';

export interface SampleCanvasOptions {
  /**
   * What is drawn: G on the trainer's fixed noise ('fixed', the default; a conditional model draws
   * each sample's class, Trainer.setSampleClasses), the last G step's minibatch ('latest'), G along a
   * straight line in z space ('interpolation', image data only: the paper's Figure 3; a conditional
   * model holds the class of `setClass`), or a conditional G at one fixed z along a straight line
   * between two classes' one-hots ('class-interpolation': Trainer.setClassInterpolation, chosen
   * with `setClasses`).
   */
  show?: SampleView;
  /**
   * Images: at most this many (default 100; the interpolation draws `steps`), `columns` a row
   * (default 10), each pixel `zoom` x `zoom` (default 2). 2-D data: generated points drawn (default 1000).
   */
  count?: number;
  columns?: number;
  zoom?: number;
  /** Points on an interpolation's segment, both ends included (default 12). */
  steps?: number;
  /** 2-D data: the square [lo, hi]^2 shown (default [-3, 3]), `pixels` across (default 480). */
  plane?: { lo?: number; hi?: number; pixels?: number };
  /** The canvas's texture format (default: the browser's preferred format; 'readback' views draw rgba8unorm). */
  format?: GPUTextureFormat;
  /**
   * 'webgpu' (the default) or 'readback': see CanvasPresent. A canvas that has had one kind of
   * context cannot get the other: a view of the other kind needs a fresh canvas.
   */
  present?: CanvasPresent;
  label?: string;
}

/** Image data's picture (its shape and how its values are shown); undefined for the toys' points. */
function imageLook(config: TrainConfig): Pick<GridShape, 'channels' | 'width' | 'height' | 'display'> | undefined {
  const image = imageShape(config);
  if (!image) return undefined;
  // Contrast-normalised data is scaled per image, as the sample PNGs show it (src/io/images.ts).
  return { channels: image.channels, width: image.width, height: image.height, display: config.data === 'cifar10' ? 'contrast' : 'clip' };
}

function imageSize(trainer: Trainer) {
  return imageLook(trainer.config);
}

function preferredFormat(): GPUTextureFormat {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  return gpu?.getPreferredCanvasFormat() ?? 'bgra8unorm';
}

/** One noise vector from the config's noise distribution (the view's own draws: not the run's RNG). */
function drawNoise(noise: Trainer['config']['noise']): Float32Array {
  const { dim, distribution, low, high, std } = noise;
  return Float32Array.from({ length: dim }, () => {
    if (distribution === 'uniform') return low + (high - low) * Math.random();
    const u = 1 - Math.random();
    return std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
  });
}

/**
 * The paper's Figure 3: G along a straight line in z space, `steps` points from one random z to
 * another. The z rows are written when new endpoints are drawn; G's pass is built once per network
 * the trainer can show and recorded with each frame.
 */
export class Interpolation {
  private readonly z: GPUBuffer;
  /** A conditional G's class of every point (one class for the whole segment). */
  private readonly labels?: GPUBuffer;
  private readonly passes = new Map<GpuNetwork, { pass: GpuPass; dispatches: { record(pass: GPUComputePassEncoder): void }[] }>();

  private constructor(private readonly trainer: Trainer, readonly steps: number) {
    this.z = trainer.rt.createBuffer('interpolation.z', steps * trainer.config.noise.dim * 4);
    if (isConditional(trainer.config)) this.labels = trainer.rt.createBuffer('interpolation.labels', steps * 4);
  }

  static async create(trainer: Trainer, steps: number, classIndex = 0): Promise<Interpolation> {
    const interpolation = new Interpolation(trainer, steps);
    for (const network of [trainer.generator, trainer.generatorAverage]) {
      if (!network) continue;
      const rng = { seed: trainer.config.seed, sub: 0, streamBase: GENERATOR_DROPOUT_STREAM, dropout: false };
      const pass = GpuPass.create(network, trainer.clock, steps, interpolation.z, rng, `interpolation.${network.spec.name}`, interpolation.labels);
      interpolation.passes.set(network, { pass, dispatches: await pass.forward() });
    }
    interpolation.newEndpoints();
    if (interpolation.labels) interpolation.setClass(classIndex);
    return interpolation;
  }

  /** A conditional model's class along the segment (drawn at the next frame); ignored by an unconditional one. */
  setClass(classIndex: number): void {
    if (!this.labels) return;
    const classes = this.trainer.config.classes;
    if (!Number.isInteger(classIndex) || classIndex < 0 || classIndex >= classes) throw new RangeError(`interpolation: class ${classIndex} is not an integer in [0, ${classes})`);
    this.trainer.rt.device.queue.writeBuffer(this.labels, 0, new Uint32Array(this.steps).fill(classIndex));
  }

  private get shown() {
    return this.passes.get(this.trainer.shownNetwork)!;
  }

  /** The images along the segment, from the generator the trainer shows. */
  get output(): GPUBuffer {
    return this.shown.pass.output;
  }

  /** Two new random endpoints (drawn at the next frame). */
  newEndpoints(): void {
    const { noise } = this.trainer.config;
    const [from, to] = [drawNoise(noise), drawNoise(noise)];
    const rows = new Float32Array(this.steps * noise.dim);
    for (let s = 0; s < this.steps; s++) {
      const t = this.steps === 1 ? 0 : s / (this.steps - 1);
      for (let j = 0; j < noise.dim; j++) rows[s * noise.dim + j] = (1 - t) * from[j] + t * to[j];
    }
    this.trainer.rt.device.queue.writeBuffer(this.z, 0, rows);
  }

  record(pass: GPUComputePassEncoder): void {
    for (const d of this.shown.dispatches) d.record(pass);
  }

  destroy(): void {
    this.z.destroy();
    this.labels?.destroy();
    for (const { pass } of this.passes.values()) pass.destroy();
  }
}

const HEATMAP_GRID = 48;
const MESH_GRID = 16;
const SHOWN_POINTS = 1000;

/** The plane's passes and layers for one trainer: D over a grid of the plane, G's mesh per network. */
interface PlaneModel {
  dispatches: { record(pass: GPUComputePassEncoder): void }[];
  heatmap: PlaneLayer;
  real: PlaneLayer;
  /** Per network the trainer can show: its mesh's dispatches and layer. */
  meshes: Map<GpuNetwork, { dispatches: { record(pass: GPUComputePassEncoder): void }[]; layer: PlaneLayer }>;
  /** Generated points, per sample buffer (G's and the average's fixed-noise output, or the latest batches). */
  points: Map<GPUBuffer, PlaneLayer>;
  owned: { destroy(): void }[];
  bounds: { lo: number; hi: number; width: number; height: number };
  /** Reused by every frame. */
  layers: PlaneLayer[];
}

/** A readback view's offscreen target and the buffer its pixels are copied into, sized to the canvas. */
interface ReadbackFrame {
  texture: GPUTexture;
  view: GPUTextureView;
  buffer: GPUBuffer;
  bytesPerRow: number;
  width: number;
  height: number;
}

/**
 * Whether this browser shows WebGPU canvases: a throwaway device clears a detached canvas once and
 * waits for the queue. Headless Chromium with --enable-unsafe-webgpu alone (SwiftShader without
 * Vulkan compositing) destroys the device at that first presented frame; pages then draw with
 * present: 'readback'. Call it before requesting the device that trains: a probe's lost device
 * leaves later devices working. Resolves to 'readback' also where there is no DOM canvas.
 */
export async function probeCanvasPresentation(gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu): Promise<{ present: CanvasPresent; reason?: string }> {
  if (!gpu) return { present: 'readback', reason: 'no navigator.gpu' };
  if (typeof document === 'undefined') return { present: 'readback', reason: 'no document' };
  let device: GPUDevice | undefined;
  let lost: GPUDeviceLostInfo | undefined;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { present: 'readback', reason: 'no adapter for the probe' };
    device = await adapter.requestDevice({ label: 'canvas.probe' });
    void device.lost.then((info) => void (lost = info));
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 4;
    const context = canvas.getContext('webgpu') as GPUCanvasContext | null;
    if (!context) return { present: 'readback', reason: 'the canvas gives no WebGPU context' };
    context.configure({ device, format: gpu.getPreferredCanvasFormat(), alphaMode: 'opaque' });
    const encoder = device.createCommandEncoder({ label: 'canvas.probe' });
    encoder.beginRenderPass({ colorAttachments: [{ view: context.getCurrentTexture().createView(), loadOp: 'clear', storeOp: 'store', clearValue: [0, 0, 0, 1] }] }).end();
    device.queue.submit([encoder.finish()]);
    await Promise.race([device.queue.onSubmittedWorkDone(), device.lost, new Promise((resolve) => setTimeout(resolve, 3000))]);
    // The loss may arrive a moment after the queue answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    context.unconfigure();
    if (lost) return { present: 'readback', reason: `a WebGPU canvas frame lost the device (${lost.reason}: ${lost.message})` };
    return { present: 'webgpu' };
  } catch (err) {
    return { present: 'readback', reason: `a WebGPU canvas frame failed (${(err as Error).message})` };
  } finally {
    if (!lost) device?.destroy();
  }
}

export class SampleCanvas {
  private size: { width: number; height: number };
  private current!: Trainer;
  private grid?: ImageGrid;
  private plane?: PlaneRenderer;
  private planeModel?: PlaneModel;
  private snapshotGrid?: ImageGrid;
  private snapshotPlane?: PlaneRenderer;
  private interpolation?: Interpolation;
  /** The interpolation's class (conditional models), kept for the next trainer. */
  private segmentClass = 0;
  /** The class interpolation's ends and the fixed-noise sample whose z it holds, kept for the next trainer. */
  private classPair = { from: 0, to: 1, sample: 0 };
  private readonly show: SampleView;
  private readonly label: string;
  /** 'readback' views: the offscreen target, whether this frame copied into it, whether a copy is being read. */
  private frame?: ReadbackFrame;
  private recorded = false;
  private reading = false;

  private constructor(
    readonly rt: Runtime,
    readonly canvas: CanvasTarget,
    /** The canvas's WebGPU context ('webgpu' views) or 2-D context ('readback' views). */
    readonly context: GPUCanvasContext | undefined,
    private readonly context2d: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | undefined,
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
  static async create(source: Trainer | { trainer: Trainer }, canvas: CanvasTarget, options: SampleCanvasOptions = {}): Promise<SampleCanvas> {
    const trainer = 'trainer' in source ? source.trainer : source;
    const size = SampleCanvas.pixels(trainer, options);
    canvas.width = size.width;
    canvas.height = size.height;
    let view: SampleCanvas;
    if (options.present === 'readback') {
      const context2d = canvas.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
      if (!context2d) throw new Error('This canvas gives no 2-D context (it may already have a WebGPU or WebGL one): a readback view needs a fresh canvas.');
      view = new SampleCanvas(trainer.rt, canvas, undefined, context2d, 'rgba8unorm', options, size);
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

  /** The canvas size that shows the view whole. */
  private static pixels(trainer: Trainer, options: SampleCanvasOptions): { width: number; height: number } {
    if (imageSize(trainer)) return gridPixels(SampleCanvas.shapeFor(trainer, options, true));
    if (trainer.config.data === 'toy-1d') throw new Error('1-D data has no canvas view: draw SampleBatch.samples and .discriminatorCurve as curves.');
    if (options.show === 'interpolation' || options.show === 'class-interpolation') throw new Error(`The ${options.show} view draws images: this run generates 2-D points.`);
    const pixels = options.plane?.pixels ?? 480;
    return { width: pixels, height: pixels };
  }

  /** The grid drawn: `whole` gives the largest (the canvas's size), otherwise what the trainer has now. */
  private static shapeFor(trainer: Trainer, options: SampleCanvasOptions, whole = false): GridShape {
    const image = imageSize(trainer)!;
    const zoom = options.zoom ?? 2;
    if (options.show === 'interpolation' || options.show === 'class-interpolation') {
      const steps = options.steps ?? 12;
      return { columns: options.columns ?? steps, count: steps, zoom, ...image };
    }
    const most = options.count ?? 100;
    const available = options.show === 'latest' ? trainer.config.batch : trainer.options.sampleCount;
    return { columns: options.columns ?? 10, count: whole ? most : Math.min(most, available), zoom, ...image };
  }

  get trainer(): Trainer {
    return this.current;
  }

  /**
   * Shows another trainer on the same device (a new model, or the same one with other settings):
   * rebuilds what the frames use. The caller destroys the old trainer afterwards.
   */
  async setTrainer(trainer: Trainer): Promise<void> {
    if (trainer.rt.device !== this.rt.device) throw new Error('The new trainer is on another device: make a new SampleCanvas for it.');
    if ((this.grid && !imageSize(trainer)) || (this.plane && imageSize(trainer))) throw new Error(`This canvas shows ${this.grid ? 'images' : '2-D points'}; the new trainer's data (${trainer.config.data}) needs a SampleCanvas of its own.`);
    if (imageSize(trainer)) {
      const shape = SampleCanvas.shapeFor(trainer, this.options);
      if (this.show === 'class-interpolation') {
        if (!isConditional(trainer.config)) throw new Error(`The class-interpolation view needs a conditional model; preset ${trainer.config.preset} has no classes (config field 'classes' is 0).`);
        const { from, to, sample } = this.classPair;
        const last = trainer.config.classes - 1;
        await trainer.setClassInterpolation(Math.min(from, last), Math.min(to, last), { steps: shape.count, sample });
      }
      const interpolation = this.show === 'interpolation' ? await Interpolation.create(trainer, shape.count, isConditional(trainer.config) ? Math.min(this.segmentClass, trainer.config.classes - 1) : 0) : undefined;
      this.grid ??= await ImageGrid.create(this.rt, this.format, shape, `render.${this.label}`);
      this.grid.forgetBuffers();
      this.grid.setShape(shape);
      this.snapshotGrid?.forgetBuffers();
      this.interpolation?.destroy();
      this.interpolation = interpolation;
      this.current = trainer;
      this.resize(SampleCanvas.pixels(trainer, this.options));
      this.grid.prepare(this.images);
    } else {
      SampleCanvas.pixels(trainer, this.options);
      this.plane ??= await PlaneRenderer.create(this.rt, this.format);
      const model = await this.buildPlane(trainer, this.plane);
      this.destroyPlane();
      this.planeModel = model;
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

  private async buildPlane(trainer: Trainer, plane: PlaneRenderer): Promise<PlaneModel> {
    const { rt, clock, config } = trainer;
    const lo = this.options.plane?.lo ?? -3;
    const hi = this.options.plane?.hi ?? 3;
    const bounds = { lo, hi, width: this.width, height: this.height };
    const cells = new Float32Array(HEATMAP_GRID * HEATMAP_GRID * 2);
    for (let j = 0; j < HEATMAP_GRID; j++) for (let i = 0; i < HEATMAP_GRID; i++) cells.set([lo + ((i + 0.5) * (hi - lo)) / HEATMAP_GRID, lo + ((j + 0.5) * (hi - lo)) / HEATMAP_GRID], 2 * (j * HEATMAP_GRID + i));
    const noise = new Float32Array(MESH_GRID * MESH_GRID * config.noise.dim);
    // G's image of a square of noise: the first two noise dimensions on a grid over [-2, 2], any others 0.
    for (let r = 0; r < MESH_GRID; r++) for (let c = 0; c < MESH_GRID; c++) noise.set([-2 + (4 * c) / (MESH_GRID - 1), -2 + (4 * r) / (MESH_GRID - 1)], config.noise.dim * (r * MESH_GRID + c));
    const cellBuffer = rt.upload('canvas.heatmap.x', cells);
    const noiseBuffer = rt.upload('canvas.mesh.z', noise);
    const rng = { seed: config.seed, sub: 0, streamBase: 0, dropout: false };
    const dPass = GpuPass.create(trainer.discriminator, clock, HEATMAP_GRID * HEATMAP_GRID, cellBuffer, rng, 'canvas.heatmap.d');
    const heatmap = plane.layer('heatmap', dPass.output, HEATMAP_GRID, bounds);
    // The data's first rows, straight from the dataset on the GPU.
    const real = plane.layer('points', trainer.dataset.buffer, Math.min(SHOWN_POINTS, trainer.dataset.count), bounds, { color: [0.12, 0.43, 0.78, 0.7], size: 3 });
    const owned: { destroy(): void }[] = [cellBuffer, noiseBuffer, dPass, heatmap.uniform, real.uniform];
    const meshes: PlaneModel['meshes'] = new Map();
    for (const network of [trainer.generator, trainer.generatorAverage]) {
      if (!network) continue;
      const gPass = GpuPass.create(network, clock, MESH_GRID * MESH_GRID, noiseBuffer, rng, `canvas.mesh.${network.spec.name}`);
      const layer = plane.layer('manifold', gPass.output, MESH_GRID, bounds, { color: [0.35, 0.35, 0.35, 0.6] });
      meshes.set(network, { dispatches: await gPass.forward(), layer });
      owned.push(gPass, layer.uniform);
    }
    const model: PlaneModel = { dispatches: await dPass.forward(), heatmap, real, meshes, points: new Map(), owned, bounds, layers: [] };
    this.pointsLayer(model, trainer, plane);
    return model;
  }

  /** The generated points' layer of the buffer shown now, made the first time that buffer is shown. */
  private pointsLayer(model: PlaneModel, trainer: Trainer, plane: PlaneRenderer): PlaneLayer {
    const buffer = this.show === 'latest' ? trainer.latestSamples : trainer.fixedNoiseSamples;
    let layer = model.points.get(buffer);
    if (!layer) {
      const available = this.show === 'latest' ? trainer.config.batch : trainer.options.sampleCount;
      layer = plane.layer('points', buffer, Math.min(this.options.count ?? SHOWN_POINTS, available), model.bounds, { color: [0.86, 0.35, 0.12, 0.8], size: 3 });
      model.points.set(buffer, layer);
      model.owned.push(layer.uniform);
    }
    return layer;
  }

  private destroyPlane(): void {
    for (const o of this.planeModel?.owned ?? []) o.destroy();
    this.planeModel = undefined;
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
    if (this.show !== 'class-interpolation') throw new Error(`setClasses: this view shows '${this.show}', not 'class-interpolation'.`);
    await this.current.setClassInterpolation(from, to, { steps: SampleCanvas.shapeFor(this.current, this.options).count, sample });
    this.classPair = { from, to, sample };
    this.grid!.prepare(this.images);
  }

  /** Records what the frame computes (G on the fixed noise or a segment, D over the plane, G's mesh). */
  recordCompute(pass: GPUComputePassEncoder): void {
    if (this.show === 'fixed') this.current.recordSampling(pass);
    if (this.show === 'class-interpolation') this.current.recordClassInterpolation(pass);
    this.interpolation?.record(pass);
    if (this.planeModel) {
      for (const d of this.planeModel.dispatches) d.record(pass);
      for (const d of this.planeModel.meshes.get(this.current.shownNetwork)!.dispatches) d.record(pass);
    }
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
    if (this.reading) return;
    const frame = this.readbackFrame();
    this.render(encoder, frame.view);
    encoder.copyTextureToBuffer({ texture: frame.texture }, { buffer: frame.buffer, bytesPerRow: frame.bytesPerRow }, [frame.width, frame.height]);
    this.recorded = true;
  }

  private render(encoder: GPUCommandEncoder, view: GPUTextureView): void {
    if (this.grid) this.grid.draw(encoder, view, this.images);
    else this.plane!.draw(encoder, view, this.frameLayers(this.plane!));
  }

  /** The readback target at the canvas's size, made again when the size changes. */
  private readbackFrame(): ReadbackFrame {
    const { width, height } = this.size;
    if (this.frame && this.frame.width === width && this.frame.height === height) return this.frame;
    this.destroyFrame();
    const { device } = this.rt;
    const texture = device.createTexture({ label: `${this.label}.readback`, size: [width, height], format: 'rgba8unorm', usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC });
    const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
    const buffer = device.createBuffer({ label: `${this.label}.readback`, size: bytesPerRow * height, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    this.frame = { texture, view: texture.createView(), buffer, bytesPerRow, width, height };
    return this.frame;
  }

  private destroyFrame(): void {
    this.frame?.texture.destroy();
    this.frame?.buffer.destroy();
    this.frame = undefined;
  }

  /**
   * After the frame's submission: a 'readback' view reads the frame it recorded and puts it into
   * its 2-D canvas (resolves when shown; rejects when the GPU fails). Nothing to do for a 'webgpu'
   * view, or when no frame was recorded.
   */
  async presentFrame(): Promise<void> {
    if (!this.recorded || !this.frame) return;
    this.recorded = false;
    this.reading = true;
    const frame = this.frame;
    try {
      await frame.buffer.mapAsync(GPUMapMode.READ);
    } catch (err) {
      this.reading = false;
      // The view was resized or destroyed while the frame was read: nothing to show, nothing failed.
      if (frame !== this.frame) return;
      throw err;
    }
    try {
      const rows = new Uint8Array(frame.buffer.getMappedRange());
      const image = new ImageData(frame.width, frame.height);
      const pixels = image.data;
      const rowBytes = frame.width * 4;
      for (let y = 0; y < frame.height; y++) pixels.set(rows.subarray(y * frame.bytesPerRow, y * frame.bytesPerRow + rowBytes), y * rowBytes);
      // Opaque, as the WebGPU canvases are configured (alphaMode 'opaque').
      for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
      frame.buffer.unmap();
      this.context2d!.putImageData(image, 0, 0);
    } finally {
      this.reading = false;
    }
  }

  private frameLayers(plane: PlaneRenderer): PlaneLayer[] {
    const model = this.planeModel!;
    const layers = model.layers;
    layers.length = 0;
    layers.push(model.heatmap, model.meshes.get(this.current.shownNetwork)!.layer, model.real, this.pointsLayer(model, this.current, plane));
    return layers;
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
      const shape = SampleCanvas.shapeFor(this.current, this.options);
      const { width, height } = gridPixels(shape);
      this.snapshotGrid ??= await ImageGrid.create(this.rt, 'rgba8unorm', shape, `render.${this.label}.snapshot`);
      this.snapshotGrid.setShape(shape);
      const images = this.images;
      return { width, height, pixels: await renderPixels(this.rt, width, height, (encoder, target) => this.snapshotGrid!.draw(encoder, target, images)) };
    }
    this.snapshotPlane ??= await PlaneRenderer.create(this.rt, 'rgba8unorm');
    const layers = [...this.frameLayers(this.plane!)];
    return { width: this.width, height: this.height, pixels: await renderPixels(this.rt, this.width, this.height, (encoder, target) => this.snapshotPlane!.draw(encoder, target, layers)) };
  }

  /** Frees the view's buffers (not the trainer's) and unconfigures the canvas. */
  destroy(): void {
    this.grid?.destroy();
    this.snapshotGrid?.destroy();
    this.interpolation?.destroy();
    this.destroyPlane();
    // A frame being read is abandoned: its map fails, and presentFrame ignores a frame no longer its own.
    this.destroyFrame();
    this.context?.unconfigure();
  }
}

/** A view of `source`'s samples in `canvas`: SampleCanvas.create. */
export function attachCanvas(source: Trainer | { trainer: Trainer }, canvas: CanvasTarget, options: SampleCanvasOptions = {}): Promise<SampleCanvas> {
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
