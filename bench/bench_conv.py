"""Compute cost behind the convolution and pooling pages: the fast path per rerun, the readable loop."""
import time

import torch

from bench.record import record
from bigmodel_core.ops.conv import conv2d_explained, kernel_preset
from bigmodel_core.ops.pool import pool2d_explained, translation_invariance


def _median_ms(fn, runs: int = 7) -> float:
    fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)[len(times) // 2]


def main() -> None:
    x = torch.rand(128, 128)
    k = kernel_preset("sobel_x")
    fast = _median_ms(lambda: conv2d_explained(x, k, stride=1, padding=1).window(64, 64))
    loop = _median_ms(lambda: conv2d_explained(x, k, stride=1, padding=1, fast=False), runs=3)
    record("conv_compute", page="convolution", what="conv2d_explained on 128x128 (F.conv2d + one window), median",
           value=fast, unit="ms", target="<= 20 ms", ok=fast <= 20,
           detail={"readable_loop_ms": round(loop, 1), "loop_over_fast": round(loop / fast, 1)})
    pool = _median_ms(lambda: (pool2d_explained(x, size=2).window(10, 10),
                               translation_invariance(x, 1, kind="max")))
    record("pool_compute", page="pooling", what="pool2d_explained + translation_invariance on 128x128, median",
           value=pool, unit="ms", target="<= 20 ms", ok=pool <= 20)
    print(f"conv fast {fast:.2f} ms, loop {loop:.0f} ms; pool {pool:.2f} ms")


if __name__ == "__main__":
    main()
