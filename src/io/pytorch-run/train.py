#!/usr/bin/env python3
"""Continues a webgpu-gan run in PyTorch, from the directory `gan export --pytorch-run DIR` wrote.

The directory holds this file, checkpoint.safetensors (the whole state, in the project's format),
config.json (the run's config: networks, game, optimizer, schedules) and data.json (where the
training images are). Everything the model is comes from config.json, so this file defines no
network of its own. It trains Algorithm 1 as the project's trainer does (src/reference/step.ts is
the arithmetic) and writes checkpoint.safetensors, config.json and metrics.jsonl back in the
project's formats, so `gan train --resume`, `gan eval` and `gan report` take the run back.

    python3 train.py --iters 4500                       # one process
    python3 -m torch.distributed.run --nproc_per_node 2 train.py --iters 4500   # DDP, gloo on CPU
    # Debian's torch 1.13 under Python 3.11 also needs --redirects 2 --tee 2 before train.py: its
    # launcher cannot parse its own default for them (docs/export.md).

Under torchrun the config's batch is the global batch: rank r of w processes takes batch // w rows,
plus one for r < batch % w, drawn from its own shard of the training rows with its own random
stream; each rank's loss is weighted by its rows, so the averaged gradient is the whole batch's.
The draws are torch's, not the project's Philox streams: the run continues the same model and game,
not the same random numbers. Needs torch and numpy only.
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

FORMAT = 'webgpu-gan/1'
STATE_NAMES = {'sgd-pylearn2': ['velocity'], 'sgd-pytorch': ['velocity'], 'adam': ['adam_m', 'adam_v']}
AVERAGE_SUFFIX = 'ema'
# src/spec/keys.ts: D step j draws with pass 4j, its real pass 4j + 1, its fake pass 4j + 2.
PASSES, REAL, FAKE = 4, 1, 2
# src/spec/stats.ts GAN_STATS.
D_LOSS, D_REAL, D_FAKE, D_COUNT, G_LOSS, G_FAKE, G_COUNT, NONFINITE = range(8)


class RunError(Exception):
    """Bad input: one line for the user, no traceback."""


def f32(value):
    """A hyperparameter as the kernels read it from their uniform: rounded to float32 once."""
    return float(np.float32(value))


# --- safetensors: 8-byte little-endian header length, JSON header, raw little-endian data ---

DTYPES = {'F32': np.float32, 'U32': np.uint32, 'F64': np.float64}


def read_safetensors(path):
    if not os.path.isfile(path):
        raise RunError(f'{path}: file not found.')
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise RunError(f'{path}: too short for a safetensors file.')
    (length,) = struct.unpack('<Q', data[:8])
    if length > len(data) - 8:
        raise RunError(f'{path}: the header claims {length} bytes, the file has {len(data) - 8}.')
    try:
        header = json.loads(data[8:8 + length])
    except ValueError as err:
        raise RunError(f'{path}: the header is not JSON ({err}).')
    body = data[8 + length:]
    metadata = header.pop('__metadata__', {}) or {}
    tensors = {}
    for name, entry in header.items():
        dtype = DTYPES.get(entry.get('dtype'))
        if dtype is None:
            raise RunError(f"{path}: tensor '{name}' has dtype {entry.get('dtype')}; F32, U32 and F64 are read.")
        begin, end = entry['data_offsets']
        count = int(np.prod(entry['shape'], dtype=np.int64))
        if end > len(body) or end - begin != count * np.dtype(dtype).itemsize:
            raise RunError(f"{path}: tensor '{name}': its data_offsets do not fit its shape or the file.")
        tensors[name] = np.frombuffer(body, dtype=dtype, count=count, offset=begin).reshape(entry['shape'])
    return tensors, metadata, body


def write_safetensors(path, tensors, metadata):
    """Written aside and renamed, so a reader sees the old file or the new one, never a part."""
    header, chunks, offset = {}, [], 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype='<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(array.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    body = b''.join(chunks)
    header = {'__metadata__': {**metadata, 'data_sha256': hashlib.sha256(body).hexdigest()}, **header}
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * ((8 - (8 + len(text)) % 8) % 8)
    temporary = f'{path}.tmp-{os.getpid()}'
    with open(temporary, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + body)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


# --- the networks as the config describes them (src/spec/config.ts, src/nn/layout.ts) ---

def data_features(config):
    image = config.get('image')
    if config['data'].startswith('toy-'):
        return 1 if config['data'] == 'toy-1d' else 2
    image = image or {'channels': 1, 'height': 28, 'width': 28}
    return image['channels'] * image['height'] * image['width']


def network_spec(config, name):
    inputs = config['noise']['dim'] if name == 'generator' else data_features(config)
    return {'name': name, 'inputFeatures': inputs, 'layers': config[name]['layers'], 'classes': config.get('classes', 0)}


def layout(spec):
    """(name, shape) of every tensor, in the order of the layout table."""
    tensors, inputs = [], spec['inputFeatures']
    for l, layer in enumerate(spec['layers']):
        width = layer['units'] * layer['pieces']
        tensors += [(f"{spec['name']}.{l}.weight", [inputs, width]), (f"{spec['name']}.{l}.bias", [width])]
        if l == 0 and spec['classes'] > 0:
            tensors.append((f"{spec['name']}.0.class_weight", [spec['classes'], width]))
        inputs = layer['units']
    return tensors


def input_transform(layer):
    """(keep, scale, shift) of the layer's input as the dropout kernel applies it, or None (src/nn/layout.ts)."""
    dropout, mapping = layer.get('dropout'), layer.get('inputMap')
    if not dropout and not mapping:
        return None
    d = dropout['scale'] if dropout else 1.0
    return (dropout['keep'] if dropout else 1.0, d * (mapping['scale'] if mapping else 1.0), d * (mapping['shift'] if mapping else 0.0))


class Net(torch.nn.Module):
    """A stack of dense layers with our tensors as they are: weight [in, units * pieces], maxout
    columns piece * units + unit, the class rows of a conditional first layer beside it."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.names = [name for name, _ in layout(spec)]
        self.tensors = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(shape)) for _, shape in layout(spec)])
        self.transforms = [input_transform(layer) for layer in spec['layers']]

    def named(self):
        return dict(zip(self.names, self.tensors))

    def forward(self, x, masks, labels):
        """masks[l]: layer l's 0/1 dropout mask (rows, inputs), or None where it has none."""
        named = self.named()
        name = self.spec['name']
        for l, layer in enumerate(self.spec['layers']):
            transform = self.transforms[l]
            if transform:
                x = x * f32(transform[1]) + f32(transform[2])
                if masks[l] is not None:
                    x = x * masks[l]
            z = x @ named[f'{name}.{l}.weight']
            if l == 0 and self.spec['classes'] > 0:
                z = z + named[f'{name}.0.class_weight'][labels]
            z = z + named[f'{name}.{l}.bias']
            units, pieces = layer['units'], layer['pieces']
            if layer['activation'] == 'maxout':
                x = z.view(-1, pieces, units).max(1).values
            elif layer['activation'] == 'relu':
                x = torch.relu(z)
            elif layer['activation'] == 'sigmoid':
                x = torch.sigmoid(z)
            else:
                x = z
        return x


# --- the state in the project's checkpoint format (src/io/checkpoint-format.ts) ---

def load_state(path, config):
    tensors, metadata, body = read_safetensors(path)
    if metadata.get('format') != FORMAT:
        raise RunError(f"{path}: metadata format is {metadata.get('format')!r}, expected '{FORMAT}'.")
    if metadata.get('data_sha256') and hashlib.sha256(body).hexdigest() != metadata['data_sha256']:
        raise RunError(f"{path}: the data's SHA-256 does not match the header's; the file is corrupt.")
    if metadata.get('contents') != 'training state':
        raise RunError(f"{path}: holds {metadata.get('contents')} only, no optimizer state; export a run's checkpoint.")
    suffixes = [''] + ['.' + s for s in STATE_NAMES[config['optimizer']['kind']]]
    wanted = []
    for player in ('generator', 'discriminator'):
        wanted += [(name + s, shape) for s in suffixes for name, shape in layout(network_spec(config, player))]
    if config['emaDecay'] > 0:
        wanted += [(f'{name}.{AVERAGE_SUFFIX}', shape) for name, shape in layout(network_spec(config, 'generator'))]
    wanted.append(('training.stats', [8]))
    for name, shape in wanted:
        if name not in tensors:
            raise RunError(f"{path}: tensor '{name}' is missing.")
        found = list(tensors[name].shape)
        if found != shape or tensors[name].dtype != np.float32:
            got = 'x'.join(map(str, found)) + ('' if tensors[name].dtype == np.float32 else f' {tensors[name].dtype}')
            raise RunError(f"{path}: tensor '{name}' has shape {got}, the config's model needs {'x'.join(map(str, shape))} (F32).")
    return {name: tensors[name] for name, _ in wanted}, int(metadata['iteration'])


class Player:
    """A network, its optimizer state and (for G) its moving average, by our tensor names."""

    def __init__(self, config, name, state, device):
        self.spec = network_spec(config, name)
        self.net = Net(self.spec).to(device)
        kinds = STATE_NAMES[config['optimizer']['kind']]
        with torch.no_grad():
            for tensor_name, p in self.net.named().items():
                p.copy_(torch.from_numpy(state[tensor_name].copy()))
        self.state = {n: [torch.from_numpy(state[f'{n}.{k}'].copy()).to(device) for k in kinds] for n in self.net.names}
        self.average = None
        if name == 'generator' and config['emaDecay'] > 0:
            self.average = {n: torch.from_numpy(state[f'{n}.{AVERAGE_SUFFIX}'].copy()).to(device) for n in self.net.names}

    def tensors(self, kinds):
        out = {}
        for n, p in self.net.named().items():
            out[n] = p.detach().cpu().numpy()
        for i, k in enumerate(kinds):
            out.update({f'{n}.{k}': s[i].cpu().numpy() for n, s in self.state.items()})
        return out


def save_state(path, config, iteration, g, d, stats):
    kinds = STATE_NAMES[config['optimizer']['kind']]
    tensors = {**g.tensors(kinds), **d.tensors(kinds)}
    if g.average is not None:
        tensors.update({f'{n}.{AVERAGE_SUFFIX}': a.cpu().numpy() for n, a in g.average.items()})
    tensors['training.stats'] = stats.astype(np.float32)
    write_safetensors(path, tensors, {
        'format': FORMAT,
        'iteration': str(iteration),
        'seed': str(config['seed']),
        'rng': 'philox4x32-10; key (seed, stream), counter (column / 4, row, iteration, pass)',
        'maxout_layout': 'weight columns piece * units + unit',
        'config': json.dumps(config, separators=(',', ':')),
        'contents': 'training state',
    })


# --- the schedules and updates (src/spec/schedule.ts, src/reference/optimizer.ts, ema.ts) ---

def learning_rate(opt, iteration):
    return max(opt['lr'] / opt['lrDecay'] ** iteration, opt['lrFloor'])


def momentum(opt, iteration, per_epoch):
    epoch = iteration // per_epoch
    span = opt['momentumRampEnd'] - opt['momentumRampStart']
    progress = (1.0 if epoch >= opt['momentumRampEnd'] else 0.0) if span == 0 else min(1.0, max(0.0, (epoch - opt['momentumRampStart']) / span))
    return opt['momentumStart'] * (1 - progress) + opt['momentumEnd'] * progress


@torch.no_grad()
def update(config, player, lr, mom, step):
    opt = config['optimizer']
    class_scale = opt.get('classLrScale') or 1
    for name, p in player.net.named().items():
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        rate = f32(lr * (class_scale if name.endswith('.class_weight') else 1))
        state = player.state[name]
        if opt['kind'] == 'adam':
            b1, b2, eps = f32(opt['beta1']), f32(opt['beta2']), f32(opt['epsilon'])
            bias1, bias2 = f32(1 - opt['beta1'] ** step), f32(1 - opt['beta2'] ** step)
            state[0].mul_(b1).add_(g * f32(1 - b1))
            state[1].mul_(b2).add_(g * g * f32(1 - b2))
            p.sub_(rate * (state[0] / bias1) / (torch.sqrt(state[1] / bias2) + eps))
        elif opt['kind'] == 'sgd-pylearn2':
            state[0].mul_(f32(mom)).sub_(rate * g)
            p.add_(state[0])
        else:
            state[0].mul_(f32(mom)).add_(g)
            p.sub_(rate * state[0])


@torch.no_grad()
def update_average(config, g, iteration):
    if g.average is None:
        return
    t = iteration + 1 - config['emaStart']
    decay = min(config['emaDecay'], t / (t + 1))
    for name, p in g.net.named().items():
        g.average[name].mul_(f32(decay)).add_(p * f32(1 - decay))


# --- the losses (src/reference/gan_loss.ts), as means over this rank's rows ---

def discriminator_loss(real, fake, target, game):
    if game == 'least-squares':
        return 0.5 * (((real - target) ** 2).mean() + (fake ** 2).mean()), real.mean(), fake.mean()
    real_term = target * F.softplus(-real) + ((1 - target) * F.softplus(real) if target != 1 else 0)
    loss = 0.5 * (real_term.mean() + F.softplus(fake).mean())
    return loss, torch.sigmoid(real).mean(), torch.sigmoid(fake).mean()


def generator_loss(fake, game):
    if game == 'least-squares':
        return 0.5 * ((fake - 1) ** 2).mean(), fake.mean()
    loss = -F.softplus(fake).mean() if game == 'minimax' else F.softplus(-fake).mean()
    return loss, torch.sigmoid(fake).mean()


# --- where the random inputs come from ---

class Draws:
    """This rank's noise, minibatch and dropout masks for one iteration, from torch's generator keyed
    by (seed, iteration, rank), so a continued run is a function of its seed and process count."""

    def __init__(self, config, data, rank, world, device):
        self.config, self.data, self.device = config, data, device
        batch = config['batch']
        self.rows = batch // world + (1 if rank < batch % world else 0)
        shard = data['count'] // world
        self.first = data['first'] + rank * shard
        self.count = shard if rank < world - 1 else data['count'] - rank * shard
        self.rank = rank
        self.generator = torch.Generator()

    def start(self, iteration):
        self.generator.manual_seed((self.config['seed'] * 1_000_003 + iteration) * 1024 + self.rank)

    def noise(self, sub):
        n = self.config['noise']
        shape = (self.rows, n['dim'])
        if n['distribution'] == 'uniform':
            z = f32(n['low']) + f32(n['high'] - n['low']) * torch.rand(shape, generator=self.generator)
        else:
            z = f32(n['std']) * torch.randn(shape, generator=self.generator)
        labels = torch.randint(0, self.config['classes'], (self.rows,), generator=self.generator) if self.config['classes'] else None
        return z.to(self.device), None if labels is None else labels.to(self.device)

    def minibatch(self, sub):
        indices = torch.randint(self.first, self.first + self.count, (self.rows,), generator=self.generator)
        return self.data['rows'](indices, self.device)

    def masks(self, spec, sub):
        out = []
        inputs = spec['inputFeatures']
        for layer in spec['layers']:
            dropout = layer.get('dropout')
            mask = None
            if dropout:
                mask = (torch.rand((self.rows, inputs), generator=self.generator) < dropout['keep']).float().to(self.device)
            out.append(mask)
            inputs = layer['units']
        return out


class FedDraws:
    """The draws of one iteration given in a safetensors file (tests compare an iteration with the
    project's CPU twin): `indices.<pass>`, `z.<pass>`, `class.<pass>` and `mask.<net>.<layer>.<pass>`."""

    def __init__(self, path, config, data, device):
        self.tensors, _, _ = read_safetensors(path)
        self.config, self.data, self.device = config, data, device
        self.rows = config['batch']

    def start(self, iteration):
        pass

    def _get(self, name):
        if name not in self.tensors:
            raise RunError(f"fed draws: tensor '{name}' is missing.")
        array = self.tensors[name]
        return torch.from_numpy(array.astype(np.int64) if array.dtype == np.uint32 else array.copy())

    def noise(self, sub):
        labels = self._get(f'class.{sub}').long().to(self.device) if self.config['classes'] else None
        return self._get(f'z.{sub}').to(self.device), labels

    def minibatch(self, sub):
        return self.data['rows'](self._get(f'indices.{sub}').long(), self.device)

    def masks(self, spec, sub):
        return [self._get(f"mask.{spec['name']}.{l}.{sub}").to(self.device) if layer.get('dropout') else None for l, layer in enumerate(spec['layers'])]


def read_idx(path, expect_dims):
    with open(path, 'rb') as f:
        raw = f.read()
    magic = struct.unpack('>I', raw[:4])[0]
    dims = magic & 0xff
    if magic >> 8 != 8 or dims != expect_dims:
        raise RunError(f'{path}: not an IDX file of unsigned bytes with {expect_dims} dimensions.')
    shape = struct.unpack('>' + 'I' * dims, raw[4:4 + 4 * dims])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_data(path, config):
    """data.json: the IDX images (and labels) and the training rows [first, first + count)."""
    if not os.path.isfile(path):
        raise RunError(f'{path}: file not found; export the run again with gan export --pytorch-run DIR.')
    with open(path) as f:
        spec = json.load(f)
    images = read_idx(spec['images'], 3)
    pixels = torch.from_numpy(images.reshape(images.shape[0], -1).copy())
    labels = torch.from_numpy(read_idx(spec['labels'], 1).astype(np.int64)) if config['classes'] else None
    scale = f32(spec['scale'])

    def rows(indices, device):
        x = (pixels[indices].float() * scale).to(device)
        return x, None if labels is None else labels[indices].to(device)
    return {'first': spec['first'], 'count': spec['count'], 'rows': rows}


# --- Algorithm 1 ---

def iteration(config, g, d, draws, i, per_epoch, world, stats):
    """One iteration (D's k steps and G's, or the simultaneous form's one pass), as src/reference/step.ts."""
    opt, batch = config['optimizer'], config['batch']
    lr, mom = learning_rate(opt, i), momentum(opt, i, per_epoch)
    # Each rank's share of the global mean: DDP averages over ranks, so the weight is rows * world / batch.
    share = draws.rows * world / batch
    # The statistics are summed over ranks when logged: each rank adds its rows' part of the batch.
    part = draws.rows / batch
    gnet, dnet = g.ddp, d.ddp
    draws.start(i)

    def d_pass(sub, fake_rows, fake_labels):
        x, real_labels = draws.minibatch(sub)
        masks = [None if r is None else torch.cat([r, f]) for r, f in zip(draws.masks(d.spec, sub + REAL), draws.masks(d.spec, sub + FAKE))]
        labels = None if real_labels is None else torch.cat([real_labels, fake_labels])
        logits = dnet(torch.cat([x, fake_rows]), masks, labels).view(-1)
        loss, real_mean, fake_mean = discriminator_loss(logits[:draws.rows], logits[draws.rows:], config['realTarget'], config['gLoss'])
        d.net.zero_grad(set_to_none=True)
        (loss * share).backward()
        stats[[D_LOSS, D_REAL, D_FAKE]] += part * np.array([loss.item(), real_mean.item(), fake_mean.item()])
        stats[D_COUNT] += 1 / world
        stats[NONFINITE] += float((~torch.isfinite(logits)).sum())
        return masks

    def g_grads(fake, fake_labels, masks):
        logits = d.net(fake, masks, fake_labels).view(-1)
        loss, fake_mean = generator_loss(logits, config['gLoss'])
        g.net.zero_grad(set_to_none=True)
        (loss * share).backward()
        stats[[G_LOSS, G_FAKE]] += part * np.array([loss.item(), fake_mean.item()])
        stats[G_COUNT] += 1 / world

    if config['form'] == 'simultaneous':
        z, labels = draws.noise(0)
        fake = gnet(z, draws.masks(g.spec, 0), labels)
        masks = d_pass(0, fake.detach(), labels)
        fake_masks = [None if m is None else m[draws.rows:] for m in masks]
        d_grads = [None if p.grad is None else p.grad.clone() for p in d.net.tensors]
        g_grads(fake, labels, fake_masks)
        for p, grad in zip(d.net.tensors, d_grads):
            p.grad = grad
        update(config, d, lr, mom, i + 1)
        update(config, g, lr * opt['generatorLrScale'], mom, i + 1)
    else:
        for j in range(config['k']):
            sub = PASSES * j
            z, labels = draws.noise(sub)
            with torch.no_grad():
                fake = g.net(z, draws.masks(g.spec, sub), labels)
            d_pass(sub, fake, labels)
            update(config, d, lr, mom, i * config['k'] + j + 1)
        sub = PASSES * config['k']
        z, labels = draws.noise(sub)
        fake = gnet(z, draws.masks(g.spec, sub), labels)
        g_grads(fake, labels, draws.masks(d.spec, sub + FAKE))
        update(config, g, lr * opt['generatorLrScale'], mom, i + 1)
    update_average(config, g, i)
    return lr, mom


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description='Continue a webgpu-gan run in PyTorch (one process, or DDP under torchrun).')
    parser.add_argument('--dir', default=here, help='the run directory (default: this file\'s)')
    parser.add_argument('--iters', type=int, help="train until this iteration (default: config.json's iterations)")
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--checkpoint-every', type=int, help="write checkpoint.safetensors every N iterations (default: the config's)")
    parser.add_argument('--fed-draws', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    run = lambda name: os.path.join(args.dir, name)
    with open(run('config.json')) as f:
        config = json.load(f)
    state, start = load_state(run('checkpoint.safetensors'), config)
    until = args.iters if args.iters is not None else config['iterations']
    if until <= start:
        raise RunError(f'--iters {until}: the checkpoint is already at iteration {start}; give a later iteration.')
    if args.checkpoint_every is not None and args.checkpoint_every < 1:
        raise RunError(f'--checkpoint-every {args.checkpoint_every}: give a positive number of iterations.')
    if args.device == 'cuda' and not torch.cuda.is_available():
        raise RunError('--device cuda: torch sees no CUDA device; use --device cpu.')

    world = int(os.environ.get('WORLD_SIZE', '1'))
    rank = int(os.environ.get('RANK', '0'))
    if world > 1:
        dist.init_process_group('nccl' if args.device == 'cuda' else 'gloo')
    device = torch.device('cuda', int(os.environ.get('LOCAL_RANK', '0'))) if args.device == 'cuda' else torch.device('cpu')
    if config['batch'] < world:
        raise RunError(f"config batch {config['batch']} is smaller than the {world} processes; run fewer.")
    data = load_data(run('data.json'), config)
    g = Player(config, 'generator', state, device)
    d = Player(config, 'discriminator', state, device)
    for p in (g, d):
        p.ddp = torch.nn.parallel.DistributedDataParallel(p.net, device_ids=[device.index] if device.type == 'cuda' else None) if world > 1 else p.net
    if args.fed_draws:
        draws = FedDraws(args.fed_draws, config, data, device)
    else:
        draws = Draws(config, data, rank, world, device)
    per_epoch = max(1, data['count'] // config['batch'])
    every = args.checkpoint_every or config['checkpointEvery']
    config = {**config, 'iterations': until}
    stats = np.zeros(8)
    sgd = config['optimizer']['kind'] != 'adam'

    def reduced(values):
        if world == 1:
            return values
        t = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(t)
        return t.numpy()

    def save(i):
        total = reduced(stats.copy())
        if rank == 0:
            save_state(run('checkpoint.safetensors'), config, i, g, d, total)
            with open(run('config.json.tmp'), 'w') as f:
                json.dump(config, f, indent=2)
            os.replace(run('config.json.tmp'), run('config.json'))

    clock, window = time.perf_counter(), 0
    for i in range(start, until):
        lr, mom = iteration(config, g, d, draws, i, per_epoch, world, stats)
        window += 1
        done = i + 1
        if done % config['logEvery'] == 0 or done == until:
            total = reduced(stats.copy())
            if total[NONFINITE] > 0:
                raise RunError(f"Training diverged by iteration {done}: D's logits became NaN or infinite. Lower the learning rate.")
            seconds = time.perf_counter() - clock
            if rank == 0:
                line = {'iter': done, 'd_loss': total[D_LOSS] / total[D_COUNT], 'g_loss': total[G_LOSS] / total[G_COUNT],
                        'd_real': total[D_REAL] / total[D_COUNT], 'd_fake': total[D_FAKE] / total[D_COUNT], 'lr': learning_rate(config['optimizer'], i),
                        **({'momentum': mom} if sgd else {}), 'its_per_s': window / seconds}
                with open(run('metrics.jsonl'), 'a') as f:
                    f.write(json.dumps(line, separators=(',', ':')) + '\n')
                print(f"iter {done}/{until} d_loss {line['d_loss']:.4f} g_loss {line['g_loss']:.4f} D(x) {line['d_real']:.3f} D(G(z)) {line['d_fake']:.3f} {line['its_per_s']:.1f} it/s", flush=True)
            # A window ends at a log; a run stopping between logs keeps its partial window in the checkpoint.
            if done % config['logEvery'] == 0:
                stats[:] = 0
            clock, window = time.perf_counter(), 0
        if done % every == 0 or done == until:
            save(done)
    if rank == 0:
        print(f"Done at iteration {until}. Checkpoint: {run('checkpoint.safetensors')}", flush=True)
    if world > 1:
        # Together: a rank that left while rank 0 still wrote the checkpoint would hang gloo's teardown.
        dist.barrier()
        dist.destroy_process_group()


if __name__ == '__main__':
    try:
        main()
    except RunError as err:
        print(f'train.py: {err}', file=sys.stderr)
        sys.exit(1)
