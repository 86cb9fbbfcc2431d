// What the pages share: the device (or a plain message when the browser has no WebGPU), uPlot charts
// of the metrics, and file downloads. Training, run/pause/step and the canvases come from src
// (src/train/controller.ts, src/train/canvas.ts), as a page of anyone's would use them.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { acquireDevice, GpuUnavailableError, type GpuContext } from '../src/index';

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

export interface Series {
  label: string;
  stroke: string;
}

/** A uPlot line chart of metrics against the iteration, appended to as records arrive. */
export class Chart {
  private readonly plot: uPlot;
  private readonly columns: number[][];

  constructor(container: HTMLElement, title: string, series: Series[], options: { width?: number; height?: number; range?: [number, number] } = {}) {
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
