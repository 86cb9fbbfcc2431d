// `gan train` as a user runs it: the files it writes, bit-exact resume through its checkpoint, and
// the clear errors (exit 1, a message naming the file or field, no stack trace) for bad input.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { decodeSafetensors } from '../../src/io/safetensors';
import { MNIST_FILES } from '../../src/data/mnist-format';
import { packagedMnistDir } from '../../src/data/mnist-files-node';
import { seededRandom } from '../helpers';

const root = new URL('../..', import.meta.url).pathname;

function gan(...args: string[]) {
  // The shipped GEMM tiles: the tuner's line (test/kernels/tune.test.ts) would stand beside the output these tests read.
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, GAN_TUNE: 'off' },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function metrics(dir: string): Record<string, number>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
}

const withoutSpeed = (rows: Record<string, number>[]) => rows.map(({ its_per_s: _, ...rest }) => rest);

test('a toy run writes config.json, metrics.jsonl, sample PNGs and a safetensors checkpoint', () => {
  const out = mkdtempSync(join(tmpdir(), 'gan-cli-'));
  const run = gan(
    'train',
    '--preset',
    'toy-1d',
    '--iters',
    '60',
    '--log-every',
    '20',
    '--sample-every',
    '30',
    '--out',
    out,
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /iter 60\/60 d_loss/, 'plain progress lines when not on a terminal');
  assert.equal(run.stderr, '', "nothing on stderr, Dawn's adapter-limit warnings included");
  assert.doesNotMatch(run.stdout, /momentum/, "Adam's beta1 is not shown as a momentum schedule");
  const closing = run.stdout.trim().split('\n').slice(-3);
  assert.deepEqual(
    closing,
    [
      `Done at iteration 60. Checkpoint: ${join(out, 'checkpoint.safetensors')}`,
      `Samples: ${join(out, 'samples-60.png')} (every 30 iterations: ${join(out, 'samples-<iter>.png')})`,
      `Divergence from the data: the js column of ${join(out, 'metrics.jsonl')}`,
    ],
    'the run ends saying where its checkpoint and samples are',
  );
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.equal(config.preset, 'toy-1d');
  assert.equal(config.iterations, 60);
  const lines = metrics(out);
  assert.deepEqual(
    lines.map((l) => l.iter),
    [20, 40, 60],
  );
  for (const line of lines) {
    for (const key of ['iter', 'd_loss', 'g_loss', 'd_real', 'd_fake', 'lr', 'its_per_s', 'js']) {
      assert.ok(Number.isFinite(line[key]), `metrics line ${line.iter} has a finite ${key}`);
    }
    assert.ok(!('momentum' in line), 'an Adam run logs no momentum');
  }
  for (const name of ['samples-30.png', 'samples-60.png']) {
    const png = PNG.sync.read(readFileSync(join(out, name)));
    assert.ok(png.width > 100 && png.height > 100, `${name} is a picture`);
  }
  const { tensors, metadata } = decodeSafetensors(readFileSync(join(out, 'checkpoint.safetensors')), 'checkpoint');
  assert.equal(metadata.iteration, '60');
  assert.equal(JSON.parse(metadata.config).preset, 'toy-1d');
  assert.deepEqual(tensors['generator.0.weight'].shape, [1, 32]);
  assert.deepEqual(tensors['discriminator.0.weight'].shape, [1, 96]);
  assert.ok(tensors['generator.0.weight.adam_m'], 'optimizer state is saved');
});

test('an SGD run shows and logs its momentum schedule', () => {
  const out = mkdtempSync(join(tmpdir(), 'gan-sgd-'));
  const run = gan(
    'train',
    '--preset',
    'toy-1d',
    '--optimizer',
    'sgd-pylearn2',
    '--iters',
    '20',
    '--log-every',
    '10',
    '--sample-every',
    '1000',
    '--out',
    out,
  );
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /iter 20\/20 .* lr \S+ momentum 0\.\d{3} /);
  for (const line of metrics(out))
    assert.ok(line.momentum >= 0.5 && line.momentum <= 0.7, `metrics line ${line.iter} has pylearn2's momentum`);
});

test('an interrupted run resumed from its checkpoint, or rerun from its config.json, writes the same metrics as an uninterrupted one', () => {
  const whole = mkdtempSync(join(tmpdir(), 'gan-whole-'));
  const parts = mkdtempSync(join(tmpdir(), 'gan-parts-'));
  const common = ['--preset', 'toy-2d-ring', '--log-every', '10', '--sample-every', '1000', '--seed', '3'];
  assert.equal(gan('train', ...common, '--iters', '40', '--out', whole).status, 0);
  // Stopped at 25, between two logs: the partial window travels in the checkpoint.
  assert.equal(gan('train', ...common, '--iters', '25', '--out', parts).status, 0);
  const resumed = gan(
    'train',
    '--resume',
    join(parts, 'checkpoint.safetensors'),
    '--log-every',
    '10',
    '--sample-every',
    '1000',
    '--iters',
    '40',
    '--out',
    parts,
  );
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stdout, /Resuming at iteration 25/);
  assert.deepEqual(withoutSpeed(metrics(parts)), withoutSpeed(metrics(whole)));
  const weights = (dir: string) => decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')), dir).tensors;
  assert.deepEqual(weights(parts)['generator.1.weight'].data, weights(whole)['generator.1.weight'].data);

  // Nothing left to train: refused, naming both iterations, with the run's files untouched.
  const checkpoint = join(parts, 'checkpoint.safetensors');
  const before = [readFileSync(checkpoint), readFileSync(join(parts, 'metrics.jsonl'))];
  for (const iters of ['40', '30']) {
    const refused = gan('train', '--resume', checkpoint, '--iters', iters, '--out', parts);
    assert.equal(refused.status, 1, `--iters ${iters} at or below the checkpoint's 40 is refused`);
    assert.match(
      refused.stderr,
      new RegExp(
        `^gan: ${checkpoint} is at iteration 40, and --iters ${iters} is not past it: give --iters above 40 to continue\\.\\n$`,
      ),
    );
  }
  const finished = gan('train', '--resume', checkpoint, '--out', parts);
  assert.equal(finished.status, 1);
  assert.match(finished.stderr, /is at iteration 40, and the run's 40 iterations \(no --iters given\) is not past it/);
  assert.deepEqual([readFileSync(checkpoint), readFileSync(join(parts, 'metrics.jsonl'))], before);

  const again = mkdtempSync(join(tmpdir(), 'gan-again-'));
  const rerun = gan('train', '--config', join(whole, 'config.json'), '--out', again);
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.deepEqual(withoutSpeed(metrics(again)), withoutSpeed(metrics(whole)), "a run's config.json reruns it");
});

test('bad input gets one clear line naming the file or field, exit 1, no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-bad-'));
  const expectFailure = (args: string[], message: RegExp) => {
    const run = gan(...args);
    assert.equal(run.status, 1, `${args.join(' ')} should fail`);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  };
  expectFailure(
    ['train', '--preset', 'no-such-preset'],
    /^gan: --preset no-such-preset: must be one of paper-mnist, .*; see `gan train --help`\.\n$/,
  );
  expectFailure(
    ['train', '--preset', 'toy-1d', '--k', '0'],
    /^gan: --k 0: must be an integer >= 1; see `gan train --help`\.\n$/,
  );
  expectFailure(
    ['train', '--preset', 'paper-mnist', '--k', '2', '--form', 'simultaneous', '--iters', '1'],
    /^gan: --k 2: the simultaneous form .*use --form alternating\.\n$/,
  );
  expectFailure(
    ['train', '--preset', 'toy-2d-ring', '--conditional', '--out', join(dir, 'toy')],
    /^gan: --conditional: preset toy-2d-ring trains on the toy 'toy-2d-ring', which has no classes to condition on; a conditional GAN needs labelled data: .*\(--format images\)\.\n$/,
  );
  assert.ok(!existsSync(join(dir, 'toy')), 'nothing written for a refused --conditional');
  expectFailure(
    ['train', '--preset', 'toy-2d-ring', '--batch', '100000000', '--out', join(dir, 'huge')],
    /activations needs 76800000000 bytes, more than max\w+ = \d+ of the adapter/,
  );
  assert.ok(
    !existsSync(join(dir, 'huge', 'checkpoint.safetensors')),
    'nothing written for a model the device cannot hold',
  );

  const corrupt = join(dir, 'corrupt.safetensors');
  writeFileSync(corrupt, Buffer.from('this is not a checkpoint at all'));
  expectFailure(['train', '--resume', corrupt], new RegExp(`${corrupt}: the header claims`));

  const mnist = join(dir, 'mnist');
  mkdirSync(mnist);
  for (const file of Object.values(MNIST_FILES)) copyFileSync(join(packagedMnistDir(), file), join(mnist, file));
  const images = join(mnist, MNIST_FILES.trainImages);
  writeFileSync(images, readFileSync(images).subarray(0, 1000));
  expectFailure(
    ['train', '--preset', 'small-mnist', '--iters', '1', '--data', mnist, '--out', join(dir, 'run')],
    new RegExp(`${images}: .*truncated`),
  );
  assert.ok(!existsSync(join(dir, 'run', 'checkpoint.safetensors')), 'nothing written after bad data');
});

test('a diverging run stops naming the iteration and the non-finite tensors, and its last good checkpoint stays loadable', () => {
  const out = mkdtempSync(join(tmpdir(), 'gan-diverge-'));
  const run = gan(
    'train',
    '--preset',
    'toy-1d',
    '--optimizer',
    'sgd-pytorch',
    '--lr',
    '20',
    '--iters',
    '60',
    '--log-every',
    '1',
    '--checkpoint-every',
    '1',
    '--sample-every',
    '1000',
    '--out',
    out,
  );
  assert.equal(run.status, 1);
  const match = run.stderr.match(
    /diverged by iteration (\d+).*Non-finite tensors: generator\.0\.weight.*checkpoint\.safetensors \(iteration (\d+)\), is intact/s,
  );
  assert.ok(match, run.stderr);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
  const saved = decodeSafetensors(readFileSync(join(out, 'checkpoint.safetensors')), 'checkpoint');
  assert.equal(saved.metadata.iteration, match[2]);
  assert.ok(Number(match[2]) < Number(match[1]), 'the checkpoint predates the divergence');
  for (const [name, tensor] of Object.entries(saved.tensors))
    assert.ok((tensor.data as Float32Array).every(Number.isFinite), `${name} in the saved checkpoint is finite`);
  const lines = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, Number(match[2]), 'metrics up to the last good iteration');
});

test('runs killed at random moments leave a loadable checkpoint, and resuming after every kill ends bit-exactly where an uninterrupted run does', async (t) => {
  const whole = mkdtempSync(join(tmpdir(), 'gan-whole-'));
  const killed = mkdtempSync(join(tmpdir(), 'gan-killed-'));
  const common = ['--log-every', '5', '--checkpoint-every', '5', '--sample-every', '1000', '--iters', '60'];
  assert.equal(gan('train', '--preset', 'toy-2d-ring', '--seed', '11', ...common, '--out', whole).status, 0);
  const random = seededRandom(99);
  const checkpoint = join(killed, 'checkpoint.safetensors');
  let kills = 0;
  for (let attempt = 0; attempt < 40; attempt++) {
    const args = existsSync(checkpoint) ? ['--resume', checkpoint] : ['--preset', 'toy-2d-ring', '--seed', '11'];
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/gan.ts', 'train', ...args, ...common, '--out', killed],
      { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Killed at a random moment a little after a randomly chosen logged iteration (metrics and
    // checkpoints are being written then), whatever the machine's speed.
    const from = existsSync(checkpoint)
      ? Number(decodeSafetensors(readFileSync(checkpoint), checkpoint).metadata.iteration)
      : 0;
    const target = from + 5 * (1 + Math.floor(random() * 3));
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      const logged = [...chunk.toString().matchAll(/iter (\d+)\//g)].map((m) => Number(m[1]));
      if (!timer && logged.some((n) => n >= target)) timer = setTimeout(() => child.kill('SIGKILL'), random() * 100);
    });
    const code = await exited;
    clearTimeout(timer);
    if (code === 0) break;
    kills++;
    if (existsSync(checkpoint)) {
      const { metadata } = decodeSafetensors(readFileSync(checkpoint), checkpoint);
      assert.ok(Number(metadata.iteration) % 5 === 0, 'the checkpoint on disk is a whole one');
    }
  }
  assert.ok(kills >= 2, `the runs were killed along the way (${kills} times)`);
  t.diagnostic(`${kills} kills`);
  assert.deepEqual(withoutSpeed(metrics(killed)), withoutSpeed(metrics(whole)));
  const weights = (dir: string) => decodeSafetensors(readFileSync(join(dir, 'checkpoint.safetensors')), dir).tensors;
  assert.deepEqual(weights(killed)['discriminator.1.weight'].data, weights(whole)['discriminator.1.weight'].data);
});
