// Wrapper of shaders/optimizer.wgsl: one Optimizer per parameter buffer, owning the dispatch that
// updates the whole buffer (4 elements per invocation) and the uniform block of its hyperparameters. The scheduler records the
// dispatch every iteration and calls set() when a schedule changes lr or momentum, or Adam's step.
import { workgroupCount, type BufferBinding, type Dispatch, type Runtime, type UniformBlock } from '../gpu/runtime';
import {
  adamBiasCorrections,
  DEFAULT_HYPERPARAMETERS,
  type OptimizerHyperparameters,
  type OptimizerRule,
} from '../spec/optimizer';

/** Invocations per workgroup: the default of the shader's WORKGROUP override, which the wrapper keeps. */
const WORKGROUP = 64;

/** Invocations: one per quad of 4 consecutive elements. */
export function quads(count: number): number {
  return Math.ceil(count / 4);
}

const ENTRY: Record<OptimizerRule, string> = {
  'sgd-pylearn2': 'sgd_pylearn2',
  'sgd-pytorch': 'sgd_pytorch',
  adam: 'adam',
};

/**
 * Workgroups (x, y) covering `items` invocations when one axis holds at most `maxPerDimension`
 * workgroups; the kernel numbers its element gid.x + gid.y * x * perWorkgroup.
 */
export function flatGrid(items: number, perWorkgroup: number, maxPerDimension: number): [number, number] {
  const groups = workgroupCount(items, perWorkgroup);
  const rows = workgroupCount(groups, maxPerDimension);
  return [workgroupCount(groups, rows), rows];
}

/** A zeroed flag for the optimizers to set (one u32; D's and G's optimizers may share it). */
export function createNonfiniteFlag(rt: Runtime, label = 'optimizer.nonfinite'): GPUBuffer {
  return rt.createBuffer(label, 4);
}

/** Records the zeroing of a nonfinite flag, after the copy that reads it out. */
export function clearNonfiniteFlag(encoder: GPUCommandEncoder, flag: GPUBuffer): void {
  encoder.clearBuffer(flag, 0, 4);
}

function checkHyperparameters(rule: OptimizerRule, h: OptimizerHyperparameters): void {
  const check = (field: keyof OptimizerHyperparameters, ok: (value: number) => boolean, requirement: string) => {
    if (!ok(h[field])) throw new RangeError(`optimizer ${rule}: ${field} = ${h[field]}, it must be ${requirement}`);
  };
  check('lr', (v) => Number.isFinite(v) && v >= 0, 'finite and >= 0');
  check('momentum', (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('beta1', (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('beta2', (v) => v >= 0 && v < 1, 'in [0, 1)');
  check('epsilon', (v) => Number.isFinite(v) && v > 0, 'finite and > 0');
  check('step', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
}

/** The uniform's fields; the bias corrections belong to Adam but every rule's struct has them. */
function uniformValues(count: number, h: OptimizerHyperparameters): Record<string, number> {
  const { bias1, bias2 } = adamBiasCorrections(h.beta1, h.beta2, h.step);
  return { count, lr: h.lr, momentum: h.momentum, beta1: h.beta1, beta2: h.beta2, epsilon: h.epsilon, bias1, bias2 };
}

export interface OptimizerBuffers {
  grad: BufferBinding;
  param: BufferBinding;
  /** SGD's state. */
  velocity?: BufferBinding;
  /** Adam's state. */
  firstMoment?: BufferBinding;
  secondMoment?: BufferBinding;
  /** Set to 1 when an update produces a NaN or infinite parameter (createNonfiniteFlag). */
  nonfinite: BufferBinding;
}

export class Optimizer {
  constructor(
    readonly rule: OptimizerRule,
    readonly count: number,
    /** Updates every element of the parameter buffer; record it once per training step. */
    readonly dispatch: Dispatch,
    /** The `params` uniform, bound by the dispatch; write it through set(). */
    readonly uniform: UniformBlock,
    private values: OptimizerHyperparameters,
  ) {}

  get hyperparameters(): Readonly<OptimizerHyperparameters> {
    return { ...this.values };
  }

  /**
   * Changes some hyperparameters (a schedule's lr or momentum, Adam's step). The write lands before
   * the next queue submission, so steps that need different values go in different submissions.
   */
  set(changes: Partial<OptimizerHyperparameters>): void {
    const next = { ...this.values, ...changes };
    checkHyperparameters(this.rule, next);
    this.uniform.write(uniformValues(this.count, next));
    this.values = next;
  }

  record(pass: GPUComputePassEncoder): void {
    this.dispatch.record(pass);
  }
}

/** The optimizer of one parameter buffer of `count` floats; lr is required, the rest has defaults. */
export async function createOptimizer(
  rt: Runtime,
  spec: { rule: OptimizerRule; count: number },
  buffers: OptimizerBuffers,
  hyperparameters: Partial<OptimizerHyperparameters> & { lr: number },
): Promise<Optimizer> {
  const { rule, count } = spec;
  const entry = ENTRY[rule];
  if (!entry) throw new RangeError(`optimizer: unknown rule '${rule}' (known: ${Object.keys(ENTRY).join(', ')})`);
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff)
    throw new RangeError(`optimizer ${rule}: count must be a positive integer (a u32), got ${count}`);
  const state: Record<string, BufferBinding | undefined> =
    rule === 'adam'
      ? { first_moment: buffers.firstMoment, second_moment: buffers.secondMoment }
      : { velocity: buffers.velocity };
  const tensors: Record<string, BufferBinding | undefined> = { grad: buffers.grad, param: buffers.param, ...state };
  for (const [name, binding] of Object.entries(tensors)) {
    if (!binding) throw new Error(`optimizer ${rule}: the '${name}' buffer is missing`);
    const bytes = 'buffer' in binding ? (binding.size ?? binding.buffer.size - (binding.offset ?? 0)) : binding.size;
    // Bound as vec4s: the last, partial quad must be there too (its elements past count are left as they are).
    if (bytes < quads(count) * 16)
      throw new RangeError(
        `optimizer ${rule}: '${name}' holds ${bytes} bytes, fewer than count = ${count} floats in whole vec4s (${quads(count) * 16} bytes)`,
      );
  }
  const values = { ...DEFAULT_HYPERPARAMETERS, ...hyperparameters };
  checkHyperparameters(rule, values);
  const uniform = await rt.uniformBlock('optimizer', entry, 'params', uniformValues(count, values));
  const dispatch = await rt.dispatch({
    shader: 'optimizer',
    entry,
    buffers: { ...(tensors as Record<string, BufferBinding>), nonfinite: buffers.nonfinite, params: uniform.buffer },
    workgroups: flatGrid(quads(count), WORKGROUP, rt.limits.maxComputeWorkgroupsPerDimension),
  });
  return new Optimizer(rule, count, dispatch, uniform, values);
}
