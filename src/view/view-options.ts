// What a sample view shows and how large: SampleCanvas's options (canvas.ts), the image grid's shape
// and the canvas size that follow from them and the trainer's data.
import { gridPixels, type GridShape } from './render';
import { imageShape, type TrainConfig } from '../spec/config';
import type { Trainer } from '../train/trainer';
import type { CanvasPresent } from './present';

/** A canvas element, or an OffscreenCanvas (in a worker). */
export type CanvasTarget = HTMLCanvasElement | OffscreenCanvas;

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
export function imageLook(
  config: TrainConfig,
): Pick<GridShape, 'channels' | 'width' | 'height' | 'display'> | undefined {
  const image = imageShape(config);
  if (!image) return undefined;
  // Contrast-normalised data is scaled per image, as the sample PNGs show it (src/io/images.ts).
  return {
    channels: image.channels,
    width: image.width,
    height: image.height,
    display: config.data === 'cifar10' ? 'contrast' : 'clip',
  };
}

export function preferredFormat(): GPUTextureFormat {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  return gpu?.getPreferredCanvasFormat() ?? 'bgra8unorm';
}

/** The canvas size that shows the view whole. */
export function canvasPixels(trainer: Trainer, options: SampleCanvasOptions): { width: number; height: number } {
  if (imageLook(trainer.config)) return gridPixels(gridShape(trainer, options, true));
  if (trainer.config.data === 'toy-1d')
    throw new Error('1-D data has no canvas view: draw SampleBatch.samples and .discriminatorCurve as curves.');
  if (options.show === 'interpolation' || options.show === 'class-interpolation')
    throw new Error(`The ${options.show} view draws images: this run generates 2-D points.`);
  const pixels = options.plane?.pixels ?? 480;
  return { width: pixels, height: pixels };
}

/** The grid drawn: `whole` gives the largest (the canvas's size), otherwise what the trainer has now. */
export function gridShape(trainer: Trainer, options: SampleCanvasOptions, whole = false): GridShape {
  const image = imageLook(trainer.config)!;
  const zoom = options.zoom ?? 2;
  if (options.show === 'interpolation' || options.show === 'class-interpolation') {
    const steps = options.steps ?? 12;
    return { columns: options.columns ?? steps, count: steps, zoom, ...image };
  }
  const most = options.count ?? 100;
  const available = options.show === 'latest' ? trainer.config.batch : trainer.options.sampleCount;
  return { columns: options.columns ?? 10, count: whole ? most : Math.min(most, available), zoom, ...image };
}
