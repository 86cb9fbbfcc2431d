// Optimizer updates: one dispatch updates every element of a parameter buffer (all of a network's
// tensors, laid out by src/nn/layout.ts) from its gradient, 4 elements per invocation.
// Twin: src/reference/optimizer.ts (sgdPylearn2Step, sgdPytorchStep, adamStep).
// Test: test/kernels/optimizer.test.ts.
//
//   sgd_pylearn2   v = m v - lr g;  p = p + v          pylearn2's momentum, the paper's
//   sgd_pytorch    v = m v + g;     p = p - lr v       PyTorch's and TF.js's; the two differ once lr
//                                                      changes (pylearn2's velocity keeps old lr's)
//   adam           m1 = b1 m1 + (1 - b1) g;  m2 = b2 m2 + (1 - b2) g^2
//                  p = p - lr (m1 / bias1) / (sqrt(m2 / bias2) + epsilon)
//                  bias1 = 1 - b1^t, bias2 = 1 - b2^t for the step t >= 1: the wrapper computes them
//                  on the CPU (src/reference/optimizer.ts, adamBiasCorrections) and writes them here.
//
// Bindings (count = params.count), all bound as vec4s: each holds ceil(count / 4) whole vec4s (the
// runtime's buffers are sized in 16-byte steps and a network's layout in 64-float steps, so they do):
//   grad           (count)  dL/dp
//   param          (count)  p, updated in place
//   velocity       (count)  SGD's state v
//   first_moment   (count)  Adam's state m1
//   second_moment  (count)  Adam's state m2
//   nonfinite      (1) u32  set to 1 by every invocation whose new parameter is NaN or +-Inf, never
//                           cleared here: the trainer reads it with the statistics and zeroes it.
// params is one uniform block per parameter buffer, owned by the wrapper and rewritten between steps
// (learning-rate and momentum schedules, Adam's step) without rebuilding the pipeline or bind groups.
//
// Dispatch geometry: one invocation per quad of 4 consecutive elements, ceil(ceil(count / 4) /
// WORKGROUP) workgroups laid out as a (x, y) grid because one axis holds at most 65535 workgroups
// (16.8M elements at WORKGROUP = 64); quad gid.x + gid.y * (num_workgroups.x * WORKGROUP), see
// flatGrid in src/kernels/optimizer.ts. The elements of the last quad at or past count are read
// and written back unchanged (select), so a buffer's padding keeps whatever it holds.
//
// Why quads: on a software adapter every load with a per-invocation address is a loop over the
// lanes, and a vec4 load shares one such loop between 4 elements (shaders/tiles.wgsl says more); the
// arithmetic is componentwise, so each element gets exactly the scalar update of the twin. Against
// one invocation per element, on lavapipe (adapter CPU time, medians of 12 turns in one process, two
// runs): SGD over paper-mnist G's 2.5M parameters 19.2 and 23.5 ms -> 7.7 and 9.9, Adam over 1.3M
// 12.3 and 16.2 ms -> 5.5 and 7.6.

struct Params {
  count: u32,
  lr: f32,
  momentum: f32,
  beta1: f32,
  beta2: f32,
  epsilon: f32,
  bias1: f32,
  bias2: f32,
}

override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read> grad: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> param: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> velocity: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> first_moment: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> second_moment: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> nonfinite: array<atomic<u32>>;
@group(1) @binding(0) var<uniform> params: Params;

// The quad this invocation updates; ceil(count / 4) or more past the end.
fn quad_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP;
}

fn quad_count() -> u32 {
  return (params.count + 3u) / 4u;
}

// Which of quad q's elements are below count: the others keep their old values.
fn live(q: u32) -> vec4<bool> {
  return vec4<u32>(4u * q) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(params.count);
}

// From the bits: a compiler may assume floats are finite and fold a comparison such as x != x away.
fn is_nonfinite(x: vec4<f32>) -> bool {
  let exponent = vec4<u32>(0x7f800000u);
  return any((bitcast<vec4<u32>>(x) & exponent) == exponent);
}

fn store_param(q: u32, p: vec4<f32>) {
  param[q] = p;
  if (is_nonfinite(p)) {
    atomicStore(&nonfinite[0], 1u);
  }
}

@compute @workgroup_size(WORKGROUP)
fn sgd_pylearn2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let q = quad_index(gid, groups);
  if (q >= quad_count()) {
    return;
  }
  let keep = live(q);
  let v0 = velocity[q];
  let p0 = param[q];
  let v = select(v0, params.momentum * v0 - params.lr * grad[q], keep);
  velocity[q] = v;
  store_param(q, select(p0, p0 + v, keep));
}

@compute @workgroup_size(WORKGROUP)
fn sgd_pytorch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let q = quad_index(gid, groups);
  if (q >= quad_count()) {
    return;
  }
  let keep = live(q);
  let v0 = velocity[q];
  let p0 = param[q];
  let v = select(v0, params.momentum * v0 + grad[q], keep);
  velocity[q] = v;
  store_param(q, select(p0, p0 - params.lr * v, keep));
}

@compute @workgroup_size(WORKGROUP)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let q = quad_index(gid, groups);
  if (q >= quad_count()) {
    return;
  }
  let keep = live(q);
  let g = grad[q];
  let m1_0 = first_moment[q];
  let m2_0 = second_moment[q];
  let p0 = param[q];
  let m1 = params.beta1 * m1_0 + (1.0 - params.beta1) * g;
  let m2 = params.beta2 * m2_0 + (1.0 - params.beta2) * g * g;
  first_moment[q] = select(m1_0, m1, keep);
  second_moment[q] = select(m2_0, m2, keep);
  store_param(q, select(p0, p0 - params.lr * (m1 / params.bias1) / (sqrt(m2 / params.bias2) + params.epsilon), keep));
}
