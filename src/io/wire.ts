// What `gan train --browser` (src/cli/train-browser.ts) and its page (examples/headless.ts) say to
// each other: functions Node exposes on the page. Playwright carries JSON values, so byte arrays
// travel as base64 strings.
import type { TrainConfig } from '../spec/config';
import type { RunMetrics } from './run';
import type { SampleBatch } from '../train/trainer';

export function bytesToBase64(bytes: Uint8Array): string {
  // String.fromCharCode takes its arguments on the stack: convert in chunks.
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += 0x8000) chunks.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  return btoa(chunks.join(''));
}

export function base64ToBytes(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

const floatsToBase64 = (a: Float32Array) => bytesToBase64(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
const base64ToFloats = (text: string) => new Float32Array(base64ToBytes(text).buffer);

export interface WireSampleBatch {
  iter: number;
  count: number;
  samples: string;
  discriminatorCurve?: string;
}

export function sampleBatchToWire(batch: SampleBatch): WireSampleBatch {
  const { iter, count, samples, discriminatorCurve } = batch;
  return {
    iter,
    count,
    samples: floatsToBase64(samples),
    ...(discriminatorCurve ? { discriminatorCurve: floatsToBase64(discriminatorCurve) } : {}),
  };
}

export function sampleBatchFromWire(wire: WireSampleBatch): SampleBatch {
  const { iter, count, samples, discriminatorCurve } = wire;
  return {
    iter,
    count,
    samples: base64ToFloats(samples),
    ...(discriminatorCurve ? { discriminatorCurve: base64ToFloats(discriminatorCurve) } : {}),
  };
}

/** The page asks for its job, then reports as the run goes. */
export interface HeadlessJob {
  config: TrainConfig;
  /** A checkpoint to continue from, base64, and the file it came from (named in errors). */
  resume?: { checkpoint: string; file: string };
  /** Sample batches from G itself instead of its moving average. */
  rawGenerator?: boolean;
}

export interface HeadlessReport {
  ganJob(): Promise<HeadlessJob>;
  ganBegin(iteration: number, adapterName: string, resumed: boolean): Promise<void>;
  ganSamples(batch: WireSampleBatch): Promise<void>;
  ganMetrics(record: RunMetrics): Promise<void>;
  ganWindow(iteration: number, itsPerSecond: number): Promise<void>;
  /** A checkpoint's bytes, base64, and the iteration it holds. */
  ganCheckpoint(checkpoint: string, iteration: number): Promise<void>;
  ganEnd(iteration: number, stopped: boolean): Promise<void>;
  ganFail(error: { name: string; message: string }): Promise<void>;
}
