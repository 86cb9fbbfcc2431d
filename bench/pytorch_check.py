"""Runs the PyTorch module of docs/export.md (the block after its `pytorch-module` marker) on exported files
and compares the outputs with our kernels'. Called by bench/pytorch-check.ts, which writes the
exports and our outputs; prints one JSON line and exits 1 when a difference passes the bound.

Usage: pytorch_check.py docs/export.md G.safetensors D.safetensors DIR ROWS
DIR holds z.f32, x.f32 (our G(z)) and logit.f32 (our D(x)), float32 little-endian, row-major."""
import json, sys, types
import numpy as np
import torch

readme, g_path, d_path, folder, rows = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
BOUND = 1e-5


def module_code(path):
    text = open(path, encoding='utf-8').read()
    start = text.index('```python\n', text.index('<!-- pytorch-module')) + len('```python\n')
    return text[start:text.index('```', start)]


def stand_in_safetensors():
    """The two calls the module makes, read with json and torch.frombuffer: the format is an 8-byte
    little-endian header length, a JSON header, then the raw little-endian tensors."""
    def read(path):
        data = open(path, 'rb').read()
        n = int.from_bytes(data[:8], 'little')
        header = json.loads(data[8:8 + n])
        meta = header.pop('__metadata__', {})
        body = data[8 + n:]
        tensors = {}
        for name, t in header.items():
            assert t['dtype'] == 'F32', (name, t['dtype'])
            begin, end = t['data_offsets']
            tensors[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=torch.float32).reshape(t['shape'])
        return meta, tensors

    class SafeOpen:
        def __init__(self, path, framework):
            self.meta = read(path)[0]
        def __enter__(self):
            return self
        def __exit__(self, *exc):
            return False
        def metadata(self):
            return self.meta

    package = types.ModuleType('safetensors')
    package.safe_open = SafeOpen
    package.torch = types.ModuleType('safetensors.torch')
    package.torch.load_file = lambda path: read(path)[1]
    sys.modules['safetensors'] = package
    sys.modules['safetensors.torch'] = package.torch


try:
    import safetensors.torch  # noqa: F401
    reader = 'safetensors package'
except ImportError:
    stand_in_safetensors()
    reader = 'stand-in reader (json + torch.frombuffer)'

namespace = {}
exec(module_code(readme), namespace)
load = namespace['load']


def f32(name, cols):
    return torch.from_numpy(np.fromfile(f'{folder}/{name}', dtype='<f4').reshape(rows, cols).copy())


G, D = load(g_path), load(d_path)
noise_dim, features = G[0].in_features, D[0].in_features
z, ours_x, ours_logit = f32('z.f32', noise_dim), f32('x.f32', features), f32('logit.f32', 1)
with torch.no_grad():
    g_diff = (G(z) - ours_x).abs().max().item()
    d_diff = (D(ours_x) - ours_logit).abs().max().item()
print(json.dumps({'torch': torch.__version__, 'safetensors': reader, 'strict_load': True, 'rows': rows,
                  'generator_max_abs_diff': g_diff, 'discriminator_max_abs_diff': d_diff, 'bound': BOUND}))
sys.exit(0 if g_diff <= BOUND and d_diff <= BOUND else 1)
