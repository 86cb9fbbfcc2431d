// GAN losses on D's output l: the loss value, its gradient with respect to every output, and running
// statistics accumulated on the GPU so the trainer reads them every N iterations.
// Twin: src/reference/gan_loss.ts (discriminatorLoss, generatorLoss). Test: test/kernels/gan_loss.test.ts.
// LOSS (an override constant, both entry points) picks the game; D's last layer is linear either way.
//
// The paper's GAN (LOSS_NON_SATURATING, LOSS_MINIMAX): l is a logit, D = sigmoid(l).
// discriminator_loss, the authors' d_obj = 0.5 * (BCE(D(x), t) + BCE(D(G(z)), 0)), t = real_target
// (1 in the paper; .9 is one-sided label smoothing, which caps how sure D gets of the data):
//   loss          = 0.5 * (mean [t softplus(-l_real) + (1 - t) softplus(l_real)] + mean softplus(l_fake))
//   dlogits_real  = 0.5 * (sigmoid(l) - t) / n_real = 0.5 * ((1 - t) sigmoid(l) - t sigmoid(-l)) / n_real
//   dlogits_fake  = 0.5 * sigmoid(l) / n_fake
// generator_loss, LOSS picks the objective G minimises:
//   LOSS_NON_SATURATING  loss = mean softplus(-l) = mean -log D(G(z));  dlogit = -sigmoid(-l) / n
//   LOSS_MINIMAX         loss = mean -softplus(l) = mean log(1 - D(G(z))); dlogit = -sigmoid(l) / n
// The stats' D(x) and D(G(z)) are means of sigmoid(l).
//
// Least squares (LOSS_LEAST_SQUARES; Mao et al., 2017, LSGAN): D's output is the raw l, no sigmoid,
// with targets a = 0 (fake), b = t = real_target (real; 1 in the paper, .9 keeps one-sided
// smoothing), c = 1 (what G wants D to say of its samples):
//   discriminator_loss  loss = 0.5 mean (l_real - t)^2 + 0.5 mean l_fake^2
//                       dlogits_real = (l - t) / n_real;  dlogits_fake = l / n_fake
//   generator_loss      loss = 0.5 mean (l - 1)^2;  dlogit = (l - 1) / n
// The stats' D(x) and D(G(z)) are means of the raw l (the optimal D is p_data / (p_data + p_g),
// so they read as the sigmoid's do: 1 for data, 0 for samples, 1/2 at the equilibrium).
//
// softplus(z) = log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)) never overflows, so logits of any
// size give finite losses (log(sigmoid(l)) = -softplus(-l) written naively is -inf for l < -88).
// sigmoid(l) - t is written (1 - t) sigmoid(l) - t sigmoid(-l): equal in value, without the
// cancellation near l >> 0 (and exactly -sigmoid(-l) when t = 1).
//
// Bindings (n_real = params.n_real, n_fake = params.n_fake; the generator's n is n_fake):
//   logits_real   (n_real)   D's outputs (logits) on the data batch
//   logits_fake   (n_fake)   D's outputs (logits) on the generated batch
//   dlogits_real  (n_real)   dL/dl, written
//   dlogits_fake  (n_fake)   dL/dl, written
//   stats         (8)        f32 sums, ADDED to (+=), never overwritten; layout STAT_* below, the
//                            same as GAN_STATS in src/reference/gan_loss.ts. The trainer zeroes
//                            the buffer when it reads it and divides each sum by its count.
//
// Dispatch geometry: exactly one workgroup of WORKGROUP invocations. Invocation i takes elements
// i, i + WORKGROUP, i + 2 WORKGROUP, ... (any batch size works), then a tree reduction over the
// workgroup in a fixed order makes the sums identical run to run (no atomics, no float races).

struct Params {
  n_real: u32,
  n_fake: u32,
  // D's target for the data batch (discriminator_loss only).
  real_target: f32,
}

// The LOSS_CODE table of src/spec/stats.ts. discriminator_loss is the same for both BCE games.
const LOSS_NON_SATURATING: u32 = 0u;
const LOSS_MINIMAX: u32 = 1u;
const LOSS_LEAST_SQUARES: u32 = 2u;
override LOSS: u32 = LOSS_NON_SATURATING;

// A power of two: the tree reduction halves it.
const WORKGROUP: u32 = 64u;

// The stats layout.
const STAT_D_LOSS_SUM: u32 = 0u;  // sum over discriminator_loss calls of the loss
const STAT_D_REAL_SUM: u32 = 1u;  //   ... of mean D(x) (sigmoid(l), or l for least squares)
const STAT_D_FAKE_SUM: u32 = 2u;  //   ... of mean D(G(z)) (likewise)
const STAT_D_COUNT: u32 = 3u;     // number of discriminator_loss calls
const STAT_G_LOSS_SUM: u32 = 4u;  // sum over generator_loss calls of the loss
const STAT_G_FAKE_SUM: u32 = 5u;  //   ... of mean D(G(z)) (likewise)
const STAT_G_COUNT: u32 = 6u;     // number of generator_loss calls
const STAT_NONFINITE: u32 = 7u;   // logits that were NaN or +-Inf, both entry points (exact to 2^24)

@group(0) @binding(0) var<storage, read> logits_real: array<f32>;
@group(0) @binding(1) var<storage, read> logits_fake: array<f32>;
@group(0) @binding(2) var<storage, read_write> dlogits_real: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlogits_fake: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;

// Per invocation partial sums: (loss real, D real, loss fake, D fake) and the non-finite count.
var<workgroup> partial_sums: array<vec4<f32>, WORKGROUP>;
var<workgroup> partial_nonfinite: array<u32, WORKGROUP>;

fn softplus(z: f32) -> f32 {
  return max(z, 0.0) + log(1.0 + exp(-abs(z)));
}

// From the bits: a compiler may assume floats are finite and fold a comparison such as x != x away.
fn is_nonfinite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

// Leaves the workgroup's totals in partial_sums[0] and partial_nonfinite[0].
fn reduce_workgroup(lane: u32, sums: vec4<f32>, nonfinite: u32) {
  partial_sums[lane] = sums;
  partial_nonfinite[lane] = nonfinite;
  workgroupBarrier();
  for (var span = WORKGROUP / 2u; span > 0u; span /= 2u) {
    if (lane < span) {
      partial_sums[lane] += partial_sums[lane + span];
      partial_nonfinite[lane] += partial_nonfinite[lane + span];
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP)
fn discriminator_loss(@builtin(local_invocation_index) lane: u32) {
  let n_real = params.n_real;
  let n_fake = params.n_fake;
  let real_scale = 0.5 / f32(n_real);
  let fake_scale = 0.5 / f32(n_fake);
  var sums = vec4<f32>(0.0);
  var nonfinite = 0u;
  if (LOSS == LOSS_LEAST_SQUARES) {
    // D's raw output l -> t for the data, -> 0 for the samples; the 1/2 of each squared error is
    // applied to the sums below, so the gradients carry no 0.5.
    let t = params.real_target;
    for (var i = lane; i < n_real; i += WORKGROUP) {
      let l = logits_real[i];
      let e = l - t;
      sums += vec4<f32>(e * e, l, 0.0, 0.0);
      nonfinite += select(0u, 1u, is_nonfinite(l));
      dlogits_real[i] = e / f32(n_real);
    }
    for (var i = lane; i < n_fake; i += WORKGROUP) {
      let l = logits_fake[i];
      sums += vec4<f32>(0.0, 0.0, l * l, l);
      nonfinite += select(0u, 1u, is_nonfinite(l));
      dlogits_fake[i] = l / f32(n_fake);
    }
  } else {
    for (var i = lane; i < n_real; i += WORKGROUP) {
      let l = logits_real[i];
      // D(x) -> t is the target: the loss is -t log D(x) - (1 - t) log(1 - D(x)).
      let t = params.real_target;
      let d = sigmoid(l);
      // The (1 - t) term only where it is not zero, so that t = 1 gives the plain loss for any l.
      let other = select(0.0, (1.0 - t) * softplus(l), t != 1.0);
      sums += vec4<f32>(t * softplus(-l) + other, d, 0.0, 0.0);
      nonfinite += select(0u, 1u, is_nonfinite(l));
      dlogits_real[i] = real_scale * ((1.0 - t) * d - t * sigmoid(-l));
    }
    for (var i = lane; i < n_fake; i += WORKGROUP) {
      let l = logits_fake[i];
      // D(G(z)) -> 0 is the target: the loss is -log(1 - D(G(z))) = softplus(l).
      let d = sigmoid(l);
      sums += vec4<f32>(0.0, 0.0, softplus(l), d);
      nonfinite += select(0u, 1u, is_nonfinite(l));
      dlogits_fake[i] = fake_scale * d;
    }
  }
  reduce_workgroup(lane, sums, nonfinite);
  if (lane == 0u) {
    let total = partial_sums[0];
    // Both games halve: BCE's d_obj averages its two terms, least squares halves each squared error.
    stats[STAT_D_LOSS_SUM] += 0.5 * (total.x / f32(n_real) + total.z / f32(n_fake));
    stats[STAT_D_REAL_SUM] += total.y / f32(n_real);
    stats[STAT_D_FAKE_SUM] += total.w / f32(n_fake);
    stats[STAT_D_COUNT] += 1.0;
    stats[STAT_NONFINITE] += f32(partial_nonfinite[0]);
  }
}

@compute @workgroup_size(WORKGROUP)
fn generator_loss(@builtin(local_invocation_index) lane: u32) {
  let n = params.n_fake;
  let scale = 1.0 / f32(n);
  var sums = vec4<f32>(0.0);
  var nonfinite = 0u;
  for (var i = lane; i < n; i += WORKGROUP) {
    let l = logits_fake[i];
    var d = sigmoid(l);
    var loss: f32;
    var dlogit: f32;
    if (LOSS == LOSS_LEAST_SQUARES) {
      // D's raw output l -> c = 1. The 1/2 of the squared error is applied to the sum below.
      let e = l - 1.0;
      loss = e * e;
      dlogit = scale * e;
      d = l;
    } else if (LOSS == LOSS_MINIMAX) {
      loss = -softplus(l);
      dlogit = -scale * d;
    } else {
      loss = softplus(-l);
      dlogit = -scale * sigmoid(-l);
    }
    sums += vec4<f32>(loss, d, 0.0, 0.0);
    nonfinite += select(0u, 1u, is_nonfinite(l));
    dlogits_fake[i] = dlogit;
  }
  reduce_workgroup(lane, sums, nonfinite);
  if (lane == 0u) {
    let total = partial_sums[0];
    let half = select(1.0, 0.5, LOSS == LOSS_LEAST_SQUARES);
    stats[STAT_G_LOSS_SUM] += half * (total.x / f32(n));
    stats[STAT_G_FAKE_SUM] += total.y / f32(n);
    stats[STAT_G_COUNT] += 1.0;
    stats[STAT_NONFINITE] += f32(partial_nonfinite[0]);
  }
}
