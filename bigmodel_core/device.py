"""One place decides where tensors live: BIGMODEL_DEVICE, else CUDA, else MPS, else CPU.

The device policy (issue 16), `device_for(workload)`:
- Heavy work goes to the accelerator when there is one (get_device()): CNN training and its
  attributions, the loss surface, the autoencoder, the RNN page's side-by-side training (nn.RNN /
  LSTM / GRU: cuDNN runs all 41 time steps in one kernel), MiniLM and Captum on it.
- The LLM (models/llm.py) runs on the CPU for now: it keeps its weights as the GGUF's 4-bit blocks and
  decodes them on the CPU for each product; a CUDA path for it and for LoRA waits for a GPU run.
- Tiny models stay on the CPU on purpose, whatever the machine: a step of the regularization page's
  MLP (a few hundred weights), the RNN page's next-step model (batch 1), the 2-D landscape
  optimizers (one (2,) tensor) costs less than one CUDA kernel launch (~5-10 us each, dozens per
  step), so a GPU only adds launch latency and a device-to-host copy per live redraw (measured on an
  H200: the regularization run 5.4 s on the GPU vs 3.8 s on the CPU).
- Every tensor a page receives is on the CPU: results go through `to_cpu` (numpy / Altair need
  host memory, and a page never pays a hidden synchronisation).

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


# workload -> "accelerator" (get_device()) or "cpu" (always): the policy above, in one table
POLICY = {
    "cnn_training": "accelerator",      # 26k-parameter CNN on MNIST batches: conv kernels
    "attributions": "accelerator",      # Integrated Gradients = n_steps forward+backward passes
    "loss_surface": "accelerator",      # 1,681 forward passes of a 51k-weight MLP, batched by vmap
    "autoencoder": "accelerator",       # MNIST-sized MLPs, training and the map's batch decode
    "rnn_side_by_side": "accelerator",  # batch 64 x 41 steps, nn.LSTM / nn.GRU -> cuDNN
    "minilm": "accelerator",            # all-MiniLM-L6-v2 and Captum on it
    "llm": "cpu",                       # the GGUF LLM: 4-bit blocks decoded on the CPU (CUDA path pending)
    "lora": "cpu",                      # LoRA fine-tuning of the LLM: as the LLM
    "regularization": "cpu",            # an MLP of a few hundred weights: a step < a kernel launch
    "rnn_next_step": "cpu",             # batch 1, hidden 8, trained on one typed sentence
    "optimizer_paths": "cpu",           # a (2,) parameter on a toy surface
}


def device_for(workload: str) -> torch.device:
    """Where `workload` (a key of POLICY) runs: get_device() for heavy work, the CPU for tiny models."""
    if workload not in POLICY:
        raise KeyError(f"unknown workload {workload!r}; expected one of {sorted(POLICY)}")
    return get_device() if POLICY[workload] == "accelerator" else torch.device("cpu")


def to_cpu(value):
    """Tensors (also inside dicts, lists, tuples and dataclass-free containers) moved to the CPU,
    detached: what a page receives. Anything else is returned as it is."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: to_cpu(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(to_cpu(v) for v in value)
    return value


def synchronize(device: torch.device | None = None) -> None:
    """Wait until the device's queued kernels have run (CUDA is asynchronous); free on the CPU."""
    device = device or get_device()
    if device.type == "cuda":
        torch.cuda.synchronize(device)


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
