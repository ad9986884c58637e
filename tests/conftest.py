"""Shared test set-up: seed everything, keep torch to the CPU threads CI has.

The suite runs on the CPU by default; `make test-gpu` runs it with BIGMODEL_DEVICE=cuda, and then
every test that moves work to bigmodel_core.device.get_device() runs it on the GPU.
"""
import os
import random

import numpy as np
import pytest
import torch

os.environ.setdefault("BIGMODEL_DEVICE", "cpu")   # tests compare numbers on the CPU unless told otherwise

ON_GPU = os.environ["BIGMODEL_DEVICE"].strip().lower().startswith("cuda")
if ON_GPU:
    # Set once, for the whole suite, with the reason: on a GPU cuDNN convolutions use TF32 by
    # default (10-bit mantissa: ~1e-3 relative error) and pick the fastest, possibly non-
    # deterministic, algorithm. The tests compare float32 numbers with references and with
    # records made on a CPU, so they ask for full float32 and deterministic kernels.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False

# Even in full float32 a GPU sums in another order than the CPU (blocked reductions, other
# GEMM tilings): results agree to ~1e-6 relative per operation, and errors grow with depth. A check
# of a GPU result against a number computed on a CPU (or with a CPU-made record) gets this factor.
GPU_TOLERANCE_FACTOR = 20.0


def tolerance(cpu: float, gpu: float | None = None) -> float:
    """The tolerance of a float comparison: `cpu` on the CPU; on a GPU `gpu`, by default
    cpu * GPU_TOLERANCE_FACTOR (other summation order, see above)."""
    if not ON_GPU:
        return cpu
    return gpu if gpu is not None else cpu * GPU_TOLERANCE_FACTOR


@pytest.fixture(autouse=True)
def _seed():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    yield
