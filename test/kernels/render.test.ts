// shaders/render.wgsl against its CPU twin: the image grid drawn from a storage buffer into a
// texture is, pixel for pixel, the grid src/io/images.ts imageGridPng writes, odd sizes included.
// Tolerance: one grey level (the GPU's float-to-unorm conversion may round a half the other way).
import test from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { gpu, randomArray, seededRandom } from '../helpers';
import { gridPixels, renderGridPixels, type GridShape } from '../../src/kernels/render';
import { imageGridPng } from '../../src/io/images';

async function renderGrid(shape: GridShape, images: Float32Array<ArrayBuffer>): Promise<Uint8Array> {
  const { rt } = await gpu();
  const buffer = rt.upload('render.test.images', images);
  const { pixels } = await renderGridPixels(rt, shape, buffer);
  buffer.destroy();
  return pixels;
}

for (const shape of [
  { columns: 10, count: 100, width: 28, height: 28, zoom: 2 },
  { columns: 4, count: 7, first: 3, width: 5, height: 3, zoom: 3 },
  { columns: 1, count: 1, width: 1, height: 1, zoom: 1 },
]) {
  test(`the image grid matches imageGridPng: ${shape.count} images of ${shape.width}x${shape.height}, ${shape.columns} a row, zoom ${shape.zoom}`, async () => {
    const first = shape.first ?? 0;
    const features = shape.width * shape.height;
    // Values beyond [0, 1] check the clamp.
    const images = randomArray(seededRandom(shape.count), (first + shape.count) * features, -0.2, 1.2);
    const rendered = await renderGrid(shape, images);
    const expected = PNG.sync.read(Buffer.from(imageGridPng(images.subarray(first * features), shape.count, shape.height, shape.width, shape.columns, shape.zoom)));
    const { width, height } = gridPixels(shape);
    assert.deepEqual([expected.width, expected.height], [width, height], 'gridPixels sizes the target as imageGridPng sizes its picture');
    let worst = 0;
    let where = 0;
    for (let i = 0; i < rendered.length; i++) {
      const diff = Math.abs(rendered[i] - expected.data[i]);
      if (diff > worst) [worst, where] = [diff, i];
    }
    const pixel = where >> 2;
    assert.ok(worst <= 1, `pixel (${pixel % width}, ${Math.floor(pixel / width)}) channel ${where & 3}: rendered ${rendered[where]}, imageGridPng ${expected.data[where]}`);
  });
}
