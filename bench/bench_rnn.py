"""The RNN page's side-by-side training run (RNN, LSTM, GRU on the recall task) on bench_device()
(nn.RNN / LSTM / GRU: cuDNN on a GPU; the CPU by default).

Target: the page's default budget finishes within 20 s for all three cells together.
"""
from __future__ import annotations

import statistics
import time

import torch

from bench.record import bench_device, record
from bigmodel_core.device import configure_threads
from bigmodel_core.models.rnn import RecallConfig, train_side_by_side


def main(runs: int = 3) -> dict:
    configure_threads()
    device = bench_device()
    if device.type == "cpu":
        torch.set_num_threads(1)    # batch-64 recurrent cells of 32 units: one thread is fastest
    cfg = RecallConfig()
    seconds, per_cell, accs = [], {}, {}
    for _ in range(runs):
        t0 = time.perf_counter()
        results = train_side_by_side(cfg, device=device)
        seconds.append(time.perf_counter() - t0)
        for k, r in results.items():
            per_cell.setdefault(k, []).append(r.history.seconds)
            accs[k] = r.test_acc
    median = statistics.median(seconds)
    detail = {f"{k}_s": statistics.median(v) for k, v in per_cell.items()}
    detail.update({f"{k}_acc": a for k, a in accs.items()})
    detail.update({"delay": cfg.delay, "steps_per_cell": cfg.steps, "runs": runs,
                   "max_s": max(seconds), "threads": torch.get_num_threads()})
    return record("rnn_train_side_by_side", page="rnn",
                  what=f"RNN page: train RNN, LSTM and GRU side by side (delay {cfg.delay}, "
                       f"{cfg.steps} steps each), {device}, median of {runs}",
                  value=median, unit="s", target="<= 20 s", ok=median <= 20, detail=detail)


if __name__ == "__main__":
    print(main())
