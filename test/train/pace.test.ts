// The driving loop's sleep before it awaits the queue (src/train/pace.ts), on a model of the queue:
// the work of a window runs while the loop sleeps, so a window lasts the longer of the two (plus any
// pause), and the loop awaits the queue for whatever work is left after its sleep. What is checked
// is the waits the pace computes, never a measured time.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PACE_WINDOWS, QueuePace, SLEEP_SHARE } from '../../src/train/pace';

const ITERATIONS = 100;
/** Equal to float64 rounding. */
const near = (actual: number, expected: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.abs(expected), `${what} ${actual} ms, expected ${expected}`);

/** One window of `workMs` work, paused for `pausedMs` before the loop could wait: returns the sleep it was given. */
function window(pace: QueuePace, workMs: number, pausedMs = 0): number {
  const sleepMs = pace.sleepMs(ITERATIONS);
  const awaitedAt = Math.max(sleepMs, pausedMs);
  const waitedMs = Math.max(0, workMs + pausedMs - awaitedAt);
  pace.record(ITERATIONS, (awaitedAt + waitedMs) / 1000, waitedMs);
  return sleepMs;
}

test('the first window awaits the queue at once; after it the loop sleeps for most of the work, never longer', () => {
  const pace = new QueuePace();
  assert.equal(window(pace, 14_000), 0);
  for (let i = 0; i < 20; i++) near(window(pace, 14_000), SLEEP_SHARE * 14_000);
});

test('a paused window leaves the next sleeps as they were: the work, not the pause, sets them', () => {
  for (const pausedMs of [90_000, 360_000]) {
    const pace = new QueuePace();
    for (let i = 0; i < 5; i++) window(pace, 14_000);
    window(pace, 14_000, pausedMs);
    const after = Array.from({ length: 2 * PACE_WINDOWS }, () => window(pace, 14_000));
    for (const sleepMs of after) near(sleepMs, SLEEP_SHARE * 14_000, `after a ${pausedMs / 1000} s pause:`);
  }
});

test('a sleep that outlasted its work (the queue idle when it ended) halves until the queue is found busy', () => {
  const pace = new QueuePace();
  window(pace, 0, 90_000); // A pause in the very first window: its time is all there is to go by.
  const sleeps: number[] = [];
  for (let i = 0; i < 20; i++) sleeps.push(window(pace, 14_000));
  const overslept = sleeps.findIndex((s) => s <= 14_000);
  assert.ok(
    overslept > 0 && overslept <= 4,
    `the sleeps fell below the work within a few windows: ${sleeps.map((s) => (s / 1000).toFixed(1)).join(', ')} s`,
  );
  for (let i = 1; i <= overslept; i++) near(sleeps[i], sleeps[i - 1] / 2, 'each too-long sleep halved:');
  for (const sleepMs of sleeps.slice(overslept + 1)) near(sleepMs, SLEEP_SHARE * 14_000, 'then most of the work:');
});

test('a lasting change of speed is followed: slower work within the windows remembered, faster work at once', () => {
  const pace = new QueuePace();
  for (let i = 0; i < 5; i++) window(pace, 14_000);
  // Slower (another job on the cores): the sleep stays below the work, and follows it once the fast windows are forgotten.
  const slower = Array.from({ length: PACE_WINDOWS + 1 }, () => window(pace, 28_000));
  for (const sleepMs of slower) assert.ok(sleepMs < 28_000, 'never longer than the work');
  near(window(pace, 28_000), SLEEP_SHARE * 28_000);
  // Faster again: the first fast window is found with the queue idle; the sleeps are below the work from the next on.
  window(pace, 14_000);
  for (let i = 0; i < 10; i++) near(window(pace, 14_000), SLEEP_SHARE * 14_000);
});
