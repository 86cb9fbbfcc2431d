// Any IDX set from a directory: files found by name (MNIST's, EMNIST's, dotted and gzipped forms),
// any H x W, the split rule, the class count from the labels, and every bad case naming its file.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readIdxDataset } from '../../src/data/dataset-files-node';
import { DataFileError } from '../../src/data/idx';
import { encodeIdx } from '../../src/data/idx-dataset';
import { idxValidationCount } from '../../src/data/image-dataset';

const root = mkdtempSync(join(tmpdir(), 'gan-idx-'));
after(() => rmSync(root, { recursive: true, force: true }));

const H = 20;
const W = 12;
/** Image i has pixel (y, x) = (i * 7 + y * W + x) mod 256, so every pixel's place can be checked. */
function images(count: number, h = H, w = W): Uint8Array {
  const data = new Uint8Array(count * h * w);
  for (let i = 0; i < count; i++) for (let p = 0; p < h * w; p++) data[i * h * w + p] = (i * 7 + p) % 256;
  return encodeIdx([count, h, w], data);
}
function labels(count: number, classes: number, offset = 0): Uint8Array {
  return encodeIdx(
    [count],
    Uint8Array.from({ length: count }, (_, i) => offset + (i % classes)),
  );
}

function writeSet(name: string, files: Record<string, Uint8Array>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [file, bytes] of Object.entries(files)) writeFileSync(join(dir, file), bytes);
  return dir;
}

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.ok(e instanceof DataFileError, `not a DataFileError: ${e.stack}`);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'), `more than one line: ${e.message}`);
    return true;
  });
}

test('IDX: a 20 x 12 set with MNIST names: shape, pixels in place, labels, split (last sixth), classes from the labels', async () => {
  const dir = writeSet('plain', {
    'train-images-idx3-ubyte': images(30),
    'train-labels-idx1-ubyte': labels(30, 4),
    't10k-images-idx3-ubyte': images(6),
    't10k-labels-idx1-ubyte': labels(6, 4),
    'README.txt': new TextEncoder().encode('not an IDX file'),
  });
  const d = await readIdxDataset(dir);
  assert.equal(d.kind, 'idx');
  assert.equal(d.source, dir);
  assert.deepEqual([d.channels, d.height, d.width], [1, H, W]);
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [25, 5, 6]);
  assert.equal(d.classes, 4);
  assert.equal(d.train.pixels.length, 25 * H * W);
  // Validation image 2 is training-file image 27; its pixel (y=3, x=5):
  assert.equal(d.valid.pixels[2 * H * W + 3 * W + 5], (27 * 7 + 3 * W + 5) % 256);
  assert.equal(d.valid.labels![2], 27 % 4);
  assert.equal(d.test.pixels[4 * H * W + 19 * W + 11], (4 * 7 + 19 * W + 11) % 256);
  assert.deepEqual([...d.test.labels!], [0, 1, 2, 3, 0, 1]);
});

test('IDX: EMNIST names, gzipped, labels 1..26 give 27 classes; a gunzipped copy beside its .gz is preferred', async () => {
  const dir = writeSet('emnist', {
    'emnist-letters-train-images-idx3-ubyte.gz': gzipSync(images(12, 28, 28)),
    'emnist-letters-train-labels-idx1-ubyte.gz': gzipSync(labels(12, 26, 1)),
    'emnist-letters-test-images-idx3-ubyte.gz': gzipSync(images(3, 28, 28)),
    'emnist-letters-test-labels-idx1-ubyte.gz': gzipSync(labels(3, 26, 1)),
    // Its gunzipped copy holds other labels (24..26): the test labels below show which one was read.
    'emnist-letters-test-labels-idx1-ubyte': labels(3, 26, 24),
  });
  const d = await readIdxDataset(dir);
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [10, 2, 3]);
  assert.equal(d.classes, 27);
  assert.deepEqual([...d.test.labels!], [24, 25, 26]);
  assert.equal(d.train.pixels[1 * 784 + 27 * 28 + 27], (7 + 27 * 28 + 27) % 256);
});

test('IDX: the validation rule: the last 10,000 of 60,000 or more, else the last sixth', () => {
  assert.equal(idxValidationCount(60_000, 'f'), 10_000);
  assert.equal(idxValidationCount(112_800, 'f'), 10_000);
  assert.equal(idxValidationCount(59_999, 'f'), 9_999);
  assert.equal(idxValidationCount(2, 'f'), 1);
  assert.throws(() => idxValidationCount(1, 'f'), /f: 1 training image;/);
});

test("IDX: chosen File objects (the page's folder picker) go through the same matching", async () => {
  const file = (name: string, bytes: Uint8Array) => {
    const f = new File([bytes as Uint8Array<ArrayBuffer>], name);
    Object.defineProperty(f, 'webkitRelativePath', { value: `kmnist/${name}` });
    return f;
  };
  const d = await readIdxDataset([
    file('train-images.idx3-ubyte', images(8, 5, 7)),
    file('train-labels.idx1-ubyte', labels(8, 10)),
    file('test-images.idx3-ubyte', images(2, 5, 7)),
    file('test-labels.idx1-ubyte', labels(2, 10)),
  ]);
  assert.equal(d.source, 'kmnist');
  assert.deepEqual([d.height, d.width, d.train.count, d.valid.count, d.test.count, d.classes], [5, 7, 7, 1, 2, 8]);
});

test('IDX: bad sets: one line naming the file or directory', async () => {
  const good = {
    'train-images-idx3-ubyte': images(12),
    'train-labels-idx1-ubyte': labels(12, 3),
    't10k-images-idx3-ubyte': images(2),
    't10k-labels-idx1-ubyte': labels(2, 3),
  };
  const { 't10k-labels-idx1-ubyte': _, ...withoutTestLabels } = good;
  const missing = writeSet('missing', withoutTestLabels);
  await rejects(
    readIdxDataset(missing),
    new RegExp(`^${missing}: no file named like \\*t10k-labels\\*idx1-ubyte or \\*test-labels\\*idx1-ubyte`),
  );
  const two = writeSet('two', { ...good, 'emnist-digits-train-images-idx3-ubyte': images(12) });
  await rejects(
    readIdxDataset(two),
    new RegExp(
      `^${two}: 2 files match \\*train-images\\*idx3-ubyte \\(emnist-digits-train-images-idx3-ubyte, train-images-idx3-ubyte\\)`,
    ),
  );
  const counts = writeSet('counts', { ...good, 'train-labels-idx1-ubyte': labels(11, 3) });
  await rejects(
    readIdxDataset(counts),
    new RegExp(`^${join(counts, 'train-labels-idx1-ubyte')}: 11 labels, but .*train-images-idx3-ubyte holds 12 images`),
  );
  const sizes = writeSet('sizes', { ...good, 't10k-images-idx3-ubyte': images(2, 28, 28) });
  await rejects(
    readIdxDataset(sizes),
    new RegExp(`^${join(sizes, 't10k-images-idx3-ubyte')}: images are 28 x 28, the training images 20 x 12`),
  );
  const truncated = writeSet('truncated', { ...good, 'train-images-idx3-ubyte': images(12).subarray(0, 100) });
  await rejects(
    readIdxDataset(truncated),
    new RegExp(`^${join(truncated, 'train-images-idx3-ubyte')}: .*\\(truncated\\)`),
  );
  const badGz = writeSet('badgz', { ...good, 'train-images-idx3-ubyte.gz': gzipSync(images(12)).subarray(0, 50) });
  rmSync(join(badGz, 'train-images-idx3-ubyte'));
  await rejects(
    readIdxDataset(badGz),
    new RegExp(`^${join(badGz, 'train-images-idx3-ubyte.gz')}: gzip data that does not decompress`),
  );
  const one = writeSet('one', {
    ...good,
    'train-images-idx3-ubyte': images(1),
    'train-labels-idx1-ubyte': labels(1, 3),
  });
  await rejects(readIdxDataset(one), /train-images-idx3-ubyte: 1 training image; a split/);
  await rejects(readIdxDataset(join(root, 'nowhere')), /nowhere: no such directory\.$/);
});
