// shaders/gather.wgsl against src/reference/gather.ts: f32 and byte datasets, features that are not a
// multiple of 4 (rows of a byte dataset then start mid-word), ranges that start past row 0, datasets
// of more than 65535 rows, MNIST's size and a batch of 1000.
//
// Tolerance: exact. The indices are integer arithmetic on the same Philox bits; the values are a
// copy times scale, one f32 multiply on both sides (the twin's float64 product of a float32 and a
// byte or float32 is exact, so storing it rounds once, as the GPU does).
// Contrast-normalised bytes (gather_u8_contrast, CIFAR-10's global contrast normalisation): equal to
// the twin within 2^-22 * (rowScale + |x|). The twin rounds scale * v and then the difference, as the
// WGSL is written; a compiler may fuse the two into one multiply-add, which skips the product's
// rounding (at most 2^-24 of a value in [0, 1]) before the row's scale multiplies it.
// The distribution check: over 20,000 draws from 10 rows, the chi-square of the row counts (9
// degrees of freedom, mean 9, standard deviation sqrt(18) = 4.2) must be below 9 + 5 * 4.2 = 30.
import test from 'node:test';
import assert from 'node:assert/strict';
import { gatherDispatch, gatherLabelsDispatch } from '../../src/kernels/gather';
import { contrastParams, splitValues, type GpuDataset } from '../../src/data/dataset';
import { gatherLabels, gatherRows, type GatherSpec } from '../../src/reference/gather';
import { STREAM_GATHER, type RngKey } from '../../src/spec/rng';
import { gpu, randomArray, seededRandom } from '../helpers';
import { checkTwin } from '../kernel-twin';

type Runtime = Awaited<ReturnType<typeof gpu>>['rt'];

interface Case {
  name: string;
  format: 'u8' | 'f32';
  rows: number;
  features: number;
  batch: number;
  first?: number;
  count?: number;
}

const cases: Case[] = [
  { name: 'one row, one feature, batch 1', format: 'f32', rows: 1, features: 1, batch: 1 },
  { name: 'toy 2-D points, batch 7', format: 'f32', rows: 500, features: 2, batch: 7 },
  { name: 'odd 37 x 65, rows 5..30', format: 'f32', rows: 37, features: 65, batch: 13, first: 5, count: 25 },
  { name: 'bytes, 1 feature', format: 'u8', rows: 11, features: 1, batch: 5 },
  { name: 'bytes, 3 features (rows start mid-word)', format: 'u8', rows: 9, features: 3, batch: 17 },
  { name: 'bytes, 13 features, rows 2..7', format: 'u8', rows: 8, features: 13, batch: 31, first: 2, count: 5 },
  { name: '70,001 rows of 3 bytes', format: 'u8', rows: 70001, features: 3, batch: 200 },
  { name: '70,001 rows of 5 floats', format: 'f32', rows: 70001, features: 5, batch: 129 },
  {
    name: 'MNIST size: 60,000 x 784 bytes, the first 50,000, batch 1000',
    format: 'u8',
    rows: 60000,
    features: 784,
    batch: 1000,
    first: 0,
    count: 50000,
  },
];

/** Bytes as the GPU holds them: packed four to a u32, the last word padded with zeros. */
function packBytes(bytes: Uint8Array): Uint32Array<ArrayBuffer> {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

function uploadBytes(rt: Runtime, bytes: Uint8Array): GPUBuffer {
  return rt.upload('test.dataset_u8', packBytes(bytes));
}

function randomBytes(seed: number | (() => number), n: number): Uint8Array {
  const random = typeof seed === 'number' ? seededRandom(seed) : seed;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

async function runGather(
  rt: Runtime,
  clock: Awaited<ReturnType<typeof gpu>>['clock'],
  dataset: GpuDataset,
  batch: number,
  key: RngKey,
) {
  const x = rt.createBuffer('test.x', batch * dataset.features * 4);
  const indices = rt.createBuffer('test.indices', batch * 4);
  clock.set(key.step);
  rt.run([
    await gatherDispatch(rt, clock, { batch, seed: key.seed, stream: key.stream, sub: key.sub }, dataset, {
      x,
      indices,
    }),
  ]);
  const result = { x: await rt.readF32(x, batch * dataset.features), indices: await rt.readU32(indices, batch) };
  x.destroy();
  indices.destroy();
  return result;
}

for (const [index, c] of cases.entries()) {
  test(`gather ${c.format} ${c.name}: rows and indices equal the reference`, async () => {
    const first = c.first ?? 0;
    const count = c.count ?? c.rows - first;
    const scale = c.format === 'u8' ? 1 / 255 : 1;
    const values = c.rows * c.features;
    const key: RngKey = { seed: 314 + index, stream: STREAM_GATHER, step: 1000 + index, sub: index % 4 };
    await checkTwin({
      seed: index,
      inputs: {
        dataset: (random) => (c.format === 'u8' ? packBytes(randomBytes(random, values)) : randomArray(random, values)),
      },
      outputs: { x: c.batch * c.features, indices: c.batch },
      steps: [
        {
          gpu: ({ rt, clock, buffers }) => {
            clock.set(key.step);
            const dataset: GpuDataset = {
              buffer: buffers.dataset,
              format: c.format,
              features: c.features,
              first,
              count,
              scale,
            };
            return gatherDispatch(
              rt,
              clock,
              { batch: c.batch, seed: key.seed, stream: key.stream, sub: key.sub },
              dataset,
              buffers,
            );
          },
          twin: ({ data }) => {
            const rows =
              data.dataset instanceof Uint32Array ? new Uint8Array(data.dataset.buffer, 0, values) : data.dataset;
            const expected = gatherRows(rows, { batch: c.batch, features: c.features, first, count, scale }, key);
            return {
              indices: { expected: expected.indices, tolerance: 'exact' },
              x: { expected: expected.x, tolerance: 'exact' },
            };
          },
          after: ({ got: { indices } }) => {
            for (const i of indices)
              assert.ok(i >= first && i < first + count, `index ${i} outside rows [${first}, ${first + count})`);
          },
        },
      ],
    });
  });
}

interface ContrastCase {
  name: string;
  channels: number;
  height: number;
  width: number;
  rows: number;
  batch: number;
  first?: number;
  count?: number;
}

const contrastCases: ContrastCase[] = [
  { name: '1 x 3 x 3, one row', channels: 1, height: 3, width: 3, rows: 1, batch: 3 },
  {
    name: '3 x 5 x 7 (odd, rows start mid-word), rows 2..9',
    channels: 3,
    height: 5,
    width: 7,
    rows: 11,
    batch: 37,
    first: 2,
    count: 7,
  },
  { name: '3 x 32 x 32 (CIFAR-10), 300 rows, batch 100', channels: 3, height: 32, width: 32, rows: 300, batch: 100 },
  {
    name: '3 x 9 x 13, 70 rows, batch 65 (two workgroups a row)',
    channels: 3,
    height: 9,
    width: 13,
    rows: 70,
    batch: 65,
  },
];

for (const [index, c] of contrastCases.entries()) {
  test(`gather u8 with contrast normalisation, ${c.name}: equals the reference`, async () => {
    const features = c.channels * c.height * c.width;
    const first = c.first ?? 0;
    const count = c.count ?? c.rows - first;
    const key: RngKey = { seed: 77 + index, stream: STREAM_GATHER, step: 5 + index, sub: index % 3 };
    const bytesOf = (words: Uint32Array) => new Uint8Array(words.buffer, 0, c.rows * features);
    await checkTwin({
      seed: 50 + index,
      inputs: {
        dataset: (random) => {
          const bytes = randomBytes(random, c.rows * features);
          // A flat image (every byte the same) takes pylearn2's divisor-of-1 branch.
          bytes.fill(77, 0, features);
          return packBytes(bytes);
        },
        contrast: (_, { dataset }) => contrastParams(bytesOf(dataset as Uint32Array), c.rows, features, 55),
      },
      outputs: { x: c.batch * features, indices: c.batch },
      steps: [
        {
          gpu: ({ rt, clock, buffers }) => {
            clock.set(key.step);
            const dataset: GpuDataset = {
              buffer: buffers.dataset,
              format: 'u8',
              features,
              first,
              count,
              scale: 1 / 255,
              contrast: buffers.contrast,
            };
            return gatherDispatch(
              rt,
              clock,
              { batch: c.batch, seed: key.seed, stream: key.stream, sub: key.sub },
              dataset,
              buffers,
            );
          },
          twin: ({ data: { dataset, contrast } }) => {
            const expected = gatherRows(
              bytesOf(dataset),
              { batch: c.batch, features, first, count, scale: 1 / 255, contrast },
              key,
            );
            // Within 2^-22 (rowScale + |x|): a fused multiply-add may skip the product's rounding before the row's scale multiplies it.
            const magnitude = Float64Array.from(
              expected.x,
              (e, i) => contrast[2 * expected.indices[Math.floor(i / features)] + 1] + Math.abs(e),
            );
            return {
              indices: { expected: expected.indices, tolerance: 'exact' },
              x: { expected: expected.x, tolerance: { atol: 0, rtol: 2 ** -22, magnitude } },
            };
          },
        },
      ],
    });
  });
}

test('contrast normalisation: every image centred, norm 55 (pylearn2 global_contrast_normalize), a flat image all zero', () => {
  const [channels, height, width, rows] = [3, 5, 7, 6];
  const features = channels * height * width;
  const bytes = randomBytes(3, rows * features);
  bytes.fill(200, 2 * features, 3 * features);
  const values = splitValues({ channels, height, width, contrastScale: 55 }, { pixels: bytes }, 0, rows);
  for (let i = 0; i < rows; i++) {
    const row = values.subarray(i * features, (i + 1) * features);
    const mean = row.reduce((a, v) => a + v, 0) / features;
    const norm = Math.sqrt(row.reduce((a, v) => a + v * v, 0));
    assert.ok(Math.abs(mean) < 1e-5, `image ${i}: mean ${mean}`);
    if (i === 2) assert.equal(norm, 0, 'the flat image');
    else assert.ok(Math.abs(norm - 55) < 1e-3, `image ${i}: norm ${norm}`);
    // Against the definition in float64 on the byte values.
    const raw = Array.from(bytes.subarray(i * features, (i + 1) * features));
    const rawMean = raw.reduce((a, v) => a + v, 0) / features;
    const rawNorm = Math.sqrt(raw.reduce((a, v) => a + (v - rawMean) ** 2, 0));
    for (let f = 0; f < features; f++) {
      const want = rawNorm / 55 < 1e-8 ? raw[f] - rawMean : ((raw[f] - rawMean) * 55) / rawNorm;
      assert.ok(Math.abs(row[f] - want) < 1e-4, `image ${i} value ${f}: ${row[f]} against ${want}`);
    }
  }
});

test('gather: the stream defaults to STREAM_GATHER, and other keys and steps draw other batches', async () => {
  const { rt, clock } = await gpu();
  const points = randomArray(seededRandom(9), 1000 * 2);
  const dataset: GpuDataset = {
    buffer: rt.upload('test.points', points),
    format: 'f32',
    features: 2,
    first: 0,
    count: 1000,
    scale: 1,
  };
  const spec: GatherSpec = { batch: 64, features: 2, first: 0, count: 1000, scale: 1 };
  const base: RngKey = { seed: 8, stream: STREAM_GATHER, step: 3, sub: 0 };
  const x = rt.createBuffer('test.x', 64 * 2 * 4);
  const indices = rt.createBuffer('test.indices', 64 * 4);
  const baseIndices = gatherRows(points, spec, base).indices;
  clock.set(base.step);
  rt.run([await gatherDispatch(rt, clock, { batch: 64, seed: 8, sub: 0 }, dataset, { x, indices })]);
  assert.deepEqual(await rt.readU32(indices, 64), baseIndices);
  for (const change of [{ seed: 9 }, { stream: STREAM_GATHER + 1 }, { step: 4 }, { sub: 1 }]) {
    const key = { ...base, ...change };
    const got = await runGather(rt, clock, dataset, 64, key);
    assert.deepEqual(got.indices, gatherRows(points, spec, key).indices);
    const same = got.indices.filter((v, r) => v === baseIndices[r]).length;
    // Independent uniform draws from 1000 rows agree in about 64 / 1000 places.
    assert.ok(same <= 5, `${JSON.stringify(change)}: ${same} of 64 rows equal the base key's`);
  }
  x.destroy();
  indices.destroy();
  dataset.buffer.destroy();
});

test('gather: draws are uniform over the range, with replacement', async () => {
  const { rt, clock } = await gpu();
  const rows = 10;
  const batch = 20000;
  const values = new Float32Array(rows).map((_, i) => i);
  const dataset: GpuDataset = {
    buffer: rt.upload('test.values', values),
    format: 'f32',
    features: 1,
    first: 0,
    count: rows,
    scale: 1,
  };
  const got = await runGather(rt, clock, dataset, batch, { seed: 2024, stream: STREAM_GATHER, step: 0, sub: 0 });
  const counts = new Array(rows).fill(0);
  for (const i of got.indices) counts[i]++;
  const expected = batch / rows;
  const chiSquare = counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
  assert.ok(chiSquare < 9 + 5 * Math.sqrt(18), `chi-square ${chiSquare.toFixed(1)} of row counts ${counts}`);
  assert.deepEqual(got.x, new Float32Array(got.indices));

  const single: GpuDataset = { ...dataset, first: 4, count: 1 };
  const one = await runGather(rt, clock, single, 50, { seed: 1, stream: STREAM_GATHER, step: 0, sub: 0 });
  assert.deepEqual(one.indices, new Uint32Array(50).fill(4), 'a range of one row draws it every time');
  dataset.buffer.destroy();
});

test('gather: bad batches, ranges and buffers are refused with the limit named', async () => {
  const { rt, clock } = await gpu();
  const buffer = rt.createBuffer('test.dataset_u8', 64);
  const x = rt.createBuffer('test.x', 4 * 16);
  const indices = rt.createBuffer('test.indices', 16);
  const dataset: GpuDataset = { buffer, format: 'u8', features: 8, first: 0, count: 8, scale: 1 / 255 };
  const key = { batch: 2, seed: 0, sub: 0 };
  await assert.rejects(
    gatherDispatch(rt, clock, { ...key, batch: 0 }, dataset, { x, indices }),
    /gather: batch must be a positive integer/,
  );
  await assert.rejects(
    gatherDispatch(rt, clock, key, { ...dataset, count: 0 }, { x, indices }),
    /not a non-empty range/,
  );
  await assert.rejects(
    gatherDispatch(rt, clock, key, { ...dataset, first: 1 }, { x, indices }),
    /'test.dataset_u8' holds 64 bytes, fewer than rows \[1, 9\)/,
  );
  await assert.rejects(
    gatherDispatch(rt, clock, key, { ...dataset, format: 'f32', count: 4 }, { x, indices }),
    /fewer than rows \[0, 4\) of 8 f32 values need \(128\)/,
  );
  await assert.rejects(
    gatherDispatch(rt, clock, { ...key, batch: 3 }, dataset, { x, indices }),
    /'test.x' holds 64 bytes, fewer than 3 x 8 floats need/,
  );
  // Padded to 48 bytes, the (offset, scale) of 6 rows: rows [0, 8) need 64.
  const contrast = rt.createBuffer('test.contrast', 48);
  await assert.rejects(
    gatherDispatch(rt, clock, key, { ...dataset, contrast }, { x, indices }),
    /contrast buffer 'test.contrast' holds 48 bytes, fewer than rows \[0, 8\) of \(offset, scale\) need \(64\)/,
  );
  await assert.rejects(
    gatherDispatch(rt, clock, key, { ...dataset, format: 'f32', count: 2, contrast }, { x, indices }),
    /contrast normalisation applies to byte datasets, not f32/,
  );
  contrast.destroy();
  const big = { x: rt.createBuffer('test.big_x', 70000 * 4), indices: rt.createBuffer('test.big_indices', 70000 * 4) };
  await assert.rejects(
    gatherDispatch(rt, clock, { ...key, batch: 70000 }, { ...dataset, features: 1 }, big),
    /70000 workgroups along axis y exceed the device limit maxComputeWorkgroupsPerDimension/,
  );
  for (const b of [buffer, x, indices, big.x, big.indices]) b.destroy();
});

// A conditional GAN's labels: each gathered row's class, read on the GPU from labels uploaded once.
// Exact (integers). Odd batches (1, 3, a workgroup and one more), a range past row 0, 47 classes.
for (const [batch, rows, first, classes] of [
  [1, 5, 0, 10],
  [3, 17, 4, 2],
  [65, 300, 20, 10],
  [257, 1000, 0, 47],
]) {
  test(`gather labels: batch ${batch} of rows ${first}..${rows - 1}, ${classes} classes, equal the reference`, async () => {
    const { rt, clock } = await gpu();
    const features = 3;
    const random = seededRandom(batch);
    const data = randomBytes(batch, rows * features);
    const labelValues = Uint32Array.from({ length: rows }, () => Math.floor(random() * classes));
    const labels = rt.upload('test.labels', labelValues);
    const dataset: GpuDataset = {
      buffer: uploadBytes(rt, data),
      format: 'u8',
      features,
      first,
      count: rows - first,
      scale: 1 / 255,
      labels,
      classes,
    };
    const key: RngKey = { seed: 5 + batch, stream: STREAM_GATHER, step: 3, sub: 4 };
    const x = rt.createBuffer('test.x', batch * features * 4);
    const indices = rt.createBuffer('test.indices', batch * 4);
    // One word past the batch, to catch a write beyond it.
    const rowLabels = rt.upload('test.row_labels', new Uint32Array(batch + 1).fill(0xdeadbeef));
    clock.set(key.step);
    rt.run([
      await gatherDispatch(rt, clock, { batch, seed: key.seed, stream: key.stream, sub: key.sub }, dataset, {
        x,
        indices,
      }),
      await gatherLabelsDispatch(rt, batch, dataset, { indices, rowLabels }),
    ]);
    const expected = gatherRows(data, { batch, features, first, count: rows - first, scale: 1 / 255 }, key);
    const got = await rt.readU32(rowLabels, batch + 1);
    assert.deepEqual(got.subarray(0, batch), gatherLabels(labelValues, expected.indices));
    assert.equal(got[batch], 0xdeadbeef, 'nothing written past the batch');
    for (const b of [x, indices, rowLabels, labels, dataset.buffer]) b.destroy();
  });
}

test('gather labels: data without labels is refused by name', async () => {
  const { rt } = await gpu();
  const buffer = rt.upload('test.unlabelled', new Float32Array(8));
  const b = rt.createBuffer('test.b', 16);
  await assert.rejects(
    gatherLabelsDispatch(
      rt,
      4,
      { buffer, format: 'f32', features: 2, first: 0, count: 4, scale: 1 },
      { indices: b, rowLabels: b },
    ),
    /gather: dataset buffer 'test.unlabelled' has no labels/,
  );
  buffer.destroy();
  b.destroy();
});
