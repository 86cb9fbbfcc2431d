// Minibatch gather from a dataset that stays on the GPU: x[r] = scale * dataset[indices[r]] with
// indices[r] = first + index_from_bits(bits, count), bits = element (0, r) of the key
// (seed, stream, clock.step, sub). Rows are drawn independently and uniformly, with replacement
// (the minibatches of SGD, without an epoch's shuffle to keep on the CPU).
// Twin: src/reference/gather.ts (gatherRows). Test: test/kernels/gather.test.ts.
//
// Bindings:
//   dataset  gather_f32: (rows, features) f32; gather_u8: bytes packed 4 to a u32, little-endian,
//            row r's features starting at byte r * features (MNIST: 60,000 x 784 = 47 MB)
//   x        (batch, features) f32
//   indices  (batch) u32: the rows drawn, for tests and for anyone who wants the labels
// Dispatch: lanes along the features, one batch row per y: (ceil(features / WORKGROUP), batch).

struct Params {
  batch: u32,
  features: u32,
  first: u32,
  count: u32,
  seed: u32,
  stream: u32,
  sub: u32,
  scale: f32,
}

struct Clock {
  step: u32,
}

override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read> dataset_f32: array<f32>;
@group(0) @binding(1) var<storage, read> dataset_u8: array<u32>;
@group(0) @binding(2) var<storage, read_write> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<u32>;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<uniform> clock: Clock;

// Every invocation of a row draws the same index (a uniform value across the row's lanes); the
// first writes it out.
fn drawn_row(row: u32, feature: u32) -> u32 {
  let draw = draw_bits(params.seed, params.stream, clock.step, params.sub, 0u, row);
  let index = params.first + index_from_bits(draw[row & 3u], params.count);
  if (feature == 0u) {
    indices[row] = index;
  }
  return index;
}

@compute @workgroup_size(WORKGROUP)
fn gather_f32(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let feature = gid.x;
  if (row >= params.batch || feature >= params.features) {
    return;
  }
  let source = drawn_row(row, feature);
  x[row * params.features + feature] = params.scale * dataset_f32[source * params.features + feature];
}

@compute @workgroup_size(WORKGROUP)
fn gather_u8(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y;
  let feature = gid.x;
  if (row >= params.batch || feature >= params.features) {
    return;
  }
  let source = drawn_row(row, feature);
  let byte = source * params.features + feature;
  let value = (dataset_u8[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu;
  x[row * params.features + feature] = params.scale * f32(value);
}
