"""The real network's 41 x 41 filter-normalized loss surface on the CPU (target: at most 15 s).

    .venv/bin/python -m bench.run --only landscape --no-browser
"""
from __future__ import annotations

import os
import statistics

import torch
import torch.nn.functional as F

from bench.record import record
from bigmodel_core import landscape as L
from bigmodel_core.device import configure_threads

BATCH = 256          # the page's fixed batch (app_pages/loss_landscape.py NET_BATCH)
RUNS = 3


def main() -> None:
    threads = configure_threads()                       # as the app sets them
    net = L.load_landscape_mlp()
    model = net.model.to(torch.device("cpu"))
    batch = L.mnist_tensors("train", BATCH)
    seconds = []
    for run in range(RUNS):
        s = L.loss_surface_2d(model, F.cross_entropy, batch, 41, 1.0, seed=run)
        seconds.append(s.seconds)
        print(f"41x41 surface run {run}: {s.seconds:.2f} s (centre loss {s.center_loss:.4f})", flush=True)
    med = statistics.median(seconds)
    record("loss_landscape_surface", page="loss_landscape",
           what=f"41x41 filter-normalized loss surface of the MNIST MLP ({sum(p.numel() for p in model.parameters()):,} "
                f"weights) on a fixed batch of {BATCH} digits, CPU (median of {RUNS})",
           value=med, unit="s", target="<= 15 s", ok=med <= 15,
           detail={"min_s": min(seconds), "max_s": max(seconds), "threads": threads, "points": 41 * 41,
                   "load_avg_1min": os.getloadavg()[0]})          # a shared machine's load slows this a lot


if __name__ == "__main__":
    main()
