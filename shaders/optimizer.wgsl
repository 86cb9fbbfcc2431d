// Optimizer updates: one dispatch updates every element of a parameter buffer from its gradient.
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
// Bindings (count = params.count):
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
// Dispatch geometry: one invocation per element, ceil(count / WORKGROUP) workgroups laid out as a
// (x, y) grid because one axis holds at most 65535 workgroups (4.2M elements at WORKGROUP = 64);
// element gid.x + gid.y * (num_workgroups.x * WORKGROUP), see flatGrid in src/kernels/optimizer.ts.

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

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> velocity: array<f32>;
@group(0) @binding(3) var<storage, read_write> first_moment: array<f32>;
@group(0) @binding(4) var<storage, read_write> second_moment: array<f32>;
@group(0) @binding(5) var<storage, read_write> nonfinite: array<atomic<u32>>;
@group(1) @binding(0) var<uniform> params: Params;

// The element this invocation updates; count or more past the end.
fn element_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP;
}

// From the bits: a compiler may assume floats are finite and fold a comparison such as x != x away.
fn is_nonfinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

fn store_param(i: u32, p: f32) {
  param[i] = p;
  if (is_nonfinite(p)) {
    atomicStore(&nonfinite[0], 1u);
  }
}

@compute @workgroup_size(WORKGROUP)
fn sgd_pylearn2(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element_index(gid, groups);
  if (i >= params.count) {
    return;
  }
  let v = params.momentum * velocity[i] - params.lr * grad[i];
  velocity[i] = v;
  store_param(i, param[i] + v);
}

@compute @workgroup_size(WORKGROUP)
fn sgd_pytorch(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element_index(gid, groups);
  if (i >= params.count) {
    return;
  }
  let v = params.momentum * velocity[i] + grad[i];
  velocity[i] = v;
  store_param(i, param[i] - params.lr * v);
}

@compute @workgroup_size(WORKGROUP)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = element_index(gid, groups);
  if (i >= params.count) {
    return;
  }
  let g = grad[i];
  let m1 = params.beta1 * first_moment[i] + (1.0 - params.beta1) * g;
  let m2 = params.beta2 * second_moment[i] + (1.0 - params.beta2) * g * g;
  first_moment[i] = m1;
  second_moment[i] = m2;
  store_param(i, param[i] - params.lr * (m1 / params.bias1) / (sqrt(m2 / params.bias2) + params.epsilon));
}
