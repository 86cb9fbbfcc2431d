// `npm run bench -- --gpu-report [--out FILE]`: one JSON file with what a run on a new adapter (a
// real GPU above all) should tell us, in a few minutes: the adapter, its features and limits, the
// its/s of small-mnist and paper-mnist (ours, TF.js on the same adapter, PyTorch with CUDA where
// torch has it, PyTorch on the CPU), every GEMM's GFLOP/s from timestamp queries where the adapter
// has them with the machine's own float32 GEMM rate on the same shape (numpy on the CPU's BLAS,
// bench/machine_gemm.ts) and our fraction of it, and the GEMM tile each shape got from the tuner (src/kernels/tune.ts: GAN_TUNE's mode,
// where the choices are kept, what each shape got and how, and the milliseconds of every variant it
// timed). Nothing in it is a pass or a fail: it is the record that the figures of docs/speed.md for that
// adapter come from.
import { cpus, loadavg, platform, arch } from 'node:os';
import { createRequire } from 'node:module';
import type { GpuContext } from '../src/gpu/device';
import type { Runtime } from '../src/gpu/runtime';
import type { Clock } from '../src/gpu/clock';
import { isSoftwareAdapter } from '../src/gpu/wait';
import type { TrainConfig } from '../src/spec/config';
import type { Trainer } from '../src/train/trainer';
import { bestGflops, iterationFlops, iterationGemms, KernelClock, measureKernels } from './kernels';
import {
  describeMachine,
  machineStepGflops,
  measureMachineGemms,
  stepFractionOfMachine,
  withMachineGemm,
  type MachineGemmOptions,
  type MachineGemms,
} from './machine_gemm';
import { measureModel } from './measure';
import { round, roundSpread, spread } from './stats';
import { createTfjsGan } from './tfjs_gan';
import { findTorchPython, TorchPeer, type TorchPython } from './torch';
import { tunerFor } from '../src/kernels/tune';
import { hashText } from '../src/kernels/tune-store';

export const GPU_REPORT_VERSION = 1;

export interface ReportModel {
  name: string;
  config: TrainConfig;
  trainer: Trainer;
  /** The training images, for TF.js (absent: TF.js is not run on this model). */
  images?: { pixels: Uint8Array; count: number; features: number };
}

export interface GpuReportOptions {
  context: GpuContext;
  rt: Runtime;
  clock: Clock;
  models: ReportModel[];
  reps: number;
  /** Seconds a repetition should take. */
  seconds: number;
  tfjs: boolean;
  torch: boolean;
  /** Per-GEMM figures (a few seconds per model on a GPU, about a minute on a CPU adapter). */
  kernels: boolean;
  /** The machine's own GEMM on the models' shapes (numpy), with how long to time each; default: measured, 0.2 s per shape. */
  numpy?: boolean | MachineGemmOptions;
}

/** The tuner's choices for this runtime: the shapes the models' trainers asked for, and the timings kept for the adapter. */
async function tunerChoices(rt: Runtime): Promise<Record<string, unknown>> {
  const tuner = tunerFor(rt);
  tuner.flush();
  const record = await tuner.store.load(tuner.adapterName, hashText(tuner.adapterName));
  return {
    mode: tuner.mode,
    store: tuner.store.where,
    shapes: tuner.events,
    timed: record?.choices ?? {},
  };
}

function limitsOf(limits: GPUSupportedLimits): Record<string, number> {
  const out: Record<string, number> = {};
  // Dawn's limits are getters on the prototype: for..in sees them, Object.keys does not.
  for (const key in limits) out[key] = (limits as unknown as Record<string, number>)[key];
  return out;
}

function packageVersion(name: string): string | null {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return null;
  }
}

const orNull = (v: number) => (Number.isFinite(v) ? round(v) : null);
const medianOf = (values: number[]) => (values.length ? spread(values).median : NaN);
const spreadOrSkip = (values: number[], skipped: string) => (values.length ? roundSpread(spread(values)) : { skipped });

export async function buildGpuReport(options: GpuReportOptions): Promise<Record<string, unknown>> {
  const started = performance.now();
  const loadBefore = loadavg().map(round);
  const { context, rt, clock } = options;
  const info = context.adapter.info;
  const software = isSoftwareAdapter(context);
  const kernelClock = new KernelClock(rt);
  const python: TorchPython | { skipped: string } = options.torch ? findTorchPython() : { skipped: 'not asked for' };
  const numpy = options.numpy ?? true;
  // Every model's products in one python process, before any model is measured.
  const machine: MachineGemms | { skipped: string } = numpy
    ? measureMachineGemms(
        options.models.flatMap((m) => iterationGemms(m.config)),
        { seconds: 0.2, ...(numpy === true ? {} : numpy) },
      )
    : { skipped: 'not asked for' };

  const models: Record<string, unknown> = {};
  for (const model of options.models) {
    const { config, trainer } = model;
    let tfjsNote = 'not asked for';
    const tfjs =
      options.tfjs && model.images
        ? await createTfjsGan(config, model.images).catch((err: Error) => ((tfjsNote = err.message), undefined))
        : undefined;
    const peers: { cuda?: TorchPeer; cpu?: TorchPeer } = {};
    const peerNotes: { cuda: string; cpu: string } = { cuda: 'not asked for', cpu: 'not asked for' };
    if ('command' in python) {
      if (python.cuda) {
        const cuda = await TorchPeer.start(python, config, { device: 'cuda' });
        if (cuda instanceof TorchPeer) peers.cuda = cuda;
        else peerNotes.cuda = cuda.skipped;
      } else {
        peerNotes.cuda = `torch ${python.torch} (${python.executable}) has no CUDA device`;
      }
      const cpu = await TorchPeer.start(python, config, { device: 'cpu' });
      if (cpu instanceof TorchPeer) peers.cpu = cpu;
      else peerNotes.cpu = cpu.skipped;
    } else if (options.torch) {
      peerNotes.cuda = peerNotes.cpu = python.skipped;
    }
    // The CUDA and CPU peers take turns with ours in two rounds, so each round interleaves one peer.
    const withCuda = await measureModel(trainer, {
      reps: options.reps,
      seconds: options.seconds,
      tfjs,
      tfjsYielding: software,
      torch: peers.cuda,
    });
    const withCpu = peers.cpu
      ? await measureModel(trainer, { reps: options.reps, seconds: options.seconds, torch: peers.cpu })
      : undefined;
    peers.cuda?.close();
    peers.cpu?.close();
    tfjs?.dispose();
    const ours = medianOf(withCuda.ours);
    const flops = iterationFlops(config);
    const entry: Record<string, unknown> = {
      batch: config.batch,
      form: config.form,
      k: config.k,
      gemm_gflop_per_iteration: round(flops / 1e9),
      ours: { ...roundSpread(spread(withCuda.ours)), iterations_per_rep: withCuda.iterations.ours },
      step_gemm_gflops: round((flops * ours) / 1e9),
      tfjs_webgpu: tfjs
        ? { ...roundSpread(spread(withCuda.tfjs)), iterations_per_rep: withCuda.iterations.tfjs, adapter: tfjs.adapter }
        : { skipped: tfjsNote },
      ...(withCuda.tfjsYielding.length ? { tfjs_webgpu_yielding: roundSpread(spread(withCuda.tfjsYielding)) } : {}),
      pytorch_cuda: peers.cuda
        ? {
            ...spreadOrSkip(withCuda.torch, 'no repetitions'),
            ...peers.cuda.about,
            iterations_per_rep: withCuda.iterations.torch,
          }
        : { skipped: peerNotes.cuda },
      pytorch_cpu:
        peers.cpu && withCpu
          ? {
              ...spreadOrSkip(withCpu.torch, 'no repetitions'),
              ...peers.cpu.about,
              iterations_per_rep: withCpu.iterations.torch,
              ours_in_the_same_round: roundSpread(spread(withCpu.ours)),
            }
          : { skipped: peerNotes.cpu },
      ours_over_tfjs_ratio: orNull(ours / medianOf(withCuda.tfjs)),
      ours_over_pytorch_cuda_ratio: orNull(ours / medianOf(withCuda.torch)),
      ours_over_pytorch_cpu_ratio: withCpu ? orNull(medianOf(withCpu.ours) / medianOf(withCpu.torch)) : null,
      machine_step_gemm_gflops: orNull(machineStepGflops(config, machine)),
      step_fraction_of_machine_gemm: orNull(stepFractionOfMachine((flops * ours) / 1e9, config, machine)),
    };
    if (options.kernels) {
      const { gemms, elementwise } = await measureKernels(rt, clock, config, kernelClock, true);
      entry.gemm_timing = kernelClock.method;
      entry.gemms = gemms.map((g) => withMachineGemm({ ...g, ms: round(g.ms), gflops: round(g.gflops) }, machine));
      entry.elementwise = elementwise.map((e) => ({ ...e, ms: round(e.ms), gb_per_s: round(e.gb_per_s) }));
      entry.best_gemm_gflops = round(bestGflops(gemms));
    }
    models[model.name] = entry;
  }

  const limits = limitsOf(context.adapter.limits);
  return {
    report: 'webgpu-gan gpu report',
    version: GPU_REPORT_VERSION,
    created: new Date().toISOString(),
    machine: {
      platform: platform(),
      arch: arch(),
      cpu: cpus()[0]?.model ?? 'unknown',
      cores: cpus().length,
      node: process.version,
      webgpu_package: packageVersion('webgpu'),
      tfjs: packageVersion('@tensorflow/tfjs'),
    },
    adapter: {
      name: context.adapterName,
      vendor: info?.vendor ?? '',
      architecture: info?.architecture ?? '',
      device: info?.device ?? '',
      description: info?.description ?? '',
      software,
      features: [...context.adapter.features].sort(),
      device_features: [...context.device.features].sort(),
      limits,
    },
    timestamp_queries: kernelClock.method === 'timestamp-query',
    pytorch:
      'command' in python
        ? { python: python.executable, torch: python.torch, cuda: python.cuda }
        : { skipped: python.skipped },
    machine_gemm: describeMachine(machine),
    models,
    tuner: await tunerChoices(rt),
    load_average_before: loadBefore,
    load_average_after: loadavg().map(round),
    seconds: round((performance.now() - started) / 1000),
  };
}
