// Squared error against a target, optionally over a mask of the elements that count, and the clamp
// of a buffer to a range: the encoder's loss in z (E(G(z)) against z) and the completion's loss on
// the known pixels (G(z) against the image where mask is 1), with z kept in the noise's range.
// Twin: src/reference/sq_error.ts (squaredErrorGrad, clampValues). Test: test/kernels/sq_error.test.ts.
//
// The loss is L = scale / 2 * sum over (row, col) of mask * (pred - expected)^2, so
//   grad         dpred = scale * (pred - expected)
//   grad_masked  dpred = scale * mask * (pred - expected)
//   grad_plus    dpred = scale * (pred - expected) + addend, the gradient of this loss plus another
//                one's already in addend (the encoder's error in z plus its pixel error through G)
//   clamp_values x = min(max(x, low), high), in place
// The caller chooses scale (1 / rows for a batch mean of per-row sums; 1 for independent rows).
//
// Bindings:
//   pred    (rows, cols)  the prediction
//   expected (rows, cols) what it should be
//   mask    (rows, cols)  grad_masked: 1 where an element counts, 0 where it does not
//   addend  (rows, cols)  grad_plus: the other loss's gradient in pred
//   dpred   (rows, cols)  dL/dpred, written
//   x       (count)       clamp: the values clamped in place
//   params  count (rows * cols), scale, low, high
// Dispatch geometry: one invocation per element, ceil(count / WORKGROUP) workgroups laid out as a
// (x, y) grid (flatGrid in src/kernels/optimizer.ts), element gid.x + gid.y * num_workgroups.x * WORKGROUP.

struct Params {
  count: u32,
  scale: f32,
  low: f32,
  high: f32,
}

override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read> pred: array<f32>;
@group(0) @binding(1) var<storage, read> expected: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<f32>;
@group(0) @binding(3) var<storage, read> addend: array<f32>;
@group(0) @binding(4) var<storage, read_write> dpred: array<f32>;
@group(0) @binding(5) var<storage, read_write> x: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;

fn element(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP;
}

@compute @workgroup_size(WORKGROUP)
fn grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element(gid, groups);
  if (i >= params.count) {
    return;
  }
  dpred[i] = params.scale * (pred[i] - expected[i]);
}

@compute @workgroup_size(WORKGROUP)
fn grad_masked(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element(gid, groups);
  if (i >= params.count) {
    return;
  }
  dpred[i] = params.scale * mask[i] * (pred[i] - expected[i]);
}

@compute @workgroup_size(WORKGROUP)
fn grad_plus(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element(gid, groups);
  if (i >= params.count) {
    return;
  }
  dpred[i] = params.scale * (pred[i] - expected[i]) + addend[i];
}

@compute @workgroup_size(WORKGROUP)
fn clamp_values(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element(gid, groups);
  if (i >= params.count) {
    return;
  }
  x[i] = min(max(x[i], params.low), params.high);
}
