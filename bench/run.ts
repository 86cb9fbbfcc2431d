// `npm run bench [-- --quick] [-- --skip tfjs,cpu,kernels,profile,parzen,torch]`: the paper-mnist
// training iteration (batch 100, k = 1, Algorithm 1's alternating form) measured three ways in one
// process on one adapter: our Trainer, the same GAN in TF.js on its WebGPU backend, and our CPU
// reference (src/reference/step.ts). Then per-kernel throughput on the paper's shapes, where one
// iteration's time goes, the Parzen evaluation's time, and PyTorch on the CPU when python3 has torch.
//
// Prints JSON lines: one per system and figure, then a summary with the ratios. Warm-up iterations
// are excluded; ours and TF.js take turns repetition by repetition, so a change in the machine's
// load falls on both, and on a software adapter both wait for their GPU work at the lowest thread
// priority (src/gpu/wait.ts), so Dawn's busy-polling slows neither. Speed is only ever compared
// within one run.
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createSession, destroySession } from '../src/train/session';
import { presetConfig, generatorSpec, discriminatorSpec, type TrainConfig } from '../src/train/config';
import { initialParameters } from '../src/train/init';
import { referenceIteration, type ReferenceState } from '../src/reference/step';
import { loadMnist, MNIST_TRAIN_COUNT } from '../src/data/mnist';
import type { Trainer } from '../src/train/trainer';
import type { Runtime } from '../src/gpu/runtime';
import { isSoftwareAdapter, waitYieldingCores } from '../src/gpu/wait';
import { createTfjsGan, type TfjsGan } from './tfjs_gan';
import { iterationFlops, KernelClock, measureKernels, profileIteration } from './kernels';
import { round, roundSpread, spread } from './stats';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const skipAt = args.indexOf('--skip');
const skip = new Set(skipAt >= 0 ? (args[skipAt + 1] ?? '').split(',') : []);

/** Repetitions and iterations per repetition: --quick stays under two minutes on a 2-core CPU adapter. */
const plan = quick
  ? { reps: 3, oursIters: 2, tfjsIters: 1, cpuWarm: 0, cpuIters: 1, profileRepeats: 2, parzenPoints: 500 }
  : { reps: 7, oursIters: 5, tfjsIters: 2, cpuWarm: 1, cpuIters: 2, profileRepeats: 3, parzenPoints: 10_000 };

const emit = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const load = () => loadavg().map((l) => round(l));

/** paper-mnist with the alternating form, so that every system does the same work per iteration. */
function benchConfig(): TrainConfig {
  return { ...presetConfig('paper-mnist'), form: 'alternating', k: 1 };
}

/**
 * One repetition of ours: `iterations` steps submitted back to back, then one wait (Trainer.settle,
 * which on a software adapter leaves the cores to the adapter, src/gpu/wait.ts); the statistics are
 * copied out on the last step, as a logging training loop does.
 */
async function oursRepetition(trainer: Trainer, iterations: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) trainer.step({ log: i === iterations - 1, sample: false });
  await trainer.settle();
  const seconds = (performance.now() - started) / 1000;
  for (let tries = 0; tries < 100 && trainer.copiesInFlight > 0; tries++) {
    await sleep(1);
    trainer.collect();
  }
  trainer.collect();
  return iterations / seconds;
}

/**
 * TF.js as it comes awaits its readback while Dawn busy-polls; with `yieldCores` its wait yields the
 * cores as ours does, which separates the work from the waiting in the comparison.
 */
async function tfjsRepetition(gan: TfjsGan, iterations: number, yieldCores: boolean): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < iterations; i++) gan.step();
  const loss = await waitYieldingCores(() => gan.sync(), yieldCores);
  if (!Number.isFinite(loss)) throw new Error(`TF.js's G loss is ${loss}`);
  return iterations / ((performance.now() - started) / 1000);
}

function cpuReference(config: TrainConfig, mnist: ReturnType<typeof loadMnist>): number[] {
  const player = (params: Float32Array): ReferenceState['generator'] => ({ params, optimizer: [new Float32Array(params.length)] });
  const state: ReferenceState = {
    generator: player(initialParameters(generatorSpec(config), config.generator.initRange, config.seed, 0)),
    discriminator: player(initialParameters(discriminatorSpec(config), config.discriminator.initRange, config.seed, 1)),
  };
  const dataset = { values: mnist.train.pixels, first: 0, count: MNIST_TRAIN_COUNT, scale: 1 / 255 };
  const perEpoch = Math.floor(MNIST_TRAIN_COUNT / config.batch);
  const rates: number[] = [];
  for (let i = 0; i < plan.cpuWarm + plan.cpuIters; i++) {
    const started = performance.now();
    referenceIteration(config, dataset, state, i, perEpoch);
    if (i >= plan.cpuWarm) rates.push(1000 / (performance.now() - started));
  }
  return rates;
}

/** The Parzen window's log-likelihood of `points` test images under 10,000 samples, 784 features, 10 sigmas. */
async function parzen(rt: Runtime): Promise<Record<string, unknown>> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (!existsSync(`${root}src/kernels/parzen.ts`) || !existsSync(`${root}src/eval/window.ts`)) {
    return { skipped: 'src/kernels/parzen.ts or src/eval/window.ts does not exist yet' };
  }
  const windowModule = '../src/eval/window';
  const { SampleWindow } = (await import(/* @vite-ignore */ windowModule)) as typeof import('../src/eval/window');
  const samples = 10_000;
  const features = 784;
  const points = plan.parzenPoints;
  const random = (n: number) => Float32Array.from({ length: n }, () => Math.random());
  const window = await SampleWindow.create(rt, { values: random(samples * features), count: samples, features });
  const pointRows = { values: random(points * features), count: points, features };
  const sigmas = Array.from({ length: 10 }, (_, i) => 10 ** (-1 + i / 9));
  await window.logLikelihoods({ ...pointRows, count: Math.min(points, 100) }, sigmas);
  const started = performance.now();
  await window.logLikelihoods(pointRows, sigmas);
  const seconds = (performance.now() - started) / 1000;
  const flops = 2 * points * samples * features;
  return {
    points,
    samples,
    features,
    sigmas: sigmas.length,
    seconds: round(seconds),
    gflops: round(flops / seconds / 1e9),
    seconds_for_10000_points: round((seconds * 10_000) / points),
    ...(points < 10_000 ? { note: `--quick times ${points} points; seconds_for_10000_points scales that linearly` } : {}),
  };
}

/** PyTorch on the CPU, same model and step, when python3 can import torch. */
function pytorch(): Record<string, unknown> {
  const script = fileURLToPath(new URL('./torch_gan.py', import.meta.url));
  const probe = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: 'python3 with torch is not installed' };
  const run = spawnSync('python3', [script, '--reps', String(plan.reps), '--iters', String(quick ? 2 : 5)], { encoding: 'utf8', timeout: 600_000 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { skipped: `bench/torch_gan.py failed: ${(run.stderr || run.stdout).trim().split('\n').pop()}` };
  }
}

async function main(): Promise<void> {
  const config = benchConfig();
  const loadBefore = load();
  const flops = iterationFlops(config);
  const common = { preset: 'paper-mnist', form: config.form, batch: config.batch, k: config.k };

  const session = await createSession(config);
  const { trainer, rt, clock } = session;
  const adapter = session.context.adapterName;
  const kernelClock = new KernelClock(rt);

  const mnist = loadMnist();
  let gan: TfjsGan | undefined;
  let tfjsError: string | undefined;
  if (!skip.has('tfjs')) {
    try {
      gan = await createTfjsGan(config, { pixels: mnist.train.pixels, count: MNIST_TRAIN_COUNT, features: 784 });
    } catch (err) {
      tfjsError = (err as Error).message;
    }
  }

  // Warm-up: pipelines, caches, TF.js's shader compilation; then the repetitions take turns.
  await oursRepetition(trainer, plan.oursIters);
  const software = isSoftwareAdapter(session.context);
  if (gan) await tfjsRepetition(gan, 1, false);
  const ours: number[] = [];
  const tfjs: number[] = [];
  const tfjsYielding: number[] = [];
  for (let r = 0; r < plan.reps; r++) {
    ours.push(await oursRepetition(trainer, plan.oursIters));
    if (gan) tfjs.push(await tfjsRepetition(gan, plan.tfjsIters, false));
    if (gan && software) tfjsYielding.push(await tfjsRepetition(gan, plan.tfjsIters, true));
  }
  const oursSpread = spread(ours);
  emit({ system: 'ours', figure: 'its_per_s', ...roundSpread(oursSpread), iterations_per_rep: plan.oursIters, adapter, ...common });
  if (gan) {
    emit({ system: 'tfjs-webgpu', figure: 'its_per_s', ...roundSpread(spread(tfjs)), iterations_per_rep: plan.tfjsIters, adapter: gan.adapter, backend: gan.backend, ...common });
    if (tfjsYielding.length) {
      const note = 'TF.js with its final wait at the lowest thread priority, as ours waits (src/gpu/wait.ts)';
      emit({ system: 'tfjs-webgpu-yielding', figure: 'its_per_s', ...roundSpread(spread(tfjsYielding)), iterations_per_rep: plan.tfjsIters, adapter: gan.adapter, backend: gan.backend, note, ...common });
    }
    gan.dispose();
  } else {
    emit({ system: 'tfjs-webgpu', figure: 'its_per_s', skipped: tfjsError ?? 'skipped by --skip' });
  }

  let cpu: number[] = [];
  if (!skip.has('cpu')) {
    cpu = cpuReference(config, mnist);
    emit({ system: 'cpu-reference', figure: 'its_per_s', ...roundSpread(spread(cpu)), iterations: plan.cpuIters, warm_up: plan.cpuWarm, ...common });
  }

  let bestGemm = NaN;
  if (!skip.has('kernels')) {
    const { gemms, elementwise } = await measureKernels(rt, clock, config, kernelClock, quick);
    for (const g of gemms) emit({ system: 'ours', figure: 'gemm_gflops', ...g, ms: round(g.ms), gflops: round(g.gflops), timing: kernelClock.method });
    for (const e of elementwise) emit({ system: 'ours', figure: 'elementwise_gb_per_s', ...e, ms: round(e.ms), gb_per_s: round(e.gb_per_s), timing: kernelClock.method });
    bestGemm = Math.max(...gemms.map((g) => g.gflops));
  }

  if (!skip.has('profile')) {
    const { entries, totalMs } = await profileIteration(trainer, kernelClock, plan.profileRepeats);
    if (entries.length === 0) emit({ system: 'ours', figure: 'iteration_profile', skipped: 'the adapter has no timestamp queries' });
    for (const e of entries) emit({ system: 'ours', figure: 'iteration_profile', kernel: e.kernel, dispatches: e.dispatches, ms_alone: round(e.ms), share: round(e.share) });
    if (entries.length) emit({ system: 'ours', figure: 'iteration_profile_total', ms_alone: round(totalMs), dispatches: entries.reduce((s, e) => s + e.dispatches, 0), note: 'every dispatch timed in a pass of its own, which costs more than the one pass of a real step: compare shares' });
  }

  if (!skip.has('parzen')) {
    try {
      emit({ system: 'ours', figure: 'parzen', ...(await parzen(rt)) });
    } catch (err) {
      emit({ system: 'ours', figure: 'parzen', skipped: `failed: ${(err as Error).message}` });
    }
  }

  let torch: Record<string, unknown> = { skipped: 'skipped by --skip' };
  if (!skip.has('torch')) torch = pytorch();
  emit({ system: 'pytorch-cpu', figure: 'its_per_s', ...torch });

  const oursMedian = oursSpread.median;
  const tfjsMedian = tfjs.length ? spread(tfjs).median : NaN;
  const tfjsYieldingMedian = tfjsYielding.length ? spread(tfjsYielding).median : NaN;
  const cpuMedian = cpu.length ? spread(cpu).median : NaN;
  const torchMedian = typeof torch.median === 'number' ? torch.median : NaN;
  const stepGflops = (flops * oursMedian) / 1e9;
  const orNull = (v: number) => (Number.isFinite(v) ? round(v) : null);
  emit({
    summary: true,
    ...common,
    adapter,
    quick,
    ours_its_per_s: round(oursMedian),
    tfjs_its_per_s: orNull(tfjsMedian),
    tfjs_yielding_its_per_s: orNull(tfjsYieldingMedian),
    cpu_reference_its_per_s: orNull(cpuMedian),
    pytorch_cpu_its_per_s: orNull(torchMedian),
    ours_over_tfjs_ratio: orNull(oursMedian / tfjsMedian),
    ours_over_tfjs_yielding_ratio: orNull(oursMedian / tfjsYieldingMedian),
    ours_over_cpu_reference_ratio: orNull(oursMedian / cpuMedian),
    ours_over_pytorch_cpu_ratio: orNull(oursMedian / torchMedian),
    gemm_gflop_per_iteration: round(flops / 1e9),
    step_gemm_gflops: round(stepGflops),
    best_gemm_gflops: orNull(bestGemm),
    step_fraction_of_best_gemm: orNull(stepGflops / bestGemm),
    load_average_before: loadBefore,
    load_average_after: load(),
  });
  destroySession(session);
}

await main();
// Dawn's Node binding keeps the process alive; everything has been printed.
process.exit(0);
