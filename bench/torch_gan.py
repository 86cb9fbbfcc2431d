"""The same GAN and the same training iteration as ours, in PyTorch, for `npm run bench` (bench/run.ts
finds a python3 that can import torch and runs this script with it).

The model comes from bench/run.ts as JSON (`--model`), taken from the same TrainConfig our Trainer
runs, so both sides train the same networks: G's layers (ReLU, sigmoid or identity), D's maxout layers
with their dropout (include probability and scale) and input map (D seeing [0, 1] pixels on
[-1, 1]), the noise, the batch, the optimizer (pylearn2's or PyTorch's SGD with momentum, or Adam),
G's loss, D's real target, k and the moving average of G's weights. One iteration is Algorithm 1's
alternating form: k D steps on a real and a fake batch, then a G step with fresh noise through D.
Random images stand in for MNIST: the work per iteration does not depend on the pixels.

Threads: `--threads N` sets torch.set_num_threads(N); bench/run.ts also sets OMP_NUM_THREADS, since
torch on some builds (Debian's python3-torch) otherwise picks one thread on a 2-core machine.

Two ways to run:
  --serve        prints {"ready": true, "torch", "threads", "python", "device"} after a warm-up
                 iteration, then for every line `run N` on stdin runs N iterations and prints
                 {"its_per_s": ...}: bench/run.ts interleaves these repetitions with its own, so a
                 change in the machine's load falls on both.
  --reps R --iters N   R repetitions of N iterations, then one JSON line with the median, the
                 quartiles, the extremes and the same fields as `ready`.
`--device cuda` runs on the GPU when torch has CUDA (waiting for the GPU at the end of every
repetition); otherwise the line says {"skipped": ...}.
"""
import argparse
import json
import math
import sys
import time

import torch
from torch import nn
from torch.nn import functional as F

PAPER_MNIST = {
    "batch": 100,
    "features": 784,
    "noise": {"dim": 100, "distribution": "uniform", "low": -math.sqrt(3), "high": math.sqrt(3), "std": 1},
    "generator": [
        {"units": 1200, "pieces": 1, "activation": "relu"},
        {"units": 1200, "pieces": 1, "activation": "relu"},
        {"units": 784, "pieces": 1, "activation": "sigmoid"},
    ],
    "discriminator": [
        {"units": 240, "pieces": 5, "activation": "maxout", "dropout": {"keep": 0.8, "scale": 1.25}},
        {"units": 240, "pieces": 5, "activation": "maxout", "dropout": {"keep": 0.5, "scale": 2}},
        {"units": 1, "pieces": 1, "activation": "identity", "dropout": {"keep": 0.5, "scale": 2}},
    ],
    "optimizer": {"kind": "sgd-pylearn2", "lr": 0.1, "momentum": 0.5, "beta1": 0.5, "beta2": 0.999, "epsilon": 1e-8, "generator_lr_scale": 1},
    "g_loss": "non-saturating",
    "real_target": 1,
    "k": 1,
    "ema_decay": 0,
}


class Layer(nn.Module):
    """A dense layer as ours: optional input map and dropout on its input, then act(x W + b)."""

    def __init__(self, inputs, spec):
        super().__init__()
        self.units, self.pieces, self.activation = spec["units"], spec.get("pieces", 1), spec["activation"]
        self.linear = nn.Linear(inputs, self.units * self.pieces)
        self.input_map = spec.get("inputMap")
        self.dropout = spec.get("dropout")

    def forward(self, x):
        if self.input_map:
            x = x * self.input_map["scale"] + self.input_map["shift"]
        if self.dropout and self.training:
            keep, scale = self.dropout["keep"], self.dropout["scale"]
            # F.dropout scales kept elements by 1 / keep, the scale of every preset.
            x = F.dropout(x, 1 - keep, True) if abs(scale * keep - 1) < 1e-6 else x * (torch.rand_like(x) < keep) * scale
        z = self.linear(x)
        if self.activation == "relu":
            return F.relu(z)
        if self.activation == "sigmoid":
            return torch.sigmoid(z)
        if self.activation == "maxout":
            # Piece-major columns, as ours: column piece * units + unit.
            return z.view(-1, self.pieces, self.units).max(dim=1).values
        return z


def network(inputs, layers):
    built = []
    for spec in layers:
        built.append(Layer(inputs, spec))
        inputs = spec["units"]
    return nn.Sequential(*built)


def optimizer(params, spec, scale):
    lr = spec["lr"] * scale
    if spec["kind"] == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(spec["beta1"], spec["beta2"]), eps=spec["epsilon"])
    # pylearn2's momentum (v = m v - lr g; p += v) and PyTorch's (v = m v + g; p -= lr v) cost the same.
    return torch.optim.SGD(params, lr=lr, momentum=spec["momentum"])


class Gan:
    def __init__(self, model, device):
        self.model, self.device = model, device
        self.batch = model["batch"]
        self.g = network(model["noise"]["dim"], model["generator"]).to(device)
        self.d = network(model["features"], model["discriminator"]).to(device)
        opt = model["optimizer"]
        self.g_opt = optimizer(self.g.parameters(), opt, opt.get("generator_lr_scale", 1))
        self.d_opt = optimizer(self.d.parameters(), opt, 1)
        self.images = torch.rand(50_000, model["features"], device=device)
        self.decay = model.get("ema_decay", 0)
        self.average = [p.detach().clone() for p in self.g.parameters()] if self.decay > 0 else []
        self.real_target = model.get("real_target", 1)

    def noise(self):
        n = self.model["noise"]
        shape = (self.batch, n["dim"])
        if n["distribution"] == "gaussian":
            return torch.randn(shape, device=self.device) * n["std"]
        return torch.empty(shape, device=self.device).uniform_(n["low"], n["high"])

    def iteration(self):
        bce = F.binary_cross_entropy_with_logits
        for _ in range(self.model.get("k", 1)):
            x = self.images[torch.randint(0, self.images.shape[0], (self.batch,), device=self.device)]
            with torch.no_grad():
                fake = self.g(self.noise())
            self.d_opt.zero_grad()
            real_logits, fake_logits = self.d(x), self.d(fake)
            d_loss = bce(real_logits, torch.full_like(real_logits, self.real_target)) + bce(fake_logits, torch.zeros_like(fake_logits))
            d_loss.backward()
            self.d_opt.step()
        self.g_opt.zero_grad()
        logits = self.d(self.g(self.noise()))
        if self.model.get("g_loss") == "minimax":
            g_loss = -bce(logits, torch.zeros_like(logits))
        else:
            g_loss = bce(logits, torch.ones_like(logits))
        g_loss.backward()
        self.g_opt.step()
        if self.average:
            with torch.no_grad():
                for a, p in zip(self.average, self.g.parameters()):
                    a.mul_(self.decay).add_(p, alpha=1 - self.decay)

    def repetition(self, iterations):
        started = time.perf_counter()
        for _ in range(iterations):
            self.iteration()
        if self.device == "cuda":
            torch.cuda.synchronize()
        return iterations / (time.perf_counter() - started)


def quantile(rates, q):
    at = (len(rates) - 1) * q
    lo, hi = math.floor(at), math.ceil(at)
    return rates[lo] + (rates[hi] - rates[lo]) * (at - lo)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", help="the model as JSON (bench/run.ts writes it from a TrainConfig); default: paper-mnist")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 leaves torch's choice")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--iters", type=int, default=5)
    args = parser.parse_args()

    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"skipped": f"torch {torch.__version__} has no CUDA device", "torch": torch.__version__, "python": sys.executable}), flush=True)
        return
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    model = json.loads(args.model) if args.model else PAPER_MNIST
    gan = Gan(model, args.device)
    about = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": sys.executable,
        "device": torch.cuda.get_device_name(0) if args.device == "cuda" else "cpu",
    }
    gan.repetition(1)  # warm-up

    if args.serve:
        print(json.dumps({"ready": True, **about}), flush=True)
        for line in sys.stdin:
            words = line.split()
            if words[:1] == ["run"]:
                print(json.dumps({"its_per_s": gan.repetition(int(words[1]))}), flush=True)
            elif words[:1] == ["quit"]:
                break
        return

    rates = sorted(gan.repetition(args.iters) for _ in range(args.reps))
    print(
        json.dumps(
            {
                "median": quantile(rates, 0.5),
                "min": rates[0],
                "max": rates[-1],
                "q1": quantile(rates, 0.25),
                "q3": quantile(rates, 0.75),
                "n": len(rates),
                "iterations_per_rep": args.iters,
                **about,
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
