// Device loss and uncaptured GPU errors during training: the loop stops with DeviceLostError naming
// what happened and when, before anything is saved from the broken device, and the command line
// adds where the last good checkpoint is and how to continue from it.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceLostError } from '../../src/gpu/device';
import { writeFileAtomic, encodeCheckpoint } from '../../src/io/checkpoint';
import { presetConfig } from '../../src/train/config';
import { runTraining } from '../../src/train/loop';
import { createSession, destroySession, networkSpecs } from '../../src/train/session';
import { withLastCheckpoint } from '../../src/cli/train';
import { DivergenceError } from '../../src/train/trainer';
import { parameterLayout } from '../../src/nn/layout';

const options = { until: 40, logEvery: 5, sampleEvery: 1000, checkpointEvery: 5 };

test('a device lost in the middle of a run stops it at the next window, without saving from the lost device', async () => {
  const session = await createSession(presetConfig('toy-1d'));
  const saved: number[] = [];
  const run = runTraining(session.trainer, options, {
    onCheckpoint: (iteration) => {
      saved.push(iteration);
      if (iteration === 10) session.context.device.destroy();
    },
  });
  await assert.rejects(
    run,
    (err: Error) =>
      err instanceof DeviceLostError &&
      /^The GPU device was lost \(destroyed.*\), during iterations 11 to 15\.$/.test(err.message),
  );
  assert.deepEqual(saved, [5, 10], 'no checkpoint after the loss');
  destroySession(session);
});

test('an error the GPU reports outside any error scope stops the run and is quoted', async () => {
  const session = await createSession(presetConfig('toy-1d'));
  const run = runTraining(session.trainer, options, {
    onCheckpoint: (iteration) => {
      // Mappable for reading and a storage buffer at once: a validation error nobody scoped.
      if (iteration === 5)
        session.context.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
    },
  });
  await assert.rejects(
    run,
    (err: Error) =>
      err instanceof DeviceLostError &&
      /^The GPU reported an error: .+, during iterations 6 to 10\.$/s.test(err.message),
  );
  destroySession(session);
});

test('the command line names the last good checkpoint: resume after a device loss, lower the rate after divergence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-lost-'));
  const path = join(dir, 'checkpoint.safetensors');
  const fresh = withLastCheckpoint(
    new DeviceLostError('The GPU device was lost (unknown), during iterations 1 to 5.'),
    path,
  ) as Error;
  assert.match(fresh.message, /No checkpoint had been written yet\.$/);
  const config = presetConfig('toy-1d');
  const specs = networkSpecs(config);
  const zeros = (n: number) => ({ params: new Float32Array(n), optimizer: [new Float32Array(n), new Float32Array(n)] });
  writeFileAtomic(
    path,
    encodeCheckpoint(
      {
        config,
        iteration: 35,
        generator: zeros(parameterLayout(specs.generator).totalFloats),
        discriminator: zeros(parameterLayout(specs.discriminator).totalFloats),
        stats: new Float32Array(8),
      },
      specs,
    ),
  );
  const lost = withLastCheckpoint(
    new DeviceLostError('The GPU device was lost (unknown), during iterations 36 to 40.'),
    path,
  ) as Error;
  assert.ok(lost instanceof DeviceLostError);
  assert.match(
    lost.message,
    new RegExp(
      `during iterations 36 to 40\\. The last good checkpoint, ${path} \\(iteration 35\\), is intact: continue with --resume ${path}\\.$`,
    ),
  );
  const diverged = withLastCheckpoint(new DivergenceError('Training diverged by iteration 40.'), path) as Error;
  assert.ok(diverged instanceof DivergenceError);
  assert.match(diverged.message, /lower the learning rate and train again\.$/);
  const other = new Error('something else');
  assert.equal(withLastCheckpoint(other, path), other, 'other errors pass through');
});
