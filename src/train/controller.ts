// Run, pause and single steps for a trainer that lives in a page (or anywhere an event loop must
// stay responsive): the training loop in short windows, with the page's own actions (a new model, a
// checkpoint saved or opened, a snapshot) queued between them so that nothing overlaps a window.
//
// A window is about half a second of work, sized from the last windows' pace, so clicks and frames
// get their turn; each ends with a log, so the charts move with every window. One error message at a
// time: a failed window stops the run and reports its error; the page's own actions report theirs
// through the same hook, and a message stays until the page clears it.
import { runTraining } from './loop';
import type { MetricsRecord, SampleBatch, Trainer } from './trainer';

/**
 * idle: no trainer, or one not trained since it was set; running: windows follow one another;
 * paused: stopped by pause() or after step(); done: the trainer reached `until`; error: the last
 * window failed (run() and step() try again).
 */
export type ControllerState = 'idle' | 'running' | 'paused' | 'done' | 'error';

export type ControllerMetrics = MetricsRecord & { its_per_s: number };

export interface ControllerHooks {
  /** One record per window (its last iteration), with the window's iterations per second. */
  onMetrics?(record: ControllerMetrics): void | Promise<void>;
  /** Samples from the fixed noise, when `sampleWithLogs` asks for them at every window's end. */
  onSamples?(batch: SampleBatch): void | Promise<void>;
  /** After every window, before any queued action runs: views are drawn and the status shown here. */
  onWindow?(iteration: number, itsPerSecond: number): void | Promise<void>;
  /** Between windows, once `checkpointEvery` iterations or `checkpointEveryMs` have passed since the last (or since the trainer was set). */
  onCheckpoint?(iteration: number): void | Promise<void>;
  onState?(state: ControllerState): void;
  /** The one message to show: an error, or undefined when it is cleared. */
  onError?(error: Error | undefined): void;
}

export interface ControllerOptions extends ControllerHooks {
  trainer?: Trainer;
  /** The iteration at which training is done (default: never). */
  until?: number;
  /** Bounds on a window's iterations (default 1 and 50). */
  minWindow?: number;
  maxWindow?: number;
  /** Copy the fixed-noise samples at every window's end (the toys' divergence needs them). */
  sampleWithLogs?: boolean;
  checkpointEvery?: number;
  checkpointEveryMs?: number;
}

/** Runs actions one after another: a click waits for the training window in flight to end. */
class ActionQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(action: () => Promise<T>): Promise<T> {
    const next = this.tail.then(action);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

const nextTurn = () => new Promise((resolve) => setTimeout(resolve, 0));

export class TrainingController {
  private current?: Trainer;
  private currentState: ControllerState = 'idle';
  private currentError?: Error;
  private running = false;
  private looping = false;
  private disposed = false;
  private speed = 0;
  private lastCheckpoint = { iteration: 0, at: 0 };
  private readonly queue = new ActionQueue();
  private readonly hooks: ControllerHooks;

  constructor(private readonly options: ControllerOptions = {}) {
    this.hooks = options;
    if (options.trainer) this.setTrainer(options.trainer);
  }

  get trainer(): Trainer {
    if (!this.current) throw new Error('The controller has no trainer yet.');
    return this.current;
  }

  get state(): ControllerState {
    return this.currentState;
  }

  /** The message shown now, if any. */
  get error(): Error | undefined {
    return this.currentError;
  }

  /** The pace of the last window. */
  get itsPerSecond(): number {
    return this.speed;
  }

  private get until(): number {
    return this.options.until ?? Number.MAX_SAFE_INTEGER;
  }

  private setState(state: ControllerState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.hooks.onState?.(state);
  }

  /**
   * Trains `trainer` from now on (inside `exclusive` when a run may be going: the run goes on with
   * the new trainer). Returns the previous trainer, which the caller still owns.
   */
  setTrainer(trainer: Trainer): Trainer | undefined {
    const previous = this.current;
    this.current = trainer;
    this.lastCheckpoint = { iteration: trainer.iteration, at: performance.now() };
    if (!this.running) this.setState(trainer.iteration >= this.until ? 'done' : 'idle');
    return previous;
  }

  /** Sets the one message (an error of the page's own, or a failed window), or clears it. */
  report(error?: unknown): void {
    this.currentError = error === undefined ? undefined : error instanceof Error ? error : new Error(String(error));
    this.hooks.onError?.(this.currentError);
  }

  /** Runs `action` between windows, never during one; rejects with its error. */
  exclusive<T>(action: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new Error('The training controller was disposed.'));
    return this.queue.run(action);
  }

  /** Trains window after window until pause(), `until` or an error; resolves when it stops. */
  async run(): Promise<void> {
    if (this.disposed || !this.current || this.current.iteration >= this.until) return;
    this.running = true;
    this.setState('running');
    // A pause and a run in quick succession: the loop still going carries on.
    if (this.looping) return;
    this.looping = true;
    try {
      while (this.running) {
        await this.queue.run(async () => {
          if (!this.running) return;
          const { iteration } = this.trainer;
          const count = Math.max(
            this.options.minWindow ?? 1,
            Math.min(this.options.maxWindow ?? 50, Math.round(this.speed / 2)),
          );
          await this.train((Math.floor(iteration / count) + 1) * count, count);
        });
        await nextTurn();
      }
    } finally {
      this.looping = false;
    }
  }

  pause(): void {
    if (!this.running) return;
    this.running = false;
    this.setState('paused');
  }

  /** Trains `count` iterations after whatever is queued; resolves when they are done (or failed). */
  step(count = 1): Promise<void> {
    if (this.disposed || !this.current) return Promise.resolve();
    return this.queue.run(async () => {
      await this.train(this.trainer.iteration + count, count);
      if (!this.running && this.currentState !== 'error' && this.currentState !== 'done') this.setState('paused');
    });
  }

  /** Stops training and waits for the window in flight; the controller takes no more work. */
  async dispose(): Promise<void> {
    this.running = false;
    this.disposed = true;
    await this.queue.run(async () => undefined);
  }

  /** One window, to iteration `end` (capped at `until`), logged at its end; a failure stops the run. */
  private async train(end: number, logEvery: number): Promise<void> {
    const trainer = this.trainer;
    const until = Math.min(end, this.until);
    if (trainer.iteration >= until) return;
    try {
      await runTraining(
        trainer,
        {
          until,
          logEvery,
          sampleEvery: Number.MAX_SAFE_INTEGER,
          checkpointEvery: Number.MAX_SAFE_INTEGER,
          sampleWithLogs: this.options.sampleWithLogs,
        },
        {
          onSamples: this.hooks.onSamples && ((batch) => this.hooks.onSamples!(batch)),
          onMetrics: this.hooks.onMetrics && ((record) => this.hooks.onMetrics!(record)),
          onWindow: (_, itsPerSecond) => void (this.speed = itsPerSecond),
        },
      );
      await this.hooks.onWindow?.(trainer.iteration, this.speed);
      if (trainer.iteration >= this.until) {
        this.running = false;
        this.setState('done');
      }
      if (this.checkpointDue(trainer.iteration)) {
        await this.hooks.onCheckpoint!(trainer.iteration);
        this.lastCheckpoint = { iteration: trainer.iteration, at: performance.now() };
      }
    } catch (err) {
      this.running = false;
      this.setState('error');
      this.report(err);
    }
  }

  private checkpointDue(iteration: number): boolean {
    const { checkpointEvery, checkpointEveryMs } = this.options;
    if (!this.hooks.onCheckpoint) return false;
    if (
      checkpointEvery &&
      Math.floor(iteration / checkpointEvery) > Math.floor(this.lastCheckpoint.iteration / checkpointEvery)
    )
      return true;
    return !!checkpointEveryMs && performance.now() - this.lastCheckpoint.at > checkpointEveryMs;
  }
}
