// shaders/dense.forward.wgsl and shaders/dense.backward.wgsl (with shaders/activations.wgsl and shaders/tiles.wgsl)
// against src/reference/dense.ts.
//
// Tolerance: |gpu - reference| <= 1e-6 + 2e-6 * M, where M is the same sum taken over absolute
// values (sum_k |x_k w_k| + |b| for the forward, likewise for each gradient). The reference sums in
// float64; the GPU sums K <= 1200 float32 products, whose rounding error is bounded by K u M in the
// worst case and is near sqrt(K) u M in practice (u = 2^-24 = 6e-8, so about 2e-6 M at K = 1200).
// A wrong index or a missing term errs by the size of a term, orders of magnitude above this.
// Dropout is compared bit for bit: the mask comes from the same Philox bits on both sides. Kept
// inputs that are shifted (scale * x + shift) may differ by the product's rounding, where the GPU's
// compiler fuses the multiply and the add (lavapipe does). Shifted cases cover an affine input map
// alone (keep 1: D's pixels on [-1, 1]) and dropout of a mapped input.
import test from 'node:test';
import assert from 'node:assert/strict';
import { denseBackward, denseForward, type GpuDropout } from '../../src/kernels/dense';
import { allocateDenseBuffers } from '../../src/nn/dense-buffers';
import {
  denseForward as referenceForward,
  denseGradBias,
  denseGradClass,
  denseGradInput,
  denseGradWeight,
  dropoutForward,
  type SavedActivation,
} from '../../src/reference/dense';
import type { DenseShape } from '../../src/spec/network';
import { STREAM_DROPOUT } from '../../src/spec/rng';
import { abs } from '../helpers';
import { checkTwin, type Values } from '../kernel-twin';

const ATOL = 1e-6;
const RTOL = 2e-6;

interface Case {
  name: string;
  shape: DenseShape;
  dropout?: { keep: number; scale: number; shift?: number };
}

const cases: Case[] = [
  { name: 'batch 1, 1 -> 1 identity', shape: { batch: 1, inFeatures: 1, units: 1, pieces: 1, activation: 'identity' } },
  { name: 'odd 3x5 -> 7 relu', shape: { batch: 3, inFeatures: 5, units: 7, pieces: 1, activation: 'relu' } },
  { name: 'odd 13x17 -> 9 sigmoid', shape: { batch: 13, inFeatures: 17, units: 9, pieces: 1, activation: 'sigmoid' } },
  {
    name: 'batch 1, 37 -> 33 relu, dropout .5',
    shape: { batch: 1, inFeatures: 37, units: 33, pieces: 1, activation: 'relu' },
    dropout: { keep: 0.5, scale: 2 },
  },
  {
    name: 'odd 5x7 -> 3x2 maxout, dropout .8',
    shape: { batch: 5, inFeatures: 7, units: 3, pieces: 2, activation: 'maxout' },
    dropout: { keep: 0.8, scale: 1.25 },
  },
  {
    name: 'odd 11x29 -> 13x3 maxout',
    shape: { batch: 11, inFeatures: 29, units: 13, pieces: 3, activation: 'maxout' },
  },
  // Units and features multiples of 4 take the vec4 path; these are not multiples of the tiles.
  {
    name: 'vec4 path 13x20 -> 36 relu, dropout .5',
    shape: { batch: 13, inFeatures: 20, units: 36, pieces: 1, activation: 'relu' },
    dropout: { keep: 0.5, scale: 2 },
  },
  {
    name: 'vec4 path 11x28 -> 12x3 maxout, dropout .8',
    shape: { batch: 11, inFeatures: 28, units: 12, pieces: 3, activation: 'maxout' },
    dropout: { keep: 0.8, scale: 1.25 },
  },
  {
    name: 'vec4 path 9x4 -> 4 sigmoid',
    shape: { batch: 9, inFeatures: 4, units: 4, pieces: 1, activation: 'sigmoid' },
  },
  {
    name: 'mixed 12x6 -> 8 relu (aligned units and batch, unaligned features)',
    shape: { batch: 12, inFeatures: 6, units: 8, pieces: 1, activation: 'relu' },
  },
  {
    name: 'D output 240 -> 1 at batch 200, dropout .5',
    shape: { batch: 200, inFeatures: 240, units: 1, pieces: 1, activation: 'identity' },
    dropout: { keep: 0.5, scale: 2 },
  },
  {
    name: 'odd 7x30 -> 5x2 maxout, input map 2x - 1',
    shape: { batch: 7, inFeatures: 30, units: 5, pieces: 2, activation: 'maxout' },
    dropout: { keep: 1, scale: 2, shift: -1 },
  },
  {
    name: 'odd 5x13 -> 6 relu, input map 0.7x + 0.3',
    shape: { batch: 5, inFeatures: 13, units: 6, pieces: 1, activation: 'relu' },
    dropout: { keep: 1, scale: 0.7, shift: 0.3 },
  },
  {
    name: 'small D 100x784 -> 48x5 maxout, dropout .8 of 2x - 1',
    shape: { batch: 100, inFeatures: 784, units: 48, pieces: 5, activation: 'maxout' },
    dropout: { keep: 0.8, scale: 2.5, shift: -1.25 },
  },
  {
    name: 'paper G 100x100 -> 1200 relu',
    shape: { batch: 100, inFeatures: 100, units: 1200, pieces: 1, activation: 'relu' },
  },
  {
    name: 'paper G 100x1200 -> 1200 relu',
    shape: { batch: 100, inFeatures: 1200, units: 1200, pieces: 1, activation: 'relu' },
  },
  {
    name: 'paper G 100x1200 -> 784 sigmoid',
    shape: { batch: 100, inFeatures: 1200, units: 784, pieces: 1, activation: 'sigmoid' },
  },
  {
    name: 'paper D 200x784 -> 240x5 maxout, dropout .8',
    shape: { batch: 200, inFeatures: 784, units: 240, pieces: 5, activation: 'maxout' },
    dropout: { keep: 0.8, scale: 1.25 },
  },
  {
    name: 'paper D 200x240 -> 240x5 maxout, dropout .5',
    shape: { batch: 200, inFeatures: 240, units: 240, pieces: 5, activation: 'maxout' },
    dropout: { keep: 0.5, scale: 2 },
  },
];

/** The routing the backward pass reads, as the GPU's forward kept it: a near-tie there cannot change the twin's routing. */
function savedOf(got: Record<string, Values>, maxout: boolean): SavedActivation<Float32Array> {
  return maxout ? { y: got.y as Float32Array, winner: got.winner as Uint32Array } : { y: got.y as Float32Array };
}

/** Each output's largest |x| W + |b| over its pieces: what bounds the rounding of the piece that won. */
function largestPiece(magnitude: Float32Array, { batch, units, pieces }: DenseShape): Float32Array {
  const width = units * pieces;
  return new Float32Array(batch * units).map((_, i) =>
    Math.max(
      ...Array.from({ length: pieces }, (_, p) => magnitude[Math.floor(i / units) * width + p * units + (i % units)]),
    ),
  );
}

const within = (magnitude: ArrayLike<number>) => ({ atol: ATOL, rtol: RTOL, magnitude });

for (const [index, { name, shape, dropout }] of cases.entries()) {
  test(`dense ${name}: forward and backward match the reference`, async () => {
    const { batch, inFeatures, units, pieces } = shape;
    const width = units * pieces;
    const maxout = shape.activation === 'maxout';
    const step = 7 + index;
    const gpuDropout: GpuDropout | undefined = dropout && {
      ...dropout,
      seed: 1234,
      stream: STREAM_DROPOUT + index,
      sub: 3,
    };
    const referenceDropout = gpuDropout && {
      keep: gpuDropout.keep,
      scale: gpuDropout.scale,
      shift: gpuDropout.shift,
      rng: { seed: 1234, stream: STREAM_DROPOUT + index, step, sub: 3 },
    };
    // The twin's dropout(x): what the product saw.
    let input = new Float32Array();
    await checkTwin({
      seed: 1000 + index,
      inputs: {
        x: batch * inFeatures,
        weight: [inFeatures * width, -0.5, 0.5],
        bias: [width, -0.5, 0.5],
        dy: batch * units,
        oldDweight: inFeatures * width,
        oldDbias: width,
      },
      buffers: ({ rt, data: { x, weight, bias, dy } }) =>
        allocateDenseBuffers(rt, shape, {
          label: 'test',
          dropout: dropout !== undefined,
          data: { x, weight, bias, dy },
        }),
      steps: [
        {
          gpu: ({ rt, clock, buffers }) => {
            clock.set(step);
            return denseForward(rt, clock, shape, buffers, gpuDropout);
          },
          twin: async ({ data: { x, weight, bias }, read }) => {
            input = referenceDropout ? dropoutForward(x, batch, inFeatures, referenceDropout) : x;
            const expected = referenceForward(input, weight, bias, shape);
            const magnitude = referenceForward(abs(input), abs(weight), abs(bias), {
              ...shape,
              pieces: 1,
              units: width,
              activation: 'identity',
            }).y;
            if (maxout) {
              const winner = await read('winner', batch * units, 'u32');
              for (let i = 0; i < winner.length; i++) {
                if (winner[i] === expected.winner![i]) continue;
                // A near-tie may go either way in float32; then the two pieces' values must agree.
                const b = Math.floor(i / units);
                const u = i % units;
                const z = (p: number) => expected.preactivation[b * width + p * units + u];
                const bound = ATOL + RTOL * magnitude[b * width + winner[i] * units + u];
                assert.ok(
                  Math.abs(z(winner[i]) - z(expected.winner![i])) <= 2 * bound,
                  `maxout winner ${i}: gpu piece ${winner[i]}, reference ${expected.winner![i]}`,
                );
              }
            }
            // Bit for bit, but where the input is shifted a compiler may fuse scale * x + shift into
            // one rounding, which then skips the product's: within a float32 ulp of the product plus one of the result.
            const dropped = referenceDropout && {
              'dropout(x)': {
                buffer: 'dropped' as const,
                expected: input,
                tolerance: referenceDropout.shift
                  ? {
                      atol: 0,
                      rtol: 2 ** -23,
                      magnitude: input.map((v, i) => Math.abs(x[i] * referenceDropout.scale) + Math.abs(v)),
                    }
                  : ('exact' as const),
              },
            };
            return {
              ...dropped,
              [`${shape.activation} y`]: {
                buffer: 'y',
                expected: expected.y,
                tolerance: within(maxout ? largestPiece(magnitude, shape) : magnitude),
              },
            };
          },
        },
        {
          gpu: ({ rt, clock, buffers }) => denseBackward(rt, clock, shape, buffers, { dropout: gpuDropout }),
          twin: ({ data: { weight, dy }, got }) => {
            const saved = savedOf(got, maxout);
            return {
              dx: {
                expected: denseGradInput(dy, saved, weight, shape, referenceDropout),
                tolerance: within(denseGradInput(abs(dy), saved, abs(weight), shape, referenceDropout)),
              },
              dweight: {
                expected: denseGradWeight(input, dy, saved, shape),
                tolerance: within(denseGradWeight(abs(input), abs(dy), saved, shape)),
              },
              dbias: {
                expected: denseGradBias(dy, saved, shape),
                tolerance: within(denseGradBias(abs(dy), saved, shape)),
              },
            };
          },
        },
        {
          gpu: ({ rt, clock, buffers, data: { oldDweight, oldDbias } }) => {
            rt.device.queue.writeBuffer(buffers.dweight, 0, oldDweight);
            rt.device.queue.writeBuffer(buffers.dbias, 0, oldDbias);
            return denseBackward(
              rt,
              clock,
              shape,
              { ...buffers, dx: undefined },
              { dropout: gpuDropout, accumulate: true },
            );
          },
          twin: ({ data: { dy, oldDweight, oldDbias }, got }) => {
            const saved = savedOf(got, maxout);
            return {
              'accumulated dweight': {
                buffer: 'dweight',
                expected: denseGradWeight(input, dy, saved, shape, oldDweight),
                tolerance: within(denseGradWeight(abs(input), abs(dy), saved, shape, abs(oldDweight))),
              },
              'accumulated dbias': {
                buffer: 'dbias',
                expected: denseGradBias(dy, saved, shape, oldDbias),
                tolerance: within(denseGradBias(abs(dy), saved, shape, abs(oldDbias))),
              },
            };
          },
        },
      ],
    });
  });
}

// A conditional layer's class term: forward_class / forward_maxout_class against the twin's
// x W + E[c] + b, and grad_class against denseGradClass (fresh and accumulated), on odd sizes:
// batches that are not multiples of the tile, classes that some rows share and one no row has,
// units off the vec4 path and on it, with dropout (of x only) and maxout.
const classCases: Case[] = [
  { name: 'odd 5x7 -> 9 relu, 3 classes', shape: { batch: 5, inFeatures: 7, units: 9, pieces: 1, activation: 'relu' } },
  {
    name: 'odd 13x17 -> 11 sigmoid, dropout .5',
    shape: { batch: 13, inFeatures: 17, units: 11, pieces: 1, activation: 'sigmoid' },
    dropout: { keep: 0.5, scale: 2 },
  },
  {
    name: 'odd 11x29 -> 13x3 maxout, input map and dropout .8',
    shape: { batch: 11, inFeatures: 29, units: 13, pieces: 3, activation: 'maxout' },
    dropout: { keep: 0.8, scale: 2.5, shift: -1.25 },
  },
  {
    name: "vec4 path 37x100 -> 64 relu (G's first layer)",
    shape: { batch: 37, inFeatures: 100, units: 64, pieces: 1, activation: 'relu' },
  },
  {
    name: 'vec4 path 9x28 -> 12x3 maxout',
    shape: { batch: 9, inFeatures: 28, units: 12, pieces: 3, activation: 'maxout' },
  },
];

for (const [index, { name, shape, dropout }] of classCases.entries()) {
  test(`dense class term ${name}: forward and grad_class match the reference`, async () => {
    const { batch, inFeatures, units, pieces } = shape;
    const width = units * pieces;
    const classes = 3 + index;
    const step = 3 + index;
    const gpuDropout: GpuDropout | undefined = dropout && {
      ...dropout,
      seed: 99,
      stream: STREAM_DROPOUT + index,
      sub: 1,
    };
    const referenceDropout = gpuDropout && {
      keep: gpuDropout.keep,
      scale: gpuDropout.scale,
      shift: gpuDropout.shift,
      rng: { seed: 99, stream: STREAM_DROPOUT + index, step, sub: 1 },
    };
    const maxout = shape.activation === 'maxout';
    // The twin's y without the class rows, which must differ from the GPU's.
    let without = new Float32Array();
    await checkTwin({
      seed: 5000 + index,
      inputs: {
        // Class classes - 1 is never drawn: its rows must stay out of y and get a zero gradient.
        labels: Uint32Array.from({ length: batch }, (_, b) => (b * 7 + index) % (classes - 1)),
        x: batch * inFeatures,
        weight: [inFeatures * width, -0.5, 0.5],
        bias: [width, -0.5, 0.5],
        classWeight: [classes * width, -1, 1],
        dy: batch * units,
        oldDclass: classes * width,
      },
      buffers: ({ rt, data: { x, weight, bias, dy, classWeight, labels } }) => {
        const layer = allocateDenseBuffers(rt, shape, {
          label: 'test',
          dropout: dropout !== undefined,
          inputGrad: false,
          data: { x, weight, bias, dy },
        });
        const classBuffers = {
          classWeight: rt.upload('test.class_weight', classWeight),
          labels: rt.upload('test.labels', labels),
          dclass: rt.createBuffer('test.dclass', classWeight.byteLength),
        };
        const destroy = () => [layer, ...Object.values(classBuffers)].forEach((b) => b.destroy());
        return {
          ...layer,
          ...classBuffers,
          forward: { weight: classBuffers.classWeight, labels: classBuffers.labels, classes },
          backward: { dweight: classBuffers.dclass, labels: classBuffers.labels, classes },
          destroy,
        };
      },
      steps: [
        {
          gpu: ({ rt, clock, buffers }) => {
            clock.set(step);
            return denseForward(rt, clock, shape, { ...buffers, classTerm: buffers.forward }, gpuDropout);
          },
          twin: async ({ data: { x, weight, bias, classWeight, labels }, read }) => {
            const input = referenceDropout ? Float32Array.from(await read('dropped', x.length)) : x;
            if (referenceDropout && !referenceDropout.shift)
              assert.deepEqual(
                input,
                dropoutForward(x, batch, inFeatures, referenceDropout),
                'dropout acts on x alone, as without classes',
              );
            const expected = referenceForward(input, weight, bias, shape, { weight: classWeight, labels });
            const magnitude = referenceForward(
              abs(input),
              abs(weight),
              abs(bias),
              { ...shape, pieces: 1, units: width, activation: 'identity' },
              { weight: abs(classWeight), labels },
            ).y;
            without = referenceForward(input, weight, bias, shape).y;
            return {
              ...(maxout && {
                'maxout winners (classes this far apart leave no near-ties)': {
                  buffer: 'winner' as const,
                  expected: expected.winner!,
                  tolerance: 'exact' as const,
                },
              }),
              [`${shape.activation} y with class rows`]: {
                buffer: 'y',
                expected: expected.y,
                tolerance: within(largestPiece(magnitude, shape)),
              },
            };
          },
          after: ({ got: { y } }) =>
            assert.ok(
              without.some((v, i) => Math.abs(v - y[i]) > 1e-3),
              'the class rows change y',
            ),
        },
        {
          gpu: ({ rt, clock, buffers }) =>
            denseBackward(rt, clock, shape, { ...buffers, classTerm: buffers.backward }, { dropout: gpuDropout }),
          twin: ({ data: { dy, labels }, got }) => {
            const saved = savedOf(got, maxout);
            return {
              dclass_weight: {
                buffer: 'dclass',
                expected: denseGradClass(dy, saved, shape, labels, classes),
                tolerance: within(denseGradClass(abs(dy), saved, shape, labels, classes)),
              },
            };
          },
          after: ({ got: { dclass } }) =>
            assert.ok(
              dclass.subarray((classes - 1) * width).every((v) => v === 0),
              'a class no row has gets no gradient',
            ),
        },
        {
          gpu: ({ rt, clock, buffers, data: { oldDclass } }) => {
            rt.device.queue.writeBuffer(buffers.dclass, 0, oldDclass);
            return denseBackward(
              rt,
              clock,
              shape,
              { ...buffers, classTerm: buffers.backward },
              { dropout: gpuDropout, accumulate: true },
            );
          },
          twin: async ({ rt, clock, buffers, data: { dy, labels, oldDclass }, got }) => {
            await assert.rejects(
              denseForward(
                rt,
                clock,
                shape,
                { ...buffers, classTerm: { ...buffers.forward, classes: classes + 1 } },
                gpuDropout,
              ),
              /fewer than \d+ class rows/,
            );
            const saved = savedOf(got, maxout);
            const magnitude = denseGradClass(abs(dy), saved, shape, labels, classes).map(
              (v, i) => v + Math.abs(oldDclass[i]),
            );
            return {
              'accumulated dclass_weight': {
                buffer: 'dclass',
                expected: denseGradClass(dy, saved, shape, labels, classes, oldDclass),
                tolerance: within(magnitude),
              },
            };
          },
        },
      ],
    });
  });
}
