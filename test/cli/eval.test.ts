// `gan eval` as a user runs it, on a checkpoint trained for a few iterations inside the test, with
// small counts: the JSON it prints, the PNGs it writes, the Parzen anchors' order (the training
// images themselves score far above uniform noise), and one clear line (exit 1) for bad input.
// Starting a process costs seconds here, so only what needs the command line runs as one.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { paperSigmas } from '../../src/eval/parzen';
import { evaluate, type EvalFlags } from '../../src/cli/eval';
import { ConfigError } from '../../src/train/config';

const root = new URL('../..', import.meta.url).pathname;
const SMALL = ['--samples', '500', '--valid', '100', '--test', '200'];

function gan(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  // Dawn prints these notices about the adapter's limits on every start.
  const stderr = result.stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('Warning: maxDynamic'))
    .join('\n');
  return { status: result.status, stdout: result.stdout, stderr };
}

let checkpoint = '';

before(() => {
  const run = mkdtempSync(join(tmpdir(), 'gan-eval-run-'));
  const trained = gan(
    'train',
    '--preset',
    'small-mnist',
    '--iters',
    '10',
    '--log-every',
    '10',
    '--sample-every',
    '10',
    '--out',
    run,
  );
  assert.equal(trained.status, 0, trained.stderr);
  checkpoint = join(run, 'checkpoint.safetensors');
  // The run's last lines say where its samples are and how to evaluate it (the tests below run that evaluation).
  assert.deepEqual(trained.stdout.trim().split('\n').slice(-3), [
    `Done at iteration 10. Checkpoint: ${checkpoint}`,
    `Samples: ${join(run, 'samples-10.png')} (every 10 iterations: ${join(run, 'samples-<iter>.png')})`,
    `Evaluate: npm run eval -- --checkpoint ${checkpoint} --parzen --score`,
  ]);
});

test('eval prints one JSON object with finite Parzen figures and writes the two figures', () => {
  const out = mkdtempSync(join(tmpdir(), 'gan-eval-out-'));
  const run = gan('eval', '--checkpoint', checkpoint, ...SMALL, '--out', out);
  assert.equal(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout);
  assert.equal(report.iteration, 10);
  assert.equal(report.samples, 'generator');
  assert.deepEqual([report.n_samples, report.n_valid, report.n_test], [500, 100, 200]);
  for (const key of ['ll', 'se', 'sigma', 'parzen_seconds', 'seconds'])
    assert.ok(Number.isFinite(report[key]), `${key} is ${report[key]}`);
  assert.ok(report.se > 0);
  assert.deepEqual(
    report.ll_by_sigma.map((s: { sigma: number }) => s.sigma),
    paperSigmas(),
  );
  for (const s of report.ll_by_sigma)
    assert.ok(Number.isFinite(s.valid_ll) && Number.isFinite(s.test_ll), `sigma ${s.sigma}`);
  const chosen = report.ll_by_sigma.find((s: { sigma: number }) => s.sigma === report.sigma);
  assert.equal(
    Math.max(...report.ll_by_sigma.map((s: { valid_ll: number }) => s.valid_ll)),
    chosen.valid_ll,
    'sigma is the validation argmax',
  );
  assert.equal(chosen.test_ll, report.ll);

  assert.deepEqual(report.pngs, [join(out, 'neighbours-10.png'), join(out, 'interpolation-10.png')]);
  const neighbours = PNG.sync.read(readFileSync(report.neighbours.png));
  assert.equal(neighbours.height, report.neighbours.rows * 57 + 1, 'one row of 28 x 28 digits at zoom 2 per query');
  assert.equal(report.neighbours.nearest.length, report.neighbours.rows);
  for (const n of report.neighbours.nearest)
    assert.ok(
      Number.isInteger(n.train_index) && n.train_index >= 0 && n.train_index < 50_000 && n.squared_distance >= 0,
    );
  const interpolation = PNG.sync.read(readFileSync(report.interpolation.png));
  assert.equal(interpolation.width, report.interpolation.steps * 57 + 1);
  assert.equal(interpolation.height, report.interpolation.rows * 57 + 1);
});

test("eval measures the moving average of G's weights when the checkpoint keeps one, and G itself with --raw-generator", async () => {
  const small = { parzen: true, samples: '500', valid: '100', test: '200' };
  const average = await evaluate({ checkpoint, ...small });
  const raw = await evaluate({ checkpoint, ...small, rawGenerator: true });
  assert.equal(average.generator, 'average');
  assert.equal(raw.generator, 'raw');
  assert.notEqual(average.ll, raw.ll, 'two generators, two figures');
  assert.equal((await evaluate({ checkpoint, ...small })).ll, average.ll, 'the same figure again');
});

test('gan export --weights writes a smaller file that evaluates the same and is refused by --resume', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-export-'));
  const weights = join(dir, 'model.safetensors');
  const exported = gan('export', '--checkpoint', checkpoint, '--weights', weights);
  assert.equal(exported.status, 0, exported.stderr);
  const report = JSON.parse(exported.stdout);
  assert.equal(report.moving_average, true);
  assert.ok(report.bytes < statSync(checkpoint).size / 2, `${report.bytes} bytes`);
  const small = { parzen: true, samples: '500', valid: '100', test: '200' };
  assert.equal((await evaluate({ checkpoint: weights, ...small })).ll, (await evaluate({ checkpoint, ...small })).ll);
  const resumed = gan('train', '--resume', weights, '--iters', '20');
  assert.equal(resumed.status, 1);
  assert.match(resumed.stderr, /model\.safetensors: holds weights only, without the optimizer state/);
  assert.equal(resumed.stderr.split('\n').length, 1, resumed.stderr);
  const itself = gan('export', '--checkpoint', checkpoint, '--weights', checkpoint);
  assert.equal(itself.status, 1);
  assert.match(itself.stderr, /is the checkpoint itself/);
});

test('the Parzen anchors need no checkpoint: the training images score far above uniform noise', async () => {
  const ll = async (source: 'train' | 'noise') => {
    const report = await evaluate({ parzen: true, parzenSamples: source, samples: '500', valid: '100', test: '200' });
    assert.equal(report.samples, source);
    assert.deepEqual(report.pngs, []);
    return report.ll as number;
  };
  const train = await ll('train');
  const noise = await ll('noise');
  assert.ok(train > 0 && noise < -300, `train images ${train}, noise ${noise}`);
});

test('bad input gets one clear line naming the file or flag, exit 1', async () => {
  const expectFailure = (args: string[], message: RegExp) => {
    const run = gan('eval', ...args);
    assert.equal(run.status, 1, `${args.join(' ')} should fail`);
    assert.equal(run.stderr.split('\n').length, 1, `one line: ${run.stderr}`);
    assert.match(run.stderr, message);
  };
  const missing = join(tmpdir(), 'no-such-dir', 'checkpoint.safetensors');
  expectFailure(['--checkpoint', missing, '--parzen'], new RegExp(`${missing}: file not found`));
  expectFailure(['--checkpoint', checkpoint, '--samples', '0'], /--samples must be an integer from 1 to 100000/);
  assert.ok(!existsSync(join(tmpdir(), 'no-such-dir')), 'nothing written for a missing checkpoint');
  // The same errors in-process (gan.ts prints any ConfigError as the one line above).
  const refused = (flags: EvalFlags, message: RegExp) =>
    assert.rejects(evaluate(flags), (err: Error) => err instanceof ConfigError && message.test(err.message));
  await refused({ parzen: true }, /--checkpoint FILE is needed/);
  await refused({ checkpoint, valid: '10001' }, /--valid must be an integer from 1 to 10000/);
  await refused(
    { parzen: true, parzenSamples: 'train', samples: '50001' },
    /--samples must be an integer from 1 to 50000 \(the training images\)/,
  );
  await refused({ checkpoint, test: 'many' }, /--test must be an integer .* got 'many'/);
  await refused({ checkpoint, seed: '-1' }, /--seed must be an integer from 0/);
});
