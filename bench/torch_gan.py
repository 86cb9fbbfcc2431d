"""The paper-mnist iteration in PyTorch on the CPU, for `npm run bench` (bench/run.ts runs it when
python3 can import torch). The same model and step as bench/tfjs_gan.ts: Algorithm 1's alternating
form with k = 1 at batch 100 (a D step on a real and a fake batch, then a G step with fresh noise);
G 100 -> 1200 ReLU -> 1200 ReLU -> 784 sigmoid; D maxout 240x5 -> maxout 240x5 -> 1 with dropout
(include .8 on the input, .5 after); BCE on logits, G's non-saturating loss; SGD with momentum .5.
Random images stand in for MNIST: the work per iteration does not depend on the pixels.

Prints one JSON line: {"median", "min", "max", "q1", "q3", "n", "iterations_per_rep", "threads", "torch"}.
"""
import argparse
import json
import math
import time

import torch
from torch import nn
from torch.nn import functional as F


class Maxout(nn.Module):
    def __init__(self, inputs, units, pieces):
        super().__init__()
        self.units, self.pieces = units, pieces
        self.linear = nn.Linear(inputs, units * pieces)

    def forward(self, x):
        # Piece-major columns, as ours: column piece * units + unit.
        return self.linear(x).view(-1, self.pieces, self.units).max(dim=1).values


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()

    g = nn.Sequential(nn.Linear(100, 1200), nn.ReLU(), nn.Linear(1200, 1200), nn.ReLU(), nn.Linear(1200, 784), nn.Sigmoid())
    d = nn.Sequential(nn.Dropout(0.2), Maxout(784, 240, 5), nn.Dropout(0.5), Maxout(240, 240, 5), nn.Dropout(0.5), nn.Linear(240, 1))
    g_opt = torch.optim.SGD(g.parameters(), lr=0.1, momentum=0.5)
    d_opt = torch.optim.SGD(d.parameters(), lr=0.1, momentum=0.5)
    images = torch.rand(50_000, 784)
    half_range = math.sqrt(3)
    batch = args.batch

    def noise():
        return torch.empty(batch, 100).uniform_(-half_range, half_range)

    def iteration():
        x = images[torch.randint(0, images.shape[0], (batch,))]
        with torch.no_grad():
            fake = g(noise())
        d_opt.zero_grad()
        real_logits, fake_logits = d(x), d(fake)
        d_loss = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits)) + F.binary_cross_entropy_with_logits(
            fake_logits, torch.zeros_like(fake_logits)
        )
        d_loss.backward()
        d_opt.step()
        g_opt.zero_grad()
        logits = d(g(noise()))
        g_loss = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
        g_loss.backward()
        g_opt.step()

    iteration()  # warm-up
    rates = []
    for _ in range(args.reps):
        started = time.perf_counter()
        for _ in range(args.iters):
            iteration()
        rates.append(args.iters / (time.perf_counter() - started))
    rates.sort()

    def quantile(q):
        at = (len(rates) - 1) * q
        lo, hi = math.floor(at), math.ceil(at)
        return rates[lo] + (rates[hi] - rates[lo]) * (at - lo)

    print(
        json.dumps(
            {
                "median": quantile(0.5),
                "min": rates[0],
                "max": rates[-1],
                "q1": quantile(0.25),
                "q3": quantile(0.75),
                "n": len(rates),
                "iterations_per_rep": args.iters,
                "threads": torch.get_num_threads(),
                "torch": torch.__version__,
            }
        )
    )


if __name__ == "__main__":
    main()
