// The machine's own GEMM as the ceiling: the float32 matmul rate of the machine's BLAS (numpy's
// `a @ b`, bench/numpy_gemm.py) on each shape our GEMMs run, measured in the same run, and our
// fraction of it, per GEMM and for a whole training step.
//
// Which python: as for torch (bench/torch.ts), `python3` on PATH first, then Debian's own
// /usr/bin/python3 (Debian's python3-numpy links OpenBLAS); the first that imports numpy. All shapes
// are measured by one process. Threads: the machine's cores, through OPENBLAS_NUM_THREADS,
// OMP_NUM_THREADS and MKL_NUM_THREADS. A loaded machine slows a multi-threaded OpenBLAS far more
// than one thread's share (threads wait for each other), so read these figures from quiet runs.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { TrainConfig } from '../src/spec/config';
import { iterationGemms } from './kernels';
import { round } from './stats';
import { PYTHON_CANDIDATES } from './torch';

export const NUMPY_SCRIPT = fileURLToPath(new URL('./numpy_gemm.py', import.meta.url));

/** A product (m x k) (k x n). */
export interface GemmShape {
  m: number;
  n: number;
  k: number;
}

export interface NumpyPython {
  /** The command run (as tried) and the interpreter it is (sys.executable). */
  command: string;
  executable: string;
  numpy: string;
}

/** The machine's time for one shape: the median over samples of the seconds per call. */
export interface MachineShape extends GemmShape {
  seconds: number;
  calls_per_sample: number;
  samples: number;
}

export interface MachineGemms {
  python: string;
  numpy: string;
  blas: string | null;
  threads: number | null;
  shapes: MachineShape[];
}

export const shapeKey = (s: GemmShape) => `${s.m}x${s.k}x${s.n}`;

/** The first candidate that imports numpy, or one line saying what each lacked. */
export function findNumpyPython(candidates = PYTHON_CANDIDATES): NumpyPython | { skipped: string } {
  const failures: string[] = [];
  for (const command of candidates) {
    const probe = spawnSync(command, ['-c', 'import sys, numpy; print(sys.executable); print(numpy.__version__)'], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (probe.status === 0) {
      const [executable, numpy] = probe.stdout.trim().split('\n');
      return { command, executable, numpy };
    }
    const why = probe.error
      ? ((probe.error as NodeJS.ErrnoException).code ?? probe.error.message)
      : (probe.stderr.trim().split('\n').pop() ?? `exit status ${probe.status}`);
    failures.push(`${command}: ${why}`);
  }
  return { skipped: `no python3 with numpy (${failures.join('; ')})` };
}

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** bench/numpy_gemm.py's output, checked: every field present and of its type, one entry per shape asked for. */
export function parseMachineGemms(text: string, asked?: GemmShape[]): MachineGemms {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.trim().split('\n').pop() ?? '');
  } catch {
    throw new Error(`bench/numpy_gemm.py printed no JSON: '${text.trim().slice(0, 200)}'`);
  }
  const out = parsed as Partial<MachineGemms> | null;
  if (!out || typeof out.python !== 'string' || typeof out.numpy !== 'string' || !Array.isArray(out.shapes)) {
    throw new Error(
      `bench/numpy_gemm.py printed JSON without python, numpy and shapes: '${text.trim().slice(0, 200)}'`,
    );
  }
  for (const s of out.shapes) {
    const fine =
      s &&
      isCount(s.m) &&
      isCount(s.n) &&
      isCount(s.k) &&
      typeof s.seconds === 'number' &&
      s.seconds >= 0 &&
      isCount(s.calls_per_sample) &&
      isCount(s.samples);
    if (!fine)
      throw new Error(
        `bench/numpy_gemm.py: a shape without m, n, k, seconds, calls_per_sample and samples: ${JSON.stringify(s)}`,
      );
  }
  if (asked) {
    const got = new Set(out.shapes.map(shapeKey));
    const missing = asked.filter((s) => !got.has(shapeKey(s)));
    if (missing.length) throw new Error(`bench/numpy_gemm.py left out ${missing.map(shapeKey).join(', ')}`);
  }
  return {
    python: out.python,
    numpy: out.numpy,
    blas: typeof out.blas === 'string' ? out.blas : null,
    threads: typeof out.threads === 'number' ? out.threads : null,
    shapes: out.shapes,
  };
}

export interface MachineGemmOptions {
  /** Seconds of timed samples per shape (the warm-up and sizing come on top). */
  seconds?: number;
  samples?: number;
  threads?: number;
  candidates?: string[];
}

/** Each distinct shape once, in first-seen order. */
export function distinctShapes(shapes: GemmShape[]): GemmShape[] {
  const seen = new Map<string, GemmShape>();
  for (const { m, n, k } of shapes) if (!seen.has(shapeKey({ m, n, k }))) seen.set(shapeKey({ m, n, k }), { m, n, k });
  return [...seen.values()];
}

/** The machine's time for every shape, in one python process; or one line saying why not. */
export function measureMachineGemms(
  shapes: GemmShape[],
  options: MachineGemmOptions = {},
): MachineGemms | { skipped: string } {
  const python = findNumpyPython(options.candidates);
  if (!('command' in python)) return python;
  const distinct = distinctShapes(shapes);
  const seconds = options.seconds ?? 0.5;
  const samples = options.samples ?? 5;
  const threads = String(options.threads ?? availableParallelism());
  const request = JSON.stringify({ shapes: distinct.map((s) => [s.m, s.n, s.k]), seconds, samples });
  // The interpreter itself, not the command that found it (a pyenv shim is a shell script).
  const run = spawnSync(python.executable, [NUMPY_SCRIPT], {
    input: request,
    encoding: 'utf8',
    // Generous: sizing and warm-up can take as long as the samples on a loaded machine.
    timeout: (60 + distinct.length * seconds * 4) * 1000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, OPENBLAS_NUM_THREADS: threads, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads },
  });
  if (run.status !== 0) {
    const why = run.error
      ? ((run.error as NodeJS.ErrnoException).code ?? run.error.message)
      : (run.stderr.trim().split('\n').pop() ?? `exit status ${run.status}`);
    return { skipped: `bench/numpy_gemm.py (${python.executable}) failed: ${why}` };
  }
  try {
    return parseMachineGemms(run.stdout, distinct);
  } catch (err) {
    return { skipped: (err as Error).message };
  }
}

/** The machine's GFLOP/s on a shape; NaN where it was not measured or took less than the clock could see. */
export function machineGflops(machine: MachineGemms | { skipped: string } | undefined, shape: GemmShape): number {
  if (!machine || !('shapes' in machine)) return NaN;
  const found = machine.shapes.find((s) => shapeKey(s) === shapeKey(shape));
  return found && found.seconds > 0 ? (2 * shape.m * shape.n * shape.k) / found.seconds / 1e9 : NaN;
}

/**
 * A GEMM row with the machine's rate on its shape and our fraction of it (null where either rate is
 * missing); the row unchanged where the machine was not measured.
 */
export function withMachineGemm<T extends GemmShape & { gflops: number }>(
  row: T,
  machine: MachineGemms | { skipped: string } | undefined,
): T | (T & { machine_gemm_gflops: number | null; fraction_of_machine_gemm: number | null }) {
  if (!machine || !('shapes' in machine)) return row;
  const ceiling = machineGflops(machine, row);
  const orNull = (v: number) => (Number.isFinite(v) ? round(v) : null);
  return { ...row, machine_gemm_gflops: orNull(ceiling), fraction_of_machine_gemm: orNull(row.gflops / ceiling) };
}

/**
 * The machine's GEMM rate on one training iteration's products: their total FLOPs over the sum of
 * the machine's times for them (each product as often as the iteration runs it). NaN where a shape
 * is unmeasured.
 */
export function machineStepGflops(
  config: TrainConfig,
  machine: MachineGemms | { skipped: string } | undefined,
): number {
  if (!machine || !('shapes' in machine)) return NaN;
  const times = new Map(machine.shapes.map((s) => [shapeKey(s), s.seconds]));
  let flops = 0;
  let seconds = 0;
  for (const g of iterationGemms(config)) {
    const t = times.get(shapeKey(g));
    if (t === undefined) return NaN;
    flops += g.count * 2 * g.m * g.n * g.k;
    seconds += g.count * t;
  }
  return seconds > 0 ? flops / seconds / 1e9 : NaN;
}

/** The step's GEMM rate (step_gemm_gflops) over the machine's on the same products; NaN where unmeasured. */
export function stepFractionOfMachine(
  stepGemmGflops: number,
  config: TrainConfig,
  machine: MachineGemms | { skipped: string } | undefined,
): number {
  return stepGemmGflops / machineStepGflops(config, machine);
}

/** What the run and the report say about the measurement: the python and BLAS, or why there is none. */
export function describeMachine(machine: MachineGemms | { skipped: string }): Record<string, unknown> {
  if (!('shapes' in machine)) return { skipped: machine.skipped };
  return {
    python: machine.python,
    numpy: machine.numpy,
    blas: machine.blas,
    threads: machine.threads,
    shapes: machine.shapes.length,
  };
}
