// Shared test utilities: one GPU runtime per test file, seeded random data, tolerant comparison.
import assert from 'node:assert/strict';
import { acquireDevice } from '../src/gpu/device';
import { Clock } from '../src/gpu/clock';
import { Runtime } from '../src/gpu/runtime';
import type { Vec } from '../src/reference/dense';

let shared: Promise<{ rt: Runtime; clock: Clock }> | undefined;

/** The test file's GPU. When no adapter is found this rejects with the runtime's message: GPU tests fail, never skip. */
export function gpu(): Promise<{ rt: Runtime; clock: Clock }> {
  shared ??= acquireDevice().then((context) => {
    // A validation error outside an error scope fails the test file even if every assertion held.
    context.device.addEventListener('uncapturederror', (event) => {
      console.error(`Uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
      process.exitCode = 1;
    });
    const rt = new Runtime(context);
    return { rt, clock: new Clock(context.device) };
  });
  return shared;
}

/** A small seeded generator for test data (mulberry32): tests are reproducible run to run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(random: () => number, n: number, lo = -1, hi = 1): Float32Array<ArrayBuffer> {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * random();
  return a;
}

export function abs<T extends Vec>(a: T): T {
  return a.map(Math.abs) as T;
}

/**
 * Asserts |actual - expected| <= atol + rtol * magnitude elementwise, where `magnitude` is the same
 * computation done on absolute values (the sum of |terms| that bounds the rounding error of a sum).
 * The message names the worst element.
 */
export function assertClose(
  what: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: { atol: number; rtol?: number; magnitude?: ArrayLike<number> },
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const scale = tolerance.magnitude ? Math.abs(tolerance.magnitude[i]) : Math.abs(expected[i]);
    const allowed = tolerance.atol + (tolerance.rtol ?? 0) * scale;
    const error = Math.abs(actual[i] - expected[i]);
    if (!(error <= allowed) && (worst < 0 || error - allowed > worstExcess)) {
      worst = i;
      worstExcess = Number.isNaN(error) ? Infinity : error - allowed;
    }
  }
  if (worst >= 0) {
    assert.fail(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (tolerance exceeded by ${worstExcess})`,
    );
  }
}
