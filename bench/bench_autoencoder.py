"""Compute benchmarks of the autoencoder page: decoding one code, and one training epoch (CPU/device)."""
from __future__ import annotations

import time

import numpy as np
import torch

from bench.record import bench_device, record, sync
from bigmodel_core.models.autoencoder import AETrainSettings, decode_point, load_autoencoder, train_autoencoder
from bigmodel_core.data import mnist_tensors


def main() -> None:
    device = bench_device()
    model = load_autoencoder(2, device=device)
    times = []
    for i in range(200):
        t0 = time.perf_counter()
        decode_point(model, (1.0 + i * 0.01, 2.0))
        times.append((time.perf_counter() - t0) * 1000)
    p50 = float(np.median(times))
    record("autoencoder_decode", page="autoencoder", what="decode one 2-D code into a 28x28 image (median of 200)",
           value=p50, unit="ms", target="<= 5 ms", ok=p50 <= 5, detail={"p95_ms": float(np.percentile(times, 95))})

    X_train, _, X_test, _ = mnist_tensors(flat=True)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        _, hist = train_autoencoder(2, AETrainSettings(epochs=1), X_train=X_train, X_test=X_test, device=device)
        sync(device)
        runs.append(time.perf_counter() - t0)
    med = float(np.median(runs))
    record("autoencoder_train_epoch", page="autoencoder",
           what=f"'train it yourself': one epoch (63 steps of 64 digits) + held-out evaluation, {device}, median of 3",
           value=med, unit="s", target="<= 2 s", ok=med <= 2,
           detail={"steps": hist.steps[-1], "threads": torch.get_num_threads()})
