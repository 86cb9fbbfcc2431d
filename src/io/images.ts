// Pictures of a run, as PNG (pngjs encodes): a grid of generated images (grey or colour), a scatter
// of 2-D points, and the paper's Figure 1 view for 1-D data (histograms of data and samples, and D
// along x).
import { PNG } from 'pngjs';

type Rgb = [number, number, number];

class Canvas {
  readonly png: PNG;
  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb = [255, 255, 255],
  ) {
    this.png = new PNG({ width, height });
    for (let i = 0; i < width * height; i++) this.png.data.set([...background, 255], i * 4);
  }

  set(x: number, y: number, color: Rgb, alpha = 1): void {
    const px = Math.round(x);
    const py = Math.round(y);
    if (px < 0 || py < 0 || px >= this.width || py >= this.height) return;
    const i = (py * this.width + px) * 4;
    for (let c = 0; c < 3; c++)
      this.png.data[i + c] = Math.round(this.png.data[i + c] * (1 - alpha) + color[c] * alpha);
  }

  dot(x: number, y: number, color: Rgb, radius = 1.5, alpha = 0.6): void {
    for (let dy = -Math.ceil(radius); dy <= Math.ceil(radius); dy++) {
      for (let dx = -Math.ceil(radius); dx <= Math.ceil(radius); dx++) {
        if (dx * dx + dy * dy <= radius * radius) this.set(x + dx, y + dy, color, alpha);
      }
    }
  }

  line(x0: number, y0: number, x1: number, y1: number, color: Rgb): void {
    const steps = Math.max(1, Math.ceil(Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0))));
    for (let s = 0; s <= steps; s++) this.set(x0 + ((x1 - x0) * s) / steps, y0 + ((y1 - y0) * s) / steps, color);
  }

  /** colorType 6 (RGBA, the default), 2 (RGB) or 0 (grey, for pictures whose every pixel is grey). */
  encode(colorType: 0 | 2 | 6 = 6): Uint8Array {
    return PNG.sync.write(this.png, colorType === 6 ? {} : { colorType, inputHasAlpha: true });
  }
}

/** How images are laid out and shown: planar channels (1 grey, 3 colour) and the map of their values to [0, 1]. */
export interface ImageLook {
  /** Planes per image, value (c, y, x) at (c * rows + y) * cols + x; 1 (grey, the default) or 3 (RGB). */
  channels?: number;
  /**
   * 'clip' (the default): values in [0, 1], clipped. 'contrast': contrast-normalised images (CIFAR-10),
   * each divided by its own largest absolute value and mapped from [-1, 1] to [0, 1], so an image's
   * mean is mid-grey and its most extreme value black or white (pylearn2's CIFAR10.adjust_for_viewer
   * for gcn data, which the authors' sample figures used).
   */
  display?: 'clip' | 'contrast';
}

/** Draws image `index` of `images` at (ox, oy), zoomed: planar to interleaved, through the look's value map. */
function drawImage(
  canvas: Canvas,
  images: Float32Array,
  index: number,
  rows: number,
  cols: number,
  zoom: number,
  ox: number,
  oy: number,
  look: ImageLook,
): void {
  const channels = look.channels ?? 1;
  const size = rows * cols;
  const base = index * channels * size;
  let scale = 1;
  let shift = 0;
  if (look.display === 'contrast') {
    let largest = 0;
    for (let i = 0; i < channels * size; i++) largest = Math.max(largest, Math.abs(images[base + i]));
    scale = largest > 0 ? 0.5 / largest : 0;
    shift = 0.5;
  }
  const byte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, v * scale + shift)));
  for (let y = 0; y < rows * zoom; y++) {
    for (let x = 0; x < cols * zoom; x++) {
      const at = base + Math.floor(y / zoom) * cols + Math.floor(x / zoom);
      const first = byte(images[at]);
      canvas.set(
        ox + x,
        oy + y,
        channels === 3 ? [first, byte(images[at + size]), byte(images[at + 2 * size])] : [first, first, first],
      );
    }
  }
}

/**
 * A grid of images (planar, `look.channels` planes of rows x cols), `columns` per row, 1-pixel gaps,
 * scaled up by `zoom`. A grey PNG for grey images, RGB for colour.
 */
export function imageGridPng(
  images: Float32Array,
  count: number,
  rows: number,
  cols: number,
  columns: number,
  zoom = 2,
  look: ImageLook = {},
): Uint8Array {
  const gridRows = Math.ceil(count / columns);
  const cell = (n: number) => n * zoom + 1;
  const canvas = new Canvas(columns * cell(cols) + 1, gridRows * cell(rows) + 1, [40, 40, 40]);
  for (let i = 0; i < count; i++)
    drawImage(
      canvas,
      images,
      i,
      rows,
      cols,
      zoom,
      (i % columns) * cell(cols) + 1,
      Math.floor(i / columns) * cell(rows) + 1,
      look,
    );
  return canvas.encode((look.channels ?? 1) === 3 ? 2 : 0);
}

const DATA_COLOR: Rgb = [30, 110, 200];
const SAMPLE_COLOR: Rgb = [220, 90, 30];
const D_COLOR: Rgb = [40, 150, 60];

/** Real points (blue) and generated points (orange) on [lo, hi]^2. */
export function scatterPng(
  real: ArrayLike<number>,
  generated: ArrayLike<number>,
  bounds: [number, number],
  size = 480,
): Uint8Array {
  const canvas = new Canvas(size, size);
  const [lo, hi] = bounds;
  const toPixel = (v: number) => ((v - lo) / (hi - lo)) * (size - 1);
  for (let t = Math.ceil(lo); t <= Math.floor(hi); t++) {
    canvas.line(toPixel(t), 0, toPixel(t), size - 1, [235, 235, 235]);
    canvas.line(0, toPixel(t), size - 1, toPixel(t), [235, 235, 235]);
  }
  for (const [points, color] of [
    [real, DATA_COLOR],
    [generated, SAMPLE_COLOR],
  ] as const) {
    for (let i = 0; i + 1 < points.length; i += 2)
      canvas.dot(toPixel(points[i]), size - 1 - toPixel(points[i + 1]), color);
  }
  return canvas.encode();
}

/**
 * The paper's Figure 1 for 1-D data: the data's density (blue), the generator's (orange), both as
 * histograms on [lo, hi], and the discriminator's output D(x) (green, 0 at the bottom, 1 at the top).
 */
export function densityPng(
  real: ArrayLike<number>,
  generated: ArrayLike<number>,
  bounds: [number, number],
  discriminator?: ArrayLike<number>,
  width = 640,
  height = 320,
): Uint8Array {
  const canvas = new Canvas(width, height);
  const [lo, hi] = bounds;
  const bins = 80;
  const histogram = (points: ArrayLike<number>) => {
    const h = new Float64Array(bins);
    for (let i = 0; i < points.length; i++) {
      const b = Math.floor(((points[i] - lo) / (hi - lo)) * bins);
      if (b >= 0 && b < bins) h[b] += 1 / points.length;
    }
    return h;
  };
  const hReal = histogram(real);
  const hGen = histogram(generated);
  const top = Math.max(...hReal, ...hGen, 1e-9) * 1.1;
  const y = (v: number) => height - 1 - v * (height - 1);
  for (const [h, color] of [
    [hReal, DATA_COLOR],
    [hGen, SAMPLE_COLOR],
  ] as const) {
    for (let b = 1; b < bins; b++) {
      canvas.line(((b - 0.5) / bins) * width, y(h[b - 1] / top), ((b + 0.5) / bins) * width, y(h[b] / top), color);
    }
  }
  if (discriminator && discriminator.length > 1) {
    const n = discriminator.length;
    for (let i = 1; i < n; i++)
      canvas.line(
        ((i - 1) / (n - 1)) * width,
        y(discriminator[i - 1]),
        (i / (n - 1)) * width,
        y(discriminator[i]),
        D_COLOR,
      );
    canvas.line(0, y(0.5), width - 1, y(0.5), [200, 200, 200]);
  }
  return canvas.encode();
}

/**
 * The paper's Figure 2 layout: each row holds `perRow` generated images (samples, row after row) and,
 * past a wider gap with an orange rule, the training image nearest to the row's last sample
 * (nearest, one per row). Values in [0, 1], or as `look` says.
 */
export function neighbourGridPng(
  samples: Float32Array,
  nearest: Float32Array,
  rowCount: number,
  perRow: number,
  rows: number,
  cols: number,
  zoom = 2,
  look: ImageLook = {},
): Uint8Array {
  const cellWidth = cols * zoom + 1;
  const cellHeight = rows * zoom + 1;
  const gap = 6;
  const canvas = new Canvas(perRow * cellWidth + gap + cellWidth + 1, rowCount * cellHeight + 1, [40, 40, 40]);
  const draw = (images: Float32Array, index: number, ox: number, oy: number) =>
    drawImage(canvas, images, index, rows, cols, zoom, ox, oy, look);
  const ruleX = perRow * cellWidth + Math.floor(gap / 2);
  canvas.line(ruleX, 0, ruleX, canvas.height - 1, SAMPLE_COLOR);
  for (let r = 0; r < rowCount; r++) {
    const oy = r * cellHeight + 1;
    for (let c = 0; c < perRow; c++) draw(samples, r * perRow + c, c * cellWidth + 1, oy);
    draw(nearest, r, perRow * cellWidth + gap + 1, oy);
  }
  return canvas.encode(2);
}
