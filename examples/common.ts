// What the pages share: the device (or a plain message when the browser has no WebGPU), uPlot charts
// of the metrics, and file downloads. Training, run/pause/step and the canvases come from src
// (src/train/controller.ts, src/view/canvas.ts), as a page of anyone's would use them.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import {
  acquireDevice,
  type CanvasPresent,
  GpuUnavailableError,
  type GpuContext,
  probeCanvasPresentation,
} from '../src/index';

export const $ = <T extends HTMLElement = HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

const WEBGPU_HELP =
  'This page trains on the GPU through WebGPU, and this browser offers none. Use Chrome or Edge 113 or newer ' +
  '(Windows, macOS, ChromeOS, Android). On Linux, start Chrome with --enable-unsafe-webgpu --enable-features=Vulkan, ' +
  'or turn on chrome://flags/#enable-unsafe-webgpu and restart it. Safari 26 and Firefox 141 or newer also have WebGPU.';

/** A device with `requiredLimits`, or undefined after the page has said plainly why there is none. */
export async function pageDevice(requiredLimits: Record<string, number>): Promise<GpuContext | undefined> {
  const say = (detail: string) => {
    const box = $('#no-webgpu');
    box.hidden = false;
    box.querySelector('.detail')!.textContent = detail;
    document.body.dataset.state = 'no-webgpu';
  };
  if (!('gpu' in navigator)) {
    say(WEBGPU_HELP);
    return undefined;
  }
  try {
    return await acquireDevice({ requiredLimits });
  } catch (err) {
    say(err instanceof GpuUnavailableError ? WEBGPU_HELP : (err as Error).message);
    return undefined;
  }
}

/**
 * How the page's views reach the screen: through WebGPU canvases where this browser shows them, else
 * drawn offscreen and put into 2-D canvases (headless Chromium with --enable-unsafe-webgpu alone
 * loses its device at the first WebGPU canvas frame). Asked before the page's device is requested,
 * and again after a lost device. The URL parameter canvas=webgpu or canvas=readback decides instead.
 */
export async function canvasPresentation(): Promise<CanvasPresent> {
  const asked = new URLSearchParams(location.search).get('canvas');
  if (asked === 'webgpu' || asked === 'readback') return asked;
  if (!('gpu' in navigator)) return 'webgpu';
  const { present, reason } = await probeCanvasPresentation();
  if (reason) console.info(`The views are drawn offscreen and copied into 2-D canvases: ${reason}.`);
  return present;
}

/**
 * The same canvas, fresh: a canvas that has had a WebGPU context cannot get a 2-D one, nor the other
 * way round, so a page that changes how it presents replaces its canvases.
 */
export function freshCanvas(selector: string): HTMLCanvasElement {
  const old = $<HTMLCanvasElement>(selector);
  const canvas = old.cloneNode(false) as HTMLCanvasElement;
  old.replaceWith(canvas);
  return canvas;
}

/**
 * One line for an error that comes from the browser's WebGPU (a DOMException such as OperationError
 * or GPUPipelineError, whose message names no step): what failed and what to try. Others as they are.
 */
export function gpuFailureLine(err: Error, what: string): string {
  if (!(err instanceof DOMException)) return err.message;
  return `${what} failed in the browser's WebGPU (${err.name}: ${err.message}). Try again; if it fails again, reload the page or restart the browser.`;
}

export interface Series {
  label: string;
  stroke: string;
}

/** A uPlot line chart of metrics against the iteration, appended to as records arrive. */
export class Chart {
  private readonly plot: uPlot;
  private readonly columns: number[][];

  constructor(
    container: HTMLElement,
    title: string,
    series: Series[],
    options: { width?: number; height?: number; range?: [number, number] } = {},
  ) {
    this.columns = [[], ...series.map(() => [])];
    this.plot = new uPlot(
      {
        title,
        width: options.width ?? 360,
        height: options.height ?? 180,
        scales: { x: { time: false }, ...(options.range ? { y: { range: options.range } } : {}) },
        axes: [{ label: 'iteration' }, {}],
        series: [{ label: 'iteration' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5 }))],
        legend: { live: false },
      },
      this.columns as uPlot.AlignedData,
      container,
    );
  }

  add(iteration: number, values: number[]): void {
    this.columns[0].push(iteration);
    values.forEach((v, i) => this.columns[i + 1].push(v));
    this.plot.setData(this.columns as uPlot.AlignedData);
  }

  clear(): void {
    for (const column of this.columns) column.length = 0;
    this.plot.setData(this.columns as uPlot.AlignedData);
  }
}

/** Saves bytes as a file download. */
export function download(bytes: Uint8Array<ArrayBuffer>, name: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
