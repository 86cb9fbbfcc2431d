// Render pipelines that draw GPU buffers into a texture (a page's canvas, or a test's texture) with
// no readback. ImageGrid draws shaders/render.wgsl: a grid of images (grey or colour, any size) from a
// storage buffer, laid out and coloured as src/io/images.ts imageGridPng draws the same images into a
// PNG. PlaneRenderer draws
// shaders/render.plane.wgsl: the 2-D lab's plane.
//
// Pipelines come from the runtime's cache (one per shader, entry points and target format, however
// many views draw with them). Built once per view: the uniform and the bind groups (one per images
// buffer: the trainer's sample buffers alternate between two, so the cache holds two); a draw only
// records, into a render-pass descriptor that is reused.
import type { CompiledRender, Runtime } from '../gpu/runtime';

export interface GridShape {
  columns: number;
  /** Images drawn, starting at image `first` of the buffer. */
  count: number;
  first?: number;
  width: number;
  height: number;
  zoom: number;
  /** Planes per image (planar: value (c, y, x) at (c * height + y) * width + x): 1 grey (the default) or 3 RGB. */
  channels?: number;
  /**
   * How values are shown, as imageGridPng's `look.display`: 'clip' (the default) clips to [0, 1];
   * 'contrast' (contrast-normalised data such as CIFAR-10) scales each image by its largest absolute
   * value onto [0, 1], its mean at mid-grey.
   */
  display?: 'clip' | 'contrast';
}

/** The background between cells: grey 40 of 255, as imageGridPng's. */
const BACKGROUND = 40 / 255;

function checkShape(shape: GridShape): void {
  const channels = shape.channels ?? 1;
  if (channels !== 1 && channels !== 3)
    throw new RangeError(`render.image_grid: channels must be 1 (grey) or 3 (RGB), got ${channels}`);
  for (const field of ['columns', 'count', 'width', 'height', 'zoom'] as const) {
    if (!Number.isInteger(shape[field]) || shape[field] < 1)
      throw new RangeError(`render.image_grid: ${field} must be a positive integer, got ${shape[field]}`);
  }
}

/** The target size in pixels that shows a grid whole, as imageGridPng sizes its picture. */
export function gridPixels(shape: GridShape): { width: number; height: number } {
  const rows = Math.ceil(shape.count / shape.columns);
  return {
    width: shape.columns * (shape.width * shape.zoom + 1) + 1,
    height: rows * (shape.height * shape.zoom + 1) + 1,
  };
}

export class ImageGrid {
  private readonly uniform: GPUBuffer;
  private readonly uniformData = new Uint32Array(8);
  private readonly bindGroups = new Map<GPUBuffer, GPUBindGroup>();
  private readonly paramsGroup: GPUBindGroup;
  private readonly attachment: GPURenderPassColorAttachment;
  private readonly passDescriptor: GPURenderPassDescriptor;
  /** What a draw records: the instances and the viewport (the grid's pixels), set with the shape. */
  private count = 0;
  private pixels = { width: 0, height: 0 };

  private constructor(
    private readonly rt: Runtime,
    private readonly compiled: CompiledRender,
    readonly label: string,
    shape: GridShape,
  ) {
    this.uniform = rt.device.createBuffer({
      label: `${label}.grid`,
      size: this.uniformData.byteLength,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    this.paramsGroup = rt.renderBindGroup(compiled, 1, { grid: this.uniform }, `${label}.group1`);
    this.attachment = {
      view: undefined as unknown as GPUTextureView,
      loadOp: 'clear',
      storeOp: 'store',
      clearValue: [BACKGROUND, BACKGROUND, BACKGROUND, 1],
    };
    this.passDescriptor = { label, colorAttachments: [this.attachment] };
    this.setShape(shape);
  }

  static async create(
    rt: Runtime,
    format: GPUTextureFormat,
    shape: GridShape,
    label = 'render.image_grid',
  ): Promise<ImageGrid> {
    checkShape(shape);
    const compiled = await rt.renderPipeline({
      shader: 'render',
      vertex: 'image_quad',
      fragment: 'image_grid',
      format,
      topology: 'triangle-strip',
    });
    return new ImageGrid(rt, compiled, label, shape);
  }

  /**
   * Changes what is drawn (outside the hot path: when a view's model or layout changes). Targets
   * drawn into afterwards must be at least gridPixels(shape) in size.
   */
  setShape(shape: GridShape): void {
    checkShape(shape);
    this.uniformData.set([
      shape.columns,
      shape.count,
      shape.first ?? 0,
      shape.width,
      shape.height,
      shape.zoom,
      shape.channels ?? 1,
      shape.display === 'contrast' ? 1 : 0,
    ]);
    this.rt.device.queue.writeBuffer(this.uniform, 0, this.uniformData);
    this.count = shape.count;
    this.pixels = gridPixels(shape);
  }

  private bindGroup(images: GPUBuffer): GPUBindGroup {
    let group = this.bindGroups.get(images);
    if (!group) {
      group = this.rt.renderBindGroup(this.compiled, 0, { images }, `${this.label}.group0`);
      this.bindGroups.set(images, group);
    }
    return group;
  }

  /** Makes the bind group of a buffer that will be drawn, so that the first frame makes none either. */
  prepare(images: GPUBuffer): void {
    this.bindGroup(images);
  }

  /** Forgets the bind groups of buffers that were destroyed (a new trainer has new buffers). */
  forgetBuffers(): void {
    this.bindGroups.clear();
  }

  /** Records the grid of `images` into `target` (at least gridPixels(shape) in size; beyond it, background). */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, images: GPUBuffer): void {
    this.attachment.view = target;
    const pass = encoder.beginRenderPass(this.passDescriptor);
    pass.setPipeline(this.compiled.pipeline);
    pass.setBindGroup(0, this.bindGroup(images));
    pass.setBindGroup(1, this.paramsGroup);
    pass.setViewport(0, 0, this.pixels.width, this.pixels.height, 0, 1);
    pass.draw(4, this.count);
    pass.end();
  }

  destroy(): void {
    this.uniform.destroy();
    this.bindGroups.clear();
  }
}

/**
 * Draws a grid into an offscreen rgba8unorm texture and reads it back, row-major RGBA bytes: what a
 * canvas would show, for tests and snapshots (never per frame: it allocates and waits). `reuse`, an
 * rgba8unorm ImageGrid, saves building the pipeline again.
 */
export async function renderGridPixels(
  rt: Runtime,
  shape: GridShape,
  images: GPUBuffer,
  reuse?: ImageGrid,
): Promise<{ width: number; height: number; pixels: Uint8Array }> {
  const { width, height } = gridPixels(shape);
  const grid = reuse ?? (await ImageGrid.create(rt, 'rgba8unorm', shape, 'render.snapshot'));
  grid.setShape(shape);
  const pixels = await renderPixels(rt, width, height, (encoder, target) => grid.draw(encoder, target, images));
  if (!reuse) grid.destroy();
  return { width, height, pixels };
}

/**
 * What `draw` renders into an offscreen rgba8unorm texture of width x height, read back as row-major
 * RGBA bytes (for tests and snapshots: it allocates and waits).
 */
export async function renderPixels(
  rt: Runtime,
  width: number,
  height: number,
  draw: (encoder: GPUCommandEncoder, target: GPUTextureView) => void,
): Promise<Uint8Array> {
  const { device } = rt;
  const texture = device.createTexture({
    label: 'render.snapshot',
    size: [width, height],
    format: 'rgba8unorm',
    usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
  });
  const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
  const readback = device.createBuffer({
    label: 'render.snapshot.readback',
    size: bytesPerRow * height,
    usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
  });
  const encoder = device.createCommandEncoder({ label: 'render.snapshot' });
  draw(encoder, texture.createView());
  encoder.copyTextureToBuffer({ texture }, { buffer: readback, bytesPerRow }, [width, height]);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const rows = new Uint8Array(readback.getMappedRange());
  const pixels = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++)
    pixels.set(rows.subarray(y * bytesPerRow, y * bytesPerRow + width * 4), y * width * 4);
  readback.unmap();
  readback.destroy();
  texture.destroy();
  return pixels;
}

export interface PlaneBounds {
  lo: number;
  hi: number;
  width: number;
  height: number;
}

/** One thing drawn on the plane: its buffer, its uniform and bind groups, made once. */
export interface PlaneLayer {
  kind: 'heatmap' | 'points' | 'manifold';
  /** Instances (points) or the grid size (heatmap n, manifold m). */
  count: number;
  groups: [GPUBindGroup, GPUBindGroup];
  uniform: GPUBuffer;
}

/**
 * The 2-D lab's plane (shaders/render.plane.wgsl): D's heatmap, dots for points, G's mesh. Layers are
 * made when a model is built; a frame records them into one render pass.
 */
export class PlaneRenderer {
  private readonly attachment: GPURenderPassColorAttachment;
  private readonly passDescriptor: GPURenderPassDescriptor;

  private constructor(
    private readonly rt: Runtime,
    private readonly pipelines: Record<PlaneLayer['kind'], CompiledRender>,
  ) {
    this.attachment = {
      view: undefined as unknown as GPUTextureView,
      loadOp: 'clear',
      storeOp: 'store',
      clearValue: [1, 1, 1, 1],
    };
    this.passDescriptor = { label: 'render.plane', colorAttachments: [this.attachment] };
  }

  static async create(rt: Runtime, format: GPUTextureFormat): Promise<PlaneRenderer> {
    const blend: GPUBlendState = {
      color: { srcFactor: 'src-alpha', dstFactor: 'one-minus-src-alpha' },
      alpha: { srcFactor: 'one', dstFactor: 'one-minus-src-alpha' },
    };
    const pipeline = (vertex: string, fragment: string, topology: GPUPrimitiveTopology) =>
      rt.renderPipeline({ shader: 'render.plane', vertex, fragment, format, topology, blend });
    const [heatmap, points, manifold] = await Promise.all([
      pipeline('fullscreen', 'd_heatmap', 'triangle-list'),
      pipeline('point', 'point_color', 'triangle-list'),
      pipeline('manifold', 'point_color', 'line-list'),
    ]);
    return new PlaneRenderer(rt, { heatmap, points, manifold });
  }

  /**
   * A layer of `values` (made once per model: a uniform and two bind groups). Layers do not depend
   * on the target format: a layer made by one renderer draws with another (the bind-group layouts of
   * one shader's pipelines are equal).
   */
  layer(
    kind: PlaneLayer['kind'],
    values: GPUBuffer,
    count: number,
    bounds: PlaneBounds,
    style: { color?: [number, number, number, number]; size?: number } = {},
  ): PlaneLayer {
    const { device } = this.rt;
    const uniform = device.createBuffer({
      label: `render.plane.${kind}.view`,
      size: 48,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
    });
    const data = new ArrayBuffer(48);
    new Float32Array(data, 0, 4).set(style.color ?? [0, 0, 0, 1]);
    const view = new DataView(data);
    view.setFloat32(16, bounds.lo, true);
    view.setFloat32(20, bounds.hi, true);
    view.setUint32(24, kind === 'points' ? 0 : count, true);
    view.setFloat32(28, style.size ?? 4, true);
    view.setFloat32(32, bounds.width, true);
    view.setFloat32(36, bounds.height, true);
    device.queue.writeBuffer(uniform, 0, data);
    const compiled = this.pipelines[kind];
    const groups: [GPUBindGroup, GPUBindGroup] = [
      this.rt.renderBindGroup(compiled, 0, { values }, `render.plane.${kind}.group0`),
      this.rt.renderBindGroup(compiled, 1, { view: uniform }, `render.plane.${kind}.group1`),
    ];
    return { kind, count, groups, uniform };
  }

  draw(encoder: GPUCommandEncoder, target: GPUTextureView, layers: PlaneLayer[]): void {
    this.attachment.view = target;
    const pass = encoder.beginRenderPass(this.passDescriptor);
    for (const layer of layers) {
      pass.setPipeline(this.pipelines[layer.kind].pipeline);
      pass.setBindGroup(0, layer.groups[0]);
      pass.setBindGroup(1, layer.groups[1]);
      if (layer.kind === 'heatmap') pass.draw(3);
      else if (layer.kind === 'points') pass.draw(6, layer.count);
      else pass.draw(4 * layer.count * (layer.count - 1));
    }
    pass.end();
  }
}
