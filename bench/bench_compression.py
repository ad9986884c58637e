"""Compression compute benchmarks: what a slider pays live, and the heavy computations the page
reads from assets/compression.json (scripts/train_compression.py).

    .venv/bin/python -m bench.run --no-browser --only compression
"""
from __future__ import annotations

import copy
import os
import statistics
import time

import torch

from bench.record import record
from bigmodel_core import q4_1
from bigmodel_core.compress import (DistillConfig, magnitude_masks, outlier_demo, prune_magnitude, quantize_model,
                                    quantize_tensor, train_student, logits_of, finetune_pruned)
from bigmodel_core.compress_results import FINETUNE
from bigmodel_core.charts.compression import histogram_rows
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.data import mnist_tensors
from bigmodel_core.models.student import new_student
from bigmodel_core.train import accuracy


def best_ms(fn, repeats: int = 5) -> float:
    fn()                                                           # warm up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times)


def main() -> None:
    cpu = torch.device("cpu")
    model = load_cnn(device=cpu)
    X_train, y_train, X, y = mnist_tensors()
    load = os.getloadavg()[0]
    w = model.fc1.weight.detach()

    def fc1_part():
        q, s, w_hat = quantize_tensor(w, 4)
        histogram_rows(w.numpy(), w_hat.numpy(), ("w", "w_hat"))
        outlier_demo(w, 4, 10.0)

    ms = best_ms(fc1_part)
    record("compression_layer_live", page="compression",
           what="quantize fc1 (401,408 weights) at 4 bits + both histograms + the outlier demo (a bits-slider move, uncached)",
           value=ms, unit="ms", target="<= 100 ms", ok=ms <= 100,
           detail={"threads": torch.get_num_threads(), "load_avg_1min": load})
    ms = best_ms(lambda: magnitude_masks(model, 0.9, "global"))
    record("compression_prune_masks", page="compression",
           what="global magnitude masks over all 421,408 weights (a sparsity-slider move, uncached)",
           value=ms, unit="ms", target="<= 100 ms", ok=ms <= 100,
           detail={"threads": torch.get_num_threads(), "load_avg_1min": load})
    q4_1._index.cache_clear()
    t0 = time.perf_counter()
    q4_1.q4_1_tensors()
    index_ms = 1000 * (time.perf_counter() - t0)
    ms = best_ms(lambda: (q4_1.read_block("blk.12.ffn_down.weight", 4321), q4_1.reference_block("blk.12.ffn_down.weight", 4321)))
    record("compression_q4_block", page="compression",
           what="read one Q4_1 block from the GGUF, decode by hand and by gguf (the tensor table parsed once first)",
           value=ms, unit="ms", target="<= 20 ms", ok=ms <= 20, detail={"index_parse_ms": index_ms, "load_avg_1min": load})

    # the heavy computations as scripts/train_compression.py runs them: one thread (on a shared,
    # overloaded machine two threads were 10-50x slower than one for these small models)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    acc = accuracy(quantize_model(model, 8), X, y)
    s = time.perf_counter() - t0
    record("compression_int8_eval", page="compression",
           what="quantize the whole CNN to int8 and measure it on 1,000 held-out digits (one table row)",
           value=s, unit="s", detail={"accuracy": acc, "threads": torch.get_num_threads(), "load_avg_1min": load})
    t0 = time.perf_counter()
    pruned = prune_magnitude(copy.deepcopy(model), 0.9)
    masks = {n: p.weight != 0 for n, p in pruned.named_modules() if hasattr(p, "weight") and p.weight is not None
             and p.weight.ndim > 1}
    finetune_pruned(pruned, masks, (X_train, y_train), FINETUNE)
    s = time.perf_counter() - t0
    record("compression_prune_finetune", page="compression",
           what=f"prune 90 % and fine-tune {FINETUNE.max_steps} steps of {FINETUNE.batch_size} (one pruning-curve point)",
           value=s, unit="s", detail={"threads": torch.get_num_threads(), "load_avg_1min": load})
    teacher_logits = logits_of(model, X_train)
    t0 = time.perf_counter()
    hist = train_student(new_student(), X_train, y_train, teacher_logits, DistillConfig())
    s = time.perf_counter() - t0
    record("compression_student_training", page="compression",
           what=f"train the 3,322-weight student by distillation ({DistillConfig().epochs} epochs over 4,000 digits)",
           value=s, unit="s", detail={"steps": hist.steps[-1] if hist.steps else 0, "threads": torch.get_num_threads(),
                                       "load_avg_1min": load})
    torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
