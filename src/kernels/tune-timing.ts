// The tile tuner's clock (tune.ts): every offered variant's real pipeline timed on scratch buffers
// of the real bindings' sizes (never the caller's buffers, which may hold weights or gradients); a
// shape that takes long is timed on its first row blocks only, the same blocks for every variant,
// so that timing one shape stays within about TUNE_BUDGET_MS. Variants take turns, round by round,
// and each keeps its fastest round, so a change in the machine's load falls on all of them.
import type { Dispatch, DispatchSpec, Runtime } from '../gpu/runtime';
import type { GemmTile, TileVariant } from './tiles';

/** What the timed rounds of one shape may take (after two rounds, no more start once it is spent); pipelines and the warm-up runs come on top. */
export const TUNE_BUDGET_MS = 300;
/** A timed dispatch is cut to about this long (by its row blocks). */
const TARGET_DISPATCH_MS = 8;
const MAX_ROUNDS = 3;

/** A kernel's dispatch for a tile, with the caller's buffers. */
export type Build = (tile: GemmTile) => DispatchSpec;

/**
 * Estimated milliseconds of each variant's whole dispatch; a variant whose pipeline fails is left
 * out. `cpu`: the clock of a software adapter's worker threads (timeDispatch), else the wall clock.
 */
export async function timeVariants(
  rt: Runtime,
  variants: TileVariant[],
  build: Build,
  cpu?: () => number,
): Promise<Record<string, number>> {
  const device = rt.device;
  const scratch = new Map<string, GPUBuffer>();
  const made: { variant: TileVariant; spec: DispatchSpec; kinds: Map<string, string> }[] = [];
  for (const variant of variants) {
    const spec = build(variant.tile);
    try {
      const compiled = await rt.pipeline(spec.shader, spec.entry, spec.constants);
      made.push({ variant, spec, kinds: new Map(compiled.reflection.bindings.map((b) => [b.name, b.kind])) });
    } catch {
      // A form the driver cannot build (a subgroup form on a partial implementation) is not offered.
    }
  }
  const bufferFor = (name: string, binding: DispatchSpec['buffers'][string], kind: string | undefined) => {
    const size = 'buffer' in binding ? (binding.size ?? binding.buffer.size - (binding.offset ?? 0)) : binding.size;
    const id = `${name}:${size}:${kind}`;
    let buffer = scratch.get(id);
    if (!buffer) {
      const usage = (kind === 'uniform' ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST;
      buffer = device.createBuffer({ label: `tune.${name}`, size: Math.ceil(size / 16) * 16, usage });
      scratch.set(id, buffer);
    }
    return buffer;
  };
  const dispatches: Dispatch[] = [];
  const build1 = async (m: (typeof made)[number], rowBlocks: number) => {
    const buffers = Object.fromEntries(
      Object.entries(m.spec.buffers).map(([name, b]) => [name, bufferFor(name, b, m.kinds.get(name))]),
    );
    const d = await rt.dispatch({
      ...m.spec,
      buffers,
      workgroups: [Math.min(rowBlocks, m.spec.workgroups[0]), m.spec.workgroups[1], m.spec.workgroups[2]],
    });
    dispatches.push(d);
    return d;
  };
  try {
    const result: Record<string, number> = {};
    if (made.length === 0) return result;
    // How many row blocks (or, for a whole dispatch, how many runs in a pass) make about
    // TARGET_DISPATCH_MS, from a probe of the first variant after a run that warms it up.
    const full = made[0].spec.workgroups[0];
    const probeBlocks = Math.min(full, 2);
    const probeDispatch = await build1(made[0], probeBlocks);
    await timeDispatch(device, probeDispatch, 1, cpu);
    const probe = Math.max((await timeRuns(device, probeDispatch, 1, cpu)).wall, 0.05);
    const blocks = Math.max(1, Math.min(full, Math.round((probeBlocks * TARGET_DISPATCH_MS) / probe)));
    const repeats =
      blocks < full ? 1 : Math.max(1, Math.min(16, Math.round((TARGET_DISPATCH_MS * probeBlocks) / (probe * full))));
    const timed = await Promise.all(made.map((m) => build1(m, blocks)));
    // A first run of each, untimed: a driver may finish compiling a pipeline at its first dispatch.
    for (const d of timed) await timeDispatch(device, d, 1, cpu);
    const measuring = performance.now();
    for (let round = 0; round < MAX_ROUNDS; round++) {
      for (let i = 0; i < made.length; i++) {
        const ms = await timeDispatch(device, timed[i], repeats, cpu);
        // Whole-dispatch estimate: every variant ran the same row blocks' share of its rows.
        const share = Math.min(blocks, made[i].spec.workgroups[0]) / made[i].spec.workgroups[0];
        const name = made[i].variant.name;
        result[name] = Math.min(result[name] ?? Infinity, ms / share);
      }
      if (round >= 1 && performance.now() - measuring > TUNE_BUDGET_MS) break;
    }
    return result;
  } finally {
    for (const d of dispatches) d.params?.buffer.destroy();
    for (const b of scratch.values()) b.destroy();
  }
}

/**
 * Times `repeats` runs of one dispatch in one pass, per run: by `cpu` (a software adapter's worker
 * threads' CPU time, in Node on Linux) where given, else by the wall clock around submit and
 * completion. Not GPU timestamps: lavapipe's came back quantised, and for some pipelines thousands
 * of times longer than the whole submission took. A pass of several runs makes the submission's own
 * cost small beside the work.
 */
async function timeDispatch(
  device: GPUDevice,
  dispatch: Dispatch,
  repeats: number,
  cpu?: () => number,
): Promise<number> {
  return (await timeRuns(device, dispatch, repeats, cpu)).ms;
}

/** timeDispatch's time, and the wall clock's, which sizes the runs (the CPU time of a short run may not be counted yet). */
async function timeRuns(
  device: GPUDevice,
  dispatch: Dispatch,
  repeats: number,
  cpu?: () => number,
): Promise<{ ms: number; wall: number }> {
  const encoder = device.createCommandEncoder({ label: 'tune' });
  const pass = encoder.beginComputePass({ label: 'tune' });
  for (let r = 0; r < repeats; r++) dispatch.record(pass);
  pass.end();
  const clock = cpu ?? (() => performance.now());
  const wallStart = performance.now();
  const start = clock();
  device.queue.submit([encoder.finish()]);
  // A plain wait, spinning: the trainer's low-priority wait (src/gpu/wait.ts) suits its rare waits,
  // but tuning waits dozens of times per shape, and at the lowest priority on a busy machine each
  // wake-up waited seconds for a core. The spinning is the main thread's, which `cpu` leaves out.
  await device.queue.onSubmittedWorkDone();
  return { ms: (clock() - start) / repeats, wall: (performance.now() - wallStart) / repeats };
}
