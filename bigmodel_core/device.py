"""One place decides where tensors live: BIGMODEL_DEVICE, else CUDA, else MPS, else CPU.

The app is a server that many learners share, so torch's CPU threads are set once, on purpose:
a few intra-op threads (not one per core per request) and a single inter-op thread.
"""
from __future__ import annotations

import os
from functools import lru_cache

import torch


@lru_cache(maxsize=1)
def get_device() -> torch.device:
    """cuda / mps / cpu, or whatever the BIGMODEL_DEVICE environment variable names."""
    wanted = os.environ.get("BIGMODEL_DEVICE", "").strip().lower()
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError("BIGMODEL_DEVICE asks for cuda but no CUDA device is available")
        if device.type == "mps" and not torch.backends.mps.is_available():
            raise RuntimeError("BIGMODEL_DEVICE asks for mps but MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | None = None, lang: str = "en") -> str:
    """A short human name for the device, e.g. 'CPU (2 threads)' or 'CUDA: NVIDIA H100'."""
    from bigmodel_core.i18n import t
    device = device or get_device()
    if device.type == "cuda":
        return f"CUDA: {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple MPS"
    return t("app.cpu_threads", lang, n=torch.get_num_threads())


_threads_set = False


def configure_threads(max_threads: int | None = None) -> int:
    """Set torch's thread counts once per process; returns the intra-op thread count.

    BIGMODEL_THREADS overrides. The default, min(4, cores), keeps one request from taking every
    core of a shared server while small models still get some parallelism.
    """
    global _threads_set
    if _threads_set:
        return torch.get_num_threads()
    env = os.environ.get("BIGMODEL_THREADS")
    cores = os.cpu_count() or 1
    n = int(env) if env else min(max_threads or 4, cores)
    torch.set_num_threads(max(1, n))
    try:
        torch.set_num_interop_threads(1)   # only possible before any parallel work has started
    except RuntimeError:
        pass
    _threads_set = True
    return torch.get_num_threads()
