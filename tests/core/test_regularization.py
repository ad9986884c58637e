"""Regularization (seed 001 §3.3.3): penalties equal the formulas, L1's proximal step gives exact
zeros and L2 does not, dropout and jitter only act in training, and regularization beats none."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.mlp import InputJitter, WideMLP as MLP
from bigmodel_core.regularization import (GRID, RegConfig, Throttle, l1_penalty,
                                          l2_penalty, make_task, penalized_weights, snapshot,
                                          soft_threshold_, train_run, weight_decay_)
from bigmodel_core.charts.regularization import (fit_chart, histogram_frame, loss_chart, loss_frame,
                                                 weights_histogram)

SHORT = RegConfig(steps=300)                      # a small budget for the property tests


def random_mlp(seed: int, in_dim: int = 1) -> MLP:
    g = torch.Generator().manual_seed(seed)
    hidden, depth = int(torch.randint(3, 40, (1,), generator=g)), int(torch.randint(1, 4, (1,), generator=g))
    return MLP(in_dim, hidden, depth, seed=seed)


# -- the formulas ---------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(5))
def test_penalties_equal_the_seed_formulas(seed):
    model = random_mlp(seed)
    lam = float(torch.rand(1)) * 0.1
    theta = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, torch.nn.Linear)])
    assert torch.allclose(l1_penalty(model, lam), lam * torch.linalg.vector_norm(theta, ord=1), rtol=1e-5)
    assert torch.allclose(l2_penalty(model, lam), lam * torch.linalg.vector_norm(theta) ** 2, rtol=1e-5)
    assert theta.numel() == sum(w.numel() for w in penalized_weights(model))   # biases are not theta


def test_snapshot_reports_the_penalty_values_with_the_current_lambdas():
    cfg = RegConfig(l1=0.003, l2=0.01)
    task = make_task(cfg.task, cfg.n_train, cfg.noise, cfg.seed)
    model = MLP(1, cfg.hidden, cfg.depth, seed=3).eval()
    with torch.no_grad():
        snap = snapshot(model, task, cfg, 0)
    assert snap.penalty_l1 == pytest.approx(0.003 * snap.sum_abs, rel=1e-6)
    assert snap.penalty_l2 == pytest.approx(0.01 * snap.sum_sq, rel=1e-6)
    with torch.no_grad():
        assert snap.penalty_l1 == pytest.approx(float(l1_penalty(model, 0.003)), rel=1e-6)
        assert snap.penalty_l2 == pytest.approx(float(l2_penalty(model, 0.01)), rel=1e-6)
        assert snap.train_loss == pytest.approx(float(F.mse_loss(model(task.X_train), task.y_train)), rel=1e-6)


@pytest.mark.parametrize("seed", range(4))
def test_soft_threshold_is_the_proximal_step_of_l1(seed):
    model = random_mlp(seed)
    before = [w.detach().clone() for w in penalized_weights(model)]
    thr = float(torch.rand(1)) * 0.2
    soft_threshold_(model, thr)
    for w0, w in zip(before, penalized_weights(model)):
        assert torch.allclose(w, F.softshrink(w0, thr))        # torch's own soft-threshold
        # and it is the minimizer of thr*|x| + (x - w0)^2 / 2, checked on a grid around each weight
        x = w0.flatten()[:5, None] + torch.linspace(-0.3, 0.3, 6001)[None, :]
        best = x.gather(1, (thr * x.abs() + (x - w0.flatten()[:5, None]) ** 2 / 2).argmin(1, keepdim=True))
        assert torch.allclose(w.flatten()[:5], best[:, 0], atol=2e-4)


def test_weight_decay_is_the_gradient_step_of_the_l2_penalty_and_matches_sgd():
    lr, lam = 0.1, 0.02
    ours, ref = random_mlp(7), random_mlp(7)
    weight_decay_(ours, lr * 2 * lam)
    weights = penalized_weights(ref)
    l2_penalty(ref, lam).backward()                             # d/dtheta lambda*sum theta^2 = 2 lambda theta
    torch.optim.SGD(weights, lr=lr).step()
    for a, b in zip(penalized_weights(ours), weights):
        assert torch.allclose(a, b, atol=1e-7)
    zero_grad = random_mlp(7)                                   # torch's own weight decay, zero data gradient
    ws = penalized_weights(zero_grad)
    for w in ws:
        w.grad = torch.zeros_like(w)
    torch.optim.SGD(ws, lr=lr, weight_decay=2 * lam).step()
    for a, b in zip(penalized_weights(ours), ws):
        assert torch.allclose(a, b, atol=1e-7)


# -- L1 gives exact zeros, L2 does not ----------------------------------------------------------

def test_l1_leaves_many_more_exact_zeros_than_l2_at_the_same_strength():
    lam = 0.01
    l1 = train_run(replace(SHORT, l1=lam, l2=0.0))
    l2 = train_run(replace(SHORT, l1=0.0, l2=lam))
    n = l1.final.weights.size
    assert l1.final.zeros >= 0.3 * n                            # most small weights are exactly 0.0
    assert l2.final.zeros == 0                                  # L2 shrinks, never to exactly 0
    assert l1.final.zeros == int((l1.final.weights == 0).sum())
    assert np.abs(l2.final.weights).min() > 0


def test_l1_in_the_loss_without_the_proximal_step_leaves_almost_no_zeros():
    prox = train_run(replace(SHORT, l1=0.01))
    naive = train_run(replace(SHORT, l1=0.01), l1_mode="penalty")
    assert naive.final.zeros < 0.01 * prox.final.zeros + 5
    assert prox.final.zeros > 1000


# -- dropout and jitter act in training only ---------------------------------------------------------

def test_dropout_is_active_in_training_and_off_in_evaluation():
    torch.manual_seed(0)
    net = MLP(1, hidden=64, depth=2, dropout=0.5, seed=1)
    plain = MLP(1, hidden=64, depth=2, dropout=0.0, seed=1)
    plain.load_state_dict(net.state_dict())
    x = torch.linspace(-1, 1, 50)[:, None]
    seen = []
    hook = net.net[2].register_forward_hook(lambda m, i, o: seen.append((i[0], o)))
    net.train()
    a, b = net(x), net(x)
    assert not torch.allclose(a, b)                             # a fresh mask each pass
    inp, out = seen[-1]
    dropped = (out == 0) & (inp != 0)
    assert 0.35 < dropped.float().mean() < 0.65                 # about half the units switched off
    kept = ~dropped
    assert torch.allclose(out[kept], inp[kept] / 0.5)           # the rest scaled by 1/(1-p)
    net.eval()
    assert torch.equal(net(x), net(x))
    assert torch.allclose(net(x), plain.eval()(x))              # eval: exactly the network without dropout
    hook.remove()


def test_input_jitter_augments_in_training_only():
    jit = InputJitter(0.2, seed=0)
    x = torch.zeros(20000, 2)
    noisy = jit.train()(x)
    assert noisy.std().item() == pytest.approx(0.2, rel=0.05)
    assert not torch.equal(jit(x), noisy)                       # fresh noise each step
    assert torch.equal(jit.eval()(x), x)


# -- training: fair A/B, early stopping, regularization helps ------------------------------------------

def test_same_seed_same_run_and_the_ab_pair_starts_from_the_same_weights():
    a, b = train_run(replace(SHORT, steps=100, l1=0.0)), train_run(replace(SHORT, steps=100, l1=0.0))
    pd.testing.assert_frame_equal(a.curve, b.curve)
    reg = train_run(replace(SHORT, steps=100, l2=0.01, dropout=0.3, l1=0.0))
    assert reg.curve.iloc[0].equals(a.curve.iloc[0])            # step 0: identical untrained network
    assert not reg.curve.iloc[-1].equals(a.curve.iloc[-1])


def test_early_stopping_keeps_the_best_weights():
    r = train_run(RegConfig(l1=0.0, patience=10))
    assert r.stopped_early and r.history.reason == "stopped"
    assert r.final.val_loss == pytest.approx(r.curve.val_loss.min(), rel=1e-6)
    assert r.best_step == int(r.curve.step[r.curve.val_loss.idxmin()])
    assert r.curve.step.max() == r.best_step + 10 * r.config.eval_every


@pytest.fixture(scope="module")
def no_regularization():
    return train_run(RegConfig().baseline())


@pytest.mark.parametrize("remedy", [{}, {"l1": 0.0, "l2": 1e-3}, {"l1": 0.0, "patience": 10},
                                    {"l1": 0.0, "jitter": 0.1}],
                         ids=["default(L1)", "L2", "early_stopping", "jitter"])
def test_regularization_lowers_the_final_validation_loss(no_regularization, remedy):
    base = no_regularization.final
    assert base.train_loss < 0.3 * base.val_loss                # the default setting does overfit
    reg = train_run(replace(RegConfig(), **remedy)).final
    assert reg.val_loss < 0.95 * base.val_loss
    assert reg.val_loss - reg.train_loss < base.val_loss - base.train_loss   # the gap closes


def test_the_two_class_task_trains_and_overfits():
    r = train_run(RegConfig(task="moons", n_train=30, l1=0.0, steps=400))
    assert r.final.train_loss < r.final.val_loss
    assert r.final.prediction.shape == (GRID * GRID,)
    assert ((r.final.prediction >= 0) & (r.final.prediction <= 1)).all()


@pytest.mark.parametrize("bad", [{"task": "spiral"}, {"n_train": 1}, {"noise": -0.1}, {"l1": float("nan")},
                                 {"dropout": 1.0}])
def test_bad_settings_raise_a_learner_error(bad):
    with pytest.raises(UserInputError):
        train_run(replace(RegConfig(), **bad))


def test_throttle_redraws_at_most_every_interval_and_never_more_than_half_the_time():
    now = [0.0]
    th = Throttle(0.25, clock=lambda: now[0])
    assert th.ready()
    th.drew(0.0)                                                # a fast draw
    now[0] = 0.1
    assert not th.ready()
    now[0] = 0.25
    assert th.ready()
    started = now[0]
    now[0] = 0.85                                               # a slow draw of 0.6 s
    th.drew(started)
    now[0] = 1.3
    assert not th.ready()                                       # wait as long as the draw took
    now[0] = 1.45
    assert th.ready() and th.updates == 2


# -- pictures ---------------------------------------------------------------------------------------

LABELS = {"train": "train", "truth": "truth", "model": "model", "class0": "c0", "class1": "c1", "x": "x",
          "y": "y", "val": "val", "gap": "gap", "step": "step", "loss": "loss", "best": "best",
          "weight": "w", "count": "n", "zeros": "zeros: {zeros}"}


def test_histogram_counts_every_weight_once_with_zeros_apart():
    w = np.array([0.0, 0.0, 0.0, -0.5, 0.2, 0.5, np.nan])
    df, zeros = histogram_frame(w, bins=5)
    assert zeros == 3 and df["count"].sum() == 3
    spec = weights_histogram(w, title="t", labels=LABELS).to_dict()
    assert "zeros: 3" in str(spec)


def test_loss_chart_drops_what_a_log_axis_cannot_show_and_shades_the_gap():
    curve = pd.DataFrame({"step": [0, 10, 20, 30], "train_loss": [1.0, 0.5, np.inf, 0.0],
                          "val_loss": [1.1, 0.7, 0.8, 0.9]})
    assert list(loss_frame(curve).step) == [0, 10]
    spec = loss_chart(curve, title="t", labels=LABELS, best_step=10).to_dict()
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks[:2] == ["area", "line"] and "rule" in marks
    assert spec["layer"][0]["encoding"]["y2"]["field"] == "val_loss"


@pytest.mark.parametrize("kind", ["curve", "moons"])
def test_fit_chart_stays_under_altairs_row_limit(kind):
    cfg = RegConfig(task=kind)
    task = make_task(kind, cfg.n_train, cfg.noise)
    model = MLP(task.X_train.shape[1], 8, 1).eval()
    with torch.no_grad():
        snap = snapshot(model, task, replace(cfg, task=kind), 0)
    spec = fit_chart(task, snap, kind, title="t", labels=LABELS).to_dict()
    assert all(len(rows) <= 5000 for rows in spec["datasets"].values())


# -- issue 15: the replay's snapshots -------------------------------------------------------------

from bigmodel_core.regularization import (REPLAY_FRAMES, FrameKeeper, decision_edges, frame_at,  # noqa: E402
                                          histogram_counts, replay_arrays, snapshot as take, untrained_snapshot)


def test_a_run_keeps_at_most_forty_evenly_spread_frames_ending_with_the_kept_model():
    snaps = []
    r = train_run(RegConfig(l1=0.01, steps=500), on_snapshot=snaps.append)      # 51 evaluations: thinned
    steps = [f.step for f in r.frames]
    assert len(r.frames) <= REPLAY_FRAMES and steps[0] == 0 and steps == sorted(steps)
    gaps = np.diff(steps)
    assert gaps.max() == gaps.min()                                   # evenly spread: one stride
    last = r.frames[-1]
    assert last.step == r.final.step and last.val_loss == r.final.val_loss and last.zeros == r.final.zeros
    np.testing.assert_array_equal(last.prediction, r.final.prediction.astype(np.float32))
    by_step = {s.step: s for s in snaps}
    for f in r.frames[:-1]:                                           # each frame is the snapshot of its step
        s = by_step[f.step]
        assert (f.train_loss, f.val_loss, f.sum_abs, f.zeros) == (s.train_loss, s.val_loss, s.sum_abs, s.zeros)
        edge, counts, zeros = histogram_counts(s.weights)
        assert f.hist_edge == edge and (f.hist_counts == counts).all()
    arr = replay_arrays(r.frames)
    assert arr["prediction"].shape == (len(r.frames), 200) and arr["hist"].shape == (len(r.frames), 41)


def test_early_stopping_replay_ends_at_the_best_step():
    r = train_run(RegConfig(l1=0.0, patience=10))
    assert r.stopped_early and r.frames[-1].step == r.best_step
    assert all(f.step < r.best_step for f in r.frames[:-1])


def test_frame_keeper_thins_by_doubling_the_stride():
    keeper = FrameKeeper(max_frames=4)
    snap = untrained_snapshot(RegConfig(steps=500))
    for i in range(11):
        keeper.add(replace(snap, step=i))
    assert [f.step for f in keeper.frames] == [0, 4, 8] and keeper.stride == 4
    assert [f.step for f in keeper.finish(replace(snap, step=10))] == [0, 4, 8, 10]


def test_frame_at_is_the_last_frame_at_or_before_the_step():
    steps = [0, 20, 40, 60]
    assert [frame_at(steps, s) for s in (-5, 0, 19, 20, 59, 60, 999)] == [0, 0, 0, 1, 2, 3, 3]


def test_decision_edges_mark_where_the_predicted_class_flips():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=(12, 12))
    edge = decision_edges(p)
    cls = p > 0.5
    for i in range(12):
        for j in range(12):
            flips = (j < 11 and cls[i, j] != cls[i, j + 1]) or (i < 11 and cls[i, j] != cls[i + 1, j])
            assert edge[i, j] == flips
    assert not decision_edges(np.full((5, 5), 0.9)).any()


def test_untrained_snapshot_is_the_same_for_both_sides():
    cfg = RegConfig(l1=0.01, dropout=0.3, jitter=0.2)
    a, b = untrained_snapshot(cfg), untrained_snapshot(cfg.baseline())
    assert a.step == 0 and a.val_loss == b.val_loss
    np.testing.assert_array_equal(a.weights, b.weights)
    task = make_task(cfg.task, cfg.n_train, cfg.noise, cfg.seed)
    model = MLP(1, cfg.hidden, cfg.depth, seed=cfg.seed).eval()
    with torch.no_grad():
        assert take(model, task, cfg, 0).train_loss == a.train_loss
