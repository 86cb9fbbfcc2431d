// Render pipelines that draw GPU buffers into a texture (a page's canvas, or a test's texture) with
// no readback. ImageGrid draws shaders/render.wgsl: a grid of images from a storage buffer, laid out
// as src/io/images.ts imageGridPng draws the same images into a PNG.
//
// Built once per target: the pipeline, the uniform and one bind group per images buffer (the
// trainer's sample buffers alternate between two, so the cache holds two); a draw only records.
import { assembleShader, compileModule } from '../gpu/shaders';
import type { Runtime } from '../gpu/runtime';

export interface GridShape {
  columns: number;
  /** Images drawn, starting at image `first` of the buffer. */
  count: number;
  first?: number;
  width: number;
  height: number;
  zoom: number;
}

/** The target size in pixels that shows a grid whole, as imageGridPng sizes its picture. */
export function gridPixels(shape: GridShape): { width: number; height: number } {
  const rows = Math.ceil(shape.count / shape.columns);
  return { width: shape.columns * (shape.width * shape.zoom + 1) + 1, height: rows * (shape.height * shape.zoom + 1) + 1 };
}

export async function renderModule(rt: Runtime, shader: string): Promise<GPUShaderModule> {
  return compileModule(rt.device, assembleShader(shader));
}

export class ImageGrid {
  private readonly uniform: GPUBuffer;
  private readonly uniformData = new Uint32Array(8);
  private readonly bindGroups = new Map<GPUBuffer, GPUBindGroup>();
  private readonly paramsGroup: GPUBindGroup;

  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPURenderPipeline,
    private readonly layouts: GPUBindGroupLayout[],
    readonly label: string,
    shape: GridShape,
  ) {
    this.uniform = device.createBuffer({ label: `${label}.grid`, size: this.uniformData.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.paramsGroup = device.createBindGroup({ label: `${label}.group1`, layout: layouts[1], entries: [{ binding: 0, resource: { buffer: this.uniform } }] });
    this.setShape(shape);
  }

  static async create(rt: Runtime, format: GPUTextureFormat, shape: GridShape, label = 'render.image_grid'): Promise<ImageGrid> {
    const { device } = rt;
    const module = await renderModule(rt, 'render');
    const layouts = [
      device.createBindGroupLayout({ label: `${label}.group0`, entries: [{ binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'read-only-storage' } }] }),
      device.createBindGroupLayout({ label: `${label}.group1`, entries: [{ binding: 0, visibility: GPUShaderStage.FRAGMENT, buffer: { type: 'uniform' } }] }),
    ];
    const pipeline = await device.createRenderPipelineAsync({
      label,
      layout: device.createPipelineLayout({ label, bindGroupLayouts: layouts }),
      vertex: { module, entryPoint: 'fullscreen' },
      fragment: { module, entryPoint: 'image_grid', targets: [{ format }] },
      primitive: { topology: 'triangle-list' },
    });
    return new ImageGrid(device, pipeline, layouts, label, shape);
  }

  /** Changes what is drawn (outside the hot path: when a view's model or layout changes). */
  setShape(shape: GridShape): void {
    this.uniformData.set([shape.columns, shape.count, shape.first ?? 0, shape.width, shape.height, shape.zoom]);
    this.device.queue.writeBuffer(this.uniform, 0, this.uniformData);
  }

  private bindGroup(images: GPUBuffer): GPUBindGroup {
    let group = this.bindGroups.get(images);
    if (!group) {
      group = this.device.createBindGroup({ label: `${this.label}.group0`, layout: this.layouts[0], entries: [{ binding: 0, resource: { buffer: images } }] });
      this.bindGroups.set(images, group);
    }
    return group;
  }

  /** Forgets the bind groups of buffers that were destroyed (a new trainer has new buffers). */
  forgetBuffers(): void {
    this.bindGroups.clear();
  }

  /** Records the grid of `images` into `target`. */
  draw(encoder: GPUCommandEncoder, target: GPUTextureView, images: GPUBuffer): void {
    const pass = encoder.beginRenderPass({ label: this.label, colorAttachments: [{ view: target, loadOp: 'clear', storeOp: 'store', clearValue: [0, 0, 0, 1] }] });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.bindGroup(images));
    pass.setBindGroup(1, this.paramsGroup);
    pass.draw(3);
    pass.end();
  }

  destroy(): void {
    this.uniform.destroy();
  }
}
