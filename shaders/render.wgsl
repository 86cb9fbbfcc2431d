// Render: an image grid drawn straight from a storage buffer of images (the generator's samples),
// without copying them to the CPU, in the layout of src/io/images.ts imageGridPng (its CPU twin):
// cells of (width * zoom + 1) x (height * zoom + 1) pixels from pixel (1, 1), a 1-pixel gap of grey
// 40/255 between them (the pass clears to it), `columns` images a row. Images are planar, `channels`
// planes of height x width (value (c, y, x) at (c * height + y) * width + x): 1 plane is drawn grey,
// 3 as RGB. Display: 0 clips each value to [0, 1]; 1 is for contrast-normalised data (CIFAR-10),
// each image divided by its own largest absolute value and mapped from [-1, 1] to [0, 1], as
// imageGridPng's 'contrast' look (pylearn2's adjust_for_viewer).
// Test: test/kernels/render.test.ts renders into a texture and compares it with imageGridPng.
//
// One instance per image: a quad over the image's cell (less its gap). Its vertex stage finds the
// image's display scale (for display 1 a pass over the image, 4 times per image rather than once per
// fragment), which reaches the fragments unchanged.
//
// Bindings:
//   group 0: images (N, channels * height * width) f32, images one after the other (N >= first + count)
//   group 1: grid   GridParams
// Draw: 4 vertices (triangle strip), `count` instances, in a viewport of
//   (columns * (width * zoom + 1) + 1) x (ceil(count / columns) * (height * zoom + 1) + 1) pixels
//   at the target's origin (larger targets show the cleared background beyond it).

struct GridParams {
  columns: u32,
  count: u32,
  first: u32,
  width: u32,
  height: u32,
  zoom: u32,
  channels: u32,
  display: u32,
}

const DISPLAY_CONTRAST: u32 = 1u;

@group(0) @binding(0) var<storage, read> images: array<f32>;
@group(1) @binding(0) var<uniform> grid: GridParams;

struct Cell {
  @builtin(position) position: vec4<f32>,
  /** value * scale + shift is shown (then clipped to [0, 1]). */
  @location(0) @interpolate(flat) look: vec2<f32>,
  @location(1) @interpolate(flat) image: u32,
}

fn image_size() -> u32 {
  return grid.channels * grid.width * grid.height;
}

@vertex
fn image_quad(@builtin(vertex_index) vertex: u32, @builtin(instance_index) image: u32) -> Cell {
  let cell = vec2<u32>(grid.width * grid.zoom + 1u, grid.height * grid.zoom + 1u);
  let rows = (grid.count + grid.columns - 1u) / grid.columns;
  let viewport = vec2<f32>(f32(grid.columns * cell.x + 1u), f32(rows * cell.y + 1u));
  let origin = vec2<u32>(image % grid.columns, image / grid.columns) * cell + 1u;
  // Strip order (0, 0), (1, 0), (0, 1), (1, 1): the image's corners, in pixels of the viewport.
  let corner = vec2<u32>(vertex & 1u, vertex >> 1u);
  let pixel = vec2<f32>(origin + corner * (cell - 1u));
  var out: Cell;
  out.position = vec4<f32>(2.0 * pixel.x / viewport.x - 1.0, 1.0 - 2.0 * pixel.y / viewport.y, 0.0, 1.0);
  out.image = image;
  out.look = vec2<f32>(1.0, 0.0);
  if (grid.display == DISPLAY_CONTRAST) {
    let base = (grid.first + image) * image_size();
    var largest = 0.0;
    for (var i = 0u; i < image_size(); i++) {
      largest = max(largest, abs(images[base + i]));
    }
    out.look = vec2<f32>(select(0.0, 0.5 / largest, largest > 0.0), 0.5);
  }
  return out;
}

@fragment
fn image_grid(in: Cell) -> @location(0) vec4<f32> {
  let cell = vec2<u32>(grid.width * grid.zoom + 1u, grid.height * grid.zoom + 1u);
  let source = ((vec2<u32>(in.position.xy) - 1u) % cell) / grid.zoom;
  let plane = grid.width * grid.height;
  let at = (grid.first + in.image) * image_size() + source.y * grid.width + source.x;
  let first = clamp(images[at] * in.look.x + in.look.y, 0.0, 1.0);
  if (grid.channels < 3u) {
    return vec4<f32>(first, first, first, 1.0);
  }
  let green = clamp(images[at + plane] * in.look.x + in.look.y, 0.0, 1.0);
  let blue = clamp(images[at + 2u * plane] * in.look.x + in.look.y, 0.0, 1.0);
  return vec4<f32>(first, green, blue, 1.0);
}
