// What the inference and completion views share: the model they work on (the G the page shows, its
// test images), and an image on a 2-D canvas that the mouse draws on or erases. These views read
// their images back to the CPU (one image at a time, never per training step), so a plain 2-D
// canvas shows them, and their snapshots are the very values drawn.
import { generatorModel, type CanvasPresent, type GeneratorModel, type ImageDataset, type Trainer } from '../src/index';

/** What a view asks of the training page. */
export interface ModelHost {
  readonly trainer: Trainer;
  readonly present: CanvasPresent;
  /** The images the model trains on (its test split is where the views take x from). */
  readonly images: ImageDataset | undefined;
  /** Runs `action` between training windows, never during one. */
  exclusive<T>(action: () => Promise<T>): Promise<T>;
  /** One line in the page's error box (none: clears it). */
  report(err?: unknown): void;
}

export interface ImageShape {
  channels: number;
  height: number;
  width: number;
}

/** Why E and the completion cannot take this model, or undefined when they can (the command line refuses the same). */
export function unsupportedReason(trainer: Trainer): string | undefined {
  const { config } = trainer;
  if (config.classes > 0)
    return `${config.preset} is a conditional GAN: E and the completion fit z alone, so they take unconditional models only.`;
  return undefined;
}

/** The G the page's views show (its moving average unless raw G is ticked), read between windows. */
export async function shownGenerator(host: ModelHost): Promise<GeneratorModel> {
  return host.exclusive(async () => {
    const { trainer } = host;
    const state = await trainer.readState();
    const params =
      trainer.shown === 'raw' ? state.generator.params : (state.generator.average ?? state.generator.params);
    return generatorModel(trainer.config, params);
  });
}

/** Image `index` of the test split (the training split when there is no test split) as floats in [0, 1], and its shape. */
export function testImage(
  images: ImageDataset,
  index: number,
): { values: Float32Array; shape: ImageShape; index: number } {
  const split = images.test.count > 0 ? images.test : images.train;
  const features = images.channels * images.height * images.width;
  const at = ((index % split.count) + split.count) % split.count;
  const values = Float32Array.from(split.pixels.subarray(at * features, (at + 1) * features), (v) => v / 255);
  return { values, shape: { channels: images.channels, height: images.height, width: images.width }, index: at };
}

/** A number of test images to pick one of at random. */
export function testCount(images: ImageDataset): number {
  return images.test.count > 0 ? images.test.count : images.train.count;
}

/** Draws planar values in [0, 1] zoomed; where `mask` is 0 the pixel shows as erased (dark red). */
export function paintImage(
  canvas: HTMLCanvasElement,
  values: ArrayLike<number>,
  shape: ImageShape,
  zoom: number,
  mask?: ArrayLike<number>,
): void {
  const { channels, height, width } = shape;
  canvas.width = width * zoom;
  canvas.height = height * zoom;
  const context = canvas.getContext('2d')!;
  const pixels = context.createImageData(width, height);
  const plane = height * width;
  for (let p = 0; p < plane; p++) {
    const erased = mask && mask[p] === 0;
    for (let c = 0; c < 3; c++) {
      const v = values[(channels === 1 ? 0 : c) * plane + p];
      pixels.data[p * 4 + c] = erased ? (c === 0 ? 140 : 0) : Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    pixels.data[p * 4 + 3] = 255;
  }
  // Drawn at the image's size, then scaled without smoothing: the pixels stay sharp.
  const small = new OffscreenCanvas(width, height);
  small.getContext('2d')!.putImageData(pixels, 0, 0);
  context.imageSmoothingEnabled = false;
  context.drawImage(small, 0, 0, width * zoom, height * zoom);
}

/**
 * An image the mouse edits: 'draw' paints white strokes into it (a digit of one's own), 'erase'
 * hides pixels (the mask's 0s, the pixels a completion fills in). `onStroke` follows each stroke's end.
 */
export class ImagePad {
  values = new Float32Array(0);
  /** 1: known, 0: erased. The same mask for every channel. */
  mask = new Float32Array(0);
  shape: ImageShape = { channels: 1, height: 0, width: 0 };
  private stroking = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly mode: 'draw' | 'erase',
    private readonly onStroke: () => void,
    readonly zoom = 8,
  ) {
    canvas.style.cursor = 'crosshair';
    canvas.style.touchAction = 'none';
    canvas.addEventListener('pointerdown', (e) => {
      if (this.values.length === 0) return;
      this.stroking = true;
      canvas.setPointerCapture(e.pointerId);
      this.touch(e);
    });
    canvas.addEventListener('pointermove', (e) => this.stroking && this.touch(e));
    const end = () => {
      if (!this.stroking) return;
      this.stroking = false;
      this.onStroke();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  /** Shows `values`, every pixel known. */
  set(values: Float32Array, shape: ImageShape): void {
    this.values = values.slice();
    this.shape = shape;
    this.mask = new Float32Array(shape.height * shape.width).fill(1);
    this.paint();
  }

  /** Hides every pixel whose `mask` is 0 (a mask of one plane or of every channel's). */
  hide(mask: Float32Array): void {
    const plane = this.mask.length;
    for (let p = 0; p < plane; p++) if (mask[p] === 0) this.mask[p] = 0;
    this.paint();
  }

  /** The mask for every channel, as the completion takes it. */
  channelMask(): Float32Array {
    const full = new Float32Array(this.values.length);
    for (let c = 0; c < this.shape.channels; c++) full.set(this.mask, c * this.mask.length);
    return full;
  }

  paint(): void {
    paintImage(this.canvas, this.values, this.shape, this.zoom, this.mode === 'erase' ? this.mask : undefined);
  }

  /** A round brush about two pixels wide at the pointer, soft at its rim when drawing. */
  private touch(e: PointerEvent): void {
    const box = this.canvas.getBoundingClientRect();
    const { width, height, channels } = this.shape;
    const x = ((e.clientX - box.left) / box.width) * width;
    const y = ((e.clientY - box.top) / box.height) * height;
    const radius = Math.max(1.2, width / 20);
    for (let py = Math.floor(y - radius); py <= Math.ceil(y + radius); py++) {
      for (let px = Math.floor(x - radius); px <= Math.ceil(x + radius); px++) {
        if (px < 0 || py < 0 || px >= width || py >= height) continue;
        const distance = Math.hypot(px + 0.5 - x, py + 0.5 - y);
        if (distance > radius) continue;
        const p = py * width + px;
        if (this.mode === 'erase') this.mask[p] = 0;
        else
          for (let c = 0; c < channels; c++)
            this.values[c * width * height + p] = Math.max(
              this.values[c * width * height + p],
              Math.min(1, 1.5 * (1 - distance / radius)),
            );
      }
    }
    this.paint();
  }
}
