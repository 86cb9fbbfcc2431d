// How a view reaches the screen. Where the browser cannot show a WebGPU canvas (headless Chromium
// started with --enable-unsafe-webgpu alone, SwiftShader without --enable-features=Vulkan: the first
// frame presented destroys the device, and every later call answers "A valid external Instance
// reference no longer exists."), a view is made with present: 'readback' instead: the same render
// pass draws into an offscreen texture, which is copied out after the frame's submission and put
// into a 2-D canvas. That is one readback per frame, at the page's draw cadence (never per training
// step), and a frame whose previous readback is still in flight is skipped.
// probeCanvasPresentation tells which a browser needs.

/**
 * How a view reaches the screen: 'webgpu' renders into the canvas's WebGPU context; 'readback'
 * renders into an offscreen texture and puts its pixels into the canvas's 2-D context after each
 * frame (for browsers whose WebGPU canvases fail: probeCanvasPresentation).
 */
export type CanvasPresent = 'webgpu' | 'readback';

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
export async function probeCanvasPresentation(
  gpu: GPU | undefined = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu,
): Promise<{ present: CanvasPresent; reason?: string }> {
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
    encoder
      .beginRenderPass({
        colorAttachments: [
          {
            view: context.getCurrentTexture().createView(),
            loadOp: 'clear',
            storeOp: 'store',
            clearValue: [0, 0, 0, 1],
          },
        ],
      })
      .end();
    device.queue.submit([encoder.finish()]);
    await Promise.race([
      device.queue.onSubmittedWorkDone(),
      device.lost,
      new Promise((resolve) => setTimeout(resolve, 3000)),
    ]);
    // The loss may arrive a moment after the queue answers.
    await new Promise((resolve) => setTimeout(resolve, 50));
    context.unconfigure();
    if (lost)
      return { present: 'readback', reason: `a WebGPU canvas frame lost the device (${lost.reason}: ${lost.message})` };
    return { present: 'webgpu' };
  } catch (err) {
    return { present: 'readback', reason: `a WebGPU canvas frame failed (${(err as Error).message})` };
  } finally {
    if (!lost) device?.destroy();
  }
}

/** A 'readback' view's offscreen target, the copy of each frame out of it and its 2-D canvas. */
export class CanvasReadback {
  private frame?: ReadbackFrame;
  /** Whether this frame copied into the target, whether a copy is being read. */
  private recorded = false;
  private reading = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly context2d: CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D,
    private readonly label: string,
  ) {}

  /**
   * Records the frame `render` draws into the offscreen target (width x height) and its copy out;
   * records nothing while the last frame is still being read.
   */
  record(encoder: GPUCommandEncoder, width: number, height: number, render: (view: GPUTextureView) => void): void {
    if (this.reading) return;
    const frame = this.target(width, height);
    render(frame.view);
    encoder.copyTextureToBuffer({ texture: frame.texture }, { buffer: frame.buffer, bytesPerRow: frame.bytesPerRow }, [
      frame.width,
      frame.height,
    ]);
    this.recorded = true;
  }

  /** The target at the canvas's size, made again when the size changes. */
  private target(width: number, height: number): ReadbackFrame {
    if (this.frame && this.frame.width === width && this.frame.height === height) return this.frame;
    this.destroy();
    const { device } = this;
    const texture = device.createTexture({
      label: `${this.label}.readback`,
      size: [width, height],
      format: 'rgba8unorm',
      usage: GPUTextureUsage.RENDER_ATTACHMENT | GPUTextureUsage.COPY_SRC,
    });
    const bytesPerRow = Math.ceil((width * 4) / 256) * 256;
    const buffer = device.createBuffer({
      label: `${this.label}.readback`,
      size: bytesPerRow * height,
      usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ,
    });
    this.frame = { texture, view: texture.createView(), buffer, bytesPerRow, width, height };
    return this.frame;
  }

  /**
   * After the frame's submission: reads the frame recorded and puts it into the 2-D canvas (resolves
   * when shown; rejects when the GPU fails). Nothing to do when no frame was recorded.
   */
  async present(): Promise<void> {
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
      for (let y = 0; y < frame.height; y++)
        pixels.set(rows.subarray(y * frame.bytesPerRow, y * frame.bytesPerRow + rowBytes), y * rowBytes);
      // Opaque, as the WebGPU canvases are configured (alphaMode 'opaque').
      for (let i = 3; i < pixels.length; i += 4) pixels[i] = 255;
      frame.buffer.unmap();
      this.context2d.putImageData(image, 0, 0);
    } finally {
      this.reading = false;
    }
  }

  /** A frame being read is abandoned: its map fails, and present ignores a frame no longer its own. */
  destroy(): void {
    this.frame?.texture.destroy();
    this.frame?.buffer.destroy();
    this.frame = undefined;
  }
}
