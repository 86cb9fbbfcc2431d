// shaders/render.wgsl against its CPU twin: the image grid drawn from a storage buffer into a
// texture is, pixel for pixel, the grid src/io/images.ts imageGridPng writes, odd sizes included.
// Tolerance: one grey level (the GPU's float-to-unorm conversion may round a half the other way).
import test from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { gpu, randomArray, seededRandom } from '../helpers';
import { gridPixels, PlaneRenderer, renderGridPixels, renderPixels, type GridShape, type PlaneLayer } from '../../src/kernels/render';
import { heatmapPixels } from '../../src/reference/plane';
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

// shaders/render.plane.wgsl's heatmap against its twin heatmapPixels: D's logits on an n x n grid
// coloured over a target whose size need not be a multiple of n (pixel centres never fall on a cell
// edge for these sizes). Tolerance: one level of 255 per channel.
for (const [n, width, height] of [[7, 35, 21], [5, 13, 11], [1, 4, 3]]) {
  test(`the plane's heatmap matches heatmapPixels: a ${n} x ${n} grid on ${width} x ${height} pixels`, async () => {
    const { rt } = await gpu();
    // Logits on both sides of 0, large ones included, so both colours and their saturation show.
    const logits = randomArray(seededRandom(n * 97 + width), n * n, -6, 6);
    const values = rt.upload('render.test.logits', logits);
    const plane = await PlaneRenderer.create(rt, 'rgba8unorm');
    const layer = plane.layer('heatmap', values, n, { lo: -1, hi: 1, width, height });
    const rendered = await renderPixels(rt, width, height, (encoder, target) => plane.draw(encoder, target, [layer]));
    const expected = heatmapPixels(logits, n, width, height);
    let worst = 0;
    for (let p = 0; p < width * height; p++) {
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(rendered[p * 4 + c] - 255 * expected[p * 3 + c]));
      assert.equal(rendered[p * 4 + 3], 255, 'opaque');
    }
    assert.ok(worst <= 1, `largest channel difference ${worst.toFixed(2)} of 255`);
    layer.uniform.destroy();
    values.destroy();
  });
}

// Render pipelines come from the runtime's cache, as compute pipelines do: views of one shader and
// format share a pipeline, and a plane layer (its bind groups made for one target format) draws
// unchanged with another format's pipelines, which the canvases' snapshots rely on.
test('render pipelines are cached by the runtime and their bind groups serve every format', async () => {
  const { rt } = await gpu();
  const spec = { shader: 'render', vertex: 'fullscreen', fragment: 'image_grid', format: 'rgba8unorm' as const };
  const first = await rt.renderPipeline(spec);
  assert.equal(await rt.renderPipeline({ ...spec }), first, 'the same spec gives the cached pipeline');
  assert.notEqual(await rt.renderPipeline({ ...spec, format: 'bgra8unorm' }), first, 'another format, another pipeline');
  assert.deepEqual(first.bindings.map((b) => [b.name, b.group, b.binding, b.kind]), [['images', 0, 0, 'read-only-storage'], ['grid', 1, 0, 'uniform']]);
  await assert.rejects(rt.renderPipeline({ ...spec, fragment: 'nothing' }), /no fragment entry point 'nothing' \(it has: image_grid\)/);
  const buffer = rt.upload('render.test.images', new Float32Array(4));
  assert.throws(() => rt.renderBindGroup(first, 0, { pixels: buffer }), /group 0 has no binding 'pixels' \(it has images\)/);
  assert.throws(() => rt.renderBindGroup(first, 1, {}), /binding 'grid' \(group 1, binding 0\) was not given a buffer/);
  buffer.destroy();

  const [n, width, height] = [5, 13, 11];
  const logits = randomArray(seededRandom(3), n * n, -6, 6);
  const values = rt.upload('render.test.logits', logits);
  const canvasFormat = await PlaneRenderer.create(rt, 'bgra8unorm');
  const offscreen = await PlaneRenderer.create(rt, 'rgba8unorm');
  const layer = canvasFormat.layer('heatmap', values, n, { lo: -1, hi: 1, width, height });
  const own = offscreen.layer('heatmap', values, n, { lo: -1, hi: 1, width, height });
  const drawn = (layers: PlaneLayer[]) => renderPixels(rt, width, height, (encoder, target) => offscreen.draw(encoder, target, layers));
  assert.deepEqual(await drawn([layer]), await drawn([own]));
  for (const l of [layer, own]) l.uniform.destroy();
  values.destroy();
});
