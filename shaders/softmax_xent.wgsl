// Softmax cross-entropy on logits, for the MNIST classifier behind the sample-quality scores
// (src/eval/classifier.ts): the loss, its gradient with respect to every logit, and running
// statistics accumulated on the GPU. Twin: src/reference/softmax_xent.ts (softmaxCrossEntropy).
// Test: test/kernels/softmax_xent.test.ts.
//
// For row i with label y = labels[indices[i]] and logits l (one row of `classes`):
//   loss_i     = logsumexp(l) - l_y,  logsumexp(l) = m + log(sum_c exp(l_c - m)), m = max_c l_c, so
//                no exp overflows and the largest term is 1
//   dlogits_ic = (softmax(l)_c - [c == y]) / batch      (the gradient of the batch's mean loss)
//   correct_i  = [argmax_c l_c == y], the first of equal maxima
//
// Bindings:
//   logits   (batch, classes)
//   labels   (N) u32     the dataset's labels, every row
//   indices  (batch) u32 the dataset rows of the batch (the gather kernel writes them; 0..batch-1
//                        for a batch in dataset order)
//   dlogits  (batch, classes), written
//   stats    (4) f32     ADDED to, never overwritten: [STAT_LOSS_SUM] sum over calls of the mean
//                        loss, [STAT_CORRECT_SUM] sum over calls of the fraction correct,
//                        [STAT_COUNT] calls; the reader zeroes it and divides by the count.
//
// Dispatch geometry: exactly one workgroup of WORKGROUP invocations; invocation j takes rows j,
// j + WORKGROUP, ..., then a tree reduction in a fixed order gives the same sums every run.

struct Params {
  batch: u32,
  classes: u32,
}

// A power of two: the tree reduction halves it.
const WORKGROUP: u32 = 64u;
const STAT_LOSS_SUM: u32 = 0u;
const STAT_CORRECT_SUM: u32 = 1u;
const STAT_COUNT: u32 = 2u;

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> indices: array<u32>;
@group(0) @binding(3) var<storage, read_write> dlogits: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(1) @binding(0) var<uniform> params: Params;

// Per invocation (loss, correct) sums.
var<workgroup> partial_sums: array<vec2<f32>, WORKGROUP>;

@compute @workgroup_size(WORKGROUP)
fn softmax_cross_entropy(@builtin(local_invocation_index) lane: u32) {
  let batch = params.batch;
  let classes = params.classes;
  let scale = 1.0 / f32(batch);
  var sums = vec2<f32>(0.0);
  for (var i = lane; i < batch; i += WORKGROUP) {
    let base = i * classes;
    let label = labels[indices[i]];
    var m = logits[base];
    var best = 0u;
    for (var c = 1u; c < classes; c++) {
      let l = logits[base + c];
      if (l > m) {
        m = l;
        best = c;
      }
    }
    var total = 0.0;
    for (var c = 0u; c < classes; c++) {
      total += exp(logits[base + c] - m);
    }
    let inverse = 1.0 / total;
    for (var c = 0u; c < classes; c++) {
      let p = exp(logits[base + c] - m) * inverse;
      dlogits[base + c] = scale * (p - select(0.0, 1.0, c == label));
    }
    let loss = m + log(total) - logits[base + label];
    sums += vec2<f32>(loss, select(0.0, 1.0, best == label));
  }
  partial_sums[lane] = sums;
  workgroupBarrier();
  for (var span = WORKGROUP / 2u; span > 0u; span /= 2u) {
    if (lane < span) {
      partial_sums[lane] += partial_sums[lane + span];
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    stats[STAT_LOSS_SUM] += partial_sums[0].x * scale;
    stats[STAT_CORRECT_SUM] += partial_sums[0].y * scale;
    stats[STAT_COUNT] += 1.0;
  }
}
