// Waiting for the GPU without taking a core from it. Dawn's Node binding busy-polls the main thread
// while a GPU promise is pending; on a software adapter (lavapipe, SwiftShader) the GPU is the CPU,
// and that spinning thread competes with the adapter's worker threads for the cores. On Linux a nice
// value belongs to a thread, so the main thread can wait at the lowest priority while the workers
// keep theirs, and the spinning then only uses what the workers leave. Elsewhere, and on hardware
// adapters, the wait is a plain await.
import { threadPriority } from '#gpu-platform';
import type { GpuContext } from './device';

const LOWEST_PRIORITY = 19;

/** Adapters whose "GPU" runs on the CPU cores, by the names Mesa and SwiftShader give them. */
export function isSoftwareAdapter(context: Pick<GpuContext, 'adapterName'>): boolean {
  return /llvmpipe|lavapipe|swiftshader|software/i.test(context.adapterName);
}

/**
 * Awaits `pending()` (a GPU promise, created only now) with the main thread at the lowest priority
 * when `yieldCores`, then restores the thread's priority where the system allows raising it again
 * (an unprivileged process may stay at the low priority: it only records and submits work).
 */
export async function waitYieldingCores<T>(pending: () => Promise<T>, yieldCores: boolean): Promise<T> {
  const os = yieldCores ? threadPriority() : undefined;
  let before: number | undefined;
  if (os) {
    try {
      before = os.get();
      if (before < LOWEST_PRIORITY) os.set(LOWEST_PRIORITY);
    } catch {
      before = undefined;
    }
  }
  try {
    return await pending();
  } finally {
    if (os && before !== undefined && before < LOWEST_PRIORITY) {
      try {
        os.set(before);
      } catch {
        // Raising a priority needs a privilege this process lacks; staying low is harmless.
      }
    }
  }
}
