// shaders/noise.wgsl against src/reference/noise.ts, on odd shapes (cols not a multiple of 4, one
// row, one column) and the paper's (100, 100).
//
// Tolerances:
// - bits: exact. Philox is integer arithmetic; any difference is a bug.
// - uniform: exact, against one of the two roundings WGSL allows. z = low + width * u with u a
//   24-bit uniform, exact in f32. Computed as written (two roundings) it is the twin's value; a
//   compiler may contract it into fma(width, u, low) (one rounding), which can differ in the last
//   bit. Each element must equal one of the two exactly; `fmaF32` below computes the contracted
//   value exactly. Measured on lavapipe (Mesa llvmpipe): no contraction, every element equals the
//   twin. A wrong column, row or key changes the value by O(high - low), never by one ulp.
// - gaussian: |gpu - twin| <= 3e-5 * std + 2^-22 * |twin|. The twin rounds every step to f32 but
//   takes log, cos and sin from float64; WGSL's log, cos and sin are approximations (the spec allows
//   3 ulp for log and 2^-11 absolute for sin and cos on [-pi, pi]). The radius is at most
//   sqrt(-2 ln 2^-24) = 5.8, so a few 1e-7 of absolute error in cos or sin, or a few ulps of
//   relative error in the radius, moves the normal value by a few 1e-6: measured worst on lavapipe
//   7.8e-6 * std over 3e5 values. The bound is four times that; the relative term covers the final
//   rounding of mean + std * g when the mean dominates. A wrong pairing of draw components or a
//   wrong key errs by O(std).
import test from 'node:test';
import assert from 'node:assert/strict';
import { classNoise, gaussianNoise, noiseBits, noiseDispatch, uniformNoise } from '../../src/kernels/noise';
import * as reference from '../../src/reference/noise';
import { STREAM_CLASS, STREAM_NOISE, unitFromBits, type RngKey } from '../../src/spec/rng';
import { assertClose, gpu } from '../helpers';

const SQRT3 = Math.sqrt(3);

const shapes: [number, number][] = [
  [1, 1],
  [1, 7],
  [7, 1],
  [3, 5],
  [2, 4],
  [13, 6],
  [5, 1023],
  [100, 100],
  [300, 1001],
];

/** A canary after the last element: the kernel must write rows * cols values and nothing more. */
const CANARY = 0xdeadbeef;
const CANARY_WORDS = 8;

function outputBuffer(rt: Awaited<ReturnType<typeof gpu>>['rt'], label: string, n: number): GPUBuffer {
  const words = new Uint32Array(n + CANARY_WORDS).fill(CANARY);
  return rt.upload(label, words);
}

async function readChecked(
  rt: Awaited<ReturnType<typeof gpu>>['rt'],
  buffer: GPUBuffer,
  n: number,
  what: string,
): Promise<ArrayBuffer> {
  const words = new Uint32Array(await rt.read(buffer, (n + CANARY_WORDS) * 4));
  assert.deepEqual([...words.subarray(n)], new Array(CANARY_WORDS).fill(CANARY), `${what}: wrote past the end of z`);
  return words.buffer.slice(0, n * 4);
}

/** float32 fma(a, b, c), correctly rounded: a * b is exact in float64 (24 x 24 bits), the sum is
 * rounded to odd in float64 (Boldo and Melquiond: rounding to odd with 53 >= 24 + 2 bits makes
 * the later rounding to float32 correct), then rounded to float32. */
function fmaF32(a: number, b: number, c: number): number {
  const product = a * b;
  const sum = product + c;
  // TwoSum: the exact rounding error of `sum`.
  const bVirtual = sum - product;
  const error = product - (sum - bVirtual) + (c - bVirtual);
  if (error === 0) return Math.fround(sum);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, sum);
  const low = view.getUint32(4);
  if ((low & 1) === 1) return Math.fround(sum);
  // Round to odd: step one float64 ulp toward the exact value.
  const towardLarger = error > 0 === sum > 0;
  view.setBigUint64(0, view.getBigUint64(0) + (towardLarger ? 1n : -1n));
  return Math.fround(view.getFloat64(0));
}

for (const [index, [rows, cols]] of shapes.entries()) {
  const key: RngKey = { seed: 20141 + index, stream: STREAM_NOISE, step: 11 + index, sub: index % 3 };
  const gpuKey = { rows, cols, seed: key.seed, stream: key.stream, sub: key.sub };
  const n = rows * cols;

  test(`noise ${rows}x${cols}: raw bits equal the reference's`, async () => {
    const { rt, clock } = await gpu();
    const out = outputBuffer(rt, 'test.bits', n);
    clock.set(key.step);
    rt.run([await noiseBits(rt, clock, gpuKey, out)]);
    assert.deepEqual(new Uint32Array(await readChecked(rt, out, n, 'bits')), reference.noiseBits({ rows, cols }, key));
    out.destroy();
  });

  test(`noise ${rows}x${cols}: uniform equals the reference bit for bit`, async () => {
    const { rt, clock } = await gpu();
    const out = outputBuffer(rt, 'test.z', n);
    const bits = reference.noiseBits({ rows, cols }, key);
    clock.set(key.step);
    for (const [low, high] of [
      [-SQRT3, SQRT3],
      [0, 1],
      [0.3, 7.1],
      [-1000.5, 3.25],
    ]) {
      rt.run([await uniformNoise(rt, clock, { ...gpuKey, low, high }, out)]);
      const z = new Float32Array(await readChecked(rt, out, n, 'uniform'));
      const twin = reference.uniformNoise({ rows, cols }, key, low, high);
      const width = Math.fround(Math.fround(high) - Math.fround(low));
      for (let i = 0; i < n; i++) {
        if (z[i] === twin[i]) continue;
        const contracted = fmaF32(width, unitFromBits(bits[i]), Math.fround(low));
        assert.equal(
          z[i],
          contracted,
          `uniform [${low}, ${high}] element ${i}: ${z[i]} is neither the twin's ${twin[i]} nor the contracted ${contracted}`,
        );
      }
    }
    out.destroy();
  });

  test(`noise ${rows}x${cols}: gaussian matches the reference`, async () => {
    const { rt, clock } = await gpu();
    const out = outputBuffer(rt, 'test.z', n);
    clock.set(key.step);
    for (const [mean, std] of [
      [0, 1],
      [0.5, 2],
      [-3, 0.1],
    ]) {
      rt.run([await gaussianNoise(rt, clock, { ...gpuKey, mean, std }, out)]);
      const z = new Float32Array(await readChecked(rt, out, n, 'gaussian'));
      assertClose(`gaussian mean ${mean} std ${std}`, z, reference.gaussianNoise({ rows, cols }, key, std, mean), {
        atol: 3e-5 * std,
        rtol: 2 ** -22,
      });
    }
    out.destroy();
  });
}

test('noise: the stream defaults to STREAM_NOISE, and the config form picks the distribution', async () => {
  const { rt, clock } = await gpu();
  const [rows, cols] = [9, 10];
  const key: RngKey = { seed: 5, stream: STREAM_NOISE, step: 3, sub: 1 };
  const out = rt.createBuffer('test.z', rows * cols * 4);
  clock.set(key.step);
  rt.run([await uniformNoise(rt, clock, { rows, cols, seed: 5, sub: 1, low: -SQRT3, high: SQRT3 }, out)]);
  assert.deepEqual(await rt.readF32(out, rows * cols), reference.uniformNoise({ rows, cols }, key, -SQRT3, SQRT3));
  const config = { rows, cols, seed: 5, sub: 1, low: -1, high: 1, std: 0.5 };
  rt.run([await noiseDispatch(rt, clock, { ...config, distribution: 'gaussian' }, out)]);
  assertClose(
    'config gaussian',
    await rt.readF32(out, rows * cols),
    reference.gaussianNoise({ rows, cols }, key, 0.5),
    { atol: 3e-5 * 0.5, rtol: 2 ** -22 },
  );
  out.destroy();
});

test('noise: one dispatch replayed draws afresh at every clock step', async () => {
  const { rt, clock } = await gpu();
  const [rows, cols] = [4, 9];
  const out = rt.createBuffer('test.bits', rows * cols * 4);
  const dispatch = await noiseBits(rt, clock, { rows, cols, seed: 77, sub: 2 }, out);
  for (const step of [0, 1, 2, 0xffffffff]) {
    clock.set(step);
    rt.run([dispatch]);
    assert.deepEqual(
      await rt.readU32(out, rows * cols),
      reference.noiseBits({ rows, cols }, { seed: 77, stream: STREAM_NOISE, step, sub: 2 }),
      `step ${step}`,
    );
  }
  out.destroy();
});

test('noise: bad shapes, ranges and buffers are refused with the field named', async () => {
  const { rt, clock } = await gpu();
  const small = rt.createBuffer('test.small', 16);
  const key = { seed: 1, sub: 0 };
  await assert.rejects(
    uniformNoise(rt, clock, { ...key, rows: 0, cols: 4, low: 0, high: 1 }, small),
    /noise: rows must be a positive integer/,
  );
  await assert.rejects(
    uniformNoise(rt, clock, { ...key, rows: 1, cols: 2.5, low: 0, high: 1 }, small),
    /noise: cols must be a positive integer/,
  );
  await assert.rejects(
    uniformNoise(rt, clock, { ...key, rows: 1, cols: 4, low: 1, high: 0 }, small),
    /low 1 and high 0/,
  );
  await assert.rejects(gaussianNoise(rt, clock, { ...key, rows: 1, cols: 4, std: -1 }, small), /std -1/);
  await assert.rejects(
    noiseBits(rt, clock, { ...key, rows: 3, cols: 4 }, small),
    /'test.small' holds 16 bytes, fewer than 3 x 4 values need/,
  );
  small.destroy();
});

// A conditional G's classes: integer draws, so exact. Odd row counts (1, 3, a workgroup and one more,
// more rows than one draw's four lanes) and class counts (2, 3, 10, 47, 1000).
for (const [rows, classes] of [
  [1, 10],
  [3, 2],
  [65, 3],
  [100, 10],
  [257, 47],
  [1000, 1000],
]) {
  test(`noise classes: ${rows} rows of ${classes} classes equal the reference`, async () => {
    const { rt, clock } = await gpu();
    const key: RngKey = { seed: 31 + rows, stream: STREAM_CLASS, step: 7 + classes, sub: 2 };
    const out = outputBuffer(rt, 'test.labels', rows);
    clock.set(key.step);
    rt.run([await classNoise(rt, clock, { rows, classes, seed: key.seed, sub: key.sub }, out)]);
    const labels = new Uint32Array(await readChecked(rt, out, rows, 'classes'));
    const twin = reference.classNoise(rows, classes, key);
    assert.deepEqual(labels, twin);
    assert.ok(
      labels.every((c) => c < classes),
      'every class is in range',
    );
    out.destroy();
  });
}

test("noise classes: uniform over the classes, and apart from z's draws", async () => {
  const { rt, clock } = await gpu();
  const [rows, classes] = [10_000, 10];
  const out = rt.createBuffer('test.labels', rows * 4);
  clock.set(4);
  rt.run([await classNoise(rt, clock, { rows, classes, seed: 9, sub: 0 }, out)]);
  const labels = await rt.readU32(out, rows);
  const counts = new Array(classes).fill(0);
  for (const c of labels) counts[c]++;
  // Each count is binomial(10,000, .1): sd 30; 150 is five of them.
  for (const [c, n] of counts.entries())
    assert.ok(Math.abs(n - rows / classes) < 150, `class ${c} drawn ${n} times of ${rows}`);
  // Keyed by STREAM_CLASS, not STREAM_NOISE: the same key on z's stream draws other classes.
  const onNoiseStream = reference.classNoise(rows, classes, { seed: 9, stream: STREAM_NOISE, step: 4, sub: 0 });
  assert.ok(
    labels.some((c, i) => c !== onNoiseStream[i]),
    'the classes come from their own stream',
  );
  await assert.rejects(
    classNoise(rt, clock, { rows: 0, classes, seed: 1, sub: 0 }, out),
    /noise: rows must be a positive integer/,
  );
  await assert.rejects(
    classNoise(rt, clock, { rows: 20_000, classes, seed: 1, sub: 0 }, out),
    /fewer than 20000 labels need/,
  );
  out.destroy();
});
