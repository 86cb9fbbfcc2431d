// The pages' controller (src/train/controller.ts) on a tiny toy trainer: step(n) trains n iterations
// and logs once; run() trains in windows to `until` and ends 'done'; pause() stops after the window
// in flight and the page's own actions run between windows, never during one; a failing window
// stops the run with one message, and run() tries again; checkpoints come at their iterations;
// a disposed controller takes no more work.
import test from 'node:test';
import assert from 'node:assert/strict';
import { gpu } from '../helpers';
import { makeTrainer, tinyToyConfig, toyData } from './fixtures';
import { TrainingController, type ControllerState } from '../../src/train/controller';
import type { Trainer } from '../../src/train/trainer';

async function tinyTrainer(): Promise<Trainer> {
  const { rt, clock } = await gpu();
  const config = tinyToyConfig();
  return makeTrainer(rt, clock, config, toyData(rt, config).gpu);
}

test('step(n) trains n iterations and logs once at their end', async () => {
  const trainer = await tinyTrainer();
  const states: ControllerState[] = [];
  const logged: number[] = [];
  const controller = new TrainingController({
    trainer,
    onState: (s) => states.push(s),
    onMetrics: (r) => void logged.push(r.iter),
  });
  assert.equal(controller.state, 'idle');
  await controller.step(3);
  await controller.step();
  assert.equal(trainer.iteration, 4);
  assert.deepEqual(logged, [3, 4]);
  assert.deepEqual(states, ['paused']);
  trainer.destroy();
});

test('run() trains in windows to `until`; actions queued meanwhile run between windows', async () => {
  const trainer = await tinyTrainer();
  const states: ControllerState[] = [];
  const events: string[] = [];
  const controller = new TrainingController({
    trainer,
    until: 12,
    minWindow: 4,
    maxWindow: 4,
    onState: (s) => states.push(s),
    onMetrics: (r) => void events.push(`log ${r.iter}`),
    onWindow: (iteration) => void events.push(`window ${iteration}`),
  });
  const running = controller.run();
  assert.equal(controller.state, 'running');
  const action = controller.exclusive(async () => {
    events.push(`action at ${trainer.iteration}`);
    return trainer.iteration;
  });
  await running;
  assert.equal(trainer.iteration, 12);
  assert.equal(controller.state, 'done');
  assert.deepEqual(states, ['running', 'done']);
  const at = await action;
  assert.ok(at % 4 === 0 && at > 0, `the action ran between windows (at iteration ${at})`);
  assert.deepEqual(
    events.filter((e) => e.startsWith('log')),
    ['log 4', 'log 8', 'log 12'],
    'windows of 4, each logged at its end',
  );
  await controller.run();
  assert.equal(trainer.iteration, 12, 'a done controller trains no more');
  trainer.destroy();
});

test('pause() stops after the window in flight; a failing window stops the run with one message', async () => {
  const trainer = await tinyTrainer();
  const errors: (string | undefined)[] = [];
  let failNext = false;
  const controller = new TrainingController({
    trainer,
    minWindow: 2,
    maxWindow: 2,
    onWindow: () => {
      if (failNext) {
        failNext = false;
        throw new Error('the view failed');
      }
      controller.pause();
    },
    onError: (err) => errors.push(err?.message),
  });
  await controller.run();
  assert.equal(controller.state, 'paused');
  assert.equal(trainer.iteration, 2);

  failNext = true;
  await controller.run();
  assert.equal(controller.state, 'error');
  assert.deepEqual(errors, ['the view failed']);
  assert.equal(controller.error?.message, 'the view failed');

  await controller.run();
  assert.equal(controller.state, 'paused', 'run() after an error trains again');
  assert.equal(trainer.iteration, 6);
  assert.equal(controller.error?.message, 'the view failed', 'the message stays until cleared');
  controller.report();
  assert.deepEqual(errors, ['the view failed', undefined]);
  trainer.destroy();
});

test('checkpoints come at their iterations; a disposed controller takes no more work', async () => {
  const trainer = await tinyTrainer();
  const checkpoints: number[] = [];
  const controller = new TrainingController({
    trainer,
    checkpointEvery: 5,
    onCheckpoint: (i) => void checkpoints.push(i),
  });
  for (let i = 0; i < 4; i++) await controller.step(3);
  assert.deepEqual(checkpoints, [6, 12]);
  await controller.dispose();
  await controller.step(3);
  await controller.run();
  assert.equal(trainer.iteration, 12);
  await assert.rejects(
    controller.exclusive(async () => 1),
    /disposed/,
  );
  trainer.destroy();
});
