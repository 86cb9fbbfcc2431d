// How long the driving loop sleeps before it awaits the queue (src/train/loop.ts explains why it
// sleeps at all). The sleep must never exceed the work it waits for, paused or not:
// - A window that held a pause (Ctrl-Z, SIGSTOP, a laptop's suspend, a debugger) took far longer than
//   its work. If its time set the next sleep, that sleep would outlast the work, the window would
//   measure the sleep, and each later sleep would be 0.85 of the one before: a 90 s pause cost a
//   dozen windows at a sixth of the speed. So the sleep follows the fastest of the recent windows,
//   which a pause cannot raise.
// - A window whose queue was already idle when the sleep ended measured the sleep, not the work, so
//   it says only that the work was shorter: the next sleep is half as long, until the queue is
//   found busy again.

/** Windows whose pace the sleep follows: enough to forget a slow spell within a minute or two of training. */
export const PACE_WINDOWS = 8;
/** The share of a window's expected time spent asleep; the rest is awaited. */
export const SLEEP_SHARE = 0.85;
/**
 * A wait for the queue after the sleep shorter than this share of the window's expected time means
 * the queue was idle when the sleep ended (a busy one leaves about 1 - SLEEP_SHARE of it): the sleep
 * was too long.
 */
export const IDLE_QUEUE_SHARE = 0.05;

export class QueuePace {
  /** Seconds per iteration of the last windows whose queue was still busy when the sleep ended. */
  private readonly paces: number[] = [];
  /** The next window's seconds per iteration to sleep for; 0 until a window has been measured. */
  private sleepPace = 0;

  /** Milliseconds to sleep after submitting `iterations` iterations. */
  sleepMs(iterations: number): number {
    return SLEEP_SHARE * 1000 * this.sleepPace * iterations;
  }

  /**
   * A window of `iterations` took `seconds` from its first submission to the queue going idle, of
   * which `waitedMs` were spent awaiting the queue after the sleep.
   */
  record(iterations: number, seconds: number, waitedMs: number): void {
    if (this.sleepPace > 0 && waitedMs < IDLE_QUEUE_SHARE * 1000 * this.sleepPace * iterations) {
      this.sleepPace /= 2;
      return;
    }
    this.paces.push(seconds / iterations);
    if (this.paces.length > PACE_WINDOWS) this.paces.shift();
    this.sleepPace = Math.min(...this.paces);
  }
}
