// Wrapper of shaders/dense.forward.wgsl and shaders/dense.backward.wgsl: builds the dispatches of one
// dense layer once; the caller records them into its own pass as often as it likes.
import { Dispatch, workgroupCount, type BufferBinding, type Runtime } from '../gpu/runtime';
import { quadBinding, tileConstants, tileShader, tileWorkgroups, type GemmTile } from './tiles';
import { tunedDispatch } from './tune';
import type { Clock } from '../gpu/clock';
import { ACTIVATION_CODE, type DenseShape } from '../spec/network';
import { keepThreshold } from '../spec/rng';

/** Invocations per workgroup of the elementwise entry points (dropout, preactivation, grad_bias). */
const WORKGROUP = 8;

/** Dropout of the layer's input on the GPU: the RNG key without its step, which the clock gives. */
export interface GpuDropout {
  keep: number;
  scale: number;
  /** Added to kept inputs after scaling (an affine map of the input; see DropoutSpec). Default 0. */
  shift?: number;
  seed: number;
  stream: number;
  sub: number;
}

function checkShape(shape: DenseShape): void {
  for (const field of ['batch', 'inFeatures', 'units', 'pieces'] as const) {
    const value = shape[field];
    if (!Number.isInteger(value) || value < 1)
      throw new RangeError(`dense layer: ${field} must be a positive integer, got ${value}`);
  }
  if (shape.activation !== 'maxout' && shape.pieces !== 1) {
    throw new RangeError(
      `dense layer: ${shape.pieces} pieces given for activation '${shape.activation}'; only maxout has pieces`,
    );
  }
}

function commonParams(shape: DenseShape, dropout?: GpuDropout) {
  return {
    batch: shape.batch,
    in_features: shape.inFeatures,
    units: shape.units,
    keep24: dropout ? keepThreshold(dropout.keep) : keepThreshold(1),
    scale: dropout?.scale ?? 1,
    seed: dropout?.seed ?? 0,
    stream: dropout?.stream ?? 0,
    sub: dropout?.sub ?? 0,
  };
}

/** The constants of a product on `tile`; `aligned`: the quads it reads start on 16-byte boundaries, so each is one vec4 load. */
function productConstants(shape: DenseShape, tile: GemmTile, aligned: boolean) {
  return {
    ACTIVATION: ACTIVATION_CODE[shape.activation],
    PIECES: shape.pieces,
    ALIGNED: aligned ? 1 : 0,
    ...tileConstants(tile),
  };
}

/** The constants of an elementwise entry point. */
function elementwiseConstants(shape: DenseShape) {
  return { ACTIVATION: ACTIVATION_CODE[shape.activation], PIECES: shape.pieces, WORKGROUP };
}

export interface DenseForwardBuffers {
  x: GPUBuffer;
  weight: BufferBinding;
  bias: BufferBinding;
  y: GPUBuffer;
  /** Maxout: the winning piece of each output. */
  winner?: GPUBuffer;
  /** With dropout: where dropout(x) is written; grad_weight reads it. */
  dropped?: GPUBuffer;
  /** A conditional layer: E (classes, units * pieces), added as E[labels[row]] before the bias. */
  classTerm?: ForwardClassTerm;
}

export interface ForwardClassTerm {
  weight: BufferBinding;
  /** (batch) u32, each below `classes`. */
  labels: GPUBuffer;
  classes: number;
}

export interface BackwardClassTerm {
  /** dE (classes, units * pieces): per-class sums of dz. */
  dweight: BufferBinding;
  labels: GPUBuffer;
  classes: number;
}

function bindingBytes(binding: BufferBinding): number {
  return 'buffer' in binding ? (binding.size ?? binding.buffer.size - (binding.offset ?? 0)) : binding.size;
}

function checkClassTerm(
  shape: DenseShape,
  term: { labels: GPUBuffer; classes: number },
  rows: BufferBinding,
  what: string,
): void {
  if (!Number.isInteger(term.classes) || term.classes < 1)
    throw new RangeError(`dense layer: classes must be a positive integer, got ${term.classes}`);
  if (term.labels.size < shape.batch * 4)
    throw new RangeError(
      `dense layer: label buffer '${term.labels.label}' holds ${term.labels.size} bytes, fewer than ${shape.batch} classes need`,
    );
  const needed = term.classes * shape.units * shape.pieces * 4;
  if (bindingBytes(rows) < needed)
    throw new RangeError(
      `dense layer: ${what} holds ${bindingBytes(rows)} bytes, fewer than ${term.classes} class rows of ${shape.units * shape.pieces} need`,
    );
}

/** The dispatches of y = act(dropout(x) W + b): a dropout pass when there is dropout, then the product. */
export async function denseForward(
  rt: Runtime,
  clock: Clock,
  shape: DenseShape,
  buffers: DenseForwardBuffers,
  dropout?: GpuDropout,
): Promise<Dispatch[]> {
  checkShape(shape);
  const params = { ...commonParams(shape, dropout), shift: dropout?.shift ?? 0 };
  const dispatches: Dispatch[] = [];
  let input = buffers.x;
  if (dropout) {
    if (!buffers.dropped) throw new Error('dense forward with dropout needs a `dropped` buffer');
    dispatches.push(
      await rt.dispatch({
        shader: 'dense.forward',
        entry: 'dropout',
        constants: { WORKGROUP },
        buffers: { x: buffers.x, dropped: buffers.dropped, clock: clock.buffer },
        params,
        workgroups: [workgroupCount(Math.ceil(shape.inFeatures / 4), WORKGROUP), shape.batch],
      }),
    );
    input = buffers.dropped;
  }
  const maxout = shape.activation === 'maxout';
  if (maxout && !buffers.winner) throw new Error('dense forward with maxout needs a `winner` buffer');
  const { classTerm } = buffers;
  if (classTerm) checkClassTerm(shape, classTerm, classTerm.weight, 'the class rows');
  const classBuffers: Record<string, BufferBinding> = classTerm
    ? { class_weight: classTerm.weight, labels: classTerm.labels }
    : {};
  const entry = (maxout ? 'forward_maxout' : 'forward') + (classTerm ? '_class' : '');
  dispatches.push(
    // The tile is the one src/kernels/tune.ts chooses for this product on this adapter.
    await tunedDispatch(
      rt,
      'denseForward',
      `${entry} ${shape.batch}x${shape.inFeatures}x${shape.units}x${shape.pieces}`,
      shape.batch * shape.inFeatures * shape.units * shape.pieces,
      (tile) => ({
        shader: tileShader('dense.forward', tile),
        entry,
        // Every row and every piece of the weight starts on a vec4 when the units are a multiple of 4.
        constants: productConstants(shape, tile, shape.units % 4 === 0),
        buffers: maxout
          ? {
              x: input,
              weight: quadBinding(buffers.weight),
              bias: buffers.bias,
              y: buffers.y,
              winner: buffers.winner!,
              ...classBuffers,
            }
          : { x: input, weight: quadBinding(buffers.weight), bias: buffers.bias, y: buffers.y, ...classBuffers },
        params,
        workgroups: tileWorkgroups(tile, shape.batch, shape.units),
      }),
    ),
  );
  return dispatches;
}

export interface DenseBackwardBuffers {
  /** dL/dy, (batch, units). */
  dy: GPUBuffer;
  /** What the forward pass kept: y for identity, relu and sigmoid; the winner buffer for maxout. */
  saved: GPUBuffer;
  /** The layer's input as the product saw it: dropout(x) when there is dropout, else x. */
  input: GPUBuffer;
  /** The layer's weight (inFeatures, units * pieces): grad_input reads it. */
  weight: BufferBinding;
  dweight: BufferBinding;
  dbias: BufferBinding;
  /** Scratch for dL/dz, (batch, units * pieces), read by the weight and bias gradients. */
  dz: GPUBuffer;
  /** Scratch for dL/dz transposed, (units * pieces, batch), read by the input gradient. */
  dzT: GPUBuffer;
  /** dL/dx, (batch, inFeatures): omitted for a first layer whose input needs no gradient. */
  dx?: GPUBuffer;
  /** A conditional layer: where the class rows' gradient goes (with the weight gradients). */
  classTerm?: BackwardClassTerm;
}

export interface DenseBackwardOptions {
  dropout?: GpuDropout;
  /** Add to dweight and dbias instead of overwriting them (gradients of several passes). */
  accumulate?: boolean;
  /** false: only dx (the generator's gradient through the discriminator leaves D's own alone). */
  weightGrads?: boolean;
}

/** The dispatches of the backward pass: dz, then grad_input (when dx is wanted), grad_weight and grad_bias. */
export async function denseBackward(
  rt: Runtime,
  clock: Clock,
  shape: DenseShape,
  buffers: DenseBackwardBuffers,
  options: DenseBackwardOptions = {},
): Promise<Dispatch[]> {
  checkShape(shape);
  const params = { ...commonParams(shape, options.dropout), accumulate: options.accumulate ? 1 : 0 };
  const { dy, saved } = buffers;
  const width = shape.units * shape.pieces;
  const elementwise = { shader: 'dense.backward', constants: elementwiseConstants(shape), params };
  const product = (tile: GemmTile, aligned: boolean) => ({
    shader: tileShader('dense.backward', tile),
    constants: productConstants(shape, tile, aligned),
    params,
  });
  const dims = `${shape.batch}x${shape.inFeatures}x${shape.units}x${shape.pieces}`;
  const multiplyAdds = shape.batch * shape.inFeatures * width;
  const dispatches: Dispatch[] = [
    await rt.dispatch({
      ...elementwise,
      entry: 'preactivation',
      buffers: { dy, saved, dz: buffers.dz, dz_t: buffers.dzT },
      workgroups: [workgroupCount(Math.ceil(width / 4), WORKGROUP), shape.batch],
    }),
  ];
  if (buffers.dx) {
    dispatches.push(
      await tunedDispatch(rt, 'denseGradInput', `grad_input ${dims}`, multiplyAdds, (tile) => ({
        // dx^T = W dz^T: rows are input features, quads are quads of the batch.
        ...product(tile, shape.batch % 4 === 0),
        entry: 'grad_input',
        // The weight is bound under both of lhs's views (the shader says why).
        buffers: {
          lhs: buffers.weight,
          lhs_quads: quadBinding(buffers.weight),
          rhs_quads: quadBinding(buffers.dzT),
          dx: buffers.dx!,
          clock: clock.buffer,
        },
        workgroups: tileWorkgroups(tile, shape.inFeatures, shape.batch),
      })),
    );
  }
  if (options.weightGrads === false) return dispatches;
  dispatches.push(
    await tunedDispatch(rt, 'denseGradWeight', `grad_weight ${dims}`, multiplyAdds, (tile) => ({
      ...product(tile, shape.inFeatures % 4 === 0 && width % 4 === 0),
      entry: 'grad_weight',
      // dW = x^T dz: quads of the input's rows and of dz's rows.
      buffers: {
        lhs: buffers.input,
        lhs_quads: quadBinding(buffers.input),
        rhs_quads: quadBinding(buffers.dz),
        dweight: buffers.dweight,
      },
      workgroups: tileWorkgroups(tile, shape.inFeatures, width),
    })),
    await rt.dispatch({
      ...elementwise,
      entry: 'grad_bias',
      buffers: { dz_in: buffers.dz, dbias: buffers.dbias },
      workgroups: [workgroupCount(width, WORKGROUP)],
    }),
  );
  const { classTerm } = buffers;
  if (classTerm) {
    checkClassTerm(shape, classTerm, classTerm.dweight, "the class rows' gradient");
    dispatches.push(
      await rt.dispatch({
        ...elementwise,
        entry: 'grad_class',
        buffers: { dz_in: buffers.dz, labels: classTerm.labels, dclass_weight: classTerm.dweight },
        workgroups: [workgroupCount(width, WORKGROUP), classTerm.classes],
      }),
    );
  }
  return dispatches;
}
