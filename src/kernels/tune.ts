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
// Timing (tune-timing.ts): on a software adapter in Node, the CPU time of the adapter's worker
// threads (the wall clock of a machine shared with other work swings 2x); elsewhere the wall clock.
// A variant must beat the shipped tile by 5% to replace it: noise alone should not move a choice.
// What is kept and how is tune-store.ts's; what GAN_TUNE means, tune-mode.ts's.
import {
  platformTuneStore,
  tuneAtExit,
  tuneCpuClock,
  tuneLog,
  tuneModeFromEnvironment,
  TUNE_SETTING,
} from '#tune-store';
import type { Dispatch, Runtime } from '../gpu/runtime';
import { assembleShader } from '../gpu/shaders';
import { isSoftwareAdapter } from '../gpu/wait';
import { tileVariants, type GemmTile, type TileKernel, type TileVariant } from './tiles';
import { parseTuneMode, type TuneMode } from './tune-mode';
import { hashText, type TuneRecord, type TuneStore } from './tune-store';
import { timeVariants, type Build } from './tune-timing';

/** How much faster than the shipped tile a variant must be to replace it. */
const MARGIN = 0.95;
/**
 * Products smaller than this keep the shipped tile untimed: about a millisecond on lavapipe and
 * microseconds on a GPU, where launching the dispatch costs as much as any tile could save, and
 * timing them would cost the first run more than it could ever win back (the toys, the tests' shapes).
 */
export const MIN_TUNED_MULTIPLY_ADDS = 2 ** 22;

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
    this.mode =
      options.mode !== undefined ? parseTuneMode(options.mode) : parseTuneMode(tuneModeFromEnvironment(), TUNE_SETTING);
    this.adapterName = options.adapterName ?? rt.context.adapterName;
    this.adapterHash = hashText(this.adapterName);
    this.features = options.features ?? rt.device.features;
    this.subgroupMaxSize =
      options.subgroupMaxSize ??
      (rt.context.adapter?.info as { subgroupMaxSize?: number } | undefined)?.subgroupMaxSize;
    this.source = options.source ?? ((shader) => assembleShader(shader).code);
    this.log = options.log ?? tuneLog;
    this.quietMs = options.quietMs ?? 30_000;
    this.minMultiplyAdds = options.minMultiplyAdds ?? MIN_TUNED_MULTIPLY_ADDS;
  }

  /** The variants this device offers for a kernel, the shipped one first. */
  variants(kernel: TileKernel): TileVariant[] {
    return tileVariants(kernel, {
      features: this.features,
      subgroupMaxSize: this.subgroupMaxSize,
      software: isSoftwareAdapter({ adapterName: this.adapterName }),
    });
  }

  /**
   * The tile for one shape of a kernel. `shape` names what the time depends on (the product's
   * sizes and entry point); `multiplyAdds`, the product's size; `build` gives the kernel's dispatch
   * for a tile, with the caller's buffers, which the timing replaces by scratch buffers.
   */
  choose(kernel: TileKernel, shape: string, multiplyAdds: number, build: Build): Promise<GemmTile> {
    if (multiplyAdds < this.minMultiplyAdds && this.mode.kind !== 'force')
      return Promise.resolve(this.variants(kernel)[0].tile);
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
    if (best !== shipped && timed[shipped.name] !== undefined && timed[best.name] > MARGIN * timed[shipped.name])
      best = shipped;
    record.choices[key] = { variant: best.name, sources, ms: timed };
    this.saved = (await this.store.save(this.adapterName, this.adapterHash, record)) && this.saved;
    this.note({ key, variant: best.name, how: 'tuned' });
    return best.tile;
  }

  private load(): Promise<TuneRecord> {
    return (this.record ??= this.store
      .load(this.adapterName, this.adapterHash)
      .then((r) =>
        r && r.adapter === this.adapterName && r.choices && typeof r.choices === 'object'
          ? r
          : { adapter: this.adapterName, choices: {} },
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

  /** timeVariants, on this adapter's clock; the time taken goes into the line. */
  private async time(variants: TileVariant[], build: Build): Promise<Record<string, number>> {
    const started = performance.now();
    const cpu = isSoftwareAdapter({ adapterName: this.adapterName }) ? tuneCpuClock() : undefined;
    try {
      return await timeVariants(this.rt, variants, build, cpu);
    } finally {
      this.tuningMs += performance.now() - started;
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
    const chosen = groups
      .map(([variant, keys], i) =>
        i === 0
          ? `${variant} for ${keys.length} shape${keys.length === 1 ? '' : 's'}`
          : `${variant} for ${keys.join(', ')}`,
      )
      .join('; ');
    const count = (how: TuneEvent['how']) => events.filter((e) => e.how === how).length;
    const how: string[] = [];
    if (count('tuned')) how.push(`${count('tuned')} timed in ${(this.tuningMs / 1000).toFixed(1)} s`);
    if (count('cached')) how.push(`${count('cached')} cached`);
    if (this.mode.kind === 'force' && count('forced')) {
      // A variant a device does not offer (registers/64 on a software adapter) runs the shipped tile: said so.
      const name = this.mode.name;
      const missed = events.filter(
        (e) => e.how === 'forced' && e.variant !== name && !e.variant.startsWith(`${name}/`),
      ).length;
      how.push(
        `${count('forced')} forced by GAN_TUNE=${name}${missed ? `, ${missed} of them to the shipped tile since this adapter does not offer ${name}` : ''}`,
      );
    }
    const where = count('tuned')
      ? this.saved
        ? `; kept in ${this.store.where}`
        : `; could not be kept in ${this.store.where}`
      : '';
    return `GEMM tiles on ${this.adapterName}: ${chosen} (${how.join(', ')}${where})`;
  }
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
export async function tunedDispatch(
  rt: Runtime,
  kernel: TileKernel,
  shape: string,
  multiplyAdds: number,
  build: Build,
): Promise<Dispatch> {
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
