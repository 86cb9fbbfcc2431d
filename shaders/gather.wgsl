// Minibatch gather from a dataset that stays on the GPU:
//   indices[r] = first + index_from_bits(bits_r, count)
//   x[r, f]    = scale * dataset[indices[r], f]
// or, for contrast-normalised images (gather_u8_contrast, CIFAR-10 as the paper's config has it),
//   x[r, f]    = (scale * dataset[i, f] - contrast[2 i]) * contrast[2 i + 1],   i = indices[r]
// the per-image offset (the image's mean) and scale (55 / its centred norm) computed once on the CPU
// at load (src/data/dataset.ts contrastParams), so the bytes stay bytes on the GPU.
// where bits_r is element (0, r) of the key (seed, stream, clock.step, sub), that is
// draw_bits(seed, stream, step, sub, 0, r)[r % 4]. Every row is drawn independently and uniformly
// from [first, first + count): sampling with replacement, so a minibatch may repeat an example and an
// epoch is a count of draws rather than a permutation. The paper's SGD needs nothing more, and it
// keeps the whole gather a pure function of the key, with no shuffle state on the CPU to save or
// resume. (index_from_bits is the high word of bits * count: its bias is below count / 2^32.)
// Twin: src/reference/gather.ts (gatherRows, gatherIndices). Test: test/kernels/gather.test.ts.
//
// Bindings:
//   dataset_f32  gather_f32: (rows, features) f32
//   dataset_u8   gather_u8:  bytes packed 4 to a u32, little-endian; row r's features start at byte
//                r * features (features need not be a multiple of 4). MNIST: 60,000 x 784 = 47 MB.
//   contrast     gather_u8_contrast: (rows, 2) f32, each dataset row's (offset, scale)
//   x            (batch, features) f32
//   indices      (batch) u32: the dataset rows drawn (for tests, and for whoever wants labels)
//   params       batch, features, first, count, the key (seed, stream, sub), scale (1/255 for pixels)
//   clock        step: the training iteration
//   labels       gather_labels: (rows) u32, the dataset's class of each row (uploaded once with it)
//   row_labels   gather_labels: (batch) u32, the class of each gathered row, for a conditional GAN
// Dispatch: lanes along the features, one batch row per workgroup row:
//   (ceil(features / WORKGROUP), batch). Dataset rows are never a dispatch dimension, so datasets of
// any number of rows work; the batch is limited by maxComputeWorkgroupsPerDimension (65535).
//
// gather_labels runs after a gather and reads its indices: one invocation per batch row,
// (ceil(batch / WORKGROUP)). It is an entry of its own so that unlabelled data binds no labels.
//
// Every workgroup lies within one batch row, so its first lane draws the row's index once and
// shares it through workgroup memory, instead of every lane running Philox for the same number.

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
@group(0) @binding(4) var<storage, read_write> row_labels: array<u32>;
@group(0) @binding(5) var<storage, read> contrast: array<f32>;
@group(0) @binding(6) var<storage, read> labels: array<u32>;
@group(1) @binding(0) var<uniform> params: Params;
@group(1) @binding(1) var<uniform> clock: Clock;

var<workgroup> shared_source: u32;

// The dataset row that batch row `row` copies, the same in every lane of the workgroup; the
// workgroup at the start of the row also records it.
fn source_row(row: u32, workgroup_x: u32, lane: u32) -> u32 {
  if (lane == 0u) {
    let bits = draw_bits(params.seed, params.stream, clock.step, params.sub, 0u, row)[row & 3u];
    let source = params.first + index_from_bits(bits, params.count);
    shared_source = source;
    if (workgroup_x == 0u) {
      indices[row] = source;
    }
  }
  return workgroupUniformLoad(&shared_source);
}

@compute @workgroup_size(WORKGROUP)
fn gather_f32(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = wid.y;
  if (row >= params.batch) {
    return;
  }
  let source = source_row(row, wid.x, lane);
  let feature = wid.x * WORKGROUP + lane;
  if (feature < params.features) {
    x[row * params.features + feature] = params.scale * dataset_f32[source * params.features + feature];
  }
}

@compute @workgroup_size(WORKGROUP)
fn gather_u8(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = wid.y;
  if (row >= params.batch) {
    return;
  }
  let source = source_row(row, wid.x, lane);
  let feature = wid.x * WORKGROUP + lane;
  if (feature < params.features) {
    let byte = source * params.features + feature;
    let value = (dataset_u8[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu;
    x[row * params.features + feature] = params.scale * f32(value);
  }
}

// Global contrast normalisation on the fly: the bytes scaled to [0, 1] as gather_u8 does, then
// centred and scaled by the image's own pair. A separate entry point, so the other datasets bind no
// contrast buffer and pay nothing for it.
@compute @workgroup_size(WORKGROUP)
fn gather_u8_contrast(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lane: u32) {
  let row = wid.y;
  if (row >= params.batch) {
    return;
  }
  let source = source_row(row, wid.x, lane);
  let feature = wid.x * WORKGROUP + lane;
  if (feature < params.features) {
    let byte = source * params.features + feature;
    let value = (dataset_u8[byte >> 2u] >> ((byte & 3u) * 8u)) & 0xffu;
    x[row * params.features + feature] = (params.scale * f32(value) - contrast[2u * source]) * contrast[2u * source + 1u];
  }
}

@compute @workgroup_size(WORKGROUP)
fn gather_labels(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x;
  if (row >= params.batch) {
    return;
  }
  row_labels[row] = labels[indices[row]];
}
