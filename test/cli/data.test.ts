// `gan train` and `gan eval` on image data other than MNIST, from files the test writes: an IDX set
// of 12 x 10 images, CIFAR-10's binary batches (colour, contrast-normalised), a folder of PNG and JPEG
// in class folders (colour and --grey). Each trains a few iterations and writes a samples PNG of the
// right size and colour type; a colour model is evaluated (Parzen, neighbours, interpolation); and
// every kind of bad data is one line on stderr naming the file, exit status 1, with an earlier run's
// files left as they were.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { encodeIdx } from '../../src/data/idx-dataset';
import { CIFAR10_RECORD_BYTES } from '../../src/data/cifar10-format';
import { seededRandom } from '../helpers';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'gan-data-cli-'));
after(() => rmSync(work, { recursive: true, force: true }));

function gan(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/gan.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The PNG's width, height and IHDR colour type (0 grey, 2 RGB, 6 RGBA). */
function pngInfo(path: string): { width: number; height: number; colorType: number; png: PNG } {
  const bytes = readFileSync(path);
  return {
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
    colorType: bytes[25],
    png: PNG.sync.read(bytes),
  };
}

/** A grid of 100 images of rows x cols, 10 a row, zoom 2, 1-pixel gaps (src/io/images.ts). */
const gridSize = (rows: number, cols: number) => ({ width: 10 * (cols * 2 + 1) + 1, height: 10 * (rows * 2 + 1) + 1 });

/** One failed command: exit 1, one line on stderr matching `message`, no stack trace. */
function refused(run: ReturnType<typeof gan>, message: RegExp): void {
  assert.equal(run.status, 1, `exit status (stderr: ${run.stderr})`);
  const lines = run.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${run.stderr}`);
  assert.match(lines[0], message);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack trace');
}

function randomBytes(seed: number, n: number): Uint8Array {
  const random = seededRandom(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

function writeIdx(dir: string, rows: number, cols: number, train = 30, testCount = 6): string {
  mkdirSync(dir, { recursive: true });
  const labels = (n: number) => Uint8Array.from({ length: n }, (_, i) => i % 3);
  writeFileSync(
    join(dir, 'train-images-idx3-ubyte'),
    encodeIdx([train, rows, cols], randomBytes(rows + cols, train * rows * cols)),
  );
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([train], labels(train)));
  writeFileSync(
    join(dir, 't10k-images-idx3-ubyte'),
    encodeIdx([testCount, rows, cols], randomBytes(rows * cols, testCount * rows * cols)),
  );
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([testCount], labels(testCount)));
  return dir;
}

function cifarBatch(seed: number, records: number): Uint8Array {
  const bytes = randomBytes(seed, records * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < records; r++) bytes[r * CIFAR10_RECORD_BYTES] = (seed + r) % 10;
  return bytes;
}

function writeCifar(dir: string, records = 6): string {
  mkdirSync(dir, { recursive: true });
  for (let b = 1; b <= 5; b++) writeFileSync(join(dir, `data_batch_${b}.bin`), cifarBatch(b, records));
  writeFileSync(join(dir, 'test_batch.bin'), cifarBatch(9, 5));
  return dir;
}

async function writeFolder(dir: string): Promise<string> {
  const colours: Record<string, [number, number, number]> = {
    cats: [200, 60, 40],
    dogs: [40, 160, 70],
    owls: [50, 60, 190],
  };
  for (const [name, rgb] of Object.entries(colours)) {
    mkdirSync(join(dir, name, 'nested'), { recursive: true });
    for (let i = 0; i < 3; i++) {
      const [w, h] = [12 + 5 * i, 9 + 3 * i];
      const raw = Buffer.alloc(w * h * 3);
      for (let p = 0; p < w * h; p++) for (let c = 0; c < 3; c++) raw[p * 3 + c] = (rgb[c] + 9 * p + 31 * i) % 256;
      const image = sharp(raw, { raw: { width: w, height: h, channels: 3 } });
      writeFileSync(
        join(dir, name, i === 2 ? 'nested' : '', `${i}.${i === 1 ? 'jpg' : 'png'}`),
        i === 1 ? await image.jpeg().toBuffer() : await image.png().toBuffer(),
      );
    }
  }
  return dir;
}

const short = ['--iters', '4', '--log-every', '2', '--sample-every', '2', '--checkpoint-every', '2'];

test('--format idx: an IDX set of 12 x 10 images trains small-mnist resized; the samples are a grey grid of 12 x 10 images', () => {
  const data = writeIdx(join(work, 'idx'), 12, 10);
  const out = join(work, 'idx-run');
  const run = gan('train', '--format', 'idx', '--data', data, ...short, '--out', out);
  assert.equal(run.status, 0, run.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual([config.data, config.dataDir, config.image], ['idx', data, { channels: 1, height: 12, width: 10 }]);
  assert.equal(config.generator.layers.at(-1).units, 120, "G's output follows the images");
  const png = pngInfo(join(out, 'samples-4.png'));
  assert.deepEqual({ width: png.width, height: png.height }, gridSize(12, 10));
  assert.equal(png.colorType, 0, 'a grey PNG');
  assert.ok(existsSync(join(out, 'checkpoint.safetensors')));
});

test('--format cifar10: CIFAR-10 batches train cifar10-small (contrast-normalised, linear G); colour samples; a colour model evaluates', () => {
  const data = writeCifar(join(work, 'cifar'));
  const out = join(work, 'cifar-run');
  const run = gan('train', '--format', 'cifar10', '--data', data, ...short, '--out', out);
  assert.equal(run.status, 0, run.stderr);
  const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
  assert.deepEqual(
    [config.preset, config.data, config.image],
    ['cifar10-small', 'cifar10', { channels: 3, height: 32, width: 32 }],
  );
  assert.equal(config.generator.layers.at(-1).activation, 'identity');
  const png = pngInfo(join(out, 'samples-4.png'));
  assert.deepEqual({ width: png.width, height: png.height }, gridSize(32, 32));
  assert.equal(png.colorType, 2, 'an RGB PNG');
  // Mapped per image to [0, 1] about mid-grey: colours, and not all one.
  let coloured = 0;
  for (let i = 0; i < png.png.data.length; i += 4)
    if (png.png.data[i] !== png.png.data[i + 1] || png.png.data[i + 1] !== png.png.data[i + 2]) coloured++;
  assert.ok(coloured > 1000, `${coloured} coloured pixels`);

  const evaluation = gan(
    'eval',
    '--checkpoint',
    join(out, 'checkpoint.safetensors'),
    '--samples',
    '40',
    '--valid',
    '3',
    '--test',
    '4',
    '--out',
    out,
  );
  assert.equal(evaluation.status, 0, evaluation.stderr);
  const report = JSON.parse(evaluation.stdout);
  assert.ok(Number.isFinite(report.ll), `Parzen log-likelihood ${report.ll}`);
  assert.equal(report.n_test, 4);
  assert.equal(report.image.channels, 3);
  assert.equal(report.neighbours.nearest.length, 8);
  for (const n of report.neighbours.nearest)
    assert.ok(n.train_index >= 0 && n.train_index < 24, `train index ${n.train_index} of 24 training images`);
  for (const name of [`neighbours-4.png`, `interpolation-4.png`])
    assert.equal(pngInfo(join(out, name)).colorType, 2, `${name} is RGB`);
  // Unlabelled or not, the score needs a classifier: CIFAR-10 is labelled, so it trains one (skipped here for time).
});

test('--format images: a folder of PNG and JPEG in class folders trains at --size, colour or --grey', async () => {
  const data = await writeFolder(join(work, 'pets'));
  for (const grey of [false, true]) {
    const out = join(work, `pets-run-${grey ? 'grey' : 'colour'}`);
    const run = gan(
      'train',
      '--format',
      'images',
      '--size',
      '9',
      ...(grey ? ['--grey'] : []),
      '--data',
      data,
      ...short,
      '--out',
      out,
    );
    assert.equal(run.status, 0, run.stderr);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.deepEqual(config.image, { channels: grey ? 1 : 3, height: 9, width: 9 });
    const png = pngInfo(join(out, 'samples-4.png'));
    assert.deepEqual({ width: png.width, height: png.height }, gridSize(9, 9));
    assert.equal(png.colorType, grey ? 0 : 2);
  }
});

test('an unlabelled folder trains, and --score says in the JSON why it measures nothing', async () => {
  const data = join(work, 'flat');
  await writeFolder(join(work, 'flat-source'));
  mkdirSync(data, { recursive: true });
  for (const name of ['cats', 'dogs'])
    for (const file of ['0.png', '1.jpg'])
      writeFileSync(join(data, `${name}-${file}`), readFileSync(join(work, 'flat-source', name, file)));
  const out = join(work, 'flat-run');
  assert.equal(gan('train', '--format', 'images', '--size', '6', '--data', data, ...short, '--out', out).status, 0);
  const evaluation = gan('eval', '--checkpoint', join(out, 'checkpoint.safetensors'), '--score', '--samples', '20');
  assert.equal(evaluation.status, 0, evaluation.stderr);
  const report = JSON.parse(evaluation.stdout);
  assert.match(report.score.skipped, /has no labels.*no score/);
  assert.equal(report.score.fd, undefined);
});

test('bad data: one line naming the file, exit 1; a resume on data of another shape is refused and the run is kept', () => {
  const cifar = writeCifar(join(work, 'cifar-short'));
  writeFileSync(join(cifar, 'data_batch_3.bin'), cifarBatch(3, 2).subarray(0, 2 * CIFAR10_RECORD_BYTES - 5));
  refused(
    gan('train', '--format', 'cifar10', '--data', cifar, ...short, '--out', join(work, 'x1')),
    /data_batch_3\.bin.*3,?073/,
  );
  refused(
    gan('train', '--format', 'cifar10', ...short, '--out', join(work, 'x2')),
    /--format cifar10: data 'cifar10' is read from a directory of its files: give --data DIR/,
  );
  const empty = join(work, 'empty');
  mkdirSync(empty, { recursive: true });
  refused(gan('train', '--format', 'images', '--data', empty, ...short, '--out', join(work, 'x3')), /empty/);
  const broken = join(work, 'broken', 'cats');
  mkdirSync(broken, { recursive: true });
  writeFileSync(join(broken, 'a.png'), 'not a picture at all');
  writeFileSync(join(broken, 'b.png'), 'nor this');
  writeFileSync(join(broken, 'c.png'), 'nor this one');
  refused(
    gan('train', '--format', 'images', '--data', join(work, 'broken'), ...short, '--out', join(work, 'x4')),
    /a\.png/,
  );
  const idx = writeIdx(join(work, 'idx-bad'), 7, 7);
  writeFileSync(
    join(idx, 'train-images-idx3-ubyte'),
    readFileSync(join(idx, 'train-images-idx3-ubyte')).subarray(0, 100),
  );
  refused(
    gan('train', '--format', 'idx', '--data', idx, ...short, '--out', join(work, 'x5')),
    /train-images-idx3-ubyte/,
  );
  refused(
    gan('train', '--size', '16', ...short, '--out', join(work, 'x6')),
    /--size and --grey apply to --format images/,
  );
  for (const x of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'])
    assert.ok(!existsSync(join(work, x, 'config.json')), `${x}: nothing written for a run that never started`);

  // A run on 12 x 10 images, resumed with 9 x 9 ones.
  const out = join(work, 'idx-run-resume');
  assert.equal(
    gan('train', '--format', 'idx', '--data', writeIdx(join(work, 'idx-12x10'), 12, 10), ...short, '--out', out).status,
    0,
  );
  const before = readFileSync(join(out, 'checkpoint.safetensors'));
  const other = writeIdx(join(work, 'idx-9x9'), 9, 9);
  refused(
    gan('train', '--resume', join(out, 'checkpoint.safetensors'), '--data', other, '--iters', '6', '--out', out),
    /--resume .*images are 1 x 9 x 9, but the model \(preset small-mnist\) is built for 1 x 12 x 10/,
  );
  refused(
    gan('train', '--resume', join(out, 'checkpoint.safetensors'), '--format', 'cifar10', '--iters', '6', '--out', out),
    /--format cifar10 disagrees with the checkpoint's data 'idx'/,
  );
  assert.deepEqual(readFileSync(join(out, 'checkpoint.safetensors')), before, 'the checkpoint is untouched');
});

test("cifar10-fc, the paper's CIFAR-10 model, is refused on an adapter whose buffers cannot hold its 8000 x 8000 weight, naming the tensor and the limit", () => {
  const data = writeCifar(join(work, 'cifar-fc'));
  refused(
    gan('train', '--preset', 'cifar10-fc', '--data', data, ...short, '--out', join(work, 'fc')),
    /generator\.params.*max(Buffer|StorageBufferBinding)Size/,
  );
  assert.ok(!existsSync(join(work, 'fc', 'config.json')));
});
