// shaders/gather.wgsl against src/reference/gather.ts: f32 and byte datasets, features that are not a
// multiple of 4 (rows of a byte dataset then start mid-word), ranges that start past row 0, datasets
// of more than 65535 rows, MNIST's size and a batch of 1000.
//
// Tolerance: exact. The indices are integer arithmetic on the same Philox bits; the values are a
// copy times scale, one f32 multiply on both sides (the twin's float64 product of a float32 and a
// byte or float32 is exact, so storing it rounds once, as the GPU does).
// The distribution check: over 20,000 draws from 10 rows, the chi-square of the row counts (9
// degrees of freedom, mean 9, standard deviation sqrt(18) = 4.2) must be below 9 + 5 * 4.2 = 30.
import test from 'node:test';
import assert from 'node:assert/strict';
import { gatherDispatch } from '../../src/kernels/gather';
import type { GpuDataset } from '../../src/data/dataset';
import { gatherRows, type GatherSpec } from '../../src/reference/gather';
import { STREAM_GATHER, type RngKey } from '../../src/spec/rng';
import { gpu, randomArray, seededRandom } from '../helpers';

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
  { name: 'MNIST size: 60,000 x 784 bytes, the first 50,000, batch 1000', format: 'u8', rows: 60000, features: 784, batch: 1000, first: 0, count: 50000 },
];

function uploadBytes(rt: Runtime, bytes: Uint8Array): GPUBuffer {
  const words = new Uint32Array(Math.ceil(bytes.length / 4));
  new Uint8Array(words.buffer).set(bytes);
  return rt.upload('test.dataset_u8', words);
}

function randomBytes(seed: number, n: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

async function runGather(rt: Runtime, clock: Awaited<ReturnType<typeof gpu>>['clock'], dataset: GpuDataset, batch: number, key: RngKey) {
  const x = rt.createBuffer('test.x', batch * dataset.features * 4);
  const indices = rt.createBuffer('test.indices', batch * 4);
  clock.set(key.step);
  rt.run([await gatherDispatch(rt, clock, { batch, seed: key.seed, stream: key.stream, sub: key.sub }, dataset, { x, indices })]);
  const result = { x: await rt.readF32(x, batch * dataset.features), indices: await rt.readU32(indices, batch) };
  x.destroy();
  indices.destroy();
  return result;
}

for (const [index, c] of cases.entries()) {
  test(`gather ${c.format} ${c.name}: rows and indices equal the reference`, async () => {
    const { rt, clock } = await gpu();
    const first = c.first ?? 0;
    const count = c.count ?? c.rows - first;
    const scale = c.format === 'u8' ? 1 / 255 : 1;
    const data = c.format === 'u8' ? randomBytes(index, c.rows * c.features) : randomArray(seededRandom(index), c.rows * c.features);
    const buffer = data instanceof Uint8Array ? uploadBytes(rt, data) : rt.upload('test.dataset_f32', data);
    const dataset: GpuDataset = { buffer, format: c.format, features: c.features, first, count, scale };
    const key: RngKey = { seed: 314 + index, stream: STREAM_GATHER, step: 1000 + index, sub: index % 4 };
    const spec: GatherSpec = { batch: c.batch, features: c.features, first, count, scale };

    const got = await runGather(rt, clock, dataset, c.batch, key);
    const expected = gatherRows(data, spec, key);
    assert.deepEqual(got.indices, expected.indices);
    for (const i of got.indices) assert.ok(i >= first && i < first + count, `index ${i} outside rows [${first}, ${first + count})`);
    assert.deepEqual(got.x, expected.x);
    buffer.destroy();
  });
}

test('gather: the stream defaults to STREAM_GATHER, and other keys and steps draw other batches', async () => {
  const { rt, clock } = await gpu();
  const points = randomArray(seededRandom(9), 1000 * 2);
  const dataset: GpuDataset = { buffer: rt.upload('test.points', points), format: 'f32', features: 2, first: 0, count: 1000, scale: 1 };
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
  const dataset: GpuDataset = { buffer: rt.upload('test.values', values), format: 'f32', features: 1, first: 0, count: rows, scale: 1 };
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
  await assert.rejects(gatherDispatch(rt, clock, { ...key, batch: 0 }, dataset, { x, indices }), /gather: batch must be a positive integer/);
  await assert.rejects(gatherDispatch(rt, clock, key, { ...dataset, count: 0 }, { x, indices }), /not a non-empty range/);
  await assert.rejects(gatherDispatch(rt, clock, key, { ...dataset, first: 1 }, { x, indices }), /'test.dataset_u8' holds 64 bytes, fewer than rows \[1, 9\)/);
  await assert.rejects(gatherDispatch(rt, clock, key, { ...dataset, format: 'f32', count: 4 }, { x, indices }), /fewer than rows \[0, 4\) of 8 f32 values need \(128\)/);
  await assert.rejects(gatherDispatch(rt, clock, { ...key, batch: 3 }, dataset, { x, indices }), /'test.x' holds 64 bytes, fewer than 3 x 8 floats need/);
  const big = { x: rt.createBuffer('test.big_x', 70000 * 4), indices: rt.createBuffer('test.big_indices', 70000 * 4) };
  await assert.rejects(gatherDispatch(rt, clock, { ...key, batch: 70000 }, { ...dataset, features: 1 }, big), /70000 workgroups along axis y exceed the device limit maxComputeWorkgroupsPerDimension/);
  for (const b of [buffer, x, indices, big.x, big.indices]) b.destroy();
});
