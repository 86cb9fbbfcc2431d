// The buffers of one dense layer, made in one place: what src/kernels/dense.ts's denseForward and
// denseBackward take, sized from the layer's shape and labelled `<label>.<binding>` after the
// shaders' bindings (dense.forward.wgsl, dense.backward.wgsl). A network's pass (./mlp.ts), the
// kernel tests, the benches and the kernel-check page all build their layers' buffers here.
//
//   const b = allocateDenseBuffers(rt, shape, { label: 'test', dropout: true, data: { x, weight, bias, dy } });
//   rt.run(await denseForward(rt, clock, shape, b, dropout));
//   rt.run(await denseBackward(rt, clock, shape, b, { dropout }));
//   b.destroy();
//
// The object returned carries the wrappers' names, `saved` (the winners for maxout, else y) and
// `input` (dropout(x) with dropout, else x) included, so it is both wrappers' argument as it is.
import type { Runtime } from '../gpu/runtime';
import type { DenseShape } from '../spec/network';

export interface DenseBufferOptions {
  /** The labels' prefix: `${label}.x`, `${label}.dz_t` (default 'dense'). */
  label?: string;
  /** Make `dropped`, where the forward pass writes dropout(x) (a layer with dropout or an input map). Default false. */
  dropout?: boolean;
  /** Make `weight` and `bias` (and `dweight`, `dbias` with the gradients); false where they are ranges of a network's buffers. Default true. */
  parameters?: boolean;
  /** Make the backward pass's own buffers: `dy`, the scratch `dz` and `dzT`, `dweight` and `dbias` with the parameters. Default true. */
  gradients?: boolean;
  /** Make `dx`, dL/d(input) (batch, inFeatures). Default: as `gradients`. */
  inputGrad?: boolean;
  /** The layer's input when it exists already (the pass's input, the layer below's y): used as `x`, and left alone by destroy(). */
  x?: GPUBuffer;
  /** Initial contents (float32, exactly the buffer's elements); the rest start as zeros. */
  data?: { x?: Float32Array; weight?: Float32Array; bias?: Float32Array; dy?: Float32Array };
}

/** What an option asks for: its literal value when given as one, `boolean` when it is only known at run time, else `Default`. */
type Asked<O, K extends keyof DenseBufferOptions, Default extends boolean> = O extends { [k in K]?: infer V }
  ? V extends boolean
    ? V
    : Default
  : Default;
/** `T`'s buffers: present when asked, absent when refused, optional when it depends. */
type Made<Flag extends boolean, T> = [Flag] extends [true]
  ? T
  : [Flag] extends [false]
    ? { [K in keyof T]?: never }
    : Partial<T>;
type Both<A extends boolean, B extends boolean> = [A] extends [false]
  ? false
  : [B] extends [false]
    ? false
    : [A] extends [true]
      ? [B] extends [true]
        ? true
        : boolean
      : boolean;

interface Always {
  /** (batch, inFeatures): the layer's input. */
  x: GPUBuffer;
  /** (batch, units): the layer's output. */
  y: GPUBuffer;
  /** (batch, units) u32: the winning piece of each output, for maxout only. */
  winner?: GPUBuffer;
  /** What the backward pass reads of the forward's work: `winner` for maxout, else `y`. */
  saved: GPUBuffer;
  /** The layer's input as its product sees it: `dropped` with dropout, else `x`. */
  input: GPUBuffer;
  /** Destroys the buffers made here (not a given input). */
  destroy(): void;
}

type Gradients<O> = Asked<O, 'gradients', true>;
type Parameters<O> = Asked<O, 'parameters', true>;

/** The buffers `allocateDenseBuffers` made for options `O`, typed as present, absent or possible. */
export type DenseBuffers<O extends DenseBufferOptions = DenseBufferOptions> = Always &
  Made<Asked<O, 'dropout', false>, { dropped: GPUBuffer }> &
  Made<Parameters<O>, { weight: GPUBuffer; bias: GPUBuffer }> &
  Made<Gradients<O>, { dy: GPUBuffer; dz: GPUBuffer; dzT: GPUBuffer }> &
  Made<Both<Parameters<O>, Gradients<O>>, { dweight: GPUBuffer; dbias: GPUBuffer }> &
  Made<Asked<O, 'inputGrad', Gradients<O>>, { dx: GPUBuffer }>;

/** Floats of each buffer of a dense layer of `shape` (dz and dzT: of the scratch, see denseScratchFloats). */
export function denseBufferFloats(shape: DenseShape) {
  const { batch, inFeatures, units, pieces } = shape;
  const width = units * pieces;
  return {
    x: batch * inFeatures,
    dropped: batch * inFeatures,
    dx: batch * inFeatures,
    weight: inFeatures * width,
    dweight: inFeatures * width,
    bias: width,
    dbias: width,
    y: batch * units,
    winner: batch * units,
    dy: batch * units,
  };
}

/** Floats of each of dz and dzT, the backward pass's scratch: enough for every one of `shapes` (layers of one pass take turns with one pair). */
export function denseScratchFloats(...shapes: DenseShape[]): number {
  return Math.max(...shapes.map((s) => s.batch * s.units * s.pieces));
}

/** The backward pass's scratch dz and dzT, labelled `${label}.dz` and `${label}.dz_t`, shared by the layers of `shapes`. */
export function allocateDenseScratch(
  rt: Runtime,
  label: string,
  ...shapes: DenseShape[]
): { dz: GPUBuffer; dzT: GPUBuffer } {
  const bytes = denseScratchFloats(...shapes) * 4;
  return { dz: rt.createBuffer(`${label}.dz`, bytes), dzT: rt.createBuffer(`${label}.dz_t`, bytes) };
}

/** Makes the buffers of one dense layer of `shape` that `options` ask for (see DenseBufferOptions). */
export function allocateDenseBuffers<const O extends DenseBufferOptions = {}>(
  rt: Runtime,
  shape: DenseShape,
  options?: O,
): DenseBuffers<O> {
  const { label = 'dense', dropout = false, parameters = true, gradients = true, data = {} } = options ?? {};
  const inputGrad = options?.inputGrad ?? gradients;
  const floats = denseBufferFloats(shape);
  const made: GPUBuffer[] = [];
  const make = (name: keyof typeof floats, binding: string = name): GPUBuffer => {
    const contents = data[name as keyof typeof data];
    if (contents && contents.length !== floats[name]) {
      throw new RangeError(
        `${label}.${binding}: ${contents.length} values given, the layer's shape (${shape.batch}x${shape.inFeatures} -> ${shape.units}x${shape.pieces}) needs ${floats[name]}`,
      );
    }
    const buffer = contents
      ? rt.upload(`${label}.${binding}`, contents)
      : rt.createBuffer(`${label}.${binding}`, floats[name] * 4);
    made.push(buffer);
    return buffer;
  };
  if (options?.x && data.x) throw new Error(`${label}: both an input buffer and the input's values are given`);
  const x = options?.x ?? make('x');
  const buffers: Record<string, GPUBuffer> = { x };
  if (parameters) Object.assign(buffers, { weight: make('weight'), bias: make('bias') });
  if (dropout) buffers.dropped = make('dropped');
  buffers.y = make('y');
  if (shape.activation === 'maxout') buffers.winner = make('winner');
  if (gradients) {
    buffers.dy = make('dy');
    if (parameters) Object.assign(buffers, { dweight: make('dweight'), dbias: make('dbias') });
    Object.assign(buffers, allocateDenseScratch(rt, label, shape));
    made.push(buffers.dz, buffers.dzT);
  }
  if (inputGrad) buffers.dx = make('dx');
  return {
    ...buffers,
    saved: buffers.winner ?? buffers.y,
    input: buffers.dropped ?? x,
    destroy: () => made.forEach((b) => b.destroy()),
  } as unknown as DenseBuffers<O>;
}
