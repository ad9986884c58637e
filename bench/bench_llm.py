"""Compute benchmarks of the LLM pages (SmolLM2-135M-Instruct, CPU): cold load in a fresh process and the
resident memory it adds, next-token logits for a 30-token prompt, generation speed with the KV cache at
100 tokens of context, and the logit-lens grid for 30 tokens.

    python -m bench.run --only llm --no-browser        # or: python -m bench.bench_llm

The machine's load average and torch's thread count are stored with each figure: on a shared machine
the times are inflated, and with more threads than free cores torch's parallel regions wait on
descheduled threads (BIGMODEL_THREADS=1 gives steadier numbers there).
"""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

from bench.record import record, summarize_ms

_COLD = """
import os, time, psutil, torch
from bigmodel_core.device import configure_threads
configure_threads()                                     # as the app: min(4, cores), BIGMODEL_THREADS overrides
p = psutil.Process()
before = p.memory_info().rss
t0 = time.perf_counter()
from bigmodel_core.models.llm import load_llm
m = load_llm()
dt = time.perf_counter() - t0
print(dt, (p.memory_info().rss - before) / 2**20, p.memory_info().rss / 2**20)
"""
PROMPT = ("The transformer reads the whole prompt at once, then writes one token at a time; each new token "
          "looks back at every earlier one through attention, and the key-value cache keeps what it has "
          "already computed so that nothing is done twice.")


def _load() -> tuple[float, float]:
    return os.getloadavg()[0], os.cpu_count()


def main() -> None:
    cold, added, rss = [], [], []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", _COLD], capture_output=True, text=True, timeout=600, check=True)
        a, b, c = map(float, out.stdout.strip().splitlines()[-1].split())
        cold.append(a)
        added.append(b)
        rss.append(c)
    med = statistics.median(cold)
    load = os.getloadavg()[0]
    print(f"llm cold load: median {med:.2f} s ({', '.join(f'{c:.2f}' for c in cold)}); +{statistics.median(added):.0f} MiB", flush=True)
    record("llm_cold_load", page="next_token", what="SmolLM2-135M cold load: GGUF parse, 4-bit weights, BPE tokenizer (fresh process, median of 3)",
           value=med, unit="s", target="<= 3 s", ok=med <= 3, detail={"max_s": max(cold), "load_avg_1min": load})
    record("llm_memory", page="next_token", what="resident memory the loaded LLM adds to a process with torch imported (median of 3)",
           value=statistics.median(added), unit="MiB",
           detail={"process_rss_mib": statistics.median(rss), "load_avg_1min": load})

    from bigmodel_core.device import configure_threads
    from bigmodel_core.models.llm import load_llm
    threads = configure_threads()                                            # as the app does
    m = load_llm()
    ids30 = m.encode(PROMPT)[:30]
    ms, cpu = [], []
    for _ in range(10):
        t0, c0 = time.perf_counter(), time.process_time()
        m.next_token_logits(ids30)
        ms.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    s = summarize_ms(ms)
    print(f"next-token logits, 30 tokens: p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms", flush=True)
    record("llm_next_token", page="next_token", what="next-token logits for a 30-token prompt (weights decoded per product, float32)",
           value=s["p95"], unit="ms p95", target="<= 300 ms p95", ok=s["p95"] <= 300,
           detail={"p50_ms": s["p50"], "n": s["n"], "cpu_ms_p50": statistics.median(cpu),
                   "load_avg_1min": os.getloadavg()[0], "threads": threads})

    ids100 = (m.encode(PROMPT) * 3)[:100]
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        stamps, cpus = [], []
        for _step in m.stream(ids100, 21, temperature=0, stop_at_eos=False):
            stamps.append(time.perf_counter())
            cpus.append(time.process_time())
        steady = 20 / (stamps[-1] - stamps[0])                               # 20 one-token steps, cache of 100-120
        runs.append((steady, stamps[0] - t0, 21 / (stamps[-1] - t0), (cpus[-1] - cpus[0]) / 20 * 1000))
    tok_s = statistics.median(r[0] for r in runs)
    first = statistics.median(r[1] for r in runs)
    overall = statistics.median(r[2] for r in runs)
    print(f"generate: {tok_s:.1f} tok/s with the cache (first token {first * 1000:.0f} ms incl. decoding the weights; "
          f"{overall:.1f} tok/s overall)", flush=True)
    record("llm_generate", page="next_token", what="generation with the KV cache at 100 tokens of context, greedy (median of 3 runs of 20 steps)",
           value=tok_s, unit="tokens/s", target=">= 20 tokens/s", ok=tok_s >= 20,
           detail={"first_token_ms": first * 1000, "cpu_ms_per_token": statistics.median(r[3] for r in runs), "overall_tok_s_21": overall, "load_avg_1min": os.getloadavg()[0],
                   "kv_cache_bytes_at_120": m.kv_cache_bytes(120), "threads": threads})

    secs, cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        m.logit_lens(ids30)
        secs.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    med = statistics.median(secs)
    print(f"logit lens 30 x 30: median {med:.2f} s", flush=True)
    record("llm_logit_lens", page="llm_layers", what="logit-lens grid, 30 layers x 30 tokens (full-vocabulary read-out per cell, median of 3)",
           value=med, unit="s", target="<= 1 s", ok=med <= 1, detail={"max_s": max(secs), "cpu_s_p50": statistics.median(cpu),
                                                     "load_avg_1min": os.getloadavg()[0], "threads": threads})


if __name__ == "__main__":
    main()
