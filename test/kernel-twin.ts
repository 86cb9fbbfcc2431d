// A kernel held against its CPU twin, as tinygrad's helper_test_op holds an op against torch: the test
// states the inputs' shapes, the GPU work and the twin's answers with their tolerances; this file makes
// the seeded inputs, uploads them, runs each step, reads back what the twin answered for, compares, and
// frees the buffers even when a comparison fails.
//
//   await checkTwin({
//     seed: 7,
//     inputs: { pred: [n, -2, 2], expected: [n, -2, 2] },
//     outputs: { dpred: n },
//     steps: [{
//       gpu: (t) => squaredErrorGrad(t.rt, { count: n, scale }, t.buffers),
//       twin: (t) => ({ dpred: { expected: referenceGrad(t.data.pred, t.data.expected, scale), tolerance: { atol: 1e-30, rtol: 3 * U } } }),
//     }],
//   });
//
// Steps run in order on the same buffers (forward, then backward; or one optimizer step after another),
// and each step's twin sees what earlier steps read back (`t.got`), so a backward pass can be checked
// from what the GPU's forward kept rather than from the twin's.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import type { Clock } from '../src/gpu/clock';
import type { Dispatch, Runtime } from '../src/gpu/runtime';
import { assertClose, gpu, randomArray, seededRandom } from './helpers';

export type Values = Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;

/**
 * One input: n floats uniform in [-1, 1], [n, lo, hi], the values themselves, or made from the test's
 * generator (and the inputs made before it, which it may adjust). Inputs are made in the order written,
 * all from one generator, so a test's data depends on its seed alone.
 */
export type InputSpec =
  | number
  | readonly [count: number, lo: number, hi: number]
  | Values
  | ((random: () => number, made: Record<string, Values>) => Values);

/** An output: n float32 zeros, or a buffer made by its owner (a stats buffer, a copy of an input to change in place). */
export type OutputSpec<D> = number | ((rt: Runtime, label: string, data: D) => GPUBuffer);

type Made<S> = S extends (...args: never[]) => infer V
  ? V
  : S extends Uint32Array
    ? Uint32Array<ArrayBuffer>
    : Float32Array<ArrayBuffer>;
export type InputValues<I> = { [K in keyof I]: Made<I[K]> };

export interface Tolerance {
  atol: number;
  rtol?: number;
  magnitude?: ArrayLike<number>;
}

/** What one buffer must hold after a step: the twin's values within `tolerance`, or equal bit for bit ('exact'). */
export interface Expectation<B> {
  /** Read as u32 when this is a Uint32Array, else as f32; its length is how many elements are read. */
  expected: ArrayLike<number>;
  tolerance: Tolerance | 'exact';
  /** The buffer to read where the expectation's key is a description rather than the buffer's name. */
  buffer?: keyof B & string;
}

export interface TwinContext<D, B> {
  rt: Runtime;
  clock: Clock;
  /** The generator the inputs came from, for data a step makes as it goes (the next gradient). */
  random: () => number;
  data: D;
  buffers: B;
  /** The last values read back from each buffer, by the buffer's name. */
  got: Record<string, Values>;
  /** Reads `count` elements of a buffer now (for twins that start from the GPU's own state). */
  read(buffer: keyof B & string, count: number, type?: 'f32'): Promise<Float32Array<ArrayBuffer>>;
  read(buffer: keyof B & string, count: number, type: 'u32'): Promise<Uint32Array<ArrayBuffer>>;
  read(buffer: keyof B & string, count: number, type: 'f32' | 'u32'): Promise<Values>;
}

export interface TwinStep<D, B> {
  /** The step's GPU work; it may write buffers first (the next gradient, a cleared sum). */
  gpu(t: TwinContext<D, B>): Dispatch | Dispatch[] | Promise<Dispatch | Dispatch[]>;
  /** The twin's answers for what the step wrote, keyed by buffer (or by description, with `buffer`). */
  twin(t: TwinContext<D, B>): Record<string, Expectation<B>> | Promise<Record<string, Expectation<B>>>;
  /** Checks beyond closeness to the twin, on what the comparisons read (`t.got`): a zero where a mask hides, a sum's meaning. */
  after?(t: TwinContext<D, B>): void | Promise<void>;
}

type Destroyable = { destroy?(): void };

export interface TwinSpec<I extends Record<string, InputSpec>, O extends string, B> {
  seed: number;
  inputs: I;
  /** Buffers the kernel writes (ignored where `buffers` is given). */
  outputs?: Record<O, OutputSpec<InputValues<I>>>;
  /**
   * Buffers made by their owner rather than uploaded one by one (a dense layer's come from
   * allocateDenseBuffers); its `destroy` is called at the end. Default: every input uploaded as
   * `test.<name>`, every output made.
   */
  buffers?: (t: Omit<TwinContext<InputValues<I>, never>, 'buffers' | 'got' | 'read'>) => B | Promise<B>;
  steps: TwinStep<InputValues<I>, B>[];
}

type Uploaded<I, O extends string> = { [K in keyof I | O]: GPUBuffer };

/** Runs `spec`'s steps on the GPU and checks each against its twin; returns what was made and read (the buffers already freed). */
export async function checkTwin<
  const I extends Record<string, InputSpec>,
  O extends string = never,
  B = Uploaded<I, O>,
>(spec: TwinSpec<I, O, B>): Promise<TwinContext<InputValues<I>, B>> {
  const { rt, clock } = await gpu();
  const random = seededRandom(spec.seed);
  const data = makeInputs(random, spec.inputs);
  const owned: GPUBuffer[] = [];
  let buffers: B;
  if (spec.buffers) {
    buffers = await spec.buffers({ rt, clock, random, data });
  } else {
    const made: Record<string, GPUBuffer> = {};
    for (const [name, values] of Object.entries(data)) made[name] = rt.upload(`test.${name}`, values as Values);
    for (const [name, output] of Object.entries<OutputSpec<InputValues<I>>>(spec.outputs ?? ({} as Record<O, never>))) {
      made[name] =
        typeof output === 'number' ? rt.createBuffer(`test.${name}`, output * 4) : output(rt, `test.${name}`, data);
    }
    owned.push(...Object.values(made));
    buffers = made as B;
  }
  const bufferOf = (name: string) => (buffers as Record<string, GPUBuffer>)[name];
  const t: TwinContext<InputValues<I>, B> = {
    rt,
    clock,
    random,
    data,
    buffers,
    got: {},
    read: (async (name: string, count: number, type: 'f32' | 'u32' = 'f32') => {
      const buffer = bufferOf(name);
      assert.ok(buffer, `no buffer named '${name}'`);
      const values = (type === 'u32' ? await rt.readU32(buffer, count) : await rt.readF32(buffer, count)) as Values;
      t.got[name] = values;
      return values;
    }) as TwinContext<InputValues<I>, B>['read'],
  };
  try {
    for (const step of spec.steps) {
      const dispatches = await step.gpu(t);
      rt.run(Array.isArray(dispatches) ? dispatches : [dispatches]);
      for (const [key, { expected, tolerance, buffer = key }] of Object.entries(await step.twin(t))) {
        const actual = await t.read(
          buffer as keyof B & string,
          expected.length,
          expected instanceof Uint32Array ? 'u32' : 'f32',
        );
        if (tolerance === 'exact') assertSame(key, actual, expected);
        else assertClose(key, actual, expected, tolerance);
      }
      await step.after?.(t);
    }
  } finally {
    (buffers as Destroyable).destroy?.();
    owned.forEach((b) => b.destroy());
  }
  return t;
}

/** Equal as assert.deepEqual has it (bit for bit for typed arrays of one kind), the message naming the first difference. */
function assertSame(what: string, actual: Values, expected: ArrayLike<number>): void {
  // Typed arrays equal only their own kind: the twin's plain or float64 values are compared as numbers.
  const [a, e] =
    expected instanceof actual.constructor ? [actual, expected] : [Array.from(actual), Array.from(expected)];
  if (isDeepStrictEqual(a, e)) return;
  let first = 0;
  while (first < Math.max(a.length, e.length) && Object.is(a[first], e[first])) first++;
  assert.fail(
    `${what}: element ${first} is ${a[first]}, expected ${e[first]} (length ${a.length}, expected ${e.length})`,
  );
}

function makeInputs<I extends Record<string, InputSpec>>(random: () => number, inputs: I): InputValues<I> {
  const made: Record<string, Values> = {};
  for (const [name, input] of Object.entries(inputs)) {
    if (typeof input === 'number') made[name] = randomArray(random, input);
    else if (typeof input === 'function') made[name] = input(random, made);
    else if (ArrayBuffer.isView(input)) made[name] = input;
    else made[name] = randomArray(random, input[0], input[1], input[2]);
  }
  return made as InputValues<I>;
}
