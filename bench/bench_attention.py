"""Compute benchmarks of the attention page: MiniLM's cold load (a fresh process, torch already
imported, as in the app), encoding a 20-token sentence, and Integrated Gradients for the similarity."""
from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench.record import bench_device, record, summarize_ms, sync

_COLD = """
import time, torch
t0 = time.perf_counter()
from bigmodel_core.models.bert import load_minilm
m = load_minilm("cpu")
print(time.perf_counter() - t0)
"""
SENTENCE = "Attention lets every word in a sentence look at every other word at the same time."


def main() -> None:
    cold = []
    for _ in range(5):
        out = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, timeout=300, check=True)
        cold.append(float(out.stdout.strip().splitlines()[-1]))
    med = statistics.median(cold)
    print(f"minilm cold load: median {med:.3f} s ({', '.join(f'{c:.2f}' for c in cold)})", flush=True)
    record("attention_cold_load", page="attention", what="all-MiniLM-L6-v2 cold load (safetensors + tokenizer, fresh process, median of 5)",
           value=med, unit="s", target="<= 0.5 s", ok=med <= 0.5, detail={"max_s": max(cold), "min_s": min(cold)})

    from bigmodel_core.models.bert import load_minilm, similarity_attributions
    device = bench_device()
    m = load_minilm(device)
    n_tok = len(m.encode([SENTENCE]).tokens[0])
    ms = []
    for _ in range(20):
        t0 = time.perf_counter()
        m.encode([SENTENCE])
        sync(device)
        ms.append((time.perf_counter() - t0) * 1000)
    s = summarize_ms(ms)
    print(f"encode {n_tok} tokens: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms", flush=True)
    record("attention_encode", page="attention", what=f"encode a {n_tok}-token sentence with all 72 heads' weights ({device})",
           value=s["p95"], unit="ms p95", detail={"p50_ms": s["p50"], "n": s["n"]})

    ig = []
    for _ in range(3):
        t0 = time.perf_counter()
        similarity_attributions(m, "A man is playing a guitar on the street.", "Someone is making music outside.", n_steps=32)
        sync(device)
        ig.append(time.perf_counter() - t0)
    print(f"IG 32 steps: median {statistics.median(ig):.2f} s", flush=True)
    record("attention_ig", page="attention", what=f"Integrated Gradients of the similarity, 32 steps, 12 tokens, {device} (median of 3)",
           value=statistics.median(ig), unit="s", detail={"max_s": max(ig)})


if __name__ == "__main__":
    main()
