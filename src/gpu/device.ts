// One way to get a GPUDevice, in a browser (navigator.gpu) and in Node (Dawn through the `webgpu`
// package; '#gpu-platform' is the half for each), with the limits the model needs and errors that say
// what to install or change.
import { adapterFromEnvironment, platformGpu, platformHelp, PlatformGpuError } from '#gpu-platform';

export interface DeviceOptions {
  /** Substring of the adapter's name to pick (Node: Dawn's adapter option). Env: GAN_ADAPTER. */
  adapter?: string;
  /** Limits the configured model needs; refused before any allocation when the adapter is smaller. */
  requiredLimits?: Record<string, number>;
  /** The largest buffers the work will make: each is checked by name against the adapter, and their limits are required. */
  buffers?: BufferNeed[];
  /** Features to enable when the adapter offers them (never required). */
  optionalFeatures?: GPUFeatureName[];
  powerPreference?: GPUPowerPreference;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  /** "vendor architecture device (description)", as far as the adapter tells. */
  adapterName: string;
  features: Set<string>;
}

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** The device was lost (driver reset, GPU removed, out of memory) or reported an error no scope caught. */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/**
 * Watches a device for loss and for uncaptured errors; `check` throws DeviceLostError once either
 * happened. WebGPU calls on a lost device silently do nothing, so a loop must ask.
 */
export function watchDevice(device: GPUDevice): { check(during: string): void; stop(): void } {
  let problem: string | undefined;
  let watching = true;
  void device.lost.then((info) => {
    if (watching)
      problem ??= `the GPU device was lost (${info.reason ?? 'unknown'}${info.message ? `: ${info.message}` : ''})`;
  });
  const onError = (event: Event) => {
    problem ??= `the GPU reported an error: ${(event as GPUUncapturedErrorEvent).error.message}`;
  };
  device.addEventListener('uncapturederror', onError);
  return {
    check(during: string) {
      if (problem) throw new DeviceLostError(`${problem.charAt(0).toUpperCase()}${problem.slice(1)}, ${during}.`);
    },
    stop() {
      watching = false;
      device.removeEventListener('uncapturederror', onError);
    },
  };
}

export class DeviceLimitError extends Error {
  override name = 'DeviceLimitError';
}

async function getGpu(adapterName: string | undefined): Promise<GPU> {
  try {
    return platformGpu(adapterName);
  } catch (err) {
    if (err instanceof PlatformGpuError) throw new GpuUnavailableError(err.message);
    throw err;
  }
}

export function describeAdapter(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => !!s);
  return parts.length ? [...new Set(parts)].join(' ') : 'unnamed adapter';
}

/** Compares what a model needs with what the adapter offers; throws naming the first limit short. */
export function checkLimits(adapter: GPUAdapter, required: Record<string, number>): void {
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const [name, needed] of Object.entries(required)) {
    const available = limits[name];
    if (available === undefined) throw new DeviceLimitError(`Unknown WebGPU limit '${name}'.`);
    const isMinimum = name.startsWith('min');
    if (isMinimum ? needed < available : needed > available) {
      throw new DeviceLimitError(
        `The model needs ${name} = ${needed}, but the adapter '${describeAdapter(adapter)}' offers ${available}. ` +
          'Use a smaller model or batch, or a GPU with larger limits.',
      );
    }
  }
}

export async function acquireDevice(options: DeviceOptions = {}): Promise<GpuContext> {
  const wanted = options.adapter ?? adapterFromEnvironment();
  const gpu = await getGpu(wanted);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (err) {
    if (wanted)
      throw new GpuUnavailableError(
        `No WebGPU adapter matches '${wanted}' (the adapter option or GAN_ADAPTER): ${(err as Error).message}`,
      );
    throw new GpuUnavailableError(`Requesting a WebGPU adapter failed: ${(err as Error).message}. ${platformHelp}`);
  }
  if (!adapter) {
    const what = wanted ? `No WebGPU adapter matches '${wanted}'.` : 'No WebGPU adapter was found.';
    throw new GpuUnavailableError(`${what} ${platformHelp}`);
  }
  if (options.buffers) checkBuffersFit(adapter.limits, `the adapter '${describeAdapter(adapter)}'`, options.buffers);
  const requiredLimits = { ...options.requiredLimits };
  for (const [name, needed] of Object.entries(limitsForBuffers(options.buffers ?? [])))
    requiredLimits[name] = Math.max(requiredLimits[name] ?? 0, needed);
  checkLimits(adapter, requiredLimits);
  // subgroups: the GEMM tuner's subgroup tile (src/kernels/tiles.ts), offered only where the device has it.
  const requiredFeatures = (options.optionalFeatures ?? (['timestamp-query', 'subgroups'] as GPUFeatureName[])).filter(
    (f) => adapter!.features.has(f),
  );
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'gan' });
  return { device, adapter, adapterName: describeAdapter(adapter), features: new Set(device.features) };
}

export interface BufferNeed {
  name: string;
  bytes: number;
}

/** Refuses, naming the tensor and the limit, a buffer that a device or adapter with these limits cannot hold. */
export function checkBuffersFit(limits: GPUSupportedLimits, holder: string, buffers: BufferNeed[]): void {
  for (const limit of ['maxStorageBufferBindingSize', 'maxBufferSize'] as const) {
    for (const { name, bytes } of buffers) {
      if (bytes > limits[limit]) {
        throw new DeviceLimitError(
          `${name} needs ${bytes} bytes, more than ${limit} = ${limits[limit]} of ${holder}. Use a smaller model or batch, or a GPU with larger limits.`,
        );
      }
    }
  }
}

/**
 * Limits a set of buffers needs: the largest single binding and the largest buffer. Call it with
 * every tensor's byte size before allocating anything, so an oversized model is refused by name.
 */
export function limitsForBuffers(tensors: { name: string; bytes: number }[]): Record<string, number> {
  const largest = Math.max(256, ...tensors.map((t) => t.bytes));
  return { maxStorageBufferBindingSize: largest, maxBufferSize: largest };
}
