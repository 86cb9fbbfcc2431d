// shaders/render.wgsl against its CPU twin: the image grid drawn from a storage buffer into a
// texture is, pixel for pixel, the grid src/io/images.ts imageGridPng writes: grey and colour
// (planar RGB), any H x W, odd sizes, clipped [0, 1] values and contrast-normalised ones scaled per
// image. Tolerance: one level of 255 (the GPU's float-to-unorm conversion may round a half the other way).
import test from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { gpu, randomArray, seededRandom } from '../helpers';
import {
  gridPixels,
  ImageGrid,
  PlaneRenderer,
  renderGridPixels,
  renderPixels,
  type GridShape,
  type PlaneLayer,
} from '../../src/view/render';
import { heatmapPixels } from '../../src/reference/plane';
import { imageGridPng } from '../../src/io/images';

async function renderGrid(shape: GridShape, images: Float32Array<ArrayBuffer>): Promise<Uint8Array> {
  const { rt } = await gpu();
  const buffer = rt.upload('render.test.images', images);
  const { pixels } = await renderGridPixels(rt, shape, buffer);
  buffer.destroy();
  return pixels;
}

/** The largest channel difference between two RGBA pictures, and where. */
function worstDifference(
  rendered: Uint8Array,
  expected: Uint8Array,
  width: number,
): { worst: number; message: string } {
  let worst = 0;
  let where = 0;
  for (let i = 0; i < rendered.length; i++) {
    const diff = Math.abs(rendered[i] - expected[i]);
    if (diff > worst) [worst, where] = [diff, i];
  }
  const pixel = where >> 2;
  return {
    worst,
    message: `pixel (${pixel % width}, ${Math.floor(pixel / width)}) channel ${where & 3}: rendered ${rendered[where]}, imageGridPng ${expected[where]}`,
  };
}

const shapes: (GridShape & { range: [number, number] })[] = [
  // Values beyond [0, 1] check the clip.
  { columns: 10, count: 100, width: 28, height: 28, zoom: 2, range: [-0.2, 1.2] },
  { columns: 4, count: 7, first: 3, width: 5, height: 3, zoom: 3, range: [-0.2, 1.2] },
  { columns: 1, count: 1, width: 1, height: 1, zoom: 1, range: [-0.2, 1.2] },
  { columns: 10, count: 23, width: 32, height: 32, zoom: 2, channels: 3, range: [-0.2, 1.2] },
  { columns: 3, count: 5, first: 2, width: 12, height: 20, zoom: 1, channels: 1, range: [-0.2, 1.2] },
  { columns: 4, count: 6, first: 1, width: 7, height: 5, zoom: 3, channels: 3, range: [-0.2, 1.2] },
  // CIFAR-10 after global contrast normalisation: values of about -5..5, each image scaled by its own largest.
  { columns: 10, count: 20, width: 32, height: 32, zoom: 2, channels: 3, display: 'contrast', range: [-5, 4] },
  { columns: 3, count: 4, first: 1, width: 12, height: 20, zoom: 2, channels: 1, display: 'contrast', range: [-3, 6] },
];

for (const { range, ...shape } of shapes) {
  const channels = shape.channels ?? 1;
  test(`the image grid matches imageGridPng: ${shape.count} images of ${channels} x ${shape.height} x ${shape.width}, ${shape.columns} a row, zoom ${shape.zoom}, ${shape.display ?? 'clip'}`, async () => {
    const first = shape.first ?? 0;
    const features = channels * shape.width * shape.height;
    const images = randomArray(seededRandom(shape.count * 31 + features), (first + shape.count) * features, ...range);
    if (shape.display === 'contrast') images.fill(0, (first + 1) * features, (first + 2) * features); // an all-zero image: mid-grey, no division by 0
    const rendered = await renderGrid(shape, images);
    const look = { channels, display: shape.display };
    const expected = PNG.sync.read(
      Buffer.from(
        imageGridPng(
          images.subarray(first * features),
          shape.count,
          shape.height,
          shape.width,
          shape.columns,
          shape.zoom,
          look,
        ),
      ),
    );
    const { width, height } = gridPixels(shape);
    assert.deepEqual(
      [expected.width, expected.height],
      [width, height],
      'gridPixels sizes the target as imageGridPng sizes its picture',
    );
    const { worst, message } = worstDifference(rendered, expected.data, width);
    assert.ok(worst <= 1, message);
    if (channels === 3) {
      // Colour must show: some pixel whose channels differ (a grey picture would pass a grey twin only).
      let coloured = 0;
      for (let p = 0; p < rendered.length; p += 4)
        if (rendered[p] !== rendered[p + 1] || rendered[p + 1] !== rendered[p + 2]) coloured++;
      assert.ok(
        coloured > 0.3 * shape.count * shape.width * shape.height * shape.zoom ** 2,
        `${coloured} coloured pixels: the planes are not drawn as RGB`,
      );
    }
  });
}

// A target larger than the grid (a canvas sized for 100 images showing fewer) keeps the grid at its
// origin and the background beyond it; a grid of colour images of another size reuses the view.
test('the image grid in a larger target: the grid at the origin, background beyond; the shape changes in place', async () => {
  const { rt } = await gpu();
  const big: GridShape = { columns: 4, count: 8, width: 6, height: 4, zoom: 2 };
  const small: GridShape = { columns: 4, count: 3, width: 6, height: 4, zoom: 2, channels: 3 };
  const images = randomArray(seededRandom(7), 8 * 3 * 6 * 4, 0, 1);
  const buffer = rt.upload('render.test.images', images);
  const grid = await ImageGrid.create(rt, 'rgba8unorm', big);
  grid.setShape(small);
  const { width, height } = gridPixels(big);
  const rendered = await renderPixels(rt, width, height, (encoder, target) => grid.draw(encoder, target, buffer));
  const part = gridPixels(small);
  const expected = PNG.sync.read(Buffer.from(imageGridPng(images, 3, 4, 6, 4, 2, { channels: 3 })));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 4; c++) {
        const want =
          x < part.width && y < part.height ? expected.data[(y * part.width + x) * 4 + c] : c === 3 ? 255 : 40;
        const got = rendered[(y * width + x) * 4 + c];
        assert.ok(Math.abs(got - want) <= 1, `pixel (${x}, ${y}) channel ${c}: rendered ${got}, expected ${want}`);
      }
    }
  }
  assert.throws(() => grid.setShape({ ...small, channels: 2 }), /channels must be 1 \(grey\) or 3 \(RGB\), got 2/);
  grid.destroy();
  buffer.destroy();
});

// shaders/render.plane.wgsl's heatmap against its twin heatmapPixels: D's logits on an n x n grid
// coloured over a target whose size need not be a multiple of n (pixel centres never fall on a cell
// edge for these sizes). Tolerance: one level of 255 per channel.
for (const [n, width, height] of [
  [7, 35, 21],
  [5, 13, 11],
  [1, 4, 3],
]) {
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
  const spec = {
    shader: 'render',
    vertex: 'image_quad',
    fragment: 'image_grid',
    format: 'rgba8unorm' as const,
    topology: 'triangle-strip' as const,
  };
  const first = await rt.renderPipeline(spec);
  assert.equal(await rt.renderPipeline({ ...spec }), first, 'the same spec gives the cached pipeline');
  assert.notEqual(
    await rt.renderPipeline({ ...spec, format: 'bgra8unorm' }),
    first,
    'another format, another pipeline',
  );
  assert.deepEqual(
    first.bindings.map((b) => [b.name, b.group, b.binding, b.kind]),
    [
      ['images', 0, 0, 'read-only-storage'],
      ['grid', 1, 0, 'uniform'],
    ],
  );
  await assert.rejects(
    rt.renderPipeline({ ...spec, fragment: 'nothing' }),
    /no fragment entry point 'nothing' \(it has: image_grid\)/,
  );
  const buffer = rt.upload('render.test.images', new Float32Array(4));
  assert.throws(
    () => rt.renderBindGroup(first, 0, { pixels: buffer }),
    /group 0 has no binding 'pixels' \(it has images\)/,
  );
  assert.throws(() => rt.renderBindGroup(first, 1, {}), /binding 'grid' \(group 1, binding 0\) was not given a buffer/);
  buffer.destroy();

  const [n, width, height] = [5, 13, 11];
  const logits = randomArray(seededRandom(3), n * n, -6, 6);
  const values = rt.upload('render.test.logits', logits);
  const canvasFormat = await PlaneRenderer.create(rt, 'bgra8unorm');
  const offscreen = await PlaneRenderer.create(rt, 'rgba8unorm');
  const layer = canvasFormat.layer('heatmap', values, n, { lo: -1, hi: 1, width, height });
  const own = offscreen.layer('heatmap', values, n, { lo: -1, hi: 1, width, height });
  const drawn = (layers: PlaneLayer[]) =>
    renderPixels(rt, width, height, (encoder, target) => offscreen.draw(encoder, target, layers));
  assert.deepEqual(await drawn([layer]), await drawn([own]));
  for (const l of [layer, own]) l.uniform.destroy();
  values.destroy();
});
