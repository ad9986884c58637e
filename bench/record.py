"""Write benchmark results as JSON (bench/results/<name>.json) and rebuild bench/RESULTS.md from them.

Every result carries the date, the machine and the commit it was measured on. Each page's
benchmarks write their own files, so results from different runs sit side by side.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).parent
RESULTS_DIR = BENCH_DIR / "results"


def machine() -> str:
    import torch
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB{gpu}, torch {torch.__version__}"


def commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=BENCH_DIR, capture_output=True,
                             text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCH_DIR,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except OSError:
        return "unknown"


def summarize_ms(samples_ms: list[float]) -> dict:
    a = np.asarray(samples_ms, dtype=float)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "min": float(a.min()), "max": float(a.max())}


def record(name: str, *, page: str, what: str, value: float, unit: str, target: str = "",
           ok: bool | None = None, detail: dict | None = None) -> dict:
    """Save one measured figure. `value` is the headline (e.g. p95 in ms); detail holds the rest."""
    RESULTS_DIR.mkdir(exist_ok=True)
    row = {"name": name, "page": page, "what": what, "value": round(float(value), 3), "unit": unit,
           "target": target, "ok": ok, "detail": detail or {},
           "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "commit": commit()}
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(row, indent=2, ensure_ascii=False) + "\n")
    write_markdown()
    return row


def write_markdown() -> Path:
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))]
    lines = ["# Benchmark results", "",
             "Written by `make bench` (bench/run.py); every row is a median/percentile over several runs.",
             "Targets are for a 2-core CPU machine without a GPU unless the machine column says otherwise.", "",
             "| page | what | value | target | met | detail | date | machine | commit |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda r: (r["page"], r["name"])):
        met = "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
        detail = ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in r["detail"].items())
        lines.append(f"| {r['page']} | {r['what']} | {r['value']:g} {r['unit']} | {r['target']} | {met} | "
                     f"{detail} | {r['date']} | {r['machine']} | {r['commit']} |")
    from bench.load import markdown_section
    lines += markdown_section()                 # many learners and hostile inputs, if measured
    path = BENCH_DIR / "RESULTS.md"
    path.write_text("\n".join(lines) + "\n")
    return path
