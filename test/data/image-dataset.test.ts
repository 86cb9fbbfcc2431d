// The shape every source gives: MNIST as a dataset (the paper's split, views not copies), the
// invariant check's one-line errors, and the seeded permutation the image folders split by.
import test from 'node:test';
import assert from 'node:assert/strict';
import { checkDataset, mnistAsDataset, seededPermutation, type ImageDataset } from '../../src/data/image-dataset';
import { DataFileError } from '../../src/data/idx';
import { loadMnist } from '../../src/data/mnist-files-node';

test('MNIST as a dataset: 50,000 / 10,000 / 10,000 views of the IDX buffers, pixels and labels in place', () => {
  const mnist = loadMnist();
  const d = mnistAsDataset(mnist);
  assert.deepEqual([d.kind, d.channels, d.height, d.width, d.classes], ['mnist', 1, 28, 28, 10]);
  assert.deepEqual([d.train.count, d.valid.count, d.test.count], [50_000, 10_000, 10_000]);
  assert.equal(d.train.pixels.buffer, mnist.train.pixels.buffer, 'a view, not a copy');
  assert.equal(d.valid.pixels.byteOffset, mnist.train.pixels.byteOffset + 50_000 * 784);
  assert.equal(d.valid.pixels[7 * 784 + 14 * 28 + 14], mnist.train.pixels[50_007 * 784 + 14 * 28 + 14]);
  assert.equal(d.valid.labels![7], mnist.train.labels[50_007]);
  assert.equal(d.test.labels![9_999], mnist.test.labels[9_999]);
  assert.equal(checkDataset(d), d);
});

function tiny(): ImageDataset {
  const split = (count: number) => ({
    pixels: new Uint8Array(count * 2 * 3 * 4),
    labels: new Uint8Array(count).fill(1),
    count,
  });
  return {
    kind: 'test',
    source: 'here',
    channels: 2,
    height: 3,
    width: 4,
    train: split(3),
    valid: split(1),
    test: split(1),
    classes: 2,
  };
}

test('checkDataset: each broken invariant is one line naming the source', () => {
  assert.doesNotThrow(() => checkDataset(tiny()));
  const fails = (change: (d: ImageDataset) => void, message: RegExp) => {
    const d = tiny();
    change(d);
    assert.throws(
      () => checkDataset(d),
      (e: Error) => e instanceof DataFileError && message.test(e.message) && !e.message.includes('\n'),
    );
  };
  fails((d) => (d.width = 0), /^here: width is 0, not a positive integer\.$/);
  fails(
    (d) => (d.train.pixels = new Uint8Array(10)),
    /^here: the train split has 10 pixel bytes, but 3 images of 2 x 3 x 4 need 72\.$/,
  );
  fails((d) => (d.valid.count = 0), /^here: the valid split holds 0 images/);
  fails((d) => (d.test.labels![0] = 2), /^here: label 2 of test image 0 is out of range 0\.\.1\.$/);
  fails(
    (d) => (d.train.labels = undefined),
    /^here: the train split has no labels, but the dataset declares 2 classes\.$/,
  );
  fails((d) => (d.classes = 0), /^here: the train split has labels, but the dataset declares no classes\.$/);
  fails((d) => (d.valid.labels = new Uint8Array(3)), /^here: the valid split has 3 labels for 1 images\.$/);
  fails((d) => (d.classNames = ['one']), /^here: 1 class names for 2 classes\.$/);
});

test('seededPermutation: a permutation, the same for a seed, different across seeds, not the identity', () => {
  const a = seededPermutation(1000, 7);
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 1000 }, (_, i) => i),
  );
  assert.deepEqual(seededPermutation(1000, 7), a);
  assert.notDeepEqual(seededPermutation(1000, 8), a);
  assert.ok(a.filter((v, i) => v === i).length < 20);
  assert.deepEqual([...seededPermutation(1, 3)], [0]);
});
