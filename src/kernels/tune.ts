// Kernels that choose their tile: the first time a GEMM shape is built on an adapter, its tile
// variants (src/kernels/tiles.ts tileVariants) are timed and the fastest is kept, cached by adapter
// name, shape and a hash of the variants' shader sources (a changed shader or another adapter times
// again). Node keeps the cache in files under $XDG_CACHE_HOME/webgpu-gan/tiles, a page in IndexedDB
// ('#tune-store'). GAN_TUNE=off runs the shipped tiles (GEMM_TILES), GAN_TUNE=fresh times again and
// overwrites, GAN_TUNE=<variant or form> runs that variant wherever it is offered (the tests run
// every variant that way). Tuning happens where the wrappers build their dispatches, once, when a
// trainer or an evaluation is created; never per step.
//
// Every variant sums the same products in the same order (shaders/tiles.wgsl), so the choice does
// not change a result: test/kernels/tune.test.ts checks every variant bit for bit against the
// shipped one, and a run resumed where another variant was chosen continues bit-exactly.
//
// Timing: on a software adapter in Node, the CPU time of the adapter's worker threads (the wall
// clock of a machine shared with other work swings 2x); elsewhere the wall clock. Each variant's real pipeline runs on scratch buffers of the real bindings' sizes (never
// the caller's buffers, which may hold weights or gradients); a shape that takes long is timed on
// its first row blocks only, the same blocks for every variant, so that timing one shape stays
// within about TUNE_BUDGET_MS. Variants take turns, round by round, and each keeps its fastest
// round, so a change in the machine's load falls on all of them. A variant must beat the shipped
// tile by 5% to replace it: noise alone should not move a choice.
import { platformTuneStore, tuneAtExit, tuneCpuClock, tuneLog, tuneModeFromEnvironment, TUNE_SETTING } from '#tune-store';
import type { Dispatch, DispatchSpec, Runtime } from '../gpu/runtime';
import { assembleShader } from '../gpu/shaders';
import { isSoftwareAdapter } from '../gpu/wait';
import { GEMM_TILES, tileVariants, type GemmTile, type TileForm, type TileKernel, type TileVariant } from './tiles';

/** What the timed rounds of one shape may take (after two rounds, no more start once it is spent); pipelines and the warm-up runs come on top. */
export const TUNE_BUDGET_MS = 300;
/** A timed dispatch is cut to about this long (by its row blocks). */
const TARGET_DISPATCH_MS = 8;
const MAX_ROUNDS = 3;
/** How much faster than the shipped tile a variant must be to replace it. */
const MARGIN = 0.95;
/**
 * Products smaller than this keep the shipped tile untimed: about a millisecond on lavapipe and
 * microseconds on a GPU, where launching the dispatch costs as much as any tile could save, and
 * timing them would cost the first run more than it could ever win back (the toys, the tests' shapes).
 */
export const MIN_TUNED_MULTIPLY_ADDS = 2 ** 22;

/** One shape's choice, as cached. */
export interface TuneChoice {
  variant: string;
  /** Hash of the offered variants' names and shader sources when it was timed. */
  sources: string;
  /** Estimated milliseconds of the whole dispatch, per variant timed. */
  ms: Record<string, number>;
}

/** An adapter's choices, by `${kernel} ${shape}`. */
export interface TuneRecord {
  adapter: string;
  choices: Record<string, TuneChoice>;
}

/** Where choices are kept: files in Node, IndexedDB in a page. `save` answers whether it could. */
export interface TuneStore {
  where: string;
  load(adapter: string, adapterHash: string): Promise<TuneRecord | undefined>;
  save(adapter: string, adapterHash: string, record: TuneRecord): Promise<boolean>;
}

/** A store in memory (tests, and pages without IndexedDB). */
export function memoryTuneStore(): TuneStore & { records: Map<string, TuneRecord> } {
  const records = new Map<string, TuneRecord>();
  return {
    where: 'memory',
    records,
    async load(adapter) {
      const record = records.get(adapter);
      return record && structuredClone(record);
    },
    async save(adapter, _hash, record) {
      records.set(adapter, structuredClone(record));
      return true;
    },
  };
}

export type TuneMode = { kind: 'auto' } | { kind: 'off' } | { kind: 'fresh' } | { kind: 'force'; name: string };

/** A GAN_TUNE (or ?tune=) value that means nothing: refused by name rather than run as the default under a forced label. */
export class TuneModeError extends Error {
  override name = 'TuneModeError';
}

let variantNames: Set<string> | undefined;
/** Every variant name some device offers: tileVariants on a GPU and on a software adapter, with every subgroup size. */
export function knownVariantNames(): Set<string> {
  if (variantNames) return variantNames;
  variantNames = new Set();
  const subgroups = new Set(['subgroups']);
  for (const kernel of Object.keys(GEMM_TILES) as TileKernel[]) {
    for (const software of [false, true]) {
      for (let size = 1; size <= 128; size++) for (const v of tileVariants(kernel, { features: subgroups, subgroupMaxSize: size, software })) variantNames.add(v.name);
    }
  }
  return variantNames;
}

/** The values of GAN_TUNE that mean something, for the refusal: subgroups/8 ... subgroups/128 as one range. */
function tuneValuesText(): string {
  const names = [...knownVariantNames()];
  const forms = [...new Set(names.map((n) => n.split('/')[0]))];
  const listed = forms.map((form) => {
    const mine = names.filter((n) => n.startsWith(`${form}/`)).sort((a, b) => parseInt(a.split('/')[1]) - parseInt(b.split('/')[1]));
    return mine.length > 3 ? `${mine[0]} to ${mine[mine.length - 1]}` : mine.join(', ');
  });
  return `off, fresh, auto, a form (${forms.join(', ')}) or a variant (${listed.join(', ')})`;
}

/**
 * GAN_TUNE's value: off, fresh, auto or empty, or the name (registers/64) or form (workgroup) of a
 * variant; anything else is a TuneModeError naming `setting` (GAN_TUNE, or a page's ?tune).
 */
export function parseTuneMode(text: string | undefined, setting = 'GAN_TUNE'): TuneMode {
  const value = (text ?? '').trim();
  if (value === '' || value === 'auto' || value === 'on') return { kind: 'auto' };
  if (value === 'off' || value === 'fresh') return { kind: value };
  const forms: readonly string[] = ['registers', 'workgroup', 'subgroups'] satisfies TileForm[];
  if (!forms.includes(value) && !knownVariantNames().has(value)) throw new TuneModeError(`${setting}=${value}: no such tile choice; use ${tuneValuesText()}.`);
  return { kind: 'force', name: value };
}

/** A 64-bit FNV-1a of the text, as 16 hex digits: a cache key, not a defence. */
export function hashText(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0');
}

export interface TunerOptions {
  store?: TuneStore;
  /** GAN_TUNE's value; default: the environment's (Node) or the page's (?tune=). */
  mode?: string;
  /** Default: the runtime's adapter name. */
  adapterName?: string;
  /** Default: the device's features and the adapter's largest subgroup. */
  features?: ReadonlySet<string>;
  subgroupMaxSize?: number;
  /** The WGSL a shader name assembles to (tests give other sources); default: shaders/. */
  source?: (shader: string) => string;
  log?: (line: string) => void;
  /** Quiet time after the last choice before the one line is written. */
  quietMs?: number;
  /** Default MIN_TUNED_MULTIPLY_ADDS. */
  minMultiplyAdds?: number;
}

/** What happened to one shape: for the line and for tests. */
export interface TuneEvent {
  key: string;
  variant: string;
  how: 'tuned' | 'cached' | 'off' | 'forced';
}

type Build = (tile: GemmTile) => DispatchSpec;

export class Tuner {
  readonly store: TuneStore;
  readonly mode: TuneMode;
  readonly adapterName: string;
  private readonly adapterHash: string;
  private readonly features: ReadonlySet<string>;
  private readonly subgroupMaxSize?: number;
  private readonly source: (shader: string) => string;
  private readonly log: (line: string) => void;
  private readonly quietMs: number;
  private readonly minMultiplyAdds: number;
  private record?: Promise<TuneRecord>;
  private readonly pending = new Map<string, Promise<GemmTile>>();
  private readonly sourceHashes = new Map<string, string>();
  /** One timing at a time: variants timed side by side would slow each other. */
  private queue: Promise<unknown> = Promise.resolve();
  /** Every choice made, in order (a second run from the cache shows no 'tuned'). */
  readonly events: TuneEvent[] = [];
  private unreported: TuneEvent[] = [];
  private tuningMs = 0;
  private saved = true;
  private timer?: ReturnType<typeof setTimeout>;
  private inFlight = 0;

  constructor(
    private readonly rt: Runtime,
    options: TunerOptions = {},
  ) {
    this.store = options.store ?? platformTuneStore();
    this.mode = options.mode !== undefined ? parseTuneMode(options.mode) : parseTuneMode(tuneModeFromEnvironment(), TUNE_SETTING);
    this.adapterName = options.adapterName ?? rt.context.adapterName;
    this.adapterHash = hashText(this.adapterName);
    this.features = options.features ?? rt.device.features;
    this.subgroupMaxSize = options.subgroupMaxSize ?? (rt.context.adapter?.info as { subgroupMaxSize?: number } | undefined)?.subgroupMaxSize;
    this.source = options.source ?? ((shader) => assembleShader(shader).code);
    this.log = options.log ?? tuneLog;
    this.quietMs = options.quietMs ?? 30_000;
    this.minMultiplyAdds = options.minMultiplyAdds ?? MIN_TUNED_MULTIPLY_ADDS;
  }

  /** The variants this device offers for a kernel, the shipped one first. */
  variants(kernel: TileKernel): TileVariant[] {
    return tileVariants(kernel, { features: this.features, subgroupMaxSize: this.subgroupMaxSize, software: isSoftwareAdapter({ adapterName: this.adapterName }) });
  }

  /**
   * The tile for one shape of a kernel. `shape` names what the time depends on (the product's
   * sizes and entry point); `multiplyAdds`, the product's size; `build` gives the kernel's dispatch
   * for a tile, with the caller's buffers, which the timing replaces by scratch buffers.
   */
  choose(kernel: TileKernel, shape: string, multiplyAdds: number, build: Build): Promise<GemmTile> {
    if (multiplyAdds < this.minMultiplyAdds && this.mode.kind !== 'force') return Promise.resolve(this.variants(kernel)[0].tile);
    const key = `${kernel} ${shape}`;
    let chosen = this.pending.get(key);
    if (!chosen) {
      // No line while a choice is being made: timing one shape can take longer than the quiet while.
      this.inFlight++;
      if (this.timer !== undefined) clearTimeout(this.timer);
      chosen = this.decide(kernel, key, build).finally(() => {
        if (--this.inFlight === 0) this.scheduleLine();
      });
      this.pending.set(key, chosen);
    }
    return chosen;
  }

  private async decide(kernel: TileKernel, key: string, build: Build): Promise<GemmTile> {
    const variants = this.variants(kernel);
    const shipped = variants[0];
    const mode = this.mode;
    if (mode.kind === 'off') return shipped.tile;
    if (mode.kind === 'force') {
      const named = variants.find((v) => v.name === mode.name) ?? variants.find((v) => v.tile.form === mode.name);
      this.note({ key, variant: named?.name ?? shipped.name, how: 'forced' });
      return (named ?? shipped).tile;
    }
    const sources = this.sourcesHash(build, variants);
    const record = await this.load();
    const cached = record.choices[key];
    const offered = cached && variants.find((v) => v.name === cached.variant);
    if (mode.kind === 'auto' && cached && cached.sources === sources && offered) {
      this.note({ key, variant: offered.name, how: 'cached' });
      return offered.tile;
    }
    const timed = await this.serially(() => this.time(variants, build));
    let best = shipped;
    for (const v of variants) if ((timed[v.name] ?? Infinity) < (timed[best.name] ?? Infinity)) best = v;
    if (best !== shipped && timed[shipped.name] !== undefined && timed[best.name] > MARGIN * timed[shipped.name]) best = shipped;
    record.choices[key] = { variant: best.name, sources, ms: timed };
    this.saved = (await this.store.save(this.adapterName, this.adapterHash, record)) && this.saved;
    this.note({ key, variant: best.name, how: 'tuned' });
    return best.tile;
  }

  private load(): Promise<TuneRecord> {
    return (this.record ??= this.store.load(this.adapterName, this.adapterHash).then((r) =>
      r && r.adapter === this.adapterName && r.choices && typeof r.choices === 'object' ? r : { adapter: this.adapterName, choices: {} },
    ));
  }

  /** The hash of every offered variant's name and shader source for this kernel. */
  private sourcesHash(build: Build, variants: TileVariant[]): string {
    const parts = variants.map((v) => {
      const shader = build(v.tile).shader;
      let hash = this.sourceHashes.get(shader);
      if (!hash) this.sourceHashes.set(shader, (hash = hashText(this.source(shader))));
      return `${v.name}:${hash}`;
    });
    return hashText(parts.join('\n'));
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Estimated milliseconds of each variant's whole dispatch; a variant whose pipeline fails is left out. */
  private async time(variants: TileVariant[], build: Build): Promise<Record<string, number>> {
    const { rt } = this;
    const device = rt.device;
    const started = performance.now();
    const cpu = isSoftwareAdapter({ adapterName: this.adapterName }) ? tuneCpuClock() : undefined;
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
      const buffers = Object.fromEntries(Object.entries(m.spec.buffers).map(([name, b]) => [name, bufferFor(name, b, m.kinds.get(name))]));
      const d = await rt.dispatch({ ...m.spec, buffers, workgroups: [Math.min(rowBlocks, m.spec.workgroups[0]), m.spec.workgroups[1], m.spec.workgroups[2]] });
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
      const repeats = blocks < full ? 1 : Math.max(1, Math.min(16, Math.round((TARGET_DISPATCH_MS * probeBlocks) / (probe * full))));
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
      this.tuningMs += performance.now() - started;
      for (const d of dispatches) d.params?.buffer.destroy();
      for (const b of scratch.values()) b.destroy();
    }
  }

  private note(event: TuneEvent): void {
    this.events.push(event);
    this.unreported.push(event);
    unreported.add(this);
  }

  // One line per run: the first record of a tuned dispatch writes it (tunedDispatch); a run that
  // builds dispatches and records none gets it after a quiet while or at the process's exit.
  private scheduleLine(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.quietMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  hasUnreported(): boolean {
    return this.unreported.length > 0;
  }

  /** Writes the line for the choices made since the last one (if any), now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    unreported.delete(this);
    const line = this.line();
    this.unreported = [];
    this.tuningMs = 0;
    if (line) this.log(line);
  }

  /** The line for the choices made since the last one: each variant with the shapes it won (all but the largest group by name). */
  line(): string | undefined {
    const events = this.unreported;
    if (events.length === 0) return undefined;
    const byVariant = new Map<string, string[]>();
    for (const e of events) byVariant.set(e.variant, [...(byVariant.get(e.variant) ?? []), e.key]);
    const groups = [...byVariant.entries()].sort((a, b) => b[1].length - a[1].length);
    const chosen = groups.map(([variant, keys], i) => (i === 0 ? `${variant} for ${keys.length} shape${keys.length === 1 ? '' : 's'}` : `${variant} for ${keys.join(', ')}`)).join('; ');
    const count = (how: TuneEvent['how']) => events.filter((e) => e.how === how).length;
    const how: string[] = [];
    if (count('tuned')) how.push(`${count('tuned')} timed in ${(this.tuningMs / 1000).toFixed(1)} s`);
    if (count('cached')) how.push(`${count('cached')} cached`);
    if (this.mode.kind === 'force' && count('forced')) {
      // A variant a device does not offer (registers/64 on a software adapter) runs the shipped tile: said so.
      const name = this.mode.name;
      const missed = events.filter((e) => e.how === 'forced' && e.variant !== name && !e.variant.startsWith(`${name}/`)).length;
      how.push(`${count('forced')} forced by GAN_TUNE=${name}${missed ? `, ${missed} of them to the shipped tile since this adapter does not offer ${name}` : ''}`);
    }
    const where = count('tuned') ? (this.saved ? `; kept in ${this.store.where}` : `; could not be kept in ${this.store.where}`) : '';
    return `GEMM tiles on ${this.adapterName}: ${chosen} (${how.join(', ')}${where})`;
  }
}

/**
 * Times `repeats` runs of one dispatch in one pass, per run: by `cpu` (a software adapter's worker
 * threads' CPU time, in Node on Linux) where given, else by the wall clock around submit and
 * completion. Not GPU timestamps: lavapipe's came back quantised, and for some pipelines thousands
 * of times longer than the whole submission took. A pass of several runs makes the submission's own
 * cost small beside the work.
 */
async function timeDispatch(device: GPUDevice, dispatch: Dispatch, repeats: number, cpu?: () => number): Promise<number> {
  return (await timeRuns(device, dispatch, repeats, cpu)).ms;
}

/** timeDispatch's time, and the wall clock's, which sizes the runs (the CPU time of a short run may not be counted yet). */
async function timeRuns(device: GPUDevice, dispatch: Dispatch, repeats: number, cpu?: () => number): Promise<{ ms: number; wall: number }> {
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

/** Tuners with choices not yet in a line: the process's exit writes them. */
const unreported = new Set<Tuner>();
tuneAtExit(() => {
  for (const tuner of [...unreported]) tuner.flush();
});

const tuners = new WeakMap<Runtime, Tuner>();

/** The runtime's tuner (made on first use, with the platform's store and GAN_TUNE). */
export function tunerFor(rt: Runtime): Tuner {
  let tuner = tuners.get(rt);
  if (!tuner) tuners.set(rt, (tuner = new Tuner(rt)));
  return tuner;
}

/** Gives a runtime its own tuner (tests: another store, adapter name, sources or mode). */
export function setTuner(rt: Runtime, tuner: Tuner): void {
  tuners.set(rt, tuner);
}

/** The dispatch of a GEMM kernel on the tile its runtime's tuner chooses for this shape. */
export async function tunedDispatch(rt: Runtime, kernel: TileKernel, shape: string, multiplyAdds: number, build: Build): Promise<Dispatch> {
  const tuner = tunerFor(rt);
  const dispatch = await rt.dispatch(build(await tuner.choose(kernel, shape, multiplyAdds, build)));
  // The run's line is written when its first tuned dispatch is first recorded: by then the trainer
  // (or evaluation) has built every dispatch, so one line covers all its shapes. The hook removes
  // itself and defers to Dispatch.prototype.record, so later records are the plain method.
  if (tuner.hasUnreported()) {
    const hooked = dispatch as Dispatch & { record(pass: GPUComputePassEncoder): void };
    hooked.record = (pass: GPUComputePassEncoder) => {
      delete (hooked as Partial<Dispatch>).record;
      tuner.flush();
      hooked.record(pass);
    };
  }
  return dispatch;
}
