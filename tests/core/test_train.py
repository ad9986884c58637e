"""The shared training loop: it learns, reports, stops, and reports divergence instead of NaNs."""
import math

import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.train import TrainConfig, accuracy, fit


def _blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.randn(n, 2, generator=g) + (y[:, None] * 2 - 1) * 1.5
    return X, y


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))


def test_fit_learns_and_reports_progress():
    X, y = _blobs()
    model = _model()
    events = []
    before = F.cross_entropy(model(X), y).item()
    hist = fit(model, (X, y), TrainConfig(epochs=5, lr=1e-2, batch_size=32, report_every=5),
               loss_fn=F.cross_entropy, evaluate=lambda m: {"acc": accuracy(m, X, y)},
               on_progress=events.append)
    after = F.cross_entropy(model(X), y).item()
    assert hist.reason == "finished" and after < before * 0.5
    assert hist.evals[-1]["acc"] > 0.9 and len(hist.evals) == 5
    assert events[-1].fraction == 1.0 and events[-1].step == 5 * math.ceil(400 / 32)
    assert hist.samples_seen == 5 * 400
    assert not model.training                               # handed back in eval mode


def test_same_seed_same_result():
    X, y = _blobs()
    runs = []
    for _ in range(2):
        m = _model()
        fit(m, (X, y), TrainConfig(epochs=1, lr=1e-2, batch_size=50, seed=3), loss_fn=F.cross_entropy)
        runs.append(torch.cat([p.flatten() for p in m.parameters()]))
    assert torch.equal(runs[0], runs[1])


def test_huge_learning_rate_is_reported_as_diverged_with_finite_weights():
    X, y = _blobs()
    model = _model()
    hist = fit(model, (X * 1e3, y.float()[:, None].repeat(1, 2)), TrainConfig(epochs=5, lr=1e6, optimizer="sgd"),
               loss_fn=F.mse_loss)
    assert hist.diverged and hist.reason == "diverged" and hist.diverged_at >= 1
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert all(math.isfinite(v) for v in hist.train_loss)


def test_stop_request_ends_the_run():
    X, y = _blobs()
    calls = {"n": 0}

    def stop():
        calls["n"] += 1
        return calls["n"] > 3

    hist = fit(_model(), (X, y), TrainConfig(epochs=10, batch_size=10), loss_fn=F.cross_entropy,
               should_stop=stop)
    assert hist.reason == "stopped" and hist.samples_seen == 30


def test_penalty_and_after_step_hooks_are_applied():
    X, y = _blobs()
    model = _model()

    def zero_first_layer(m):
        m[0].weight.zero_()

    fit(model, (X, y), TrainConfig(epochs=1, max_steps=3), loss_fn=F.cross_entropy,
        penalty=lambda m: 0.0 * m[0].weight.sum(), after_step=zero_first_layer)
    assert torch.count_nonzero(model[0].weight) == 0


def test_max_steps_and_optimizers():
    X, y = _blobs()
    for name in ("sgd", "momentum", "adam"):
        hist = fit(_model(), (X, y), TrainConfig(optimizer=name, max_steps=7, lr=0.05), loss_fn=F.cross_entropy)
        assert hist.steps[-1] == 7 and hist.reason == "finished"
