"""Gradient descent on loss landscapes: toy surfaces, optimizer paths, and a real network's loss surface.

Course text 2 §3.1.2 and §3.3.2: gradient descent  theta_{t+1} = theta_t - alpha * grad J(theta_t)  and SGD
theta_{t+1} = theta_t - eta * grad J(theta_t; z_t); the course texts' code trains with Adam.

- Toy surfaces (`SURFACES`): a quadratic bowl with condition number kappa and a rotation, Rosenbrock,
  Himmelblau, a saddle, Beale; each with its value and its gradient written out in torch.
- `optimizer_path`: the steps that `torch.optim` takes on a (2,) parameter tensor from a start point,
  with divergence detected (the step where the path left the plot or went non-finite).
- `quadratic_theory`: the step-size and rate bounds of Goh, "Why Momentum Really Works" (Distill 2017).
- A real network: `filter_normalized_direction` and `loss_surface_2d` after Li et al. 2018,
  "Visualizing the Loss Landscape of Neural Nets"; `loss_along_line` (Goodfellow et al. 2015) and
  `pca_directions` (the plane that best fits the training path, Li et al. §7).
  Both evaluate many weight sets at once: torch.func.vmap over torch.func.functional_call with the
  weight sets stacked along a new first axis (the whole 41x41 grid in one pass on a GPU).
"""
from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path as FilePath
from typing import Callable

import numpy as np
import torch
from torch import nn

from bigmodel_core.device import device_for
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.mlp import DigitMLP

# ---------------------------------------------------------------------------------------------
# Toy surfaces: f(x, y) and its gradient, both on tensors of any shape (a point or a whole grid)


@dataclass(frozen=True)
class Surface:
    name: str
    xlim: tuple[float, float]           # the plot window
    ylim: tuple[float, float]
    start: tuple[float, float]          # a start point that shows the surface's character
    f_min: float                        # the global minimum value (for "loss - f*" on a log scale)
    minima: tuple[tuple[float, float], ...]
    kappa: float = 1.0                  # quadratic only: condition number lambda_max / lambda_min
    angle: float = 0.0                  # quadratic only: rotation of the bowl's axes, degrees

    def eigen(self) -> tuple[float, float, float, float]:
        """Quadratic only: (lambda_min, lambda_max, cos, sin). lambda_max = 1, lambda_min = 1/kappa."""
        a = math.radians(self.angle)
        return 1.0 / self.kappa, 1.0, math.cos(a), math.sin(a)

    def f(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.name == "quadratic":           # f = 1/2 (lmin u^2 + lmax v^2), (u, v) = rotated (x, y)
            lmin, lmax, c, s = self.eigen()
            u, v = c * x + s * y, -s * x + c * y
            return 0.5 * (lmin * u**2 + lmax * v**2)
        if self.name == "rosenbrock":          # f = (1 - x)^2 + 100 (y - x^2)^2
            return (1 - x)**2 + 100 * (y - x**2)**2
        if self.name == "himmelblau":          # f = (x^2 + y - 11)^2 + (x + y^2 - 7)^2
            return (x**2 + y - 11)**2 + (x + y**2 - 7)**2
        if self.name == "saddle":              # f = x^2 - y^2 + y^4 / 2: a saddle at 0, valleys at y = +-1
            return x**2 - y**2 + 0.5 * y**4
        if self.name == "beale":               # f = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2
            return ((1.5 - x + x * y)**2 + (2.25 - x + x * y**2)**2 + (2.625 - x + x * y**3)**2)
        raise KeyError(self.name)

    def grad(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(df/dx, df/dy), written out (checked against autograd in the tests; cheaper than it)."""
        if self.name == "quadratic":
            lmin, lmax, c, s = self.eigen()
            u, v = c * x + s * y, -s * x + c * y
            return lmin * u * c - lmax * v * s, lmin * u * s + lmax * v * c
        if self.name == "rosenbrock":
            r = y - x**2
            return -2 * (1 - x) - 400 * x * r, 200 * r
        if self.name == "himmelblau":
            a, b = x**2 + y - 11, x + y**2 - 7
            return 4 * x * a + 2 * b, 2 * a + 4 * y * b
        if self.name == "saddle":
            return 2 * x, -2 * y + 2 * y**3
        if self.name == "beale":
            a, b, c = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
            return (2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1),
                    2 * a * x + 4 * b * x * y + 6 * c * x * y**2)
        raise KeyError(self.name)

    def grid(self, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(xs (n,), ys (n,), values (n, n)) with values[i, j] = f(xs[j], ys[i])."""
        xs = torch.linspace(*self.xlim, n, dtype=torch.float64)
        ys = torch.linspace(*self.ylim, n, dtype=torch.float64)
        Y, X = torch.meshgrid(ys, xs, indexing="ij")                 # (n, n) each
        return xs.numpy(), ys.numpy(), self.f(X, Y).numpy()


SURFACE_NAMES = ("quadratic", "rosenbrock", "himmelblau", "saddle", "beale")
_HIMMELBLAU_MINIMA = ((3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126))


def get_surface(name: str, kappa: float = 10.0, angle: float = 30.0) -> Surface:
    """One of SURFACE_NAMES; kappa and angle shape the quadratic bowl only."""
    if name == "quadratic":
        if not 1.0 <= kappa <= 1e4:
            raise UserInputError("loss_landscape.errors.kappa", kappa=kappa)
        return Surface("quadratic", (-3, 3), (-3, 3), (-2.5, 2.0), 0.0, ((0.0, 0.0),), kappa, angle)
    if name == "rosenbrock":
        return Surface("rosenbrock", (-2, 2), (-1, 3), (-1.5, 2.5), 0.0, ((1.0, 1.0),))
    if name == "himmelblau":
        return Surface("himmelblau", (-5, 5), (-5, 5), (-0.5, -0.5), 0.0, _HIMMELBLAU_MINIMA)
    if name == "saddle":
        return Surface("saddle", (-2, 2), (-2, 2), (1.8, 0.05), -0.5, ((0.0, 1.0), (0.0, -1.0)))
    if name == "beale":
        return Surface("beale", (-4.5, 4.5), (-4.5, 4.5), (-1.0, 2.5), 0.0, ((3.0, 0.5),))
    raise UserInputError("loss_landscape.errors.surface", name=name)


# ---------------------------------------------------------------------------------------------
# Optimizer paths: torch.optim on a (2,) parameter tensor

OPTIMIZER_NAMES = ("gd", "sgd", "momentum", "nesterov", "rmsprop", "adam")
_ALIASES = {"momentum": "beta", "noise_std": "noise"}   # torch-style names accepted too


@dataclass(frozen=True)
class Path:
    points: np.ndarray          # (steps + 1, 2): the start first, then the point after each step
    losses: np.ndarray          # (steps + 1,): f at each point
    optimizer: str
    lr: float
    diverged_at: int | None     # the step where it left the plot for good or went non-finite

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


def make_optimizer(name: str, param: torch.Tensor, lr: float, *, beta: float = 0.9, alpha: float = 0.99,
                   betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> torch.optim.Optimizer:
    """The torch.optim optimizer behind each name (SGD's gradient noise is added by the caller)."""
    if name in ("gd", "sgd"):
        return torch.optim.SGD([param], lr=lr, foreach=False)
    if name == "momentum":       # buf = beta * buf + g;  theta -= lr * buf  (Goh's z and w)
        return torch.optim.SGD([param], lr=lr, momentum=beta, foreach=False)
    if name == "nesterov":       # the same buf, but the step uses g + beta * buf (a look-ahead)
        return torch.optim.SGD([param], lr=lr, momentum=beta, nesterov=True, foreach=False)
    if name == "rmsprop":        # v = alpha v + (1 - alpha) g^2;  theta -= lr g / (sqrt(v) + eps)
        return torch.optim.RMSprop([param], lr=lr, alpha=alpha, eps=eps, foreach=False)
    if name == "adam":           # m, v moving averages of g and g^2, bias-corrected
        return torch.optim.Adam([param], lr=lr, betas=betas, eps=eps, foreach=False)
    raise UserInputError("loss_landscape.errors.optimizer", name=name)


def optimizer_path(surface: str | Surface, optimizer_name: str, start, lr: float, steps: int,
                   **hyper) -> Path:
    """Run `steps` steps of torch.optim's `optimizer_name` on the surface from `start` = (x, y).

    hyper: kappa, angle (quadratic bowl); noise, seed (sgd: the gradient plus N(0, noise^2) per
    coordinate); beta or momentum (momentum, nesterov); alpha (rmsprop); betas (adam); eps.
    Every step is exactly: zero the grad, put grad f(theta) in theta.grad, optimizer.step().
    """
    hyper = {_ALIASES.get(k, k): v for k, v in hyper.items()}
    if not isinstance(surface, Surface):
        surface = get_surface(surface, hyper.pop("kappa", 10.0), hyper.pop("angle", 30.0))
    else:
        hyper.pop("kappa", None), hyper.pop("angle", None)
    noise, seed = float(hyper.pop("noise", 0.0)), int(hyper.pop("seed", 0))
    if not (lr > 0 and math.isfinite(lr)):
        raise UserInputError("loss_landscape.errors.lr", lr=lr)
    if not 1 <= steps <= 10_000:
        raise UserInputError("loss_landscape.errors.steps", steps=steps)
    theta = torch.tensor([float(start[0]), float(start[1])], dtype=torch.float64, requires_grad=True)
    opt = make_optimizer(optimizer_name, theta, lr, **hyper)
    gen = torch.Generator().manual_seed(seed)
    points = torch.empty(steps + 1, 2, dtype=torch.float64)      # (steps + 1, 2)
    points[0] = theta.detach()
    for t in range(1, steps + 1):
        with torch.no_grad():
            gx, gy = surface.grad(theta[0], theta[1])
            g = torch.stack([gx, gy])                                 # (2,) the exact gradient
            if optimizer_name == "sgd" and noise > 0:                  # a mini-batch's noisy estimate
                g = g + noise * torch.randn(2, generator=gen, dtype=torch.float64)
        theta.grad = g
        opt.step()
        points[t] = theta.detach()
    with torch.no_grad():
        losses = surface.f(points[:, 0], points[:, 1])               # (steps + 1,)
    pts, ls = points.numpy(), losses.numpy()
    return Path(pts, ls, optimizer_name, lr, _divergence_step(surface, pts, ls))


def _divergence_step(surface: Surface, points: np.ndarray, losses: np.ndarray) -> int | None:
    """The step where the path left the plot for good: the first point of the final stretch that is
    non-finite or outside the plot by more than half its size. None if the path ends on the map.

    (Momentum may swing out and come back: a path that returns is not counted as diverged.)"""
    (x0, x1), (y0, y1) = surface.xlim, surface.ylim
    hx, hy = (x1 - x0) / 2, (y1 - y0) / 2
    with np.errstate(invalid="ignore"):
        inside = np.isfinite(points).all(1) & np.isfinite(losses) \
            & (points[:, 0] >= x0 - hx) & (points[:, 0] <= x1 + hx) \
            & (points[:, 1] >= y0 - hy) & (points[:, 1] <= y1 + hy)
    if inside[-1]:
        return None
    back = np.flatnonzero(inside)
    return int(back[-1]) + 1 if back.size else 0


# ---------------------------------------------------------------------------------------------
# The theory of the quadratic bowl (Goh 2017, "Why Momentum Really Works")


@dataclass(frozen=True)
class QuadraticTheory:
    lambda_min: float
    lambda_max: float
    kappa: float
    gd_max_lr: float            # GD converges iff 0 < lr < 2 / lambda_max
    gd_best_lr: float           # 2 / (lambda_min + lambda_max)
    gd_best_rate: float         # (kappa - 1) / (kappa + 1): the error shrinks by this per step
    momentum_best_lr: float     # (2 / (sqrt(lambda_min) + sqrt(lambda_max)))^2
    momentum_best_beta: float   # ((sqrt(kappa) - 1) / (sqrt(kappa) + 1))^2
    momentum_best_rate: float   # (sqrt(kappa) - 1) / (sqrt(kappa) + 1)

    def gd_rate(self, lr: float) -> float:
        """GD's rate at this lr: max |1 - lr * lambda| over the two eigenvalues (>= 1 diverges)."""
        return max(abs(1 - lr * self.lambda_min), abs(1 - lr * self.lambda_max))

    def steps_to(self, rate: float, factor: float = 1e-3) -> float:
        """Steps until the error shrinks by `factor` at this rate (inf if it never does)."""
        return math.log(factor) / math.log(rate) if 0 < rate < 1 else (0.0 if rate == 0 else math.inf)


def quadratic_theory(kappa: float) -> QuadraticTheory:
    lmin, lmax = 1.0 / kappa, 1.0
    sk = math.sqrt(kappa)
    return QuadraticTheory(lmin, lmax, kappa, 2 / lmax, 2 / (lmin + lmax), (kappa - 1) / (kappa + 1),
                           (2 / (math.sqrt(lmin) + math.sqrt(lmax)))**2, ((sk - 1) / (sk + 1))**2,
                           (sk - 1) / (sk + 1))


def measured_rate(path: Path, f_min: float = 0.0) -> float:
    """The error's per-step shrink factor seen on the path: (gap_T / gap_0)^(1 / 2T), gap = f - f*.

    On a quadratic the loss gap is a squared distance, hence the 1/2."""
    gaps = path.losses - f_min
    T = len(gaps) - 1
    if path.diverged or gaps[0] <= 0:
        return math.inf if path.diverged else 0.0
    return float(max(gaps[-1], 1e-300) / gaps[0]) ** (1 / (2 * T))


# ---------------------------------------------------------------------------------------------
# What the page reads off a path: where it may start, how it ended


START_STEP = 0.05                   # start points sit on this grid (every plot window is a multiple of it)
REACHED_RADIUS = 0.05               # a path that ends this close to a minimum has reached it


def snap_start(surface: Surface, x: float, y: float) -> tuple[float, float]:
    """A picked point as a start point: rounded to the START_STEP grid, kept inside the plot window.

    (app_pages/components/landscape_map.js snapStart does the same in the browser.)"""
    out = []
    for v, (lo, hi) in ((x, surface.xlim), (y, surface.ylim)):
        if not math.isfinite(v):
            raise UserInputError("loss_landscape.errors.start")
        v = round(round(v / START_STEP) * START_STEP, 6)
        out.append(float(min(max(v, lo), hi)))
    return out[0], out[1]


def nearest_option(options, value: float) -> float:
    """The option closest to `value` on a log scale (a learning rate snapped to the slider's values)."""
    return min(options, key=lambda o: abs(math.log(o) - math.log(value)) if o > 0 and value > 0
               else abs(o - value))


def drawn_points(path: Path, surface: Surface) -> tuple[int, np.ndarray]:
    """(end, points (end + 1, 2)): the path up to its divergence step, clipped to the plot window
    (a diverged path's last point, a cross, then sits on the map's edge)."""
    end = path.diverged_at if path.diverged else len(path.points) - 1
    pts = path.points[:end + 1].copy()                               # (end + 1, 2)
    pts[~np.isfinite(pts)] = 1e6
    pts[:, 0] = np.clip(pts[:, 0], *surface.xlim)
    pts[:, 1] = np.clip(pts[:, 1], *surface.ylim)
    return int(end), pts


@dataclass(frozen=True)
class Outcome:
    status: str                 # "diverged", "reached" (within REACHED_RADIUS of a minimum) or "running"
    final_loss: float | None    # f at the last point (None when diverged)
    step: int                   # the divergence step, else the last step
    distance: float             # from the last point to the nearest minimum (inf when diverged)


def path_outcome(path: Path, surface: Surface) -> Outcome:
    """How a path ended: diverged at a step, reached a minimum, or still running toward one."""
    if path.diverged:
        return Outcome("diverged", None, int(path.diverged_at), math.inf)
    x, y = (float(v) for v in path.points[-1])
    near = min(math.hypot(x - a, y - b) for a, b in surface.minima)
    return Outcome("reached" if near < REACHED_RADIUS else "running", float(path.losses[-1]),
                   len(path.points) - 1, near)


class SurfaceCache:
    """The network's loss surfaces computed so far in this process, shared by every learner.

    Least recently used goes first past `max_entries` (a 41 x 41 surface is 13 KB; computing one
    takes seconds). One surface is computed at a time: a second learner asking for the same key
    waits for the first and gets its result instead of computing it again."""

    def __init__(self, max_entries: int = 12):
        self.max_entries = max_entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, key) -> bool:
        return key in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key):
        """The stored surface (now the most recently used), or None."""
        with self._lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def get_or_compute(self, key, compute: Callable[[], "LossSurface"]) -> "LossSurface":
        with self._lock:                                 # one computation at a time, as before
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            value = compute()
            self._items[key] = value
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)
            return value


# ---------------------------------------------------------------------------------------------
# A real network: a small MLP on MNIST digits, and its loss surface (Li et al. 2018)


class Direction(list):
    """A direction in weight space: one tensor per parameter, in model.parameters() order.

    Indexable by position (zip it with model.parameters()) or by parameter name (d["fc1.weight"])."""

    def __init__(self, names: list[str], tensors: list[torch.Tensor]):
        super().__init__(tensors)
        self.names = list(names)

    def __getitem__(self, key):
        if isinstance(key, str):
            return list.__getitem__(self, self.names.index(key))
        return list.__getitem__(self, key)

    def keys(self):
        return list(self.names)

    def values(self):
        return list(self)

    def items(self):
        return list(zip(self.names, self))


def filter_normalized_direction(model: nn.Module, seed: int | None = None,
                                generator: torch.Generator | None = None) -> Direction:
    """A random Gaussian direction with every filter rescaled to its weights' filter norm (Li et al. §4).

    A "filter" is one output unit's incoming weights: a row of a Linear weight, one output channel
    of a Conv kernel. d_i <- d_i / ||d_i|| * ||theta_i||. Parameters with one dimension (biases) copy
    the weights, as Li et al.'s code does when it keeps them (their norms then match trivially).
    """
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
    names, dirs = [], []
    for name, w in model.named_parameters():
        w = w.detach()
        if w.dim() <= 1:
            d = w.clone()
        else:
            d = torch.randn(w.shape, generator=generator, dtype=w.dtype).to(w.device)   # (out, ...)
            d_norm = d.flatten(1).norm(dim=1).view(-1, *[1] * (w.dim() - 1))         # (out, 1, ...)
            w_norm = w.flatten(1).norm(dim=1).view(-1, *[1] * (w.dim() - 1))
            d = d / (d_norm + 1e-10) * w_norm
        names.append(name)
        dirs.append(d)
    return Direction(names, dirs)


@dataclass(frozen=True)
class LossSurface:
    alphas: np.ndarray          # (steps,) coordinates along direction 1
    betas: np.ndarray           # (steps,) coordinates along direction 2
    losses: np.ndarray          # (steps, steps): losses[i, j] at theta + alphas[j] d1 + betas[i] d2
    center_loss: float          # the loss at theta itself
    seconds: float = 0.0

    @property
    def center(self) -> float:
        """The grid's middle value (the trained weights when steps is odd and the span symmetric)."""
        n = len(self.alphas)
        return float(self.losses[n // 2, n // 2])


MAX_SURFACE_STEPS = 41


def _span_pair(span) -> tuple[tuple[float, float], tuple[float, float]]:
    if isinstance(span, (int, float)):
        return (-float(span), float(span)), (-float(span), float(span))
    (a0, a1), (b0, b1) = span
    return (float(a0), float(a1)), (float(b0), float(b1))


def _losses_of(model: nn.Module, names: list[str], stacked: list[torch.Tensor], loss_fn: Callable,
               X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss of K weight sets at once: stacked[i] is (K, *param_i.shape); returns (K,).

    torch.func.vmap maps torch.func.functional_call over the leading K axis, so K forward passes are
    one batched pass (bmm instead of K mm's): a few kernel launches on a GPU and one Python step on a
    CPU, instead of K. A loss_fn that vmap cannot trace (data-dependent Python control flow) falls
    back to one call per weight set, with the same numbers.
    """
    def one(ws):
        return loss_fn(torch.func.functional_call(model, dict(zip(names, ws)), (X,)), y)

    try:
        return torch.func.vmap(one)(stacked)                               # (K,)
    except RuntimeError:
        K = stacked[0].shape[0]
        return torch.stack([one([w[k] for w in stacked]) for k in range(K)])


CPU_POINTS_PER_CALL = 8     # grid points per vmap call on the CPU (measured: 8 beat 1, 4 and 41)


def surface_chunk_rows(steps: int, n_params: int, device: torch.device) -> int:
    """How many grid rows one batched evaluation takes (bigmodel_core.device's policy).

    On an accelerator, whole grid at once while the stacked weights stay under ~512 MB (41 x 41 x
    50,890 floats is 340 MB): one launch sequence instead of 1,681. On the CPU, one row, the unit of
    progress and of Stop, evaluated CPU_POINTS_PER_CALL points per call: the stacked weights of 8
    points (1.6 MB for the MNIST MLP) stay in cache, those of a whole row (8 MB) do not (2 cores:
    41x41 in 0.51 s at 8 points per call, 0.58 s at 41, 1.02 s at 1, 0.70 s point by point).
    """
    if device.type == "cpu":
        return 1
    per_row = steps * n_params * 4                                         # bytes of one row of weights
    return max(1, min(steps, (512 << 20) // max(1, per_row)))


@torch.no_grad()
def loss_surface_2d(model: nn.Module, loss_fn: Callable, batch, steps: int = 41, span=1.0, *,
                    directions: tuple[list, list] | None = None, seed: int = 0,
                    on_progress: Callable[[int, int], None] | None = None,
                    should_stop: Callable[[], bool] | None = None) -> LossSurface:
    """L(theta + a d1 + b d2) on a steps x steps grid, a and b in [-span, span], on one fixed batch.

    directions: (d1, d2); by default two filter-normalized random directions (seeds seed, seed + 1).
    span: a number, or ((a_min, a_max), (b_min, b_max)). The model itself is never modified: the
    weights are passed to torch.func.functional_call, a chunk of grid rows at a time (vmap over the
    stacked weight sets, see _losses_of). on_progress(done, total) after every chunk.
    """
    if not 2 <= steps <= MAX_SURFACE_STEPS:
        raise UserInputError("loss_landscape.errors.grid", steps=steps, max=MAX_SURFACE_STEPS)
    import time
    t0 = time.perf_counter()
    device = next(model.parameters()).device
    X, y = batch[0].to(device), batch[1].to(device)
    if directions is None:
        directions = (filter_normalized_direction(model, seed=seed),
                      filter_normalized_direction(model, seed=seed + 1))
    d1, d2 = ([d.to(device) for d in dirs] for dirs in directions)
    names = [n for n, _ in model.named_parameters()]
    theta = [p.detach() for p in model.parameters()]
    (a0, a1), (b0, b1) = _span_pair(span)
    alphas = torch.linspace(a0, a1, steps, dtype=torch.float64)
    betas = torch.linspace(b0, b1, steps, dtype=torch.float64)
    for grid, (lo, hi) in ((alphas, (a0, a1)), (betas, (b0, b1))):     # the centre exactly at theta
        grid[grid.abs() < 1e-9 * (hi - lo)] = 0.0
    losses = np.full((steps, steps), np.nan)
    rows = surface_chunk_rows(steps, sum(w.numel() for w in theta), device)
    a_dev = alphas.to(device=device, dtype=theta[0].dtype)                 # (steps,)
    b_dev = betas.to(device=device, dtype=theta[0].dtype)

    per_call = CPU_POINTS_PER_CALL if device.type == "cpu" else rows * steps

    for i0 in range(0, steps, rows):
        i1 = min(steps, i0 + rows)
        a_all = a_dev.repeat(i1 - i0)                                      # (K,) K = rows * steps
        b_all = b_dev[i0:i1].repeat_interleave(steps)                      # (K,) row-major, as losses
        out = []
        for k0 in range(0, len(a_all), per_call):
            a, b = a_all[k0:k0 + per_call], b_all[k0:k0 + per_call]         # (P,) each
            stacked = []
            for w, u, v in zip(theta, d1, d2):
                shape = (-1,) + (1,) * w.dim()
                stacked.append(w + a.view(shape) * u + b.view(shape) * v)  # (P, *w.shape)
            out.append(_losses_of(model, names, stacked, loss_fn, X, y))   # (P,)
        losses[i0:i1] = torch.cat(out).view(i1 - i0, steps).cpu().numpy()
        if on_progress:
            on_progress(i1 * steps, steps * steps)
        if should_stop and should_stop():
            break
    center = float(loss_fn(torch.func.functional_call(model, dict(zip(names, theta)), (X,)), y))
    return LossSurface(alphas.numpy(), betas.numpy(), losses, center, time.perf_counter() - t0)


@torch.no_grad()
def loss_along_line(model: nn.Module, theta_start: list[torch.Tensor], theta_end: list[torch.Tensor],
                    loss_fn: Callable, batch, alphas) -> np.ndarray:
    """L((1 - a) theta_start + a theta_end) for each a (Goodfellow et al. 2015): 0 = start, 1 = end.

    Every a in one batched evaluation (vmap over the stacked weight sets, see _losses_of)."""
    device = next(model.parameters()).device
    X, y = batch[0].to(device), batch[1].to(device)
    names = [n for n, _ in model.named_parameters()]
    dtype = next(model.parameters()).dtype
    a = torch.as_tensor(np.asarray(alphas, dtype=float), dtype=dtype, device=device)   # (K,)
    stacked = []
    for s, e in zip(theta_start, theta_end):
        s, e = s.to(device), e.to(device)
        shape = (-1,) + (1,) * s.dim()
        stacked.append((1 - a.view(shape)) * s + a.view(shape) * e)        # (K, *s.shape)
    return _losses_of(model, names, stacked, loss_fn, X, y).double().cpu().numpy()


@dataclass(frozen=True)
class PathProjection:
    d1: torch.Tensor            # (P,) first PCA direction of the checkpoints (unit length)
    d2: torch.Tensor            # (P,) second
    coords: np.ndarray          # (K, 2) every checkpoint's coordinates in that plane
    explained: tuple[float, float]  # share of the path's variance along d1 and d2


def pca_directions(checkpoints: torch.Tensor) -> PathProjection:
    """The plane of the first two PCA directions of the checkpoints around the final weights (Li §7).

    checkpoints: (K, P) flattened weights, the last row the trained model. M = theta_i - theta_K.
    """
    K, P = checkpoints.shape
    M = (checkpoints - checkpoints[-1]).double()                 # (K, P) the path relative to its end
    _, S, Vh = torch.linalg.svd(M, full_matrices=False)         # Vh: (K, P) principal directions
    d1, d2 = Vh[0], Vh[1]                                        # (P,) each, unit length
    coords = torch.stack([M @ d1, M @ d2], dim=1)                # (K, 2)
    var = S**2
    return PathProjection(d1.float(), d2.float(), coords.numpy(),
                          (float(var[0] / var.sum()), float(var[1] / var.sum())))


def pca_window(proj: PathProjection, margin: float = 0.15, pad: float = 0.3
               ) -> tuple[tuple[float, float], tuple[float, float]]:
    """The span of the PCA plane to draw: the training path's extent along each direction, widened by
    `margin` of it on both sides (and by `pad` more along the second, usually the narrow one)."""
    (a0, b0), (a1, b1) = proj.coords.min(0), proj.coords.max(0)
    ma, mb = margin * (a1 - a0), margin * (b1 - b0) + pad
    return (float(a0 - ma), float(a1 + ma)), (float(b0 - mb), float(b1 + mb))


def checkpoint_steps(record: dict, count: int) -> list[int]:
    """The training step of each of `count` checkpoints (every record["checkpoint_every"], the last
    one the final step)."""
    return [min(i * record["checkpoint_every"], record["steps"]) for i in range(count)]


def unflatten(vector: torch.Tensor, model: nn.Module) -> list[torch.Tensor]:
    """A flat (P,) vector as one tensor per parameter, shaped like model.parameters()."""
    out, i = [], 0
    for p in model.parameters():
        out.append(vector[i:i + p.numel()].view_as(p).to(p.dtype))
        i += p.numel()
    return out


# ---------------------------------------------------------------------------------------------
# The shipped network (made by scripts/train_landscape.py; weights in assets/, never pickled)

ASSETS_DIR = FilePath(__file__).resolve().parents[1] / "assets"
MLP_WEIGHTS = ASSETS_DIR / "landscape_mlp.safetensors"
MLP_RECORD = ASSETS_DIR / "landscape_mlp.json"


def mnist_tensors(split: str = "train", n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST digits as (X (N, 1, 28, 28) float in [0, 1], y (N,) int64) from the fixed split."""
    from bigmodel_core.data import load_mnist
    m = load_mnist()
    X, y = (m.x_train, m.y_train) if split == "train" else (m.x_test, m.y_test)
    X = torch.from_numpy(np.array(X[:n], dtype=np.float32) / 255.0).unsqueeze(1)
    return X, torch.from_numpy(np.array(y[:n]))


@dataclass
class TrainedMLP:
    model: DigitMLP                     # the trained weights, eval mode
    init: list[torch.Tensor]            # the weights before training, per parameter
    checkpoints: torch.Tensor           # (K, P) flattened weights along training, init first, trained last
    record: dict


def surface_device() -> torch.device:
    """Where loss surfaces are computed: bigmodel_core.device's policy (an accelerator when there is one)."""
    return device_for("loss_surface")


def load_landscape_mlp(device: torch.device | str = "cpu") -> TrainedMLP:
    """The MLP trained on MNIST with its initial weights and training checkpoints, from assets/.

    The model goes to `device` (the page passes surface_device(): where bigmodel_core.device's policy
    runs loss surfaces); init and checkpoints stay on the CPU."""
    import json

    from safetensors.torch import load_file
    tensors = load_file(str(MLP_WEIGHTS))
    record = json.loads(MLP_RECORD.read_text())
    model = DigitMLP(record["hidden"])
    model.load_state_dict({k[len("trained."):]: v for k, v in tensors.items() if k.startswith("trained.")})
    init = [tensors[f"init.{n}"] for n, _ in model.named_parameters()]
    model = model.to(device)
    return TrainedMLP(model.eval(), init, tensors["checkpoints"], record)
