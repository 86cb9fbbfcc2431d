// `npm run bench [-- --quick] [-- --skip tfjs,torch,cpu,kernels,numpy,profile,parzen,small] [-- --gpu-report [--out FILE]]`:
// the training iteration of paper-mnist and small-mnist (batch 100, Algorithm 1's alternating form
// with k = 1) measured in one process: our Trainer, the same GAN in TF.js on its WebGPU backend on the
// same adapter, and the same GAN in PyTorch on the CPU (bench/torch_gan.py, run by a python3 that has
// torch, with as many threads as the machine has cores); then for paper-mnist our CPU reference
// (src/reference/step.ts), per-kernel throughput on the paper's shapes, where one iteration's time
// goes, and the Parzen evaluation's time. The ceiling for the GEMMs is the machine's own: numpy's
// float32 `a @ b` on each of the same shapes (bench/machine_gemm.ts, skipped by --skip numpy), which
// every GEMM row and each model's step is given as a fraction of.
//
// Prints JSON lines: one per system, model and figure, then a summary with the ratios. Warm-up
// iterations are excluded; ours, TF.js and PyTorch take turns repetition by repetition
// (bench/measure.ts), so a change in the machine's load falls on all of them, and on a software
// adapter ours and TF.js-yielding wait for their GPU work at the lowest thread priority
// (src/gpu/wait.ts), so Dawn's busy-polling slows neither. Speed is only ever compared within one run.
//
// --gpu-report writes one JSON file (bench/report.ts) with what a run on a new adapter should tell us.
import { loadavg } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSession, destroySession, type Session } from '../src/train/session';
import { presetConfig } from '../src/train/config';
import { generatorSpec, discriminatorSpec, type TrainConfig } from '../src/spec/config';
import { initialParameters } from '../src/train/init';
import { referenceIteration, type ReferenceState } from '../src/reference/step';
import { loadMnist } from '../src/data/mnist-files-node';
import { MNIST_TRAIN_COUNT, type Mnist } from '../src/data/mnist-format';
import type { Runtime } from '../src/gpu/runtime';
import { isSoftwareAdapter } from '../src/gpu/wait';
import { destroyDataset } from '../src/data/dataset';
import { createTfjsGan, type TfjsGan } from './tfjs_gan';
import { bestGflops, iterationFlops, iterationGemms, KernelClock, measureKernels, profileIteration } from './kernels';
import { measureModel, type ModelRates } from './measure';
import { buildGpuReport } from './report';
import { findTorchPython, TorchPeer } from './torch';
import {
  describeMachine,
  machineStepGflops,
  measureMachineGemms,
  stepFractionOfMachine,
  withMachineGemm,
  type MachineGemms,
} from './machine_gemm';
import { round, roundSpread, spread } from './stats';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const gpuReport = args.includes('--gpu-report');
const skipAt = args.indexOf('--skip');
const skip = new Set(skipAt >= 0 ? (args[skipAt + 1] ?? '').split(',') : []);
const outAt = args.indexOf('--out');
const reportPath = resolve(outAt >= 0 ? args[outAt + 1] : 'runs/gpu-report.json');

/** Repetitions and seconds per repetition: --quick (and --gpu-report) stay within a few minutes on a 2-core CPU adapter. */
const plan =
  quick || gpuReport
    ? { reps: 3, seconds: 0.6, cpuWarm: 0, cpuIters: 1, profileRepeats: 2, parzenPoints: 500, numpySeconds: 0.2 }
    : { reps: 7, seconds: 1.5, cpuWarm: 1, cpuIters: 2, profileRepeats: 3, parzenPoints: 10_000, numpySeconds: 0.5 };

const emit = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
const load = () => loadavg().map((l) => round(l));

/** The presets measured, in Algorithm 1's alternating form with k = 1, so that every system does the same work. */
const MODELS = ['paper-mnist', 'small-mnist'].filter((name) => name === 'paper-mnist' || !skip.has('small'));

function benchConfig(preset: string): TrainConfig {
  return { ...presetConfig(preset), form: 'alternating', k: 1 };
}

function cpuReference(config: TrainConfig, mnist: Mnist): number[] {
  const player = (params: Float32Array): ReferenceState['generator'] => ({
    params,
    optimizer: [new Float32Array(params.length)],
  });
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
    ...(points < 10_000
      ? { note: `--quick times ${points} points; seconds_for_10000_points scales that linearly` }
      : {}),
  };
}

/** Sessions for every model on one device: the first makes it, the others share it. */
async function openSessions(mnist: Mnist): Promise<Map<string, Session>> {
  const sessions = new Map<string, Session>();
  for (const name of MODELS) {
    const first = sessions.values().next().value as Session | undefined;
    sessions.set(name, await createSession(benchConfig(name), { mnist, context: first?.context }));
  }
  return sessions;
}

function closeSessions(sessions: Map<string, Session>): void {
  const all = [...sessions.values()];
  for (const s of all.slice(1)) {
    s.trainer.destroy();
    destroyDataset(s.data.dataset);
  }
  if (all[0]) destroySession(all[0]);
}

async function writeGpuReport(): Promise<void> {
  const mnist = loadMnist();
  const sessions = await openSessions(mnist);
  const first = sessions.get('paper-mnist')!;
  const images = { pixels: mnist.train.pixels, count: MNIST_TRAIN_COUNT, features: 784 };
  // small-mnist first: it is the one that finishes on any adapter.
  const report = await buildGpuReport({
    context: first.context,
    rt: first.rt,
    clock: first.clock,
    models: [...sessions].reverse().map(([name, s]) => ({ name, config: s.config, trainer: s.trainer, images })),
    reps: plan.reps,
    seconds: plan.seconds,
    tfjs: !skip.has('tfjs'),
    torch: !skip.has('torch'),
    kernels: !skip.has('kernels'),
    numpy: skip.has('numpy') ? false : { seconds: plan.numpySeconds },
  });
  mkdirSync(dirname(reportPath), { recursive: true });
  writeFileSync(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  const machine = report.machine_gemm as { skipped?: string };
  if (machine.skipped !== undefined) emit({ system: 'numpy', figure: 'machine_gemm', skipped: machine.skipped });
  emit({ gpu_report: reportPath, adapter: first.context.adapterName, seconds: report.seconds });
  closeSessions(sessions);
}

async function main(): Promise<void> {
  const loadBefore = load();
  const mnist = loadMnist();
  const sessions = await openSessions(mnist);
  const paper = sessions.get('paper-mnist')!;
  const { rt, clock } = paper;
  const adapter = paper.context.adapterName;
  const software = isSoftwareAdapter(paper.context);
  const kernelClock = new KernelClock(rt);
  const python = skip.has('torch') ? { skipped: 'skipped by --skip' } : findTorchPython();
  if (!('command' in python)) emit({ system: 'pytorch-cpu', figure: 'its_per_s', skipped: python.skipped });

  const results = new Map<string, { config: TrainConfig; rates: ModelRates; torch?: TorchPeer['about'] }>();
  for (const [name, session] of sessions) {
    const { config, trainer } = session;
    const common = { preset: name, form: config.form, batch: config.batch, k: config.k };
    let gan: TfjsGan | undefined;
    let tfjsError = 'skipped by --skip';
    if (!skip.has('tfjs')) {
      try {
        gan = await createTfjsGan(config, { pixels: mnist.train.pixels, count: MNIST_TRAIN_COUNT, features: 784 });
      } catch (err) {
        tfjsError = (err as Error).message;
      }
    }
    let torch: TorchPeer | undefined;
    if ('command' in python) {
      const started = await TorchPeer.start(python, config);
      if (started instanceof TorchPeer) torch = started;
      else emit({ system: 'pytorch-cpu', figure: 'its_per_s', ...common, skipped: started.skipped });
    }
    const rates = await measureModel(trainer, {
      reps: plan.reps,
      seconds: plan.seconds,
      tfjs: gan,
      tfjsYielding: software,
      torch,
    });
    emit({
      system: 'ours',
      figure: 'its_per_s',
      ...roundSpread(spread(rates.ours)),
      iterations_per_rep: rates.iterations.ours,
      adapter,
      ...common,
    });
    if (gan) {
      emit({
        system: 'tfjs-webgpu',
        figure: 'its_per_s',
        ...roundSpread(spread(rates.tfjs)),
        iterations_per_rep: rates.iterations.tfjs,
        adapter: gan.adapter,
        backend: gan.backend,
        ...common,
      });
      if (rates.tfjsYielding.length) {
        const note = 'TF.js with its final wait at the lowest thread priority, as ours waits (src/gpu/wait.ts)';
        emit({
          system: 'tfjs-webgpu-yielding',
          figure: 'its_per_s',
          ...roundSpread(spread(rates.tfjsYielding)),
          iterations_per_rep: rates.iterations.tfjs,
          adapter: gan.adapter,
          backend: gan.backend,
          note,
          ...common,
        });
      }
      gan.dispose();
    } else {
      emit({ system: 'tfjs-webgpu', figure: 'its_per_s', ...common, skipped: tfjsError });
    }
    if (torch) {
      emit({
        system: 'pytorch-cpu',
        figure: 'its_per_s',
        ...roundSpread(spread(rates.torch)),
        iterations_per_rep: rates.iterations.torch,
        ...torch.about,
        ...common,
      });
      torch.close();
    }
    results.set(name, { config, rates, torch: torch?.about });
  }

  const paperConfig = paper.config;
  const paperCommon = { preset: 'paper-mnist', form: paperConfig.form, batch: paperConfig.batch, k: paperConfig.k };
  let cpu: number[] = [];
  if (!skip.has('cpu')) {
    cpu = cpuReference(paperConfig, mnist);
    emit({
      system: 'cpu-reference',
      figure: 'its_per_s',
      ...roundSpread(spread(cpu)),
      iterations: plan.cpuIters,
      warm_up: plan.cpuWarm,
      ...paperCommon,
    });
  }

  // The machine's GEMM on every model's products (the GEMM rows' shapes among them), one python process.
  const machine: MachineGemms | { skipped: string } = skip.has('numpy')
    ? { skipped: 'skipped by --skip' }
    : measureMachineGemms(
        [...results.values()].flatMap(({ config }) => iterationGemms(config)),
        { seconds: plan.numpySeconds },
      );
  emit({ system: 'numpy', figure: 'machine_gemm', ...describeMachine(machine) });

  let bestGemm = NaN;
  if (!skip.has('kernels')) {
    const { gemms, elementwise } = await measureKernels(rt, clock, paperConfig, kernelClock, quick);
    for (const g of gemms)
      emit({
        system: 'ours',
        figure: 'gemm_gflops',
        ...withMachineGemm({ ...g, ms: round(g.ms), gflops: round(g.gflops) }, machine),
        timing: kernelClock.method,
      });
    for (const e of elementwise)
      emit({
        system: 'ours',
        figure: 'elementwise_gb_per_s',
        ...e,
        ms: round(e.ms),
        gb_per_s: round(e.gb_per_s),
        timing: kernelClock.method,
      });
    bestGemm = bestGflops(gemms);
  }

  if (!skip.has('profile')) {
    for (const [name, session] of sessions) {
      const { entries, totalMs } = await profileIteration(session.trainer, kernelClock, plan.profileRepeats);
      if (entries.length === 0)
        emit({
          system: 'ours',
          figure: 'iteration_profile',
          preset: name,
          skipped: 'the adapter has no timestamp queries',
        });
      for (const e of entries)
        emit({
          system: 'ours',
          figure: 'iteration_profile',
          preset: name,
          kernel: e.kernel,
          dispatches: e.dispatches,
          ms_alone: round(e.ms),
          share: round(e.share),
        });
      if (entries.length)
        emit({
          system: 'ours',
          figure: 'iteration_profile_total',
          preset: name,
          ms_alone: round(totalMs),
          dispatches: entries.reduce((s, e) => s + e.dispatches, 0),
          note: 'every dispatch timed in a pass of its own, which costs more than the one pass of a real step: compare shares',
        });
    }
  }

  if (!skip.has('parzen')) {
    try {
      emit({ system: 'ours', figure: 'parzen', ...(await parzen(rt)) });
    } catch (err) {
      emit({ system: 'ours', figure: 'parzen', skipped: `failed: ${(err as Error).message}` });
    }
  }

  const orNull = (v: number) => (Number.isFinite(v) ? round(v) : null);
  const median = (values: number[]) => (values.length ? spread(values).median : NaN);
  const byModel: Record<string, Record<string, unknown>> = {};
  for (const [name, { config, rates, torch }] of results) {
    const ours = median(rates.ours);
    byModel[name] = {
      ours_its_per_s: round(ours),
      tfjs_its_per_s: orNull(median(rates.tfjs)),
      tfjs_yielding_its_per_s: orNull(median(rates.tfjsYielding)),
      pytorch_cpu_its_per_s: orNull(median(rates.torch)),
      ours_over_tfjs_ratio: orNull(ours / median(rates.tfjs)),
      ours_over_tfjs_yielding_ratio: orNull(ours / median(rates.tfjsYielding)),
      ours_over_pytorch_cpu_ratio: orNull(ours / median(rates.torch)),
      ...(torch ? { pytorch_threads: torch.threads, pytorch_version: torch.torch } : {}),
      gemm_gflop_per_iteration: round(iterationFlops(config) / 1e9),
      step_gemm_gflops: round((iterationFlops(config) * ours) / 1e9),
      machine_step_gemm_gflops: orNull(machineStepGflops(config, machine)),
      step_fraction_of_machine_gemm: orNull(
        stepFractionOfMachine((iterationFlops(config) * ours) / 1e9, config, machine),
      ),
    };
  }
  const paperFigures = byModel['paper-mnist'];
  const stepGflops = paperFigures.step_gemm_gflops as number;
  emit({
    summary: true,
    ...paperCommon,
    adapter,
    quick,
    // paper-mnist's figures at the top level, as before; every model's under by_model.
    ...paperFigures,
    cpu_reference_its_per_s: orNull(median(cpu)),
    ours_over_cpu_reference_ratio: orNull((paperFigures.ours_its_per_s as number) / median(cpu)),
    best_gemm_gflops: orNull(bestGemm),
    step_fraction_of_best_gemm: orNull(stepGflops / bestGemm),
    by_model: byModel,
    pytorch: 'command' in python ? { python: python.executable, torch: python.torch } : { skipped: python.skipped },
    machine_gemm: describeMachine(machine),
    load_average_before: loadBefore,
    load_average_after: load(),
  });
  closeSessions(sessions);
}

if (gpuReport) await writeGpuReport();
else await main();
// Dawn's Node binding keeps the process alive; everything has been printed.
process.exit(0);
