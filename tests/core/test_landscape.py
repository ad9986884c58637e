"""bigmodel_core.landscape against independent references: torch.optim stepped by hand with autograd,
Goh 2017's bounds on the quadratic, Li et al.'s filter norms, the model's own loss."""
import json
import zlib
import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import bigmodel_core
from bigmodel_core import landscape as L
from bigmodel_core.models.mlp import DigitMLP
from bigmodel_core.errors import UserInputError
from bigmodel_core.charts.landscape import curve_frame, hillshade, map_background, network_surface_chart

# a learning rate per surface small enough to stay on the map for 40 steps of every optimizer
SAFE_LR = {"quadratic": 0.1, "rosenbrock": 1e-4, "himmelblau": 1e-3, "saddle": 0.01, "beale": 1e-4}


def reference_f(name, p, kappa=10.0, angle=30.0):
    """The surfaces written independently (matrix form for the bowl), for autograd."""
    x, y = p[0], p[1]
    if name == "quadratic":
        a = math.radians(angle)
        R = torch.tensor([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]], dtype=p.dtype)
        A = R.T @ torch.diag(torch.tensor([1 / kappa, 1.0], dtype=p.dtype)) @ R
        return 0.5 * p @ A @ p
    return {"rosenbrock": lambda: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2,
            "himmelblau": lambda: (x ** 2 + y - 11) ** 2 + (x + y ** 2 - 7) ** 2,
            "saddle": lambda: x ** 2 - y ** 2 + y ** 4 / 2,
            "beale": lambda: (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2,
            }[name]()


def by_hand(name, opt_name, start, lr, steps, noise=0.0, seed=0, **kw):
    """torch.optim with its default settings, stepped by hand on autograd's gradient."""
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = {"gd": lambda: torch.optim.SGD([p], lr=lr), "sgd": lambda: torch.optim.SGD([p], lr=lr),
           "momentum": lambda: torch.optim.SGD([p], lr=lr, momentum=kw.get("beta", 0.9)),
           "nesterov": lambda: torch.optim.SGD([p], lr=lr, momentum=kw.get("beta", 0.9), nesterov=True),
           "rmsprop": lambda: torch.optim.RMSprop([p], lr=lr),
           "adam": lambda: torch.optim.Adam([p], lr=lr)}[opt_name]()
    gen = torch.Generator().manual_seed(seed)
    pts, losses = [p.detach().clone()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = reference_f(name, p)
        losses.append(loss.item())
        loss.backward()
        if opt_name == "sgd" and noise:
            p.grad += noise * torch.randn(2, generator=gen, dtype=torch.float64)
        opt.step()
        pts.append(p.detach().clone())
    losses.append(reference_f(name, p).item())
    return torch.stack(pts).numpy(), np.array(losses)


@pytest.mark.parametrize("surface", L.SURFACE_NAMES)
@pytest.mark.parametrize("opt_name", L.OPTIMIZER_NAMES)
def test_paths_equal_torch_optim_stepped_by_hand(surface, opt_name):
    rng = np.random.default_rng(zlib.crc32(f"{surface}-{opt_name}".encode()))   # hash() changes per process
    s = L.get_surface(surface)
    start = (float(rng.uniform(*s.xlim) * 0.8), float(rng.uniform(*s.ylim) * 0.8))
    hyper = {"noise": 0.3, "seed": 3} if opt_name == "sgd" else {}
    path = bigmodel_core.optimizer_path(surface, opt_name, start, SAFE_LR[surface], 40, **hyper)
    pts, losses = by_hand(surface, opt_name, start, SAFE_LR[surface], 40, **hyper)
    assert path.points.shape == (41, 2) and path.losses.shape == (41,)
    assert tuple(path.points[0]) == start
    np.testing.assert_allclose(path.points, pts, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(path.losses, losses, rtol=1e-9, atol=1e-12)


def test_momentum_beta_and_torch_style_names():
    a = L.optimizer_path("rosenbrock", "nesterov", (-1.0, 1.5), 2e-4, 30, beta=0.7)
    b = L.optimizer_path("rosenbrock", "nesterov", (-1.0, 1.5), 2e-4, 30, momentum=0.7)
    pts, _ = by_hand("rosenbrock", "nesterov", (-1.0, 1.5), 2e-4, 30, beta=0.7)
    np.testing.assert_allclose(a.points, pts, rtol=1e-9)
    np.testing.assert_array_equal(a.points, b.points)


@pytest.mark.parametrize("surface", L.SURFACE_NAMES)
def test_written_out_gradients_match_autograd(surface):
    rng = np.random.default_rng(1)
    kappa, angle = float(rng.uniform(1, 50)), float(rng.uniform(0, 90))
    s = L.get_surface(surface, kappa, angle)
    for _ in range(5):
        p = torch.tensor(rng.uniform(-2, 2, size=2), dtype=torch.float64, requires_grad=True)
        reference_f(surface, p, kappa, angle).backward()
        g = torch.stack(s.grad(p[0].detach(), p[1].detach()))
        torch.testing.assert_close(g, p.grad, rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(s.f(p[0], p[1]), reference_f(surface, p, kappa, angle))


@pytest.mark.parametrize("kappa,angle", [(10.0, 30.0), (3.0, 0.0), (50.0, 75.0)])
def test_gd_converges_just_below_two_over_lambda_max_and_diverges_just_above(kappa, angle):
    th = L.quadratic_theory(kappa)
    assert th.gd_max_lr == pytest.approx(2 / th.lambda_max)
    below = L.optimizer_path("quadratic", "gd", (-2.0, 1.5), 0.97 * th.gd_max_lr, 400, kappa=kappa, angle=angle)
    above = L.optimizer_path("quadratic", "gd", (-2.0, 1.5), 1.03 * th.gd_max_lr, 400, kappa=kappa, angle=angle)
    assert not below.diverged and below.diverged_at is None
    assert below.losses[-1] < 1e-3 * below.losses[0]
    assert above.diverged and isinstance(above.diverged_at, int) and 0 < above.diverged_at <= 400
    x, y = above.points[above.diverged_at]
    assert abs(x) > 3 or abs(y) > 3                                 # it really left the plot
    assert np.all(np.isfinite(above.points[:above.diverged_at]))
    assert above.losses[above.diverged_at] > above.losses[0]


def test_non_finite_divergence_is_reported():
    p = L.optimizer_path("rosenbrock", "gd", (-1.5, 2.5), 5.0, 50)
    assert p.diverged and p.diverged_at <= 3
    assert not np.all(np.isfinite(p.points)) or np.abs(p.points).max() > 4


def test_goh_rates_are_what_the_paths_do():
    kappa = 100.0
    th = L.quadratic_theory(kappa)
    assert th.gd_best_rate == pytest.approx(99 / 101)
    assert th.momentum_best_rate == pytest.approx(9 / 11)
    assert th.momentum_best_beta == pytest.approx((9 / 11) ** 2)
    assert th.momentum_best_lr == pytest.approx((2 / (0.1 + 1)) ** 2)
    gd = L.optimizer_path("quadratic", "gd", (-2.0, 1.5), th.gd_best_lr, 300, kappa=kappa)
    assert L.measured_rate(gd) == pytest.approx(th.gd_best_rate, abs=0.01)
    assert th.gd_rate(th.gd_best_lr) == pytest.approx(th.gd_best_rate)
    mom = L.optimizer_path("quadratic", "momentum", (-2.0, 1.5), th.momentum_best_lr, 300, kappa=kappa,
                           beta=th.momentum_best_beta)
    assert L.measured_rate(mom) == pytest.approx(th.momentum_best_rate, abs=0.03)   # far faster than GD
    assert L.measured_rate(mom) < L.measured_rate(gd) - 0.1


def test_bad_input_is_a_user_error():
    for call in (lambda: L.optimizer_path("nope", "gd", (0, 0), 0.1, 10),
                 lambda: L.optimizer_path("quadratic", "lbfgs", (0, 0), 0.1, 10),
                 lambda: L.optimizer_path("quadratic", "gd", (0, 0), -1.0, 10),
                 lambda: L.optimizer_path("quadratic", "gd", (0, 0), float("nan"), 10)):
        with pytest.raises(UserInputError):
            call()


# ---------------------------------------------------------------------------------------------
# The real network

class TinyCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        return self.fc(torch.relu(self.conv(x)).flatten(1))


@pytest.mark.parametrize("make", [lambda: DigitMLP(16), TinyCNN])
def test_filter_normalized_directions_have_the_weights_filter_norms(make):
    model = make()
    d = bigmodel_core.filter_normalized_direction(model, seed=5)
    assert len(d) == len(list(model.parameters()))
    for (name, w), dw in zip(model.named_parameters(), d):
        assert dw.shape == w.shape and d[name] is dw
        if w.dim() > 1:                                         # one filter per output unit / channel
            torch.testing.assert_close(dw.flatten(1).norm(dim=1), w.detach().flatten(1).norm(dim=1))
            assert not torch.allclose(dw, w)                    # a random direction, not the weights
        else:
            torch.testing.assert_close(dw.abs(), w.detach().abs())
    other = L.filter_normalized_direction(model, seed=6)
    assert not torch.allclose(d[0], other[0])
    torch.testing.assert_close(L.filter_normalized_direction(model, seed=5)[0], d[0])   # seeded


def _small_trained_model():
    torch.manual_seed(0)
    X, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    model = DigitMLP(8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(model(X), y).backward()
        opt.step()
    return model.eval(), (X, y)


def test_surface_centre_is_the_trained_models_loss():
    model, batch = _small_trained_model()
    before = [p.detach().clone() for p in model.parameters()]
    s = bigmodel_core.loss_surface_2d(model, F.cross_entropy, batch, 7, 0.5)
    with torch.no_grad():
        loss = F.cross_entropy(model(batch[0]), batch[1]).item()
    assert s.losses.shape == (7, 7) and np.all(np.isfinite(s.losses))
    np.testing.assert_allclose(s.alphas, np.linspace(-0.5, 0.5, 7))
    assert s.center == pytest.approx(loss, rel=1e-6)
    assert s.center_loss == pytest.approx(loss, rel=1e-6)
    assert s.losses.min() >= loss - 0.05                        # a trained model sits near a minimum
    for p, q in zip(model.parameters(), before):               # the model is never modified
        torch.testing.assert_close(p.detach(), q, rtol=0, atol=0)


def test_surface_follows_the_given_directions():
    model, batch = _small_trained_model()
    d1 = L.filter_normalized_direction(model, seed=1)
    zero = [torch.zeros_like(p) for p in model.parameters()]
    s = L.loss_surface_2d(model, F.cross_entropy, batch, 5, ((0.0, 1.0), (-1.0, 1.0)), directions=(d1, zero))
    assert np.allclose(s.losses, s.losses[0:1, :])              # nothing changes along a zero direction
    moved = {n: w.detach() + 1.0 * d for (n, w), d in zip(model.named_parameters(), d1)}
    with torch.no_grad():
        ref = F.cross_entropy(torch.func.functional_call(model, moved, (batch[0],)), batch[1]).item()
    assert s.losses[2, 4] == pytest.approx(ref, rel=1e-5)


def test_surface_reports_progress_and_refuses_big_grids():
    model, batch = _small_trained_model()
    seen = []
    L.loss_surface_2d(model, F.cross_entropy, batch, 3, 1.0, on_progress=lambda d, t: seen.append((d, t)))
    assert seen == [(3, 9), (6, 9), (9, 9)]
    with pytest.raises(UserInputError):
        L.loss_surface_2d(model, F.cross_entropy, batch, 42, 1.0)


def test_line_and_pca_plane():
    model, batch = _small_trained_model()
    start = [torch.zeros_like(p) for p in model.parameters()]
    end = [p.detach() for p in model.parameters()]
    line = L.loss_along_line(model, start, end, F.cross_entropy, batch, [0.0, 1.0])
    with torch.no_grad():
        assert line[1] == pytest.approx(F.cross_entropy(model(batch[0]), batch[1]).item(), rel=1e-6)
    assert line[0] == pytest.approx(math.log(10), rel=1e-6)   # all-zero weights: uniform logits
    # checkpoints that lie in a 2-D plane are explained fully by two PCA directions
    g = torch.Generator().manual_seed(0)
    u, v = torch.randn(50, generator=g), torch.randn(50, generator=g)
    ts = torch.linspace(0, 1, 12)
    ckpts = torch.stack([3 * (1 - t) * u + (1 - t) ** 2 * v for t in ts])
    proj = L.pca_directions(ckpts)
    assert sum(proj.explained) == pytest.approx(1.0, abs=1e-6)
    assert float(proj.d1 @ proj.d1) == pytest.approx(1, abs=1e-5) and abs(float(proj.d1 @ proj.d2)) < 1e-5
    np.testing.assert_allclose(proj.coords[-1], [0, 0], atol=1e-9)
    rebuilt = proj.coords[:, :1] * proj.d1.double().numpy() + proj.coords[:, 1:] * proj.d2.double().numpy()
    np.testing.assert_allclose(rebuilt, (ckpts - ckpts[-1]).numpy(), atol=1e-4)


def test_shipped_network_is_trained_on_mnist():
    net = L.load_landscape_mlp()
    X, y = L.mnist_tensors("test")
    with torch.no_grad():
        acc = (net.model(X).argmax(1) == y).float().mean().item()
    assert acc == pytest.approx(net.record["test_accuracy"], abs=1e-3) and acc > 0.9
    assert net.checkpoints.shape == (net.record["checkpoints"], net.record["params"])
    flat_init = torch.cat([p.flatten() for p in net.init])
    flat_end = torch.cat([p.detach().flatten() for p in net.model.parameters()])
    torch.testing.assert_close(net.checkpoints[0], flat_init)
    torch.testing.assert_close(net.checkpoints[-1], flat_end)
    assert json.loads(L.MLP_RECORD.read_text())["script"] == "scripts/train_landscape.py"


# ---------------------------------------------------------------------------------------------
# Charts

def _rows(spec: dict) -> dict:
    return {k: len(v) for k, v in spec.get("datasets", {}).items()}


def test_map_background_is_the_log_gap_on_the_grid_with_levels_inside_it():
    """What the map explorable colours: log10(f - f*) at every grid point (floored 3 decades below the
    top), and 12 iso-line levels between its 1st and 99th percentiles."""
    s = L.get_surface("rosenbrock")
    z, levels = map_background(s, 61)
    xs, ys = np.linspace(*s.xlim, 61), np.linspace(*s.ylim, 61)
    f = np.array([[float(s.f(torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)))
                   for x in xs] for y in ys])                                 # (61, 61), row = y
    want = np.log10(np.maximum(f - s.f_min, f.max() * 1e-3))
    np.testing.assert_allclose(z, want, rtol=1e-12)
    assert len(levels) == 12 and levels == sorted(levels)
    assert np.percentile(z, 1) < levels[0] and levels[-1] < np.percentile(z, 99)


def test_curve_frame_stops_each_path_at_its_divergence():
    bowl = L.get_surface("quadratic", 10, 30)
    ok = L.optimizer_path(bowl, "gd", bowl.start, 1.0, 50)
    gone = L.optimizer_path(bowl, "gd", bowl.start, 2.5, 50)
    df = curve_frame({"gd": ok, "adam": gone}, bowl.f_min, {"gd": "GD", "adam": "A"})
    assert (df["label"] == "GD").sum() == 51 and (df["label"] == "A").sum() == gone.diverged_at + 1
    np.testing.assert_allclose(df[df.label == "GD"]["gap"], np.clip(ok.losses - bowl.f_min, 1e-12, 1e12))
    assert df["gap"].between(1e-12, 1e12).all()


def test_network_surface_charts_and_hillshade():
    a = np.linspace(-1, 1, 11)
    losses = 0.1 + np.add.outer(a ** 2, a ** 2)
    for shaded in (False, True):
        spec = network_surface_chart(a, a, losses, shaded=shaded).to_dict()
        assert 121 in _rows(spec).values()
    shade = hillshade(np.add.outer(a, 0 * a))
    assert shade.min() >= 0 and shade.max() <= 1


def _pointwise_surface(model, batch, alphas, betas, d1, d2):
    """The reference: one functional_call per grid point, as the loop was before batching."""
    names = [n for n, _ in model.named_parameters()]
    out = np.empty((len(betas), len(alphas)))
    with torch.no_grad():
        for i, b in enumerate(betas):
            for j, a in enumerate(alphas):
                ws = {n: w.detach() + float(a) * u + float(b) * v
                      for (n, w), u, v in zip(model.named_parameters(), d1, d2)}
                out[i, j] = F.cross_entropy(torch.func.functional_call(model, ws, (batch[0],)), batch[1]).item()
    return out


@pytest.mark.parametrize("make", [lambda: DigitMLP(8), TinyCNN])
def test_batched_surface_equals_point_by_point(make):
    """vmap over stacked weight sets gives the numbers of one forward pass per point."""
    torch.manual_seed(1)
    model = make().eval()
    batch = (torch.randn(32, 1, 8, 8) if isinstance(model, TinyCNN) else torch.randn(32, 1, 28, 28),
             torch.randint(0, 10, (32,)))
    d1 = L.filter_normalized_direction(model, seed=3)
    d2 = L.filter_normalized_direction(model, seed=4)
    s = L.loss_surface_2d(model, F.cross_entropy, batch, 5, ((-1.0, 0.5), (-0.5, 2.0)), directions=(d1, d2))
    ref = _pointwise_surface(model, batch, s.alphas, s.betas, d1, d2)
    np.testing.assert_allclose(s.losses, ref, rtol=1e-5, atol=1e-6)
    assert len(np.unique(np.round(ref, 4))) > 10                 # the grid really varies
    start = [torch.zeros_like(p) for p in model.parameters()]
    end = [p.detach() for p in model.parameters()]
    line = L.loss_along_line(model, start, end, F.cross_entropy, batch, [0.0, 0.3, 1.0])
    with torch.no_grad():
        mid = {n: 0.7 * s_ + 0.3 * e for n, s_, e in zip([n for n, _ in model.named_parameters()], start, end)}
        ref_mid = F.cross_entropy(torch.func.functional_call(model, mid, (batch[0],)), batch[1]).item()
    assert line[1] == pytest.approx(ref_mid, rel=1e-5)


def test_surface_chunks_follow_the_device_policy():
    assert L.surface_chunk_rows(41, 50_890, torch.device("cpu")) == 1          # a row: progress unit
    assert L.surface_chunk_rows(41, 50_890, torch.device("cuda")) == 41        # 340 MB: one pass
    assert L.surface_chunk_rows(41, 10_000_000, torch.device("cuda")) == 1     # 1.6 GB a row: one at a time


# ---------------------------------------------------------------------------------------------
# What the page reads off a path (moved out of the page: issue 18)

def test_snap_start_rounds_to_the_grid_and_stays_on_the_map():
    surf = L.get_surface("rosenbrock")                                   # x in [-2, 2], y in [-1, 3]
    rng = np.random.default_rng(3)
    for x, y in rng.uniform(-4, 4, size=(200, 2)):
        sx, sy = L.snap_start(surf, x, y)
        assert surf.xlim[0] <= sx <= surf.xlim[1] and surf.ylim[0] <= sy <= surf.ylim[1]
        for v, raw, (lo, hi) in ((sx, x, surf.xlim), (sy, y, surf.ylim)):
            assert abs(v / L.START_STEP - round(v / L.START_STEP)) < 1e-9      # on the grid
            if lo + L.START_STEP < raw < hi - L.START_STEP:
                assert abs(v - raw) <= L.START_STEP / 2 + 1e-9                # the nearest grid point
    with pytest.raises(UserInputError):
        L.snap_start(surf, float("nan"), 0.0)


def test_path_outcome_reads_divergence_and_arrival():
    bowl = L.get_surface("quadratic", 10, 30)
    arrived = L.optimizer_path(bowl, "gd", (-2.5, 2.0), 1.0, 200)
    out = L.path_outcome(arrived, bowl)
    assert out.status == "reached" and out.distance < L.REACHED_RADIUS
    assert out.final_loss == pytest.approx(float(arrived.losses[-1])) and out.step == 200
    slow = L.path_outcome(L.optimizer_path(bowl, "gd", (-2.5, 2.0), 0.01, 20), bowl)
    assert slow.status == "running" and slow.distance > L.REACHED_RADIUS
    gone = L.optimizer_path(bowl, "gd", (-2.5, 2.0), 2.239, 200)          # just over 2 / lambda_max
    out = L.path_outcome(gone, bowl)
    assert out.status == "diverged" and out.step == gone.diverged_at and out.final_loss is None
    end, pts = L.drawn_points(gone, bowl)
    assert end == gone.diverged_at and pts.shape == (end + 1, 2)
    assert (np.abs(pts) <= 3).all()                                         # clipped to the map


def test_surface_cache_computes_once_and_drops_the_least_recently_used():
    import threading
    cache = L.SurfaceCache(max_entries=2)
    calls = []

    def compute(key):
        def run():
            calls.append(key)
            return f"surface {key}"
        return run

    threads = [threading.Thread(target=lambda: cache.get_or_compute("a", compute("a"))) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert calls == ["a"]                                                  # four learners, one computation
    cache.get_or_compute("b", compute("b"))
    assert cache.get("a") == "surface a"                                   # a is now the most recent
    cache.get_or_compute("c", compute("c"))
    assert "b" not in cache and "a" in cache and "c" in cache and len(cache) == 2
    assert cache.get("b") is None


def test_nearest_option_is_nearest_on_a_log_scale():
    options = (0.001, 0.01, 0.1, 1.0)
    assert L.nearest_option(options, 0.03) == 0.01                         # log10: 0.48 from 0.01, 0.52 from 0.1
    assert L.nearest_option(options, 0.04) == 0.1
    assert L.nearest_option((0.0, 0.5, 1.0), 0.2) == 0.0                   # zero: plain distance


def test_pca_window_holds_the_whole_training_path_with_a_margin():
    net = L.load_landscape_mlp(torch.device("cpu"))
    proj = L.pca_directions(net.checkpoints)
    (a0, a1), (b0, b1) = L.pca_window(proj)
    xs, ys = proj.coords[:, 0], proj.coords[:, 1]
    assert a0 < xs.min() and xs.max() < a1 and b0 < ys.min() and ys.max() < b1
    assert (a1 - a0) == pytest.approx(1.3 * (xs.max() - xs.min()))
    steps = L.checkpoint_steps(net.record, len(proj.coords))
    assert steps[0] == 0 and steps[-1] == net.record["steps"] and steps == sorted(steps)
