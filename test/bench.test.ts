// The code paths of `npm run bench --quick` on tiny shapes: the FLOP count the summary divides by,
// the statistics, the per-kernel timings, the iteration profile, the GPU report's shape and how
// PyTorch is found and told the model. Only that they are right and
// complete is asserted; how fast anything runs is the bench's business, never a test's.
import test from 'node:test';
import assert from 'node:assert/strict';
import { iterationFlops, KernelClock, measureKernels, profileIteration } from '../bench/kernels';
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
  for (const g of gemms) assert.ok(typeof g.ms === 'number' && g.m > 0 && g.n > 0 && g.k > 0, `${g.kernel} ${g.shape}`);
  assert.ok(elementwise.some((e) => e.kernel === 'optimizer.sgd_pylearn2'));
  for (const e of elementwise) assert.ok(typeof e.ms === 'number' && e.bytes > 0, `${e.kernel} ${e.shape}`);

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

test('the GPU report of a short run holds the adapter, both peers\' places, every GEMM and the tuner\'s choices', async () => {
  const { rt, clock } = await gpu();
  const config = tinyImageConfig({ form: 'alternating' });
  const data = syntheticImages(rt);
  const trainer = await makeTrainer(rt, clock, config, data.gpu, data.means);
  const report = await buildGpuReport({ context: rt.context, rt, clock, models: [{ name: 'tiny', config, trainer }], reps: 1, seconds: 0.01, tfjs: false, torch: false, kernels: true });
  assert.equal(report.version, GPU_REPORT_VERSION);
  const adapter = report.adapter as Record<string, unknown>;
  assert.equal(adapter.name, rt.context.adapterName);
  assert.ok(Array.isArray(adapter.features) && Array.isArray(adapter.device_features));
  const limits = adapter.limits as Record<string, number>;
  for (const limit of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupsPerDimension', 'maxComputeInvocationsPerWorkgroup']) {
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
    assert.equal(typeof (model[peer] as { skipped?: string }).skipped, 'string', `${peer} says why it was not measured`);
  }
  const layers = config.generator.layers.length + config.discriminator.layers.length;
  const gemms = model.gemms as { gflops: number; m: number; n: number; k: number }[];
  assert.equal(gemms.length, 2 * layers + layers - 1);
  for (const g of gemms) assert.ok(g.m > 0 && g.n > 0 && g.k > 0 && 'gflops' in g);
  assert.ok(['timestamp-query', 'wall-clock'].includes(model.gemm_timing as string));
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report, 'the report is plain JSON');
  trainer.destroy();
  data.gpu.buffer.destroy();
});

test('PyTorch: a python3 without torch is one line naming each python tried; the model sent is the config\'s', () => {
  const missing = findTorchPython(['/nonexistent/python3']);
  assert.ok('skipped' in missing && /^no python3 with torch \(\/nonexistent\/python3: ENOENT\)$/.test(missing.skipped), JSON.stringify(missing));
  const config = presetConfig('small-mnist');
  const model = torchModel(config) as { generator: unknown; discriminator: { inputMap?: unknown; dropout?: unknown }[]; optimizer: { kind: string }; ema_decay: number; features: number };
  assert.deepEqual(model.generator, config.generator.layers);
  assert.deepEqual(model.discriminator[0].inputMap, { scale: 2, shift: -1 });
  assert.deepEqual(model.discriminator[0].dropout, { keep: 0.8, scale: 1.25 });
  assert.equal(model.optimizer.kind, 'adam');
  assert.equal(model.ema_decay, 0.999);
  assert.equal(model.features, 784);
});
