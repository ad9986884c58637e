"""Write benchmark results as JSON (bench/results/<name>.json) and rebuild bench/RESULTS.md from them.

Every result carries the date, the machine, the device and the commit it was measured on. Each
page's benchmarks write their own files (<name>.json on the CPU, <name>.cuda.json on a GPU), so
results from different runs and devices sit side by side. RESULTS.md has a CPU table and a GPU table;
a compute benchmark with no GPU result yet shows a "pending" row in the GPU table.
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
# BENCH_RESULTS_DIR sends a run's results elsewhere (scripts/gpu_check.sh: into $OUT on the GPU machine)
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR") or BENCH_DIR / "results")


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


def bench_device():
    """The device the compute benchmarks run on: BIGMODEL_DEVICE (e.g. cuda), else the CPU.

    Benchmarks default to the CPU (the targets are for a CPU server); scripts/gpu_check.sh runs
    them once with BIGMODEL_DEVICE=cuda and once with cpu on the GPU machine."""
    import torch
    return torch.device(os.environ.get("BIGMODEL_DEVICE", "").strip().lower() or "cpu")


def sync(device) -> None:
    """Wait for the device's queued work (CUDA kernels run asynchronously), before reading a clock."""
    import torch
    if getattr(device, "type", str(device)) == "cuda":
        torch.cuda.synchronize()


def summarize_ms(samples_ms: list[float]) -> dict:
    a = np.asarray(samples_ms, dtype=float)
    return {"n": int(a.size), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "min": float(a.min()), "max": float(a.max())}


def record(name: str, *, page: str, what: str, value: float, unit: str, target: str = "",
           ok: bool | None = None, detail: dict | None = None, device=None) -> dict:
    """Save one measured figure. `value` is the headline (e.g. p95 in ms); detail holds the rest.

    device: where it ran (default bench_device()); "cuda" results go to <name>.cuda.json."""
    RESULTS_DIR.mkdir(exist_ok=True)
    dev = str(device if device is not None else bench_device())
    kind = dev.split(":")[0]
    row = {"name": name, "page": page, "what": what, "value": round(float(value), 3), "unit": unit,
           "target": target, "ok": ok, "detail": detail or {}, "device": dev,
           "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "machine": machine(), "commit": commit()}
    suffix = "" if kind == "cpu" else f".{kind}"
    (RESULTS_DIR / f"{name}{suffix}.json").write_text(json.dumps(row, indent=2, ensure_ascii=False) + "\n")
    write_markdown()
    return row


# compute benchmarks that must also run on a GPU (issue 16): name -> what the GPU row will show
GPU_WORKLOADS = {
    "loss_landscape_surface": "41x41 loss surface (batched), target >= 3x faster than this machine's CPU",
    "cnn_train_throughput": "fit vs a plain PyTorch loop (CNN), target >= 0.95x",
    "cnn_train_samples": "CNN training samples/s, target >= 3x the CPU",
    "interpretability_attributions": "the four attributions of one digit",
    "attention_ig": "Integrated Gradients on MiniLM (Captum)",
    "autoencoder_train_epoch": "autoencoder training epoch",
    "rnn_train_side_by_side": "RNN/LSTM/GRU side by side (LSTM/GRU through cuDNN)",
    "regularization_training": "regularization run (stays on the CPU by policy: must not be slower)",
    "llm_tokens_per_s": "the LLM's tokens/s (branch llm-core), target >= 3x the CPU",
}

HEADER = ["| page | what | value | target | met | detail | device | date | machine | commit |",
          "|---|---|---|---|---|---|---|---|---|---|"]


def _line(r: dict) -> str:
    met = "" if r["ok"] is None else ("yes" if r["ok"] else "**no**")
    detail = ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in r["detail"].items())
    return (f"| {r['page']} | {r['what']} | {r['value']:g} {r['unit']} | {r['target']} | {met} | "
            f"{detail} | {r.get('device', 'cpu')} | {r['date']} | {r['machine']} | {r['commit']} |")


def write_markdown() -> Path:
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS_DIR.glob("*.json"))]
    cpu = [r for r in rows if r.get("device", "cpu").split(":")[0] == "cpu"]
    gpu = [r for r in rows if r.get("device", "cpu").split(":")[0] != "cpu"]
    lines = ["# Benchmark results", "",
             "Written by `make bench` (bench/run.py); every row is a median/percentile over several runs.",
             "Targets are for a 2-core CPU machine without a GPU unless the machine column says otherwise.",
             "The device column says where the computation ran (BIGMODEL_DEVICE; the CPU by default).", "",
             "## CPU", ""] + HEADER
    lines += [_line(r) for r in sorted(cpu, key=lambda r: (r["page"], r["name"]))]
    lines += ["", "## GPU", "",
              "Made by `scripts/gpu_check.sh` on a CUDA machine; it measures the same benchmarks on that",
              "machine's CPU in the same run (compare a GPU row with the CPU row of the same machine).", ""] + HEADER
    lines += [_line(r) for r in sorted(gpu, key=lambda r: (r["page"], r["name"]))]
    done = {r["name"] for r in gpu}
    lines += [f"| | {what} | pending: no GPU lent | | | | cuda | | | |"
              for name, what in GPU_WORKLOADS.items() if name not in done]
    from bench.load import markdown_section
    from bench.rerun_table import markdown_section as rerun_section
    lines += rerun_section()                     # every control beside a bare Streamlit slider, if measured
    lines += [""] + markdown_section()          # many learners and hostile inputs, if measured
    path = (RESULTS_DIR / "RESULTS.md") if os.environ.get("BENCH_RESULTS_DIR") else BENCH_DIR / "RESULTS.md"
    path.write_text("\n".join(lines) + "\n")
    return path
