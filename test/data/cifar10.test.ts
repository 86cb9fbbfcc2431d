// CIFAR-10's binary batches: records land planar (their own layout), the paper's split rule, class
// names from batches.meta.txt, contrastScale 55, and each bad file named.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCifar10 } from '../../src/data/dataset-files-node';
import { cifarValidationCount, CIFAR10_RECORD_BYTES } from '../../src/data/cifar10-format';
import { CIFAR10_CLASSES } from '../../src/data/image-dataset';
import { DataFileError } from '../../src/data/idx';

const root = mkdtempSync(join(tmpdir(), 'gan-cifar-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** Record r of batch b: label (b + r) % 10; channel c, pixel (y, x) = (b * 50 + r * 10 + c * 3 + y + x) % 256. */
function batch(b: number, records: number, label = (r: number) => (b + r) % 10): Uint8Array {
  const bytes = new Uint8Array(records * CIFAR10_RECORD_BYTES);
  for (let r = 0; r < records; r++) {
    const at = r * CIFAR10_RECORD_BYTES;
    bytes[at] = label(r);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) bytes[at + 1 + c * 1024 + y * 32 + x] = (b * 50 + r * 10 + c * 3 + y + x) % 256;
  }
  return bytes;
}
const pixel = (b: number, r: number, c: number, y: number, x: number) => (b * 50 + r * 10 + c * 3 + y + x) % 256;

function writeSet(
  name: string,
  records = 4,
  extra: Record<string, Uint8Array | string> = {},
  skip: string[] = [],
): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const files: Record<string, Uint8Array | string> = { 'test_batch.bin': batch(6, 3) };
  for (let b = 1; b <= 5; b++) files[`data_batch_${b}.bin`] = batch(b, records);
  for (const [file, bytes] of Object.entries({ ...files, ...extra }))
    if (!skip.includes(file)) writeFileSync(join(dir, file), bytes);
  return dir;
}

async function rejects(promise: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(promise, (e: Error) => {
    assert.ok(e instanceof DataFileError, `not a DataFileError: ${e.stack}`);
    assert.match(e.message, message);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
}

test('CIFAR-10: five batches and the test batch; planar pixels, labels, split, names, contrast scale', async () => {
  const dir = writeSet('good');
  const d = await readCifar10(dir);
  assert.deepEqual([d.kind, d.channels, d.height, d.width, d.classes, d.contrastScale], ['cifar10', 3, 32, 32, 10, 55]);
  assert.deepEqual(d.classNames, CIFAR10_CLASSES);
  // 20 training records: the last fifth (4) validate; the order is batch 1's records, then batch 2's, ...
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [16, 4, 3]);
  const at = (i: number, c: number, y: number, x: number) => i * 3072 + (c * 32 + y) * 32 + x;
  // Training image 6 is batch 2, record 2; its green (c = 1) pixel at (y = 7, x = 30):
  assert.equal(d.train.pixels[at(6, 1, 7, 30)], pixel(2, 2, 1, 7, 30));
  assert.equal(d.train.labels![6], (2 + 2) % 10);
  // Validation image 1 is batch 5, record 1; its blue pixel (31, 0):
  assert.equal(d.valid.pixels[at(1, 2, 31, 0)], pixel(5, 1, 2, 31, 0));
  assert.equal(d.valid.labels![1], (5 + 1) % 10);
  assert.equal(d.test.pixels[at(2, 0, 0, 0)], pixel(6, 2, 0, 0, 0));
  assert.deepEqual([...d.test.labels!], [6, 7, 8]);
});

test("CIFAR-10: the paper's split of 50,000 (40,000 + 10,000), a fifth of fewer", () => {
  assert.equal(cifarValidationCount(50_000, 'f'), 10_000);
  assert.equal(cifarValidationCount(20, 'f'), 4);
  assert.equal(cifarValidationCount(3, 'f'), 1);
});

test('CIFAR-10: batches.meta.txt names the classes; cifar-10-batches-bin/ below the directory is found', async () => {
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
  const outer = join(root, 'outer');
  writeSet('outer/cifar-10-batches-bin', 4, { 'batches.meta.txt': `${names.join('\n')}\n\n` });
  const d = await readCifar10(outer);
  assert.deepEqual(d.classNames, names);
  assert.equal(d.source, join(outer, 'cifar-10-batches-bin'));
});

test('CIFAR-10: bad files: a size not a multiple of 3,073, a label over 9, a missing batch, bad meta', async () => {
  const short = writeSet('short', 4, { 'data_batch_3.bin': batch(3, 4).subarray(0, 3 * CIFAR10_RECORD_BYTES + 100) });
  await rejects(
    readCifar10(short),
    new RegExp(
      `^${join(short, 'data_batch_3.bin')}: 9319 bytes is not a whole number of 3073-byte records .* 3 records and 100 bytes over`,
    ),
  );
  const empty = writeSet('empty', 4, { 'test_batch.bin': new Uint8Array(0) });
  await rejects(readCifar10(empty), new RegExp(`^${join(empty, 'test_batch.bin')}: 0 bytes .*the file is empty`));
  const label = writeSet('label', 4, { 'data_batch_2.bin': batch(2, 4, (r) => (r === 3 ? 10 : 0)) });
  await rejects(
    readCifar10(label),
    new RegExp(`^${join(label, 'data_batch_2.bin')}: record 3 has label 10, not a class 0\\.\\.9`),
  );
  const missing = writeSet('missing', 4, {}, ['data_batch_4.bin']);
  await rejects(
    readCifar10(missing),
    new RegExp(`^${join(missing, 'data_batch_4.bin')}: missing; a CIFAR-10 directory holds data_batch_1.bin`),
  );
  const meta = writeSet('meta', 4, { 'batches.meta.txt': 'cat\ndog\n' });
  await rejects(readCifar10(meta), new RegExp(`^${join(meta, 'batches.meta.txt')}: 2 class names, expected 10`));
});
