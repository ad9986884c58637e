"""CNN benchmarks: training throughput of fit() vs a plain PyTorch loop; the cost of the four attributions.

On the device bench.record.bench_device() names (the CPU unless BIGMODEL_DEVICE says otherwise):

    .venv/bin/python -m bench.run --no-browser --only cnn
    BIGMODEL_DEVICE=cuda .venv/bin/python -m bench.run --no-browser --only cnn
"""
from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from bench.record import bench_device, record, sync
from bigmodel_core.device import configure_threads
from bigmodel_core.interpret import METHODS, attribute
from bigmodel_core.models.cnn import load_cnn, new_cnn
from bigmodel_core.data import mnist_tensors
from bigmodel_core.train import TrainConfig, fit

BATCH = 64
STEPS = int(__import__('os').environ.get('BENCH_CNN_STEPS', '15'))   # optimizer steps per timed run (960 samples)
REPEATS = 3


def plain_loop(model, X, y, steps: int, batch: int) -> float:
    """The seed's loop (002 §4.1): zero_grad, forward, loss, backward, step. Returns samples/s."""
    device = bench_device()
    model.to(device).train()
    X, y = X.to(device), y.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(0)).to(device)
    sync(device)
    t0 = time.perf_counter()
    for i in range(steps):
        idx = order[i * batch:(i + 1) * batch]
        opt.zero_grad()
        loss = F.cross_entropy(model(X[idx]), y[idx])
        loss.backward()
        opt.step()
    loss.item()                                              # wait for the device
    return steps * batch / (time.perf_counter() - t0)


def fit_loop(model, X, y, steps: int, batch: int) -> float:
    hist = fit(model, (X, y), TrainConfig(epochs=1, lr=1e-3, batch_size=batch, optimizer="adam", max_steps=steps),
               loss_fn=F.cross_entropy, device=bench_device())       # fit reads the device at its end
    return hist.samples_seen / hist.seconds


def main() -> None:
    configure_threads()
    X, y, _, _ = mnist_tensors()
    fit_loop(new_cnn(0), X, y, 5, BATCH), plain_loop(new_cnn(0), X, y, 5, BATCH)          # warm up
    ours, plain = [], []
    for _ in range(REPEATS):                                  # interleaved, so load changes hit both
        ours.append(fit_loop(new_cnn(0), X, y, STEPS, BATCH))
        plain.append(plain_loop(new_cnn(0), X, y, STEPS, BATCH))
    ratio = statistics.median(ours) / statistics.median(plain)
    dev = str(bench_device())
    record("cnn_train_throughput", page="cnn_anatomy",
           what=f"training throughput of bigmodel_core.train.fit vs a plain PyTorch loop (CNN, batch {BATCH}, {dev})",
           value=ratio, unit="x", target=">= 0.95", ok=ratio >= 0.95,
           detail={"fit_samples_per_s": statistics.median(ours), "plain_samples_per_s": statistics.median(plain),
                   "steps": STEPS, "repeats": REPEATS, "device": dev,
                   "load_avg_1min": __import__("os").getloadavg()[0]})
    record("cnn_train_samples", page="cnn_anatomy",
           what=f"CNN training samples/s through fit (batch {BATCH}, Adam), {dev}",
           value=statistics.median(ours), unit="samples/s",
           detail={"plain_samples_per_s": statistics.median(plain), "steps": STEPS, "repeats": REPEATS})

    model = load_cnn(device=bench_device())
    x = torch.from_numpy(__import__("bigmodel_core.data", fromlist=["load_mnist"]).load_mnist().x_test[:1] / 255.0)
    x = x.float().view(1, 1, 28, 28).to(bench_device())
    times = {m: [] for m in METHODS}
    cpu = {m: [] for m in METHODS}
    for rep in range(REPEATS + 1):
        for m in METHODS:
            t0, c0 = time.perf_counter(), time.process_time()
            attribute(model, x, 7, m, n_steps=64)              # the most expensive setting the page allows
            sync(bench_device())
            if rep:                                            # the first round is a warm-up
                times[m].append((time.perf_counter() - t0) * 1000)
                cpu[m].append((time.process_time() - c0) * 1000)
    medians = {m: statistics.median(v) for m, v in times.items()}
    total = sum(medians.values())
    cpu_total = sum(statistics.median(v) for v in cpu.values())   # CPU time of this process (all threads)
    record("interpretability_attributions", page="interpretability",
           what=f"all four attributions of one digit (IG with 64 steps), {dev}",
           value=total, unit="ms", target="<= 2000 ms", ok=total <= 2000,
           detail={**{f"{m}_ms": v for m, v in medians.items()}, "cpu_time_ms": cpu_total,
                   "load_avg_1min": __import__("os").getloadavg()[0]})


if __name__ == "__main__":
    main()
