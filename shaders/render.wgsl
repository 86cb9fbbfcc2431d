// Render: an image grid drawn straight from a storage buffer of images (the generator's samples),
// without copying them to the CPU. One full-screen triangle; each fragment finds its cell and the
// image pixel under it, in the layout of src/io/images.ts imageGridPng (its CPU twin): cells of
// (width * zoom + 1) x (height * zoom + 1) pixels from pixel (1, 1), a 1-pixel gap of grey 40/255
// between them, `columns` images a row, each pixel's value clamped to [0, 1] as grey.
// Test: test/kernels/render.test.ts renders into a texture and compares it with imageGridPng.
//
// Bindings:
//   group 0: images (N, height * width) f32, row-major images one after the other (N >= first + count)
//   group 1: grid   GridParams
// Draw: 3 vertices, 1 instance, into a target of (columns * (width * zoom + 1) + 1) x
//   (ceil(count / columns) * (height * zoom + 1) + 1) pixels (larger targets show background).

struct GridParams {
  columns: u32,
  count: u32,
  first: u32,
  width: u32,
  height: u32,
  zoom: u32,
}

const BACKGROUND: f32 = 40.0 / 255.0;

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(1) @binding(0) var<uniform> grid: GridParams;

// A triangle that covers the whole target: (-1, -1), (3, -1), (-1, 3).
@vertex
fn fullscreen(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
  let corner = vec2<f32>(f32((vertex << 1u) & 2u), f32(vertex & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

@fragment
fn image_grid(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let pixel = vec2<u32>(position.xy);
  let background = vec4<f32>(BACKGROUND, BACKGROUND, BACKGROUND, 1.0);
  if (pixel.x < 1u || pixel.y < 1u) { return background; }
  let cell = vec2<u32>(grid.width * grid.zoom + 1u, grid.height * grid.zoom + 1u);
  let column = (pixel.x - 1u) / cell.x;
  let row = (pixel.y - 1u) / cell.y;
  let inside = (pixel - 1u) % cell;
  let image = row * grid.columns + column;
  if (column >= grid.columns || image >= grid.count || inside.x >= cell.x - 1u || inside.y >= cell.y - 1u) { return background; }
  let source = inside / grid.zoom;
  let value = images[(grid.first + image) * grid.width * grid.height + source.y * grid.width + source.x];
  let grey = clamp(value, 0.0, 1.0);
  return vec4<f32>(grey, grey, grey, 1.0);
}
