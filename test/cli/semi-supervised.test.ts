// `gan eval --semi-supervised` refuses bad input in one line naming what was typed, before any GPU
// work: counts that are not positive integers, counts the classes cannot share equally or the
// training split cannot fill, no checkpoint, and models it cannot measure (a toy, a conditional D,
// a file without D); and the report's field, on the pretrained model with small counts and a short
// schedule. Learning itself is judged in test/eval/semi-supervised.test.ts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluate, type EvalFlags } from '../../src/cli/eval';
import { parseSemiSupervised, semiSupervisedFigure } from '../../src/cli/eval-semi-supervised';
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile } from '../../src/io/checkpoint';
import { parameterLayout } from '../../src/nn/layout';
import { ConfigError, presetConfig } from '../../src/train/config';
import { loadImageData } from '../../src/train/fit';
import { networkSpecs } from '../../src/train/session';
import { gpu } from '../helpers';

const root = new URL('../..', import.meta.url).pathname;
const pretrained = join(root, 'pretrained', 'small-mnist.safetensors');
const dir = mkdtempSync(join(tmpdir(), 'gan-semi-'));

/** A weights-only file of a preset's networks at zeros: enough for the checks, which look at the config and the tensors present. */
function zeroCheckpoint(preset: string): string {
  const config = presetConfig(preset);
  const specs = networkSpecs(config);
  const zeros = (spec: keyof typeof specs) => new Float32Array(parameterLayout(specs[spec]).totalFloats);
  const average = config.emaDecay > 0 ? { average: zeros('generator') } : {};
  const state = {
    config,
    iteration: 1,
    generator: { params: zeros('generator'), optimizer: [], ...average },
    discriminator: { params: zeros('discriminator'), optimizer: [] },
    stats: new Float32Array(0),
    weightsOnly: true,
  };
  const file = join(dir, `${preset}.safetensors`);
  writeFileSync(file, encodeCheckpoint(state, specs));
  return file;
}

const refused = (flags: EvalFlags, message: RegExp) =>
  assert.rejects(
    evaluate(flags),
    (err: Error) => err instanceof ConfigError && message.test(err.message) && !err.message.includes('\n'),
  );

test('counts that are not positive integers are refused naming what was typed', () => {
  assert.deepEqual(parseSemiSupervised('100,600,1000'), [100, 600, 1000]);
  assert.deepEqual(parseSemiSupervised(' 20 '), [20]);
  assert.equal(parseSemiSupervised(undefined), undefined);
  for (const typed of ['0', 'abc', '100,,600', '1e3', '-10', '10.5', '']) {
    assert.throws(
      () => parseSemiSupervised(typed),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message ===
          `--semi-supervised takes positive counts of labelled training images separated by commas (e.g. --semi-supervised 100,600,1000), got '${typed}'.`,
    );
  }
});

test('counts the classes cannot share or the training split cannot fill, and models without an unconditional D, are refused in one line', async () => {
  await refused({ semiSupervised: '100' }, /--checkpoint FILE is needed/);
  await refused(
    { checkpoint: pretrained, semiSupervised: '105' },
    /^--semi-supervised: 105 labelled images cannot be 10 classes of equal size; give multiples of 10/,
  );
  await refused(
    { checkpoint: pretrained, semiSupervised: '100,50000' },
    /^--semi-supervised: 50000 labelled images need 5000 of each class; the training split of .* holds 4\d{3} of class \d, so give at most 4\d{4}\.$/,
  );
  await refused(
    { checkpoint: zeroCheckpoint('toy-2d-ring'), semiSupervised: '100' },
    /trained on the toy 'toy-2d-ring'; the evaluation measures image models/,
  );
  await refused(
    { checkpoint: zeroCheckpoint('cmnist-small'), semiSupervised: '100' },
    /preset cmnist-small is a conditional GAN, whose D is told each image's class; --semi-supervised measures unconditional models only\.$/,
  );
  const generatorOnly = join(dir, 'generator-only.safetensors');
  writeFileSync(
    generatorOnly,
    encodeCheckpoint(
      decodeCheckpoint(readCheckpointFile(pretrained), pretrained, networkSpecs),
      networkSpecs(presetConfig('small-mnist')),
      { generatorOnly: true },
    ),
  );
  await refused({ checkpoint: generatorOnly, semiSupervised: '100' }, /a generator-only file has no discriminator/);
});

test('the command line prints the refusal as one line on stderr, exit 1', () => {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/gan.ts', 'eval', '--checkpoint', pretrained, '--semi-supervised', 'abc'],
    { cwd: root, encoding: 'utf8' },
  );
  assert.equal(run.status, 1);
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: maxDynamic'));
  assert.deepEqual(lines, [
    "gan: --semi-supervised takes positive counts of labelled training images separated by commas (e.g. --semi-supervised 100,600,1000), got 'abc'.",
  ]);
});

test("the report's field: for each count, both test accuracies above chance, the iterations chosen among those tried", async (t) => {
  const { rt } = await gpu();
  const state = decodeCheckpoint(readCheckpointFile(pretrained), pretrained, networkSpecs);
  const images = await loadImageData(state.config);
  const config = { batch: 20, lr: 0.01, checkpoints: [20, 60] };
  const figure = (await semiSupervisedFigure(rt, state, images, [10, 50], 0, { valid: 100, test: 300 }, config)) as {
    counts: Record<string, number>[];
    features: string;
    n_test: number;
  };
  assert.deepEqual(
    figure.counts.map((c) => c.labels),
    [10, 50],
  );
  assert.equal(figure.features, "D's last hidden layer: 128 maxout x 3 units, no dropout");
  assert.equal(figure.n_test, 300);
  for (const c of figure.counts) {
    t.diagnostic(`${c.labels} labels: D's features ${c.accuracy}, pixels ${c.pixels_accuracy}`);
    // Measured: 0.29 and 0.41 with 10 labels, 0.50 and 0.68 with 50; chance is 0.1, and 300 test images put 0.2 six standard deviations above it.
    assert.ok(
      c.accuracy > 0.2 && c.pixels_accuracy > 0.2 && c.accuracy <= 1 && c.pixels_accuracy <= 1,
      JSON.stringify(c),
    );
    assert.ok(
      config.checkpoints.includes(c.iterations) && config.checkpoints.includes(c.pixels_iterations),
      JSON.stringify(c),
    );
  }
});
