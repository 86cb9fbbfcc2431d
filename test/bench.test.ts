// The code paths of `npm run bench --quick` on tiny shapes: the FLOP count the summary divides by,
// the statistics, the per-kernel timings, the iteration profile, the GPU report's shape and how
// PyTorch is found and told the model, and the machine's own GEMM (numpy) as the ceiling: its
// script's output, the fractions, the line printed without numpy. Only that they are right and
// complete is asserted; how fast anything runs is the bench's business, never a test's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { iterationFlops, iterationGemms, KernelClock, measureKernels, profileIteration } from '../bench/kernels';
import {
  describeMachine,
  findNumpyPython,
  machineStepGflops,
  measureMachineGemms,
  parseMachineGemms,
  stepFractionOfMachine,
  withMachineGemm,
  type MachineGemms,
} from '../bench/machine_gemm';
import { spread } from '../bench/stats';
import { buildGpuReport, GPU_REPORT_VERSION } from '../bench/report';
import { findTorchPython, torchModel } from '../bench/torch';
import { presetConfig } from '../src/train/config';
import { gpu } from './helpers';
import { makeTrainer, syntheticImages, tinyImageConfig } from './train/fixtures';

test('the GEMM FLOPs of a paper-mnist iteration, counted by hand', () => {
  // Multiply-adds per example: G 100-1200-1200-784, D 784-1200 (240x5)-1200 (240x5)-1, the
  // input gradients of every layer but the first (all of D's in the G step, through to the samples).
  const g = 100 * 1200 + 1200 * 1200 + 1200 * 784;
  const d = 784 * 1200 + 240 * 1200 + 240;
  const dInputsAbove = 240 * 1200 + 240;
  const gInputsAbove = 1200 * 1200 + 1200 * 784;
  const dStep = g + 2 * d + 2 * (d + dInputsAbove);
  const gStep = g + d + d + (g + gInputsAbove);
  const config = { ...presetConfig('paper-mnist'), form: 'alternating' as const };
  assert.equal(iterationFlops(config), 2 * 100 * (dStep + gStep));
  assert.equal(iterationFlops({ ...config, k: 2 }), 2 * 100 * (2 * dStep + gStep));
});

test('spread: median, quartiles as numpy interpolates them, extremes', () => {
  assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, q1: 1.75, q3: 3.25, n: 4 });
  assert.deepEqual(spread([7]), { median: 7, min: 7, max: 7, q1: 7, q3: 7, n: 1 });
});

test('per-kernel figures cover every product of every layer, and the profile every dispatch of an iteration', async () => {
  const { rt, clock } = await gpu();
  const config = tinyImageConfig({ form: 'alternating' });
  const kernelClock = new KernelClock(rt);
  const { gemms, elementwise } = await measureKernels(rt, clock, config, kernelClock, true);
  const layers = config.generator.layers.length + config.discriminator.layers.length;
  // Forward and weight gradient of every layer; input gradients of all but G's first layer.
  assert.equal(gemms.length, 2 * layers + layers - 1);
  // What is covered, never how long it took: a tiny product may take less than the clock can see.
  const products = gemms.map((g) => `${g.network} ${g.layer} ${g.kernel}`);
  assert.equal(new Set(products).size, products.length, `each product once: ${products.join(', ')}`);
  for (const g of gemms) assert.ok(g.m > 0 && g.n > 0 && g.k > 0, `${g.kernel} ${g.shape}`);
  assert.ok(elementwise.some((e) => e.kernel === 'optimizer.sgd_pylearn2'));
  for (const e of elementwise) assert.ok(e.bytes > 0, `${e.kernel} ${e.shape}`);

  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const { entries, totalMs } = await profileIteration(trainer, kernelClock, 1);
  if (kernelClock.timer) {
    const shares = entries.reduce((sum, e) => sum + e.share, 0);
    // Shares of a total the clock saw; an iteration too quick for it has none to share.
    if (totalMs > 0) assert.ok(Math.abs(shares - 1) < 1e-9, `shares sum to ${shares}`);
    assert.ok(entries.some((e) => e.kernel === 'dense.backward.grad_input'));
  }
  trainer.destroy();
  data.gpu.buffer.destroy();
});

test("the GPU report of a short run holds the adapter, both peers' places, every GEMM and the tuner's choices", async () => {
  const { rt, clock } = await gpu();
  const config = tinyImageConfig({ form: 'alternating' });
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const report = await buildGpuReport({
    context: rt.context,
    rt,
    clock,
    models: [{ name: 'tiny', config, trainer }],
    reps: 1,
    seconds: 0.01,
    tfjs: false,
    torch: false,
    kernels: true,
    numpy: { seconds: 0.005, samples: 1 },
  });
  assert.equal(report.version, GPU_REPORT_VERSION);
  const adapter = report.adapter as Record<string, unknown>;
  assert.equal(adapter.name, rt.context.adapterName);
  assert.ok(Array.isArray(adapter.features) && Array.isArray(adapter.device_features));
  const limits = adapter.limits as Record<string, number>;
  for (const limit of [
    'maxBufferSize',
    'maxStorageBufferBindingSize',
    'maxComputeWorkgroupsPerDimension',
    'maxComputeInvocationsPerWorkgroup',
  ]) {
    assert.ok(Number.isFinite(limits[limit]) && limits[limit] > 0, `limit ${limit}: ${limits[limit]}`);
  }
  assert.equal(typeof report.timestamp_queries, 'boolean');
  const tuner = report.tuner as { mode: { kind: string }; store: string; shapes: unknown[]; timed: object };
  assert.equal(typeof tuner.mode.kind, 'string');
  assert.equal(typeof tuner.store, 'string');
  assert.ok(Array.isArray(tuner.shapes) && typeof tuner.timed === 'object', JSON.stringify(tuner));
  const model = (report.models as Record<string, Record<string, unknown>>).tiny;
  const ours = model.ours as Record<string, number>;
  assert.ok(typeof ours.median === 'number' && ours.n === 1, `ours: ${JSON.stringify(ours)}`);
  for (const peer of ['tfjs_webgpu', 'pytorch_cuda', 'pytorch_cpu']) {
    assert.equal(
      typeof (model[peer] as { skipped?: string }).skipped,
      'string',
      `${peer} says why it was not measured`,
    );
  }
  const layers = config.generator.layers.length + config.discriminator.layers.length;
  const gemms = model.gemms as { gflops: number; m: number; n: number; k: number }[];
  assert.equal(gemms.length, 2 * layers + layers - 1);
  for (const g of gemms) assert.ok(g.m > 0 && g.n > 0 && g.k > 0 && 'gflops' in g);
  // The machine's GEMM on every row's shape where a python with numpy ran, no such fields where none did.
  const machine = report.machine_gemm as { skipped?: string; python?: string };
  const measured = machine.skipped === undefined;
  if (measured) assert.equal(typeof machine.python, 'string');
  for (const g of gemms as Record<string, unknown>[]) {
    for (const field of ['machine_gemm_gflops', 'fraction_of_machine_gemm']) {
      if (measured) assert.ok(typeof g[field] === 'number' || g[field] === null, `${field}: ${JSON.stringify(g)}`);
      else assert.ok(!(field in g), `${field} without numpy: ${JSON.stringify(g)}`);
    }
  }
  assert.ok(typeof model.step_fraction_of_machine_gemm === 'number' || model.step_fraction_of_machine_gemm === null);
  if (!measured) assert.equal(model.step_fraction_of_machine_gemm, null);
  assert.ok(['timestamp-query', 'wall-clock'].includes(model.gemm_timing as string));
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report is plain JSON');
  trainer.destroy();
  data.gpu.buffer.destroy();
});

test("PyTorch: a python3 without torch is one line naming each python tried; the model sent is the config's", () => {
  const missing = findTorchPython(['/nonexistent/python3']);
  assert.ok(
    'skipped' in missing && /^no python3 with torch \(\/nonexistent\/python3: ENOENT\)$/.test(missing.skipped),
    JSON.stringify(missing),
  );
  const config = presetConfig('small-mnist');
  const model = torchModel(config) as {
    generator: unknown;
    discriminator: { inputMap?: unknown; dropout?: unknown }[];
    optimizer: { kind: string };
    ema_decay: number;
    features: number;
  };
  assert.deepEqual(model.generator, config.generator.layers);
  assert.deepEqual(model.discriminator[0].inputMap, { scale: 2, shift: -1 });
  assert.deepEqual(model.discriminator[0].dropout, { keep: 0.8, scale: 1.25 });
  assert.equal(model.optimizer.kind, 'adam');
  assert.equal(model.ema_decay, config.emaDecay);
  assert.equal(model.features, 784);
});

test('the products of an iteration, each with how often it runs, add up to its GEMM FLOPs and cover every GEMM row', () => {
  const paper = { ...presetConfig('paper-mnist'), form: 'alternating' as const };
  for (const config of [
    paper,
    { ...paper, k: 2 },
    { ...paper, form: 'simultaneous' as const },
    tinyImageConfig({ form: 'alternating' }),
  ]) {
    const flops = iterationGemms(config).reduce((sum, g) => sum + g.count * 2 * g.m * g.n * g.k, 0);
    assert.equal(flops, iterationFlops(config), `${config.form} k=${config.k}`);
  }
  // As the GEMM rows: forward and weight gradient of every layer, input gradients of all but G's first.
  const gemms = iterationGemms(tinyImageConfig({ form: 'alternating' }));
  const layers = 2 + 3;
  assert.equal(gemms.length, 2 * layers + layers - 1);
  assert.ok(!gemms.some((g) => g.network === 'G' && g.layer === 0 && g.product === 'grad_input'));
});

test("machine GEMM: the script's output is checked as it is parsed", () => {
  const line = JSON.stringify({
    python: '/usr/bin/python3',
    numpy: '1.24.2',
    blas: 'openblas',
    threads: 2,
    shapes: [{ m: 3, n: 7, k: 5, seconds: 1e-6, calls_per_sample: 100, samples: 5 }],
  });
  const parsed = parseMachineGemms(`some warning\n${line}\n`, [{ m: 3, n: 7, k: 5 }]);
  assert.deepEqual(parsed, JSON.parse(line));
  assert.equal(parseMachineGemms(line.replace('"openblas"', 'null')).blas, null);
  assert.throws(() => parseMachineGemms('Traceback (most recent call last):'), /printed no JSON/);
  assert.throws(
    () => parseMachineGemms(JSON.stringify({ python: 'p', numpy: '2' })),
    /without python, numpy and shapes/,
  );
  assert.throws(() => parseMachineGemms(line.replace(/"seconds":[^,]+,/, '')), /a shape without/);
  assert.throws(
    () =>
      parseMachineGemms(line, [
        { m: 3, n: 7, k: 5 },
        { m: 5, n: 7, k: 3 },
      ]),
    /left out 5x3x7/,
  );
});

test("machine GEMM: each row's fraction, and the step's over the machine's time for the iteration's products", () => {
  const config = tinyImageConfig({ form: 'alternating' });
  const products = iterationGemms(config);
  // A made-up machine that does every product at 10 GFLOP/s, one product twice as fast.
  const shapes = products.map(({ m, n, k }) => ({
    m,
    n,
    k,
    seconds: (2 * m * n * k) / 10e9,
    calls_per_sample: 1,
    samples: 1,
  }));
  const machine: MachineGemms = { python: 'python3', numpy: '2', blas: null, threads: 1, shapes };
  assert.ok(Math.abs(machineStepGflops(config, machine) - 10) < 1e-9);
  assert.ok(Math.abs(stepFractionOfMachine(4, config, machine) - 0.4) < 1e-12);
  const faster = { ...machine, shapes: shapes.map((s, i) => (i === 0 ? { ...s, seconds: s.seconds / 2 } : s)) };
  const flops = products.reduce((sum, g) => sum + g.count * 2 * g.m * g.n * g.k, 0);
  const seconds = products.reduce((sum, g, i) => sum + (g.count * (2 * g.m * g.n * g.k)) / 10e9 / (i === 0 ? 2 : 1), 0);
  assert.ok(Math.abs(machineStepGflops(config, faster) - flops / seconds / 1e9) < 1e-9);
  // Unmeasured: a shape missing, or no machine at all.
  assert.ok(Number.isNaN(machineStepGflops(config, { ...machine, shapes: shapes.slice(1) })));
  assert.ok(Number.isNaN(stepFractionOfMachine(4, config, { skipped: 'no python3 with numpy' })));
  const row = { kernel: 'dense.forward', m: shapes[0].m, n: shapes[0].n, k: shapes[0].k, gflops: 2.5 };
  assert.deepEqual(withMachineGemm(row, machine), { ...row, machine_gemm_gflops: 10, fraction_of_machine_gemm: 0.25 });
  assert.deepEqual(withMachineGemm({ ...row, gflops: NaN }, machine), {
    ...row,
    gflops: NaN,
    machine_gemm_gflops: 10,
    fraction_of_machine_gemm: null,
  });
  assert.deepEqual(withMachineGemm({ ...row, m: 999 }, machine), {
    ...row,
    m: 999,
    machine_gemm_gflops: null,
    fraction_of_machine_gemm: null,
  });
});

test('machine GEMM: the real script on tiny shapes, all in one process (structure only)', () => {
  const python = findNumpyPython();
  const shapes = [
    { m: 3, n: 7, k: 5 },
    { m: 3, n: 7, k: 5 },
    { m: 2, n: 1, k: 4 },
  ];
  const measured = measureMachineGemms(shapes, { seconds: 0.005, samples: 2 });
  if (!('command' in python)) {
    // No python with numpy here: the same one line the bench prints.
    assert.deepEqual(measured, python);
    return;
  }
  assert.ok('shapes' in measured, JSON.stringify(measured));
  const machine = measured as MachineGemms;
  assert.equal(machine.python, python.executable);
  assert.equal(machine.numpy, python.numpy);
  assert.ok(machine.blas === null || typeof machine.blas === 'string');
  assert.ok(machine.threads === null || Number.isInteger(machine.threads));
  // Each distinct shape once, in the order asked.
  assert.deepEqual(
    machine.shapes.map(({ m, n, k }) => ({ m, n, k })),
    [shapes[0], shapes[2]],
  );
  for (const s of machine.shapes)
    assert.ok(typeof s.seconds === 'number' && s.samples === 2 && Number.isInteger(s.calls_per_sample));
  const row = withMachineGemm({ ...shapes[0], gflops: 1 }, machine);
  assert.ok('machine_gemm_gflops' in row);
  for (const v of [row.machine_gemm_gflops, row.fraction_of_machine_gemm])
    assert.ok(v === null || typeof v === 'number');
  const described = describeMachine(machine);
  assert.deepEqual(Object.keys(described), ['python', 'numpy', 'blas', 'threads', 'shapes']);
  assert.equal(described.shapes, 2);
});

test('machine GEMM: without a python that has numpy, one line naming each python tried, and rows left as they are', () => {
  const missing = findNumpyPython(['/nonexistent/python3', '/nonexistent/bin/python3']);
  assert.deepEqual(missing, {
    skipped: 'no python3 with numpy (/nonexistent/python3: ENOENT; /nonexistent/bin/python3: ENOENT)',
  });
  const machine = measureMachineGemms([{ m: 3, n: 7, k: 5 }], { candidates: ['/nonexistent/python3'] });
  assert.deepEqual(machine, { skipped: 'no python3 with numpy (/nonexistent/python3: ENOENT)' });
  const row = { m: 3, n: 7, k: 5, gflops: 1 };
  assert.deepEqual(withMachineGemm(row, machine), row);
  assert.deepEqual(describeMachine(machine), machine);
  assert.ok(Number.isNaN(stepFractionOfMachine(1, tinyImageConfig({ form: 'alternating' }), machine)));
});
