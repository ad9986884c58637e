"""The real network's 41 x 41 filter-normalized loss surface (target: at most 15 s on the CPU).

Batched (bigmodel_core.landscape: vmap over stacked weight sets, one grid row per chunk on the CPU,
the whole grid on a GPU) against the point-by-point loop it replaced (1,681 forward passes), on
the device bench.record.bench_device() names (BIGMODEL_DEVICE; the CPU by default).

    .venv/bin/python -m bench.run --only landscape --no-browser
    BIGMODEL_DEVICE=cuda .venv/bin/python -m bench.run --only landscape --no-browser
"""
from __future__ import annotations

import os
import statistics
import time

import torch
import torch.nn.functional as F

from bench.record import bench_device, record, sync
from bigmodel_core.data import mnist_tensors
from bigmodel_core import landscape as L
from bigmodel_core.device import configure_threads

BATCH = 256          # the page's fixed batch (app_pages/loss_landscape.py NET_BATCH)
RUNS = 5
POINTWISE_RUNS = int(__import__('os').environ.get('BENCH_POINTWISE_RUNS', '5'))   # 1 on a loaded machine: the old loop suffers most


@torch.no_grad()
def pointwise_surface(model, batch, steps: int = 41, span: float = 1.0, seed: int = 0) -> float:
    """The loop before batching: one functional_call per grid point. Returns seconds."""
    t0 = time.perf_counter()
    X, y = batch
    d1 = L.filter_normalized_direction(model, seed=seed)
    d2 = L.filter_normalized_direction(model, seed=seed + 1)
    names = [n for n, _ in model.named_parameters()]
    theta = [p.detach() for p in model.parameters()]
    grid = torch.linspace(-span, span, steps).tolist()
    for b in grid:
        for a in grid:
            ws = dict(zip(names, [w + a * u + b * v for w, u, v in zip(theta, d1, d2)]))
            float(F.cross_entropy(torch.func.functional_call(model, ws, (X,)), y))
    return time.perf_counter() - t0


def main() -> None:
    threads = configure_threads()                       # as the app sets them
    device = bench_device()
    net = L.load_landscape_mlp()
    model = net.model.to(device)
    batch = tuple(t.to(device) for t in mnist_tensors(n=BATCH)[:2])
    L.loss_surface_2d(model, F.cross_entropy, batch, 5, 1.0)          # warm-up (CUDA context, kernels)
    sync(device)
    seconds, old = [], []
    for run in range(RUNS):
        s = L.loss_surface_2d(model, F.cross_entropy, batch, 41, 1.0, seed=run)
        seconds.append(s.seconds)
        if run < POINTWISE_RUNS:
            old.append(pointwise_surface(model, batch, seed=run))
        print(f"41x41 surface run {run}: batched {s.seconds:.2f} s, point by point "
              f"{old[-1] if run < POINTWISE_RUNS else float('nan'):.2f} s (centre loss {s.center_loss:.4f})", flush=True)
    med, med_old = statistics.median(seconds), statistics.median(old)
    record("loss_landscape_surface", page="loss_landscape",
           what=f"41x41 filter-normalized loss surface of the MNIST MLP ({sum(p.numel() for p in model.parameters()):,} "
                f"weights) on a fixed batch of {BATCH} digits, batched (median of {RUNS})",
           value=med, unit="s", target="<= 15 s", ok=med <= 15, device=device,
           detail={"point_by_point_s": med_old, "point_by_point_runs": len(old), "speedup": med_old / med, "point_by_point_min_s": min(old), "speedup_of_mins": min(old) / min(seconds), "min_s": min(seconds),
                   "max_s": max(seconds), "threads": threads, "points": 41 * 41,
                   "load_avg_1min": os.getloadavg()[0]})          # a shared machine's load slows this a lot


if __name__ == "__main__":
    main()
