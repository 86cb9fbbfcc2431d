// `gan train --keep-every` and `gan report`: a run trained inside the test keeps weights-only models
// at its checkpoints (through a resume too), and the report measures each once, caches the
// measurements by the model's bytes and the counts, writes report.json and a PNG of the curves, and
// refuses bad input in one line. The counts are small; --score uses the classifier cached in the
// default cache directory (trained on first use, about 2 minutes, then reused by every test and
// command that scores), since evaluate() always scores with the default classifier.
import test, { before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { decodeCheckpoint, readCheckpointFile } from '../../src/io/checkpoint';
import { networkSpecs } from '../../src/train/session';
import { reportRun, PAPER_PARZEN_LL, type ReportRow } from '../../src/cli/report';

const root = new URL('../..', import.meta.url).pathname;
const SMALL = { samples: '300', valid: '100', test: '200' };
const SMALL_FLAGS = ['--samples', '300', '--valid', '100', '--test', '200'];

function gan(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], { cwd: root, encoding: 'utf8' });
  // Dawn prints these notices about the adapter's limits on every start.
  const stderr = result.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: maxDynamic')).join('\n');
  return { status: result.status, stdout: result.stdout, stderr };
}

function expectFailure(args: string[], message: RegExp) {
  const run = gan(...args);
  assert.equal(run.status, 1, `${args.join(' ')} should fail`);
  assert.equal(run.stderr.split('\n').length, 1, `one line: ${run.stderr}`);
  assert.match(run.stderr, message);
}

const load = (file: string) => decodeCheckpoint(readCheckpointFile(file), file, networkSpecs);
const sameFloats = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const mtime = (file: string) => statSync(file).mtimeMs;

let run = '';

before(() => {
  run = mkdtempSync(join(tmpdir(), 'gan-report-run-'));
  const common = ['--log-every', '10', '--sample-every', '20', '--checkpoint-every', '10', '--keep-every', '10', '--out', run];
  const first = gan('train', '--preset', 'small-mnist', '--iters', '10', ...common);
  assert.equal(first.status, 0, first.stderr);
  // --keep-every goes on through a resume.
  const resumed = gan('train', '--resume', join(run, 'checkpoint.safetensors'), '--iters', '20', ...common);
  assert.equal(resumed.status, 0, resumed.stderr);
});

test('--keep-every keeps a weights-only model at every Nth checkpoint, the same weights as the checkpoint', () => {
  const checkpoint = load(join(run, 'checkpoint.safetensors'));
  assert.equal(checkpoint.iteration, 20);
  assert.ok(!checkpoint.weightsOnly);
  for (const iter of [10, 20]) {
    const model = load(join(run, `model-${iter}.safetensors`));
    assert.equal(model.weightsOnly, true, `model-${iter}`);
    assert.equal(model.iteration, iter);
  }
  const last = load(join(run, 'model-20.safetensors'));
  assert.ok(sameFloats(last.generator.params, checkpoint.generator.params), "G's weights");
  assert.ok(last.generator.average && sameFloats(last.generator.average, checkpoint.generator.average!), "G's moving average");
  assert.ok(sameFloats(last.discriminator.params, checkpoint.discriminator.params), "D's weights");
});

test('gan report measures every model once, writes report.json and report.png, and reuses eval-<iter>.json', async () => {
  const first = await reportRun(run, SMALL);
  const rows = first.rows as ReportRow[];
  assert.deepEqual(rows.map((r) => r.iter), [10, 20], 'the checkpoint is at 20, already a model');
  for (const row of rows) {
    for (const key of ['ll', 'se', 'sigma', 'fd', 'class_entropy', 'speckle'] as const) assert.ok(Number.isFinite(row[key]), `${key} at ${row.iter} is ${row[key]}`);
    assert.equal(row.generator, 'average');
    assert.equal(row.cached, false);
  }
  assert.equal(first.preset, 'small-mnist');
  assert.equal(first.paper_parzen_ll, PAPER_PARZEN_LL);
  assert.deepEqual(JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')), first);

  const png = PNG.sync.read(readFileSync(join(run, 'report.png')));
  assert.ok(png.width > 0 && png.height > 0);
  const colours = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) colours.add(png.data.readUInt32BE(i));
  assert.ok(colours.size > 10, `${colours.size} colours: a picture, not a blank`);

  // The command line again, with the same counts: nothing is measured, the cache files stay as they are.
  const evalFiles = [10, 20].map((iter) => join(run, `eval-${iter}.json`));
  const written = evalFiles.map(mtime);
  const again = gan('report', run, ...SMALL_FLAGS, '--seed', '0');
  assert.equal(again.status, 0, again.stderr);
  const cached = JSON.parse(again.stdout);
  assert.deepEqual(cached.rows.map((r: ReportRow) => r.cached), [true, true]);
  assert.deepEqual(cached.rows.map((r: ReportRow) => r.ll), rows.map((r) => r.ll));
  assert.deepEqual(evalFiles.map(mtime), written, 'eval-<iter>.json untouched');

  // A measurement made with other counts is made again.
  const entry = JSON.parse(readFileSync(evalFiles[0], 'utf8'));
  writeFileSync(evalFiles[0], JSON.stringify({ ...entry, counts: { ...entry.counts, test: 100 } }));
  const remeasured = (await reportRun(run, SMALL)).rows as ReportRow[];
  assert.deepEqual(remeasured.map((r) => r.cached), [false, true]);
  assert.equal(remeasured[0].ll, rows[0].ll, 'the same figure, measured again');
  assert.equal(JSON.parse(readFileSync(evalFiles[0], 'utf8')).counts.test, 200);
});

test('gan report adds the checkpoint when it is past the last kept model, and the cache follows the bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-report-copy-'));
  for (const file of ['model-10.safetensors', 'eval-10.json', 'checkpoint.safetensors']) copyFileSync(join(run, file), join(dir, file));
  const rows = (await reportRun(dir, SMALL)).rows as ReportRow[];
  assert.deepEqual(rows.map((r) => [r.iter, r.model, r.cached]), [
    [10, join(dir, 'model-10.safetensors'), true],
    [20, join(dir, 'checkpoint.safetensors'), false],
  ]);
  const kept = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')).rows as ReportRow[];
  assert.equal(rows[1].ll, kept[1].ll, 'the checkpoint measures as its kept model-20 does');
  assert.ok(existsSync(join(dir, 'eval-20.json')) && existsSync(join(dir, 'report.png')));
});

test('bad input gets one clear line naming the directory, file or flags, exit 1', () => {
  const empty = mkdtempSync(join(tmpdir(), 'gan-report-empty-'));
  expectFailure(['report', empty], new RegExp(`${empty}: holds no model-<iter>\\.safetensors; train with --keep-every`));
  const missing = join(empty, 'no-such-run');
  expectFailure(['report', missing], new RegExp(`${missing}: no such run directory`));
  const corrupt = join(empty, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'model-10.safetensors'), Buffer.from('this is not a model at all'));
  expectFailure(['report', corrupt, ...SMALL_FLAGS], new RegExp(`${join(corrupt, 'model-10.safetensors')}: `));
  const refused = join(empty, 'refused');
  expectFailure(['train', '--preset', 'small-mnist', '--iters', '20', '--checkpoint-every', '10', '--keep-every', '7', '--out', refused], /--keep-every 7 must be a multiple of --checkpoint-every \(10\)/);
  assert.ok(!existsSync(refused), 'nothing written for a refused run');
});
