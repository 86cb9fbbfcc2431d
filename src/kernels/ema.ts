// Wrapper of shaders/ema.wgsl: the moving average of one parameter buffer, one dispatch that the
// scheduler records after G's update, and the uniform of its decay, rewritten every step.
import type { BufferBinding, Dispatch, Runtime, UniformBlock } from '../gpu/runtime';
import { emaWeights } from '../spec/ema';
import { flatGrid } from './optimizer';

/** Invocations per workgroup: the default of the shader's WORKGROUP override. */
const WORKGROUP = 64;

function checkDecay(decay: number): void {
  if (!(decay >= 0 && decay < 1)) throw new RangeError(`ema: decay = ${decay}, it must be in [0, 1)`);
}

export class EmaUpdate {
  constructor(
    readonly count: number,
    /** average = decay * average + (1 - decay) * param over the whole buffer. */
    readonly dispatch: Dispatch,
    private readonly uniform: UniformBlock,
    private decay: number,
  ) {}

  /** The decay of the next recorded update; lands before the next submission. Once the warm-up is over it no longer changes, and nothing is written. */
  setDecay(decay: number): void {
    if (decay === this.decay) return;
    checkDecay(decay);
    this.uniform.write({ count: this.count, ...emaWeights(decay) });
    this.decay = decay;
  }
}

/** The average of `count` floats of `param`, kept in `average` (which must start as a copy of param). */
export async function createEmaUpdate(
  rt: Runtime,
  count: number,
  buffers: { param: BufferBinding; average: BufferBinding },
  decay: number,
): Promise<EmaUpdate> {
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff)
    throw new RangeError(`ema: count must be a positive integer (a u32), got ${count}`);
  checkDecay(decay);
  for (const [name, binding] of Object.entries(buffers)) {
    const bytes = 'buffer' in binding ? (binding.size ?? binding.buffer.size - (binding.offset ?? 0)) : binding.size;
    if (bytes < count * 4)
      throw new RangeError(`ema: '${name}' holds ${bytes} bytes, fewer than count = ${count} floats`);
  }
  const uniform = await rt.uniformBlock('ema', 'ema_update', 'params', { count, ...emaWeights(decay) });
  const dispatch = await rt.dispatch({
    shader: 'ema',
    entry: 'ema_update',
    buffers: { param: buffers.param, average: buffers.average, params: uniform.buffer },
    workgroups: flatGrid(count, WORKGROUP, rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return new EmaUpdate(count, dispatch, uniform, decay);
}
