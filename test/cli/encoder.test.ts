// `gan train-encoder` and `gan eval --reconstruct --inpaint` as a user runs them, on the pretrained
// small-mnist model with a short encoder run and small counts: the checkpoint it writes holds G, D and
// E and loads everywhere a checkpoint does, the figures the evaluation prints, and one clear line
// (exit 1) for bad input, --reconstruct on a checkpoint without an encoder included.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate } from '../../src/cli/eval';
import { encodeCheckpoint, readCheckpoint } from '../../src/index';
import { networkSpecs } from '../../src/train/session';

const root = new URL('../..', import.meta.url).pathname;
const pretrained = join(root, 'pretrained/small-mnist.safetensors');

function gan(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  // Dawn's notices about the adapter's limits, and the tile tuner's and the encoder's progress lines.
  const stderr = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^(Warning: maxDynamic|GEMM tiles|encoder: iteration)/.test(l))
    .join('\n');
  return { status: result.status, stdout: result.stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'gan-encoder-'));
const withEncoder = join(dir, 'with-encoder.safetensors');
const withoutEncoder = join(dir, 'without-encoder.safetensors');
let trained: Record<string, unknown>;

before(() => {
  // The shipped model holds an encoder; the one these tests train starts from the same G and D without it.
  const shipped = readCheckpoint(readFileSync(pretrained), pretrained);
  writeFileSync(withoutEncoder, encodeCheckpoint({ ...shipped, encoder: undefined }, networkSpecs(shipped.config)));
  const run = gan('train-encoder', '--checkpoint', withoutEncoder, '--iters', '200', '--out', withEncoder);
  assert.equal(run.status, 0, run.stderr);
  trained = JSON.parse(run.stdout);
});

test('train-encoder writes a checkpoint holding G, D and E; one without E still loads', () => {
  assert.equal(trained.out, withEncoder);
  assert.equal(trained.generator, 'average');
  assert.ok(
    Number.isFinite(trained.z_mse) && (trained.z_mse as number) < 1.2,
    `z_mse ${trained.z_mse} (p_z's own variance is 1)`,
  );
  const original = readCheckpoint(readFileSync(withoutEncoder), withoutEncoder);
  const state = readCheckpoint(readFileSync(withEncoder), withEncoder);
  assert.equal(original.encoder, undefined, 'the file it started from has no encoder');
  assert.deepEqual(
    readCheckpoint(readFileSync(pretrained), pretrained).encoder?.hidden,
    [512, 512],
    'the shipped model holds its encoder',
  );
  assert.deepEqual(state.encoder!.hidden, [512, 512]);
  assert.deepEqual(state.generator.params, original.generator.params, 'G is kept as it was');
  assert.deepEqual(state.discriminator.params, original.discriminator.params, 'D is kept as it was');
  // Encoding the state again gives the same tensors: E survives a round trip, and removing it gives the original file's state.
  const again = readCheckpoint(encodeCheckpoint(state, networkSpecs(state.config)));
  assert.deepEqual(again.encoder, state.encoder);
  assert.equal(
    readCheckpoint(encodeCheckpoint({ ...state, encoder: undefined }, networkSpecs(state.config))).encoder,
    undefined,
  );
});

test('eval --reconstruct --inpaint reports reconstruction and completion beside their baselines', async () => {
  const report = await evaluate({ checkpoint: withEncoder, reconstruct: true, inpaint: true, test: '40' });
  const reconstruction = report.reconstruction as Record<string, number>;
  assert.equal(reconstruction.n_images, 40);
  for (const key of ['mse', 'class_agreement', 'random_z_class_agreement', 'test_images_class_agreement'])
    assert.ok(Number.isFinite(reconstruction[key]), `${key} is ${reconstruction[key]}`);
  // Even 200 iterations of E keep the class far more often than a random z does (chance: 0.1).
  assert.ok(reconstruction.class_agreement > reconstruction.random_z_class_agreement, JSON.stringify(reconstruction));
  const inpainting = report.inpainting as Record<string, Record<string, number>> & { n_images: number };
  assert.equal(inpainting.n_images, 40);
  for (const mask of ['bottom_half_hidden', 'random_half_hidden']) {
    for (const key of ['class_agreement', 'masked_class_agreement', 'known_pixel_mse', 'hidden_pixel_mse'])
      assert.ok(Number.isFinite(inpainting[mask][key]), `${mask}.${key} is ${inpainting[mask][key]}`);
  }
  assert.equal(report.score, undefined, 'only the figures asked for');
});

test("the shipped model's encoder keeps the class of at least 80% of the test digits through G(E(x))", async () => {
  const report = await evaluate({ checkpoint: pretrained, reconstruct: true, test: '2000' });
  const reconstruction = report.reconstruction as Record<string, number>;
  assert.ok(reconstruction.class_agreement >= 0.8, JSON.stringify(reconstruction));
  assert.ok(reconstruction.random_z_class_agreement < 0.2, JSON.stringify(reconstruction));
});

test('bad input gets one clear line naming the flag or file and what to do, exit 1', () => {
  const expectFailure = (args: string[], message: RegExp) => {
    const run = gan(...args);
    assert.equal(run.status, 1, `${args.join(' ')} should fail`);
    assert.equal(run.stderr.split('\n').length, 1, `one line: ${run.stderr}`);
    assert.match(run.stderr, message);
  };
  expectFailure(
    ['eval', '--checkpoint', withoutEncoder, '--reconstruct'],
    /--reconstruct needs an encoder in the checkpoint; train one with `gan train-encoder --checkpoint .*without-encoder\.safetensors`/,
  );
  expectFailure(['train-encoder'], /--checkpoint FILE is needed/);
  expectFailure(['train-encoder', '--checkpoint', pretrained, '--iters', '0'], /--iters 0: must be an integer >= 1/);
  expectFailure(
    ['train-encoder', '--checkpoint', pretrained, '--pixel-weight', '-1'],
    /--pixel-weight -1: must be a number >= 0/,
  );
  const missingDir = join(dir, 'no-such-dir', 'e.safetensors');
  expectFailure(
    ['train-encoder', '--checkpoint', pretrained, '--out', missingDir],
    /--out .*no-such-dir.*does not exist/,
  );
  expectFailure(
    ['train-encoder', '--checkpoint', pretrained, '--out', pretrained],
    /is the checkpoint itself; write to another file/,
  );
  assert.ok(!existsSync(join(dir, 'no-such-dir')), 'nothing written for a refused command');
});
