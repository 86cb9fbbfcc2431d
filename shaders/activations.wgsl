// Activation functions shared by the dense kernels; src/reference/dense.ts has the same.
// Codes are override constants of the dense pipelines. Maxout takes the max over its pieces first
// and is the identity afterwards.
const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_SIGMOID: u32 = 2u;
const ACT_MAXOUT: u32 = 3u;

fn sigmoid(z: f32) -> f32 {
  return 1.0 / (1.0 + exp(-z));
}

fn activate(z: f32, act: u32) -> f32 {
  switch act {
    case ACT_RELU: { return max(z, 0.0); }
    case ACT_SIGMOID: { return sigmoid(z); }
    default: { return z; }
  }
}

// d act / d z, written in terms of the output y = act(z): what the backward pass has kept.
fn activation_slope(y: f32, act: u32) -> f32 {
  switch act {
    case ACT_RELU: { return select(0.0, 1.0, y > 0.0); }
    case ACT_SIGMOID: { return y * (1.0 - y); }
    default: { return 1.0; }
  }
}
