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


def test_policy_sends_heavy_work_to_the_accelerator_and_keeps_tiny_models_on_the_cpu(monkeypatch):
    """With an accelerator present (stood in for by a cuda device object: nothing runs on it here),
    heavy workloads name it and the tiny models stay on the CPU, also through the functions using them."""
    monkeypatch.setattr(dev, "get_device", lambda: torch.device("cuda"))
    for heavy in ("cnn_training", "attributions", "loss_surface", "autoencoder", "rnn_side_by_side",
                  "minilm"):
        assert dev.device_for(heavy).type == "cuda", heavy
    for tiny in ("regularization", "rnn_next_step", "optimizer_paths", "llm", "lora"):   # llm: CPU for now
        assert dev.device_for(tiny).type == "cpu", tiny
    with pytest.raises(KeyError):
        dev.device_for("everything")
    from bigmodel_core.models.rnn import encode_text, fit_next_step
    model = fit_next_step("gru", encode_text("abcabc"), steps=2)          # would fail on a fake cuda
    assert next(model.parameters()).device.type == "cpu"


def test_to_cpu_moves_nested_tensors_and_leaves_the_rest():
    x = torch.ones(2, requires_grad=True) * 2
    out = dev.to_cpu({"a": x, "b": [x, (x, 3)], "c": "text"})
    assert out["c"] == "text" and out["b"][1][1] == 3 and isinstance(out["b"][1], tuple)
    for t in (out["a"], out["b"][0], out["b"][1][0]):
        assert t.device.type == "cpu" and not t.requires_grad and torch.equal(t, torch.full((2,), 2.0))
