// The counter-based RNG itself (shaders/rng.wgsl and its twin src/reference/rng.ts): known answers,
// GPU = CPU bit for bit, independence of keys, and the distributions of what the kernels draw.
//
// Bounds and why:
// - Known answers: exact. Philox4x32-10 vectors from Random123's tests/kat_vectors (columns: counter
//   c0..c3, key k0 k1, output), on the CPU twin and, through a one-line kernel, on the GPU.
// - GPU = CPU: exact (integer arithmetic).
// - Different keys: two independent streams of n = 1e5 words agree at a given position with
//   probability 2^-32, so about n / 2^32 = 2e-5 equal positions are expected; more than 2 would be a
//   1e-15 event, so the bound is 2. Any of the n words of one stream appears anywhere in the other
//   about n^2 / 2^32 = 2.3 times (Poisson); more than 16 has probability below 1e-8. The second count
//   catches a key change that only shifts the same stream (rows for steps, say).
// - Statistics over n = 10^6 draws, each within 5 standard errors (a false alarm about once in 1.7
//   million runs; the seeds are fixed, so a pass is reproducible):
//     uniform [0, 1):  mean 1/2, SE sqrt(1/12 / n); variance 1/12, SE sqrt((1/80 - 1/144) / n)
//                      (the variance of (u - 1/2)^2); [low, high] scales both by the width.
//                      The 24-bit grid moves the mean by 2^-25 and the variance by 2^-48 / 12,
//                      far below a standard error (2.9e-4 and 7.5e-5).
//     gaussian:        mean 0, SE 1 / sqrt(n); variance 1, SE sqrt(2 / n) (the variance of g^2);
//                      P(|g| > 3) = 0.0026998, SE sqrt(p (1 - p) / n).
//     histograms:      chi-square of the uniform's 1000 equal bins (999 degrees of freedom: mean
//                      999, standard deviation sqrt(2 * 999) = 44.7), and of the raw words' low byte
//                      (256 bins, 255 dof: mean 255, sd 22.6), each below mean + 5 sd. The low bits
//                      matter because index_from_bits uses all 32.
//     Kolmogorov-Smirnov: sqrt(n) D below 2.5 for the uniform and the gaussian; P(sqrt(n) D > t) ~
//                      2 exp(-2 t^2) = 7.5e-6 at t = 2.5.
//   Dropout: the kept fraction of 10^6 elements within 5 SE of keep, SE sqrt(keep (1 - keep) / n),
//   overall and for each draw component (col % 4, 250,000 elements each); every value is 0 or scale.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Runtime } from '../../src/gpu/runtime';
import { readShaderFile } from '../../src/gpu/shader-files-node';
import { denseForward } from '../../src/kernels/dense';
import { allocateDenseBuffers } from '../../src/nn/dense-buffers';
import { gaussianNoise, noiseBits, uniformNoise } from '../../src/kernels/noise';
import { noiseBits as referenceBits } from '../../src/reference/noise';
import { philox4x32_10, STREAM_DROPOUT, STREAM_GATHER, STREAM_NOISE, type RngKey } from '../../src/spec/rng';
import { gpu } from '../helpers';

type Gpu = Awaited<ReturnType<typeof gpu>>;

/** counter (4 words), key (2 words), expected output (4 words), from Random123's kat_vectors. */
const KNOWN_ANSWERS: { counter: number[]; key: number[]; output: number[] }[] = [
  { counter: [0, 0, 0, 0], key: [0, 0], output: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    counter: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    output: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    output: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

// A test kernel that applies philox4x32_10 (from the prelude) to arbitrary counters and keys: the
// noise kernel's counters are (col / 4, row, step, sub), which cannot reach every known answer.
const knownAnswerShader = `// philox4x32_10 on given counters and keys, for test/kernels/rng.test.ts.
@group(0) @binding(0) var<storage, read> counters: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read> keys: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> outputs: array<vec4<u32>>;

@compute @workgroup_size(1)
fn known_answers(@builtin(global_invocation_id) gid: vec3<u32>) {
  outputs[gid.x] = philox4x32_10(counters[gid.x], keys[gid.x]);
}
`;

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => (w >>> 0).toString(16).padStart(8, '0')).join(' ');

async function drawBitsOnGpu({ rt, clock }: Gpu, rows: number, cols: number, key: RngKey): Promise<Uint32Array> {
  const out = rt.createBuffer('test.bits', rows * cols * 4);
  clock.set(key.step);
  rt.run([await noiseBits(rt, clock, { rows, cols, seed: key.seed, stream: key.stream, sub: key.sub }, out)]);
  const bits = await rt.readU32(out, rows * cols);
  out.destroy();
  return bits;
}

test('Philox4x32-10 known answers on the CPU twin', () => {
  for (const { counter, key, output } of KNOWN_ANSWERS) {
    assert.equal(hex(philox4x32_10(counter, key)), hex(output), `counter ${hex(counter)} key ${hex(key)}`);
  }
});

test('Philox4x32-10 known answers on the GPU', async () => {
  const { rt } = await gpu();
  const custom = new Runtime(rt.context, (name) =>
    name === 'known_answers' ? knownAnswerShader : readShaderFile(name),
  );
  const n = KNOWN_ANSWERS.length;
  const counters = custom.upload('test.counters', new Uint32Array(KNOWN_ANSWERS.flatMap((k) => k.counter)));
  const keys = custom.upload('test.keys', new Uint32Array(KNOWN_ANSWERS.flatMap((k) => k.key)));
  const outputs = custom.createBuffer('test.outputs', n * 16);
  custom.run([
    await custom.dispatch({
      shader: 'known_answers',
      entry: 'known_answers',
      buffers: { counters, keys, outputs },
      workgroups: [n],
    }),
  ]);
  const got = await custom.readU32(outputs, n * 4);
  KNOWN_ANSWERS.forEach(({ counter, key, output }, i) => {
    assert.equal(hex(got.subarray(4 * i, 4 * i + 4)), hex(output), `counter ${hex(counter)} key ${hex(key)}`);
  });
  for (const b of [counters, keys, outputs]) b.destroy();
});

test('the noise kernel draws the zero known answer at counter 0, key 0', async () => {
  // Element (0, c) of key (seed 0, stream 0) at step 0, sub 0 is component c of philox(0, 0).
  const bits = await drawBitsOnGpu(await gpu(), 1, 4, { seed: 0, stream: 0, step: 0, sub: 0 });
  assert.equal(hex(bits), hex(KNOWN_ANSWERS[0].output));
});

const bitShapes: [number, number, RngKey][] = [
  [317, 331, { seed: 1, stream: STREAM_NOISE, step: 0, sub: 0 }],
  [1, 100003, { seed: 0xffffffff, stream: STREAM_GATHER, step: 0xffffffff, sub: 0xfffffffe }],
  [65535, 2, { seed: 0x9e3779b9, stream: STREAM_DROPOUT + 5, step: 123456, sub: 7 }],
];

for (const [rows, cols, key] of bitShapes) {
  test(`the same key gives the same bits on GPU and CPU: ${rows} x ${cols}, key ${JSON.stringify(key)}`, async () => {
    const bits = await drawBitsOnGpu(await gpu(), rows, cols, key);
    const expected = referenceBits({ rows, cols }, key);
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] !== expected[i])
        assert.fail(`element (${Math.floor(i / cols)}, ${i % cols}): GPU ${hex([bits[i]])}, CPU ${hex([expected[i]])}`);
    }
  });
}

test('different seeds, streams, steps and subs give unrelated streams', async () => {
  const device = await gpu();
  const [rows, cols] = [250, 401];
  const base: RngKey = { seed: 2014, stream: STREAM_NOISE, step: 10, sub: 0 };
  const baseBits = await drawBitsOnGpu(device, rows, cols, base);
  const baseWords = new Set(baseBits);
  assert.ok(
    baseBits.length - baseWords.size <= 16,
    `${baseBits.length - baseWords.size} repeated words within one stream`,
  );
  const changes: Partial<RngKey>[] = [
    { seed: 2015 },
    { seed: (2014 ^ 0x80000000) >>> 0 },
    { stream: STREAM_GATHER },
    { stream: STREAM_DROPOUT },
    { stream: STREAM_DROPOUT + 1 },
    { step: 11 },
    { step: 0 },
    { sub: 1 },
    { sub: 10, step: 0 }, // step and sub swapped
    { seed: STREAM_NOISE, stream: 2014 }, // seed and stream swapped
  ];
  for (const change of changes) {
    const bits = await drawBitsOnGpu(device, rows, cols, { ...base, ...change });
    let samePosition = 0;
    let shared = 0;
    for (let i = 0; i < bits.length; i++) {
      if (bits[i] === baseBits[i]) samePosition++;
      if (baseWords.has(bits[i])) shared++;
    }
    assert.ok(
      samePosition <= 2,
      `${JSON.stringify(change)}: ${samePosition} of ${bits.length} words equal the base key's at the same place`,
    );
    assert.ok(
      shared <= 16,
      `${JSON.stringify(change)}: ${shared} of ${bits.length} words appear in the base key's stream`,
    );
  }
});

const N = 1000 * 1000;
const ROWS = 1000;
const COLS = 1000;

function moments(values: Float32Array): { mean: number; variance: number } {
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / values.length;
  let squares = 0;
  for (const v of values) squares += (v - mean) ** 2;
  return { mean, variance: squares / (values.length - 1) };
}

function assertWithin(what: string, value: number, expected: number, standardError: number): void {
  const z = (value - expected) / standardError;
  assert.ok(Math.abs(z) < 5, `${what} = ${value}, expected ${expected}: ${z.toFixed(2)} standard errors away`);
}

/** sqrt(n) times the Kolmogorov-Smirnov distance between the sample and the distribution `cdf`. */
function kolmogorovSmirnov(values: Float32Array, cdf: (x: number) => number): number {
  const sorted = Float32Array.from(values).sort();
  const n = sorted.length;
  let distance = 0;
  for (let i = 0; i < n; i++) {
    const f = cdf(sorted[i]);
    distance = Math.max(distance, (i + 1) / n - f, f - i / n);
  }
  return Math.sqrt(n) * distance;
}

function chiSquare(counts: number[], expected: number): number {
  return counts.reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
}

/** The standard normal CDF by Abramowitz and Stegun 7.1.26 (error below 1.5e-7, far below the KS bound's 2.5e-3). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

async function drawNoise(
  device: Gpu,
  kind: 'uniform' | 'gaussian',
  spec: { low?: number; high?: number; mean?: number; std?: number },
): Promise<Float32Array> {
  const { rt, clock } = device;
  const z = rt.createBuffer('test.z', N * 4);
  const key = { rows: ROWS, cols: COLS, seed: 4242, stream: STREAM_NOISE, sub: 0 };
  clock.set(99);
  const dispatch =
    kind === 'uniform'
      ? await uniformNoise(rt, clock, { ...key, low: spec.low!, high: spec.high! }, z)
      : await gaussianNoise(rt, clock, { ...key, mean: spec.mean, std: spec.std! }, z);
  rt.run([dispatch]);
  const values = await rt.readF32(z, N);
  z.destroy();
  return values;
}

test('uniform noise: mean, variance, histogram and KS over 10^6 draws', async () => {
  const device = await gpu();
  const u = await drawNoise(device, 'uniform', { low: 0, high: 1 });
  const { mean, variance } = moments(u);
  assertWithin('mean', mean, 1 / 2, Math.sqrt(1 / 12 / N));
  assertWithin('variance', variance, 1 / 12, Math.sqrt((1 / 80 - 1 / 144) / N));
  const bins = 1000;
  const counts = new Array(bins).fill(0);
  for (const v of u) {
    assert.ok(v >= 0 && v < 1, `uniform value ${v} outside [0, 1)`);
    counts[Math.floor(v * bins)]++;
  }
  const chi = chiSquare(counts, N / bins);
  assert.ok(chi < 999 + 5 * Math.sqrt(2 * 999), `chi-square ${chi.toFixed(1)} over ${bins} bins`);
  const ks = kolmogorovSmirnov(u, (x) => Math.min(Math.max(x, 0), 1));
  assert.ok(ks < 2.5, `sqrt(n) D = ${ks.toFixed(3)}`);
});

test('uniform noise on [-sqrt 3, sqrt 3] (the paper): mean 0, variance 1', async () => {
  const device = await gpu();
  const [low, high] = [-Math.sqrt(3), Math.sqrt(3)];
  const width = high - low;
  const z = await drawNoise(device, 'uniform', { low, high });
  const { mean, variance } = moments(z);
  assertWithin('mean', mean, 0, width * Math.sqrt(1 / 12 / N));
  assertWithin('variance', variance, 1, width ** 2 * Math.sqrt((1 / 80 - 1 / 144) / N));
  for (const v of z) assert.ok(v >= Math.fround(low) && v <= Math.fround(high), `value ${v} outside [low, high]`);
});

test('gaussian noise: mean, variance, tails and KS over 10^6 draws', async () => {
  const device = await gpu();
  const g = await drawNoise(device, 'gaussian', { mean: 0, std: 1 });
  const { mean, variance } = moments(g);
  assertWithin('mean', mean, 0, 1 / Math.sqrt(N));
  assertWithin('variance', variance, 1, Math.sqrt(2 / N));
  const tail = 2 * (1 - normalCdf(3));
  const beyond3 = g.filter((v) => Math.abs(v) > 3).length / N;
  assertWithin('P(|g| > 3)', beyond3, tail, Math.sqrt((tail * (1 - tail)) / N));
  const ks = kolmogorovSmirnov(g, normalCdf);
  assert.ok(ks < 2.5, `sqrt(n) D = ${ks.toFixed(3)}`);
  // A shifted and scaled draw is the same draw, moved: its moments follow.
  const shifted = await drawNoise(device, 'gaussian', { mean: 3, std: 0.5 });
  const m = moments(shifted);
  assertWithin('shifted mean', m.mean, 3, 0.5 / Math.sqrt(N));
  assertWithin('shifted variance', m.variance, 0.25, 0.25 * Math.sqrt(2 / N));
});

test('raw words: the low byte is uniform too (chi-square over 256 bins)', async () => {
  const bits = await drawBitsOnGpu(await gpu(), ROWS, COLS, { seed: 77, stream: STREAM_GATHER, step: 5, sub: 0 });
  const counts = new Array(256).fill(0);
  for (const w of bits) counts[w & 0xff]++;
  const chi = chiSquare(counts, N / 256);
  assert.ok(chi < 255 + 5 * Math.sqrt(2 * 255), `chi-square ${chi.toFixed(1)} over 256 bins`);
});

for (const [keep, scale] of [
  [0.8, 1.25],
  [0.5, 2],
]) {
  test(`dropout keeps ${keep} of a 1000 x 1000 input of ones, and the kept values equal the scale ${scale}`, async () => {
    const { rt, clock } = await gpu();
    const shape = { batch: ROWS, inFeatures: COLS, units: 1, pieces: 1, activation: 'identity' as const };
    const buffers = allocateDenseBuffers(rt, shape, {
      label: 'test',
      dropout: true,
      gradients: false,
      data: { x: new Float32Array(N).fill(1) },
    });
    clock.set(31);
    rt.run(
      await denseForward(rt, clock, shape, buffers, { keep, scale, seed: 555, stream: STREAM_DROPOUT + 2, sub: 1 }),
    );
    const dropped = await rt.readF32(buffers.dropped, N);
    const keptByComponent = [0, 0, 0, 0];
    for (let i = 0; i < N; i++) {
      const v = dropped[i];
      if (v === Math.fround(scale)) keptByComponent[(i % COLS) % 4]++;
      else if (v !== 0) assert.fail(`element ${i} is ${v}, neither 0 nor the scale ${scale}`);
    }
    const kept = keptByComponent.reduce((a, b) => a + b, 0);
    assertWithin('kept fraction', kept / N, keep, Math.sqrt((keep * (1 - keep)) / N));
    keptByComponent.forEach((k, c) =>
      assertWithin(`kept fraction of component ${c}`, k / (N / 4), keep, Math.sqrt((keep * (1 - keep)) / (N / 4))),
    );
    buffers.destroy();
  });
}
