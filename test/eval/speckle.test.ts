// The speckle measure on hand-made images whose isolated pixels are known, and on MNIST's test digits.
import test from 'node:test';
import assert from 'node:assert/strict';
import { speckle } from '../../src/eval/speckle';
import { loadMnist } from '../../src/data/mnist-files-node';

const SIDE = 28;

function blank(): Float32Array {
  return new Float32Array(SIDE * SIDE);
}

function set(image: Float32Array, x: number, y: number, value: number): void {
  image[y * SIDE + x] = value;
}

test('speckle: isolated bright pixels are counted, pixels with a lit neighbour are not', () => {
  const image = blank();
  // A stroke of 5 bright pixels: none is isolated.
  for (let x = 10; x < 15; x++) set(image, x, 14, 1);
  // Three lone pixels: one in the open, one in a corner, one on the edge.
  set(image, 3, 3, 0.9);
  set(image, 0, 0, 0.8);
  set(image, 27, 20, 0.6);
  // A bright pixel whose only neighbour is dim but not dark (.3 >= .25): not isolated.
  set(image, 20, 5, 0.7);
  set(image, 21, 6, 0.3);
  // A bright pixel beside one just under the dark bound (.24): isolated.
  set(image, 5, 24, 0.7);
  set(image, 6, 24, 0.24);
  // Dim pixels alone (at most .5) are not bright: not counted at all.
  set(image, 24, 24, 0.5);
  const measure = speckle({ values: image, count: 1, features: SIDE * SIDE });
  assert.deepEqual(measure, { share: 4 / 10, brightPixels: 10, isolatedPixels: 4 });
});

test('speckle: a neighbour across the image edge does not exist (no wrap-around)', () => {
  const image = blank();
  set(image, 27, 10, 1);
  set(image, 0, 11, 1);
  assert.equal(speckle({ values: image, count: 1, features: SIDE * SIDE }).isolatedPixels, 2);
});

test('speckle: bytes with a scale, several images, and no bright pixel at all', () => {
  const bytes = new Uint8Array(2 * SIDE * SIDE);
  bytes[100] = 255;
  bytes[SIDE * SIDE + 200] = 200;
  bytes[SIDE * SIDE + 201] = 70;
  const measure = speckle({ values: bytes, count: 2, features: SIDE * SIDE, scale: 1 / 255 });
  assert.deepEqual(measure, { share: 1 / 2, brightPixels: 2, isolatedPixels: 1 });
  assert.deepEqual(speckle({ values: blank(), count: 1, features: SIDE * SIDE }), {
    share: 0,
    brightPixels: 0,
    isolatedPixels: 0,
  });
});

test("speckle: MNIST's test digits have (almost) none", () => {
  const { test: images } = loadMnist();
  const measure = speckle({ values: images.pixels, count: 10_000, features: SIDE * SIDE, scale: 1 / 255 });
  assert.ok(measure.brightPixels > 1_000_000, `${measure.brightPixels} bright pixels`);
  assert.ok(measure.share < 1e-4, `share ${measure.share}`);
});
