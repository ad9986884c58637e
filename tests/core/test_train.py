"""The shared training loop: it learns, reports, stops, and reports divergence instead of NaNs."""
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.train import TrainConfig, accuracy, fit
from tests.conftest import tolerance


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
    dev = next(model.parameters()).device                   # fit trains on get_device() (BIGMODEL_DEVICE)
    after = F.cross_entropy(model(X.to(dev)), y.to(dev)).item()
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


# -- issue 19: divergence before inf, gradient clipping, "no better than guessing" ----------------

from bigmodel_core.train import guessing_accuracy, guessing_bound, outcome  # noqa: E402


def test_an_exploding_cross_entropy_is_diverged_although_it_stays_finite():
    """Cross-entropy on exploding logits never reaches inf (log-softmax is stable): the CNN at lr 100
    "finished" at loss 1e13. A loss past diverge_factor x the first one ends the run as diverged."""
    X, y = _blobs()
    hist = fit(_model(), (X * 50, y), TrainConfig(epochs=3, lr=1e3, optimizer="adam", batch_size=32),
               loss_fn=F.cross_entropy)
    assert hist.diverged and hist.diverged_how == "exploded"
    assert math.isfinite(hist.diverged_loss) and hist.diverged_loss > 1e3 * hist.first_loss
    first = torch.randperm(400, generator=torch.Generator().manual_seed(0))[:32]     # fit's first batch
    ref = F.cross_entropy(_model()(X[first] * 50), y[first]).item()            # on the CPU
    assert hist.first_loss == pytest.approx(ref, rel=tolerance(0.0, gpu=1e-5))
    calm = fit(_model(), (X, y), TrainConfig(epochs=3, lr=1e-2, batch_size=32), loss_fn=F.cross_entropy)
    assert calm.reason == "finished" and calm.diverged_how is None


def test_grad_clip_bounds_every_step_to_lr_times_the_clip():
    """Plain SGD: ||theta_{t+1} - theta_t|| = lr * min(||g||, c), checked step by step."""
    X, y = _blobs()
    model = _model()
    lr, clip = 0.5, 0.1
    moves = []

    def measure(m, prev=[None]):
        flat = torch.cat([p.detach().flatten() for p in m.parameters()])
        if prev[0] is not None:
            moves.append(float((flat - prev[0]).norm()))
        prev[0] = flat.clone()

    measure(model)
    hist = fit(model, (X * 10, y), TrainConfig(epochs=1, lr=lr, optimizer="sgd", batch_size=40, grad_clip=clip),
               loss_fn=F.cross_entropy, after_step=measure)
    assert len(moves) == 10 and max(moves) <= lr * clip * (1 + 1e-4)
    assert hist.clipped_steps >= 1
    unclipped = []
    fit(_model(), (X * 10, y), TrainConfig(epochs=1, lr=lr, optimizer="sgd", batch_size=40),
        loss_fn=F.cross_entropy, after_step=lambda m, prev=[None]: unclipped.append(
            float(torch.cat([p.grad.flatten() for p in m.parameters()]).norm())))
    assert max(unclipped) > clip                                     # the clip did act above


def test_guessing_bound_matches_the_binomial_tail():
    """chance + 3 standard errors: a guesser lands below it with probability ~99.9 % (checked by
    simulating guessers)."""
    g = torch.Generator().manual_seed(0)
    n, chance = 1000, 0.1
    guessers = (torch.rand(20000, n, generator=g) < chance).float().mean(1)      # (20000,) accuracies
    share_below = float((guessers <= guessing_bound(chance, n)).float().mean())
    assert 0.995 < share_below < 1.0
    assert guessing_accuracy(torch.tensor([0, 1, 1, 2, 1])) == 0.6


def test_outcome_names_what_the_run_amounts_to():
    X, y = _blobs()
    good = fit(_model(), (X, y), TrainConfig(epochs=3, lr=1e-2, batch_size=32), loss_fn=F.cross_entropy)
    acc = accuracy(_model(), X, y)
    assert outcome(good, accuracy=0.95, chance=0.5, n_eval=400) == "learned"
    assert outcome(good, accuracy=0.52, chance=0.5, n_eval=400) == "chance"
    assert outcome(good, accuracy=float("nan"), chance=0.5, n_eval=400) == "chance"
    assert outcome(good) == "learned" and 0 <= acc <= 1
    good.reason = "stopped"
    assert outcome(good, accuracy=0.2, chance=0.5, n_eval=400) == "stopped"


class _Dropped(nn.Module):
    """A model with dropout, so a replay must also restore the random state to match."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 2))

    def forward(self, x):
        return self.net(x)


def _weights(m):
    return torch.cat([p.detach().flatten().cpu() for p in m.parameters()])


@pytest.mark.parametrize("case", ["calm", "exploded", "nonfinite", "clipped", "stopped"])
def test_reading_losses_every_few_steps_gives_the_same_run_as_every_step(case):
    """The accelerator's way (losses read every sync_every steps, a bad step rolled back and the good
    steps replayed) gives the CPU's history and weights exactly, divergence included."""
    X, y = _blobs()
    cfg = {"calm": TrainConfig(epochs=2, lr=1e-2, batch_size=32, report_every=4, eval_every=7),
           "exploded": TrainConfig(epochs=3, lr=1e3, batch_size=32, report_every=4),
           "nonfinite": TrainConfig(epochs=5, lr=1e6, optimizer="sgd", report_every=3),
           "clipped": TrainConfig(epochs=2, lr=0.5, optimizer="momentum", batch_size=40, grad_clip=0.1),
           "stopped": TrainConfig(epochs=4, batch_size=20, report_every=5)}[case]
    data = {"exploded": (X * 50, y), "nonfinite": (X * 1e3, y.float()[:, None].repeat(1, 2))}.get(case, (X, y))
    loss_fn = F.mse_loss if case == "nonfinite" else F.cross_entropy
    runs = []
    for sync_every in (1, 6):
        calls = {"n": 0}

        def stop():
            calls["n"] += 1
            return case == "stopped" and calls["n"] > 23

        model, events = _Dropped(), []
        torch.manual_seed(5)                                      # the dropout masks' stream
        hist = fit(model, data, cfg, loss_fn=loss_fn, should_stop=stop, on_progress=events.append,
                   evaluate=lambda m: {"acc": accuracy(m, X, y)}, device=torch.device("cpu"),
                   sync_every=sync_every)
        runs.append((hist, _weights(model), [(e.step, e.train_loss) for e in events]))
    (h1, w1, e1), (h6, w6, e6) = runs
    assert h1.reason == {"calm": "finished", "exploded": "diverged", "nonfinite": "diverged",
                         "clipped": "finished", "stopped": "stopped"}[case]
    for field in ("reason", "diverged_at", "diverged_how", "diverged_loss", "first_loss", "steps", "train_loss",
                  "evals", "samples_seen", "clipped_steps"):
        a, b = getattr(h1, field), getattr(h6, field)
        assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b)), (field, a, b)
    assert e1 == e6
    assert torch.equal(w1, w6) and torch.isfinite(w6).all()
    if case == "clipped":
        assert h1.clipped_steps >= 1
