// The GEMM tile's variants (src/kernels/tiles.ts tileVariants, shaders/tiles*.wgsl) and the tuner
// that chooses among them (src/kernels/tune.ts, with tune-mode.ts, tune-store.ts and tune-timing.ts).
//
// Every variant the adapter offers (the device here is asked for `subgroups`, so the subgroup form
// runs where the adapter has it) runs the dense forward, grad_input and grad_weight and the Parzen
// distances on odd sizes, with depths past one chunk of the workgroup form (64) and not a multiple
// of it, against the CPU twins (src/reference/dense.ts, parzen.ts) with test/kernels/dense.test.ts's
// tolerance, |gpu - reference| <= 1e-6 + 2e-6 * M (M: the same sum over absolute values), and
// against the shipped variant bit for bit: every form sums the same products in the same order,
// which is what lets a run resume bit-exactly whichever variant each run chose.
//
// The tuner: a choice is timed once and then read from the cache (a second tuner on the same store
// times nothing); a new shader source or another adapter name times again; GAN_TUNE=off takes the
// shipped tile without timing, fresh times again; small products are not timed; the Node store's
// files. No time is asserted.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireDevice } from '../../src/gpu/device';
import { Clock } from '../../src/gpu/clock';
import { Runtime } from '../../src/gpu/runtime';
import { assembleShader } from '../../src/gpu/shaders';
import { denseBackward, denseForward } from '../../src/kernels/dense';
import { allocateDenseBuffers } from '../../src/nn/dense-buffers';
import { columnNorms, pairDistances, rowNorms } from '../../src/kernels/parzen';
import { GEMM_TILES, tileVariants, type TileVariant } from '../../src/kernels/tiles';
import { setTuner, Tuner } from '../../src/kernels/tune';
import { knownVariantNames, parseTuneMode, TuneModeError } from '../../src/kernels/tune-mode';
import { memoryTuneStore, type TuneStore } from '../../src/kernels/tune-store';
import { platformTuneStore, tuneDirectory } from '../../src/kernels/tune-store-node';
import {
  denseForward as referenceForward,
  denseGradInput,
  denseGradWeight,
  dropoutForward,
} from '../../src/reference/dense';
import { squaredDistances } from '../../src/reference/parzen';
import type { DenseShape } from '../../src/spec/network';
import { STREAM_DROPOUT } from '../../src/spec/rng';
import { abs, assertClose, randomArray, seededRandom } from '../helpers';

const ATOL = 1e-6;
const RTOL = 2e-6;

let shared: Promise<{ rt: Runtime; clock: Clock; subgroupMaxSize?: number }> | undefined;
function device() {
  shared ??= acquireDevice({ optionalFeatures: ['timestamp-query', 'subgroups' as GPUFeatureName] }).then((context) => {
    context.device.addEventListener('uncapturederror', (event) => {
      console.error(`Uncaptured WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
      process.exitCode = 1;
    });
    const subgroupMaxSize = (context.adapter.info as { subgroupMaxSize?: number }).subgroupMaxSize;
    return { rt: new Runtime(context), clock: new Clock(context.device), subgroupMaxSize };
  });
  return shared;
}

async function offered(): Promise<TileVariant[]> {
  const { rt, subgroupMaxSize } = await device();
  return tileVariants('denseForward', { features: rt.device.features, subgroupMaxSize });
}

/** Makes the runtime run `variant` for every GEMM it builds from now on. */
function runVariant(rt: Runtime, variant: TileVariant): void {
  setTuner(rt, new Tuner(rt, { mode: variant.name, store: memoryTuneStore(), log: () => {} }));
}

test("each tile form is the one file a variant's kernel is assembled with: shaders/tiles.registers.wgsl, shaders/tiles.workgroup.wgsl, shaders/tiles.subgroups.wgsl", () => {
  // The forms' kernels are compared with the CPU twins in the tests below (every offered variant).
  const tileFiles = (shader: string) =>
    assembleShader(shader)
      .segments.map((s) => s.file)
      .filter((f) => f.startsWith('shaders/tiles.'));
  for (const kernel of ['dense.forward', 'dense.backward', 'parzen']) {
    assert.deepEqual(tileFiles(kernel), ['shaders/tiles.wgsl', 'shaders/tiles.registers.wgsl']);
    assert.deepEqual(tileFiles(`${kernel}+workgroup`), ['shaders/tiles.wgsl', 'shaders/tiles.workgroup.wgsl']);
    assert.deepEqual(tileFiles(`${kernel}+subgroups`), ['shaders/tiles.wgsl', 'shaders/tiles.subgroups.wgsl']);
  }
});

test('the variants on offer: the shipped tile first, a workgroup form, and a subgroup form where the device has subgroups', async () => {
  const { rt } = await device();
  const names = (await offered()).map((v) => v.name);
  assert.equal(names[0], 'registers/8');
  assert.ok(names.some((n) => n.startsWith('workgroup/')));
  assert.equal(
    names.some((n) => n.startsWith('subgroups/')),
    rt.device.features.has('subgroups'),
  );
  assert.deepEqual(
    tileVariants('denseForward', { features: new Set() }).map((v) => v.name),
    ['registers/8', 'registers/64', 'workgroup/64'],
  );
  assert.deepEqual(
    tileVariants('denseForward', { features: new Set(), software: true }).map((v) => v.name),
    ['registers/8'],
  );
  assert.deepEqual(
    tileVariants('denseForward', { features: new Set(['subgroups']), subgroupMaxSize: 8, software: true }).map(
      (v) => v.name,
    ),
    ['registers/8', 'subgroups/8'],
  );
  assert.deepEqual(
    tileVariants('parzenDistances', { features: new Set(['subgroups']), subgroupMaxSize: 32 }).at(-1)!.tile,
    { ...GEMM_TILES.parzenDistances, form: 'subgroups', lanes: 32 },
  );
  assert.deepEqual(parseTuneMode(undefined), { kind: 'auto' });
  assert.deepEqual(parseTuneMode('off'), { kind: 'off' });
  assert.deepEqual(parseTuneMode('workgroup'), { kind: 'force', name: 'workgroup' });
});

const denseCases: { name: string; shape: DenseShape; dropout?: { keep: number; scale: number } }[] = [
  {
    name: '13x70 -> 9x3 maxout, dropout .8',
    shape: { batch: 13, inFeatures: 70, units: 9, pieces: 3, activation: 'maxout' },
    dropout: { keep: 0.8, scale: 1.25 },
  },
  { name: '67x5 -> 70 sigmoid', shape: { batch: 67, inFeatures: 5, units: 70, pieces: 1, activation: 'sigmoid' } },
  {
    name: '12x132 -> 36 relu (the vec4 path)',
    shape: { batch: 12, inFeatures: 132, units: 36, pieces: 1, activation: 'relu' },
  },
  { name: '1x1 -> 1 identity', shape: { batch: 1, inFeatures: 1, units: 1, pieces: 1, activation: 'identity' } },
];

for (const [index, { name, shape, dropout }] of denseCases.entries()) {
  test(`dense ${name}: every variant matches the twin and the shipped variant bit for bit`, async () => {
    const { rt, clock } = await device();
    const random = seededRandom(500 + index);
    const { batch, inFeatures, units, pieces } = shape;
    const width = units * pieces;
    const x = randomArray(random, batch * inFeatures);
    const weight = randomArray(random, inFeatures * width, -0.5, 0.5);
    const bias = randomArray(random, width, -0.5, 0.5);
    const dy = randomArray(random, batch * units);
    const step = 3 + index;
    const gpuDropout = dropout && { ...dropout, seed: 99, stream: STREAM_DROPOUT + index, sub: 1 };
    const input = gpuDropout
      ? dropoutForward(x, batch, inFeatures, {
          keep: gpuDropout.keep,
          scale: gpuDropout.scale,
          rng: { seed: 99, stream: STREAM_DROPOUT + index, step, sub: 1 },
        })
      : x;
    const maxout = shape.activation === 'maxout';
    const expected = referenceForward(input, weight, bias, shape);
    const magnitude = referenceForward(abs(input), abs(weight), abs(bias), {
      ...shape,
      pieces: 1,
      units: width,
      activation: 'identity',
    }).y;
    const yMagnitude = new Float32Array(batch * units).map((_, i) =>
      Math.max(
        ...Array.from({ length: pieces }, (_, p) => magnitude[Math.floor(i / units) * width + p * units + (i % units)]),
      ),
    );
    let shipped: Float32Array[] | undefined;
    for (const variant of await offered()) {
      runVariant(rt, variant);
      const buffers = allocateDenseBuffers(rt, shape, {
        label: 'tune',
        dropout: dropout !== undefined,
        data: { x, weight, bias, dy },
      });
      clock.set(step);
      rt.run(await denseForward(rt, clock, shape, buffers, gpuDropout));
      const y = await rt.readF32(buffers.y, batch * units);
      // A near-tie between pieces may pick either in float32; the max itself is within the bound.
      assertClose(`${variant.name} y`, y, expected.y, { atol: ATOL, rtol: RTOL, magnitude: yMagnitude });
      // Only maxout writes winners (none: an empty array, the same for every variant).
      const winner = buffers.winner ? await rt.readU32(buffers.winner, batch * units) : new Uint32Array(0);
      const saved = maxout ? { y, winner } : { y };
      rt.run(await denseBackward(rt, clock, shape, buffers, { dropout: gpuDropout }));
      const dropoutSpec = gpuDropout && {
        keep: gpuDropout.keep,
        scale: gpuDropout.scale,
        rng: { seed: 99, stream: STREAM_DROPOUT + index, step, sub: 1 },
      };
      const dx = await rt.readF32(buffers.dx, x.length);
      assertClose(`${variant.name} dx`, dx, denseGradInput(dy, saved, weight, shape, dropoutSpec), {
        atol: ATOL,
        rtol: RTOL,
        magnitude: denseGradInput(abs(dy), saved, abs(weight), shape, dropoutSpec),
      });
      const dweight = await rt.readF32(buffers.dweight, weight.length);
      assertClose(`${variant.name} dweight`, dweight, denseGradWeight(input, dy, saved, shape), {
        atol: ATOL,
        rtol: RTOL,
        magnitude: denseGradWeight(abs(input), abs(dy), saved, shape),
      });
      const results = [y, new Float32Array(winner.buffer), dx, dweight];
      if (!shipped) shipped = results;
      else
        results.forEach((r, i) =>
          assert.deepEqual(
            new Uint32Array(r.buffer),
            new Uint32Array(shipped![i].buffer),
            `${variant.name}: ${['y', 'winner', 'dx', 'dweight'][i]} differs from the shipped variant's bits`,
          ),
        );
      buffers.destroy();
    }
  });
}

for (const [index, shape] of [
  { points: 37, samples: 45, features: 70 },
  { points: 16, samples: 20, features: 8 },
  { points: 1, samples: 3, features: 129 },
].entries()) {
  test(`parzen distances ${shape.points} x ${shape.samples} x ${shape.features}: every variant matches the twin and the shipped variant bit for bit`, async () => {
    const { rt } = await device();
    const random = seededRandom(900 + index);
    const x = randomArray(random, shape.points * shape.features, 0, 1);
    const mu = randomArray(random, shape.samples * shape.features, 0, 1);
    const muT = new Float32Array(shape.features * shape.samples);
    for (let s = 0; s < shape.samples; s++)
      for (let k = 0; k < shape.features; k++) muT[k * shape.samples + s] = mu[s * shape.features + k];
    const expected = squaredDistances(x, mu, shape.points, shape.samples, shape.features);
    let shipped: Float32Array | undefined;
    for (const variant of await offered()) {
      runVariant(rt, variant);
      const buffers = {
        x: rt.upload('tune.x', x),
        muT: rt.upload('tune.mu_t', muT),
        xNorm: rt.createBuffer('tune.x_norm', shape.points * 4),
        muNorm: rt.createBuffer('tune.mu_norm', shape.samples * 4),
        dist: rt.createBuffer('tune.dist', shape.points * shape.samples * 4),
      };
      rt.run([
        await rowNorms(rt, shape, buffers.x, buffers.xNorm),
        await columnNorms(rt, shape, buffers.muT, buffers.muNorm),
        await pairDistances(rt, shape, buffers),
      ]);
      const dist = await rt.readF32(buffers.dist, shape.points * shape.samples);
      // ||x||^2 + ||mu||^2 - 2 x.mu cancels: the bound is the rounding of its three terms, each at most 2 d in magnitude here.
      assertClose(`${variant.name} distances`, dist, expected, { atol: 1e-5 * shape.features });
      if (!shipped) shipped = dist;
      else
        assert.deepEqual(
          new Uint32Array(dist.buffer),
          new Uint32Array(shipped.buffer),
          `${variant.name}: distances differ from the shipped variant's bits`,
        );
      for (const buffer of Object.values(buffers)) buffer.destroy();
    }
  });
}

/** A tuner on `store` whose line goes to `lines`. */
function tuner(
  rt: Runtime,
  store: TuneStore,
  lines: string[],
  options: { mode?: string; adapterName?: string; source?: (shader: string) => string } = {},
) {
  const t = new Tuner(rt, {
    store,
    log: (line) => lines.push(line),
    quietMs: 60_000,
    minMultiplyAdds: 0,
    mode: options.mode ?? 'auto',
    ...options,
  });
  setTuner(rt, t);
  return t;
}

const smallShape: DenseShape = { batch: 9, inFeatures: 11, units: 6, pieces: 1, activation: 'relu' };

async function buildSmall(rt: Runtime, clock: Clock) {
  const buffers = allocateDenseBuffers(rt, smallShape, { label: 'tune' });
  const dispatches = [
    ...(await denseForward(rt, clock, smallShape, buffers)),
    ...(await denseBackward(rt, clock, smallShape, buffers)),
  ];
  // Recording them is what writes the run's line.
  rt.run(dispatches);
  rt.run(dispatches);
  await rt.device.queue.onSubmittedWorkDone();
  buffers.destroy();
}

test('the tuner times each shape once, then reads the cache; a new shader source or adapter times again; one line per run', async () => {
  const { rt, clock } = await device();
  const store = memoryTuneStore();
  const lines: string[] = [];
  const first = tuner(rt, store, lines);
  await buildSmall(rt, clock);
  assert.deepEqual(
    first.events.map((e) => e.how),
    ['tuned', 'tuned', 'tuned'],
    'forward, grad_input and grad_weight timed',
  );
  const record = store.records.get(rt.context.adapterName)!;
  assert.equal(Object.keys(record.choices).length, 3);
  for (const choice of Object.values(record.choices))
    assert.ok(Object.keys(choice.ms).length >= 2, 'every offered variant timed');
  assert.equal(
    lines.length,
    1,
    'one line for the three shapes, when the first of them was recorded, and none on later records',
  );
  assert.match(
    lines[0],
    /^GEMM tiles on .*: (registers|workgroup|subgroups)\/\d+ for \d shapes?.* \(3 timed in [\d.]+ s; kept in memory\)$/,
  );

  const second = tuner(rt, store, lines);
  await buildSmall(rt, clock);
  assert.deepEqual(
    second.events.map((e) => e.how),
    ['cached', 'cached', 'cached'],
    'a second run times nothing',
  );
  assert.match(lines[1], /\(3 cached\)$/);

  const edited = tuner(rt, store, lines, { source: (shader) => `${shader}: an edited tiles.wgsl` });
  await buildSmall(rt, clock);
  assert.deepEqual(
    edited.events.map((e) => e.how),
    ['tuned', 'tuned', 'tuned'],
    'a new shader source invalidates',
  );

  const other = tuner(rt, store, lines, { adapterName: 'another adapter' });
  await buildSmall(rt, clock);
  assert.deepEqual(
    other.events.map((e) => e.how),
    ['tuned', 'tuned', 'tuned'],
    'another adapter has its own choices',
  );
  assert.ok(store.records.has('another adapter'));

  const fresh = tuner(rt, store, lines, { mode: 'fresh', adapterName: 'another adapter' });
  await buildSmall(rt, clock);
  assert.deepEqual(
    fresh.events.map((e) => e.how),
    ['tuned', 'tuned', 'tuned'],
    'GAN_TUNE=fresh times again',
  );

  const small = new Tuner(rt, { store, log: (line) => lines.push(line), mode: 'fresh' });
  setTuner(rt, small);
  await buildSmall(rt, clock);
  assert.deepEqual(small.events, [], 'products under MIN_TUNED_MULTIPLY_ADDS keep the shipped tile untimed');

  const off = tuner(rt, store, lines, { mode: 'off' });
  await buildSmall(rt, clock);
  assert.deepEqual(off.events, [], 'GAN_TUNE=off: the shipped tiles, nothing timed or read');
  off.flush();
  assert.equal(lines.length, 5, 'nothing to say when nothing was chosen');
});

test('a GAN_TUNE (or ?tune=) that names no variant or form is refused in one line listing what means something; a variant this device lacks is said to run the shipped tile', async () => {
  for (const value of [
    'registers',
    'workgroup',
    'subgroups',
    'registers/8',
    'registers/64',
    'workgroup/64',
    'subgroups/32',
  ])
    assert.deepEqual(parseTuneMode(value), { kind: 'force', name: value });
  assert.ok(
    knownVariantNames().has('subgroups/128') && !knownVariantNames().has('subgroups/4'),
    'a subgroup form has at least the shipped 8 lanes',
  );
  const values =
    'use off, fresh, auto, a form \\(registers, workgroup, subgroups\\) or a variant \\(registers/8, registers/64, workgroup/64, subgroups/8 to subgroups/128\\)\\.$';
  for (const [value, setting] of [
    ['registers/7', 'GAN_TUNE'],
    ['fastest', 'GAN_TUNE'],
    ['of', '?tune'],
  ]) {
    assert.throws(
      () => parseTuneMode(value, setting),
      (err: Error) =>
        err instanceof TuneModeError &&
        new RegExp(`^\\${setting === '?tune' ? '?tune' : setting}=${value}: no such tile choice; ${values}`).test(
          err.message,
        ) &&
        !err.message.includes('\n'),
    );
  }
  const { rt } = await device();
  assert.throws(
    () => new Tuner(rt, { mode: 'nonsense', store: memoryTuneStore() }),
    /^TuneModeError: GAN_TUNE=nonsense: no such tile choice/,
  );

  // The command stops before it starts, with the one line.
  const gan = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/gan.ts',
      'train',
      '--preset',
      'toy-1d',
      '--iters',
      '1',
      '--out',
      join(mkdtempSync(join(tmpdir(), 'gan-tune-')), 'run'),
    ],
    {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      env: { ...process.env, GAN_TUNE: 'regsiters' },
    },
  );
  assert.equal(gan.status, 1);
  assert.match(gan.stderr, new RegExp(`^gan: GAN_TUNE=regsiters: no such tile choice; ${values.replace('$', '\\n$')}`));

  // A device without subgroups asked for the subgroup form: the line says the shipped tile ran.
  const lines: string[] = [];
  const forced = new Tuner(rt, {
    store: memoryTuneStore(),
    log: (line) => lines.push(line),
    quietMs: 60_000,
    minMultiplyAdds: 0,
    mode: 'subgroups',
    features: new Set(),
  });
  setTuner(rt, forced);
  await buildSmall(rt, (await device()).clock);
  assert.deepEqual(
    forced.events.map((e) => [e.variant, e.how]),
    Array(3).fill([GEMM_TILES.denseForward.form + '/' + GEMM_TILES.denseForward.lanes, 'forced']),
  );
  assert.match(
    lines[0],
    /\(3 forced by GAN_TUNE=subgroups, 3 of them to the shipped tile since this adapter does not offer subgroups\)$/,
  );
});

test('the Node store: one file per adapter under $XDG_CACHE_HOME/webgpu-gan/tiles; an unwritable cache is no cache', async () => {
  const saved = process.env.XDG_CACHE_HOME;
  const dir = mkdtempSync(join(tmpdir(), 'gan-tune-'));
  try {
    process.env.XDG_CACHE_HOME = dir;
    assert.equal(tuneDirectory(), join(dir, 'webgpu-gan', 'tiles'));
    const store = platformTuneStore();
    const record = {
      adapter: 'llvmpipe (LLVM 19.1.7, 256 bits)',
      choices: { 'denseForward forward 1x2x3x1': { variant: 'registers/8', sources: 'abc', ms: { 'registers/8': 1 } } },
    };
    assert.equal(await store.load(record.adapter, '0123456789abcdef'), undefined);
    assert.equal(await store.save(record.adapter, '0123456789abcdef', record), true);
    assert.deepEqual(readdirSync(join(dir, 'webgpu-gan', 'tiles')), ['llvmpipe-llvm-19-1-7-256-bits-01234567.json']);
    assert.deepEqual(await store.load(record.adapter, '0123456789abcdef'), record);
    // A cache path that is a file: saving fails quietly, loading finds nothing.
    const blocked = join(dir, 'blocked');
    writeFileSync(blocked, '');
    const broken = platformTuneStore(join(blocked, 'tiles'));
    assert.equal(await broken.save(record.adapter, '0123456789abcdef', record), false);
    assert.equal(await broken.load(record.adapter, '0123456789abcdef'), undefined);
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});
