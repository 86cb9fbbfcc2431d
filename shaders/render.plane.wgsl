// Render: the 2-D lab's plane, drawn straight from storage buffers (no readback). Three draws share
// one view of the square [lo, hi]^2 (x to the right, y up):
//   heatmap   (fullscreen + d_heatmap): D's output on an n x n grid of the plane, sigmoid of the
//             logits D computed there (the dense kernels, no new compute), green where D says real
//             (towards 1), purple where it says fake (towards 0), white at 1/2;
//   points    (point + point_color): one round dot per (x, y) row of a points buffer, `size` pixels
//             across, in the draw's colour;
//   manifold  (manifold + point_color): G's image of an m x m grid of noise points as a mesh of
//             lines between grid neighbours (GAN Lab's view of the generator's transformation).
// The CPU twin of the heatmap draw is src/reference/plane.ts heatmapPixels (colour: heatmapColor);
// test/kernels/render.test.ts compares them pixel by pixel, sizes that are not multiples of n included.
// The points and the mesh are checked by the lab's browser test (test/browser/lab.test.ts).
//
// Bindings:
//   group 0: values (heatmap: logits (n * n), row j = y index from lo, column i = x index;
//            points: (count, 2); manifold: (m * m, 2), row-major over the noise grid)
//   group 1: view PlaneView
// Draw: heatmap 3 vertices; points 6 vertices x count instances; manifold 4 * m * (m - 1) vertices
//   (line-list).

struct PlaneView {
  color: vec4<f32>,
  lo: f32,
  hi: f32,
  /** heatmap: n; manifold: m. */
  grid: u32,
  /** Dot diameter in pixels. */
  size: f32,
  target_width: f32,
  target_height: f32,
}

@group(0) @binding(0) var<storage, read> values: array<f32>;
@group(1) @binding(0) var<uniform> view: PlaneView;

fn to_clip(p: vec2<f32>) -> vec2<f32> {
  return (p - view.lo) / (view.hi - view.lo) * 2.0 - 1.0;
}

@vertex
fn fullscreen(@builtin(vertex_index) vertex: u32) -> @builtin(position) vec4<f32> {
  let corner = vec2<f32>(f32((vertex << 1u) & 2u), f32(vertex & 2u));
  return vec4<f32>(corner * 2.0 - 1.0, 0.0, 1.0);
}

// The colour of D's output d in [0, 1]; twin: heatmapColor in src/reference/plane.ts.
fn heatmap_color(d: f32) -> vec3<f32> {
  let real = vec3<f32>(0.18, 0.62, 0.35);
  let fake = vec3<f32>(0.55, 0.33, 0.72);
  let white = vec3<f32>(1.0, 1.0, 1.0);
  let strength = clamp(abs(d - 0.5) * 2.0, 0.0, 1.0) * 0.75;
  return mix(white, select(fake, real, d >= 0.5), strength);
}

@fragment
fn d_heatmap(@builtin(position) position: vec4<f32>) -> @location(0) vec4<f32> {
  let n = view.grid;
  // Framebuffer y grows downwards; the plane's y grows upwards.
  let u = position.x / view.target_width;
  let v = 1.0 - position.y / view.target_height;
  let i = min(u32(max(u, 0.0) * f32(n)), n - 1u);
  let j = min(u32(max(v, 0.0) * f32(n)), n - 1u);
  let d = 1.0 / (1.0 + exp(-values[j * n + i]));
  return vec4<f32>(heatmap_color(d), 1.0);
}

struct Dot {
  @builtin(position) position: vec4<f32>,
  @location(0) offset: vec2<f32>,
}

@vertex
fn point(@builtin(vertex_index) vertex: u32, @builtin(instance_index) index: u32) -> Dot {
  var corners = array<vec2<f32>, 6>(vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(-1.0, 1.0), vec2(-1.0, 1.0), vec2(1.0, -1.0), vec2(1.0, 1.0));
  let corner = corners[vertex];
  let centre = to_clip(vec2<f32>(values[2u * index], values[2u * index + 1u]));
  let radius = vec2<f32>(view.size / view.target_width, view.size / view.target_height);
  var dot: Dot;
  dot.position = vec4<f32>(centre + corner * radius, 0.0, 1.0);
  dot.offset = corner;
  return dot;
}

@fragment
fn point_color(@location(0) offset: vec2<f32>) -> @location(0) vec4<f32> {
  if (dot(offset, offset) > 1.0) { discard; }
  return view.color;
}

@vertex
fn manifold(@builtin(vertex_index) vertex: u32) -> Dot {
  let m = view.grid;
  let segment = vertex / 2u;
  let end = vertex % 2u;
  let per_direction = m * (m - 1u);
  var index: u32;
  if (segment < per_direction) {
    index = (segment / (m - 1u)) * m + segment % (m - 1u) + end;
  } else {
    let s = segment - per_direction;
    index = (s % (m - 1u) + end) * m + s / (m - 1u);
  }
  var dot: Dot;
  dot.position = vec4<f32>(to_clip(vec2<f32>(values[2u * index], values[2u * index + 1u])), 0.0, 1.0);
  dot.offset = vec2<f32>(0.0, 0.0);
  return dot;
}
