"""One place picks the device; the environment overrides it."""
import pytest
import torch

from bigmodel_core import device as dev


def test_env_override_and_default(monkeypatch):
    dev.get_device.cache_clear()
    monkeypatch.setenv("BIGMODEL_DEVICE", "cpu")
    assert dev.get_device() == torch.device("cpu")
    dev.get_device.cache_clear()
    monkeypatch.delenv("BIGMODEL_DEVICE")
    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert dev.get_device().type == expected
    dev.get_device.cache_clear()


def test_cuda_request_is_honoured_or_a_clear_error(monkeypatch):
    dev.get_device.cache_clear()
    monkeypatch.setenv("BIGMODEL_DEVICE", "cuda")
    try:
        if torch.cuda.is_available():
            assert dev.get_device().type == "cuda"
        else:
            with pytest.raises(RuntimeError, match="no CUDA"):
                dev.get_device()
    finally:
        dev.get_device.cache_clear()


def test_threads_are_bounded():
    import os
    n = dev.configure_threads()
    assert 1 <= n <= max(4, os.cpu_count() or 1)
    n = torch.get_num_threads()
    assert dev.describe_device(torch.device("cpu")) == f"CPU ({n} threads)"
    assert dev.describe_device(torch.device("cpu"), "zh") == f"CPU（{n} 个线程）"
