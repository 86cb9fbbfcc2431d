// Wrapper of shaders/sq_error.wgsl: the gradient of a (masked) squared error and the clamp of a
// buffer to a range, each one dispatch built once and recorded as often as the caller likes.
import type { BufferBinding, Dispatch, Runtime } from '../gpu/runtime';
import { flatGrid } from './optimizer';

/** Invocations per workgroup: the default of the shader's WORKGROUP override. */
const WORKGROUP = 64;

function bytesOf(binding: BufferBinding): number {
  return 'buffer' in binding ? (binding.size ?? binding.buffer.size - (binding.offset ?? 0)) : binding.size;
}

function checkCount(what: string, count: number, buffers: Record<string, BufferBinding | undefined>): void {
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff)
    throw new RangeError(`${what}: count must be a positive integer (a u32), got ${count}`);
  for (const [name, binding] of Object.entries(buffers)) {
    if (binding && bytesOf(binding) < count * 4)
      throw new RangeError(`${what}: '${name}' holds ${bytesOf(binding)} bytes, fewer than count = ${count} floats`);
  }
}

export interface SquaredErrorBuffers {
  pred: BufferBinding;
  expected: BufferBinding;
  /** 1 where an element counts, 0 where it does not; omitted: every element counts. */
  mask?: BufferBinding;
  /** Another loss's gradient in pred, added to this one's (not with a mask). */
  addend?: BufferBinding;
  dpred: BufferBinding;
}

/** dpred = scale * mask * (pred - expected) (+ addend) over `count` elements: the gradient of scale / 2 * sum mask (pred - expected)^2. */
export async function squaredErrorGrad(
  rt: Runtime,
  spec: { count: number; scale: number },
  buffers: SquaredErrorBuffers,
): Promise<Dispatch> {
  checkCount('squared error', spec.count, { ...buffers });
  if (!Number.isFinite(spec.scale)) throw new RangeError(`squared error: scale must be finite, got ${spec.scale}`);
  const { pred, expected, mask, addend, dpred } = buffers;
  if (mask && addend) throw new Error('squared error: a mask and an addend together are not implemented; give one');
  return rt.dispatch({
    shader: 'sq_error',
    entry: mask ? 'grad_masked' : addend ? 'grad_plus' : 'grad',
    buffers: mask
      ? { pred, expected, mask, dpred }
      : addend
        ? { pred, expected, addend, dpred }
        : { pred, expected, dpred },
    params: { count: spec.count, scale: spec.scale, low: 0, high: 0 },
    workgroups: flatGrid(spec.count, WORKGROUP, rt.limits.maxComputeWorkgroupsPerDimension),
  });
}

/** x = min(max(x, low), high) in place over `count` elements. */
export async function clampValues(
  rt: Runtime,
  spec: { count: number; low: number; high: number },
  x: BufferBinding,
): Promise<Dispatch> {
  checkCount('clamp', spec.count, { x });
  if (!(spec.low <= spec.high)) throw new RangeError(`clamp: low = ${spec.low} must not exceed high = ${spec.high}`);
  return rt.dispatch({
    shader: 'sq_error',
    entry: 'clamp_values',
    buffers: { x },
    params: { count: spec.count, scale: 0, low: spec.low, high: spec.high },
    workgroups: flatGrid(spec.count, WORKGROUP, rt.limits.maxComputeWorkgroupsPerDimension),
  });
}
