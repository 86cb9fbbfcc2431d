// Exponential moving average of a parameter buffer (Polyak averaging of G's weights, as Yazici et al.
// 2019 and Karras et al. use it): after each G update, one dispatch over G's whole flat buffer
//   average = decay * average + weight * param,   weight = 1 - decay
// with decay and weight computed in float64 on the CPU (src/reference/ema.ts, emaDecayAt) and
// written here rounded once each, so a decay near 1 keeps its small weight exactly.
// Twin: src/reference/ema.ts (emaStep). Test: test/kernels/ema.test.ts.
//
// Bindings (count = params.count):
//   param    (count)  the weights just updated by the optimizer
//   average  (count)  their running average, updated in place
// params is one uniform block, rewritten before every step (the decay warms up with the step).
//
// Dispatch geometry: one invocation per element, ceil(count / WORKGROUP) workgroups laid out as a
// (x, y) grid (flatGrid in src/kernels/optimizer.ts), element gid.x + gid.y * num_workgroups.x * WORKGROUP.

struct Params {
  count: u32,
  decay: f32,
  weight: f32,
}

override WORKGROUP: u32 = 64u;

@group(0) @binding(0) var<storage, read> param: array<f32>;
@group(0) @binding(1) var<storage, read_write> average: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn ema_update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP;
  if (i >= params.count) {
    return;
  }
  average[i] = params.decay * average[i] + params.weight * param[i];
}
