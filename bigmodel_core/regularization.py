"""Regularization and overfitting (course text 2 §3.1.3 and §3.3.3; course text 1 §8; course text 4 §1.3, §2.3).

An over-parameterized MLP learns from a handful of noisy points, so it overfits on purpose; the
learner then turns the course texts' remedies on one at a time:

    L1:  J_L1(theta) = J(theta) + lambda * sum_i |theta_i|      (course text 2 §3.3.3)
    L2:  J_L2(theta) = J(theta) + lambda * sum_i theta_i^2
    dropout, early stopping, data augmentation (here: jitter of the inputs)

How each one is applied (theta = the weights of the linear layers; biases are not penalized):
- L1 as a proximal step: after every optimizer step each weight is soft-thresholded,
      theta <- sign(theta) * max(|theta| - lr * lambda, 0),
  the exact minimizer of lambda*|theta| + (theta - theta_step)^2 / (2 lr). Small weights land on
  exactly 0.0 and stay there while the data's pull |dJ/dtheta| is weaker than lambda. (Adding
  lambda*|theta| to the loss instead only makes weights jitter around 0: they never hit it.)
- L2 as weight decay: after every optimizer step theta <- theta * (1 - lr * 2 * lambda), which is the
  gradient step of lambda * sum theta^2 (its gradient is 2 * lambda * theta), taken on its own.
  Weights shrink in proportion to their size, so they get small but (almost) never exactly 0.
- Dropout: nn.Dropout after every hidden layer, active in model.train() only.
- Data augmentation: `InputJitter` adds fresh Gaussian noise to the inputs at every training step.
- Early stopping: stop when the validation loss has not improved for `patience` evaluations, and
  keep the weights of the best evaluation.

Training goes through the shared loop `bigmodel_core.train.fit` (SGD with momentum, full batch), with
the gradient's norm clipped at 0.3. Without the clip, ordinary settings diverged (dropout 0.2, 20 points,
noise 0.7: about half of the sliders' grid). Why: full-batch SGD with momentum beta is stable on a
quadratic only while lr * lambda_max < 2 (1 + beta) (Polyak's heavy ball), i.e. while the sharpness
lambda_max (the top Hessian eigenvalue) stays under 2 * 1.9 / 0.1 = 38 here. Training drives the
sharpness up to that edge ("progressive sharpening", Cohen et al. 2021, "Gradient descent on neural
networks typically occurs at the edge of stability"); measured on this MLP: 18 at step 0, 38 by step
300. Whatever adds curvature then tips it over: dropout scales the kept units by 1 / (1 - p), which
multiplies the output layer's curvature 2 * mean(h h^T) by about 1 / (1 - p) and makes every step's
gradient noisy; noisier targets and more points need sharper fits. One overshoot along the sharp
direction doubles the gradient, the next step overshoots further, and the weights reach 1e30 within
twenty steps. Clipping the gradient's norm at c bounds every step to lr * c / (1 - beta) = 0.3 in
weight space, so an overshoot cannot grow geometrically: the run bounces out to a flatter place and
goes on. The losses stay finite for every setting (tests/core/test_regularization_sweep.py sweeps the
sliders). Without regularization the clip acts on about 1 step in 10 (the first steps and the
bounces), so the left side still memorizes its points; with dropout or jitter it acts on most steps:
there it caps the step of a noisy gradient, like a smaller learning rate.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.device import device_for
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.mlp import InputJitter, WideMLP  # noqa: F401 (InputJitter: the page shows its code)
from bigmodel_core.train import TrainConfig, TrainHistory, fit

TASKS = ("curve", "moons")         # 1-D regression of a noisy curve; 2-D two-class "two moons"
LIVE_INTERVAL_S = 0.25            # the page redraws the live pictures at most this often (4 per s)
GRID = 48                          # the 2-D decision map is drawn on GRID x GRID points
CURVE_POINTS = 200                 # the fitted curve is drawn at this many x values
HIST_BINS = 41                     # bins of the weights' histogram
REPLAY_FRAMES = 40                 # evaluations kept per run for the replay slider


@dataclass(frozen=True)
class Slider:
    """A slider of the page: the values it lets the learner pick (the property tests sweep them)."""
    lo: float
    hi: float
    step: float

    def values(self) -> list[float]:
        n = round((self.hi - self.lo) / self.step)
        return [round(self.lo + i * self.step, 10) for i in range(n + 1)]


LAMBDAS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1)   # the L1 and L2 strength sliders
STEPS = (500, 1000, 1500, 2000, 3000)                       # the training-steps slider
SLIDERS = {"n_train": Slider(4, 100, 1), "noise": Slider(0.0, 1.0, 0.05), "dropout": Slider(0.0, 0.7, 0.05),
           "patience": Slider(0, 50, 5), "jitter": Slider(0.0, 0.5, 0.05)}


@dataclass(frozen=True)
class RegConfig:
    task: str = "curve"            # "curve" (regression, MSE) or "moons" (two classes, cross-entropy)
    n_train: int = 12              # training points: few, so the network can memorize them
    noise: float = 0.3             # std of the Gaussian noise on y (curve) or on the points (moons)
    l1: float = 1e-3               # lambda of L1 (applied as a proximal soft-threshold step)
    l2: float = 0.0                # lambda of L2 (applied as weight decay)
    dropout: float = 0.0           # dropout rate after every hidden layer
    patience: int = 0              # early stopping: evaluations without improvement; 0 = off
    jitter: float = 0.0            # data augmentation: std of Gaussian noise added to the inputs
    hidden: int = 64               # units per hidden layer (over-parameterized on purpose)
    depth: int = 2                 # hidden layers
    steps: int = 1500              # optimizer steps (full batch: one step = one epoch)
    lr: float = 0.1                # learning rate of SGD with momentum
    momentum: float = 0.9          # momentum of SGD
    grad_clip: float = 0.3         # scale the gradient's norm down to at most this (0 = off)
    optimizer: str = "momentum"    # "momentum" (SGD with momentum) or "adam"
    eval_every: int = 10           # steps between evaluations (and live updates)
    seed: int = 0                  # data, initial weights, dropout and jitter noise

    def baseline(self) -> "RegConfig":
        """The same run with every regularization switched off (the A/B partner)."""
        return replace(self, l1=0.0, l2=0.0, dropout=0.0, patience=0, jitter=0.0)

    @property
    def regularized(self) -> bool:
        return self != self.baseline()


def validate(cfg: RegConfig) -> None:
    """Refuse settings the page cannot train, with a message the learner can read."""
    if cfg.task not in TASKS:
        raise UserInputError("regularization.errors.task", task=cfg.task)
    if not 2 <= cfg.n_train <= 500:
        raise UserInputError("regularization.errors.n_train", lo=2, hi=500)
    for name in ("noise", "l1", "l2", "jitter"):
        value = getattr(cfg, name)
        if not (math.isfinite(value) and value >= 0):
            raise UserInputError("regularization.errors.negative", name=name)
    if not 0.0 <= cfg.dropout < 1.0:
        raise UserInputError("regularization.errors.dropout")


# ---------------------------------------------------------------------------------------------
# The data: few noisy training points, many validation points from the same distribution

def true_curve(x: torch.Tensor) -> torch.Tensor:
    """The function behind the 1-D task."""
    return torch.sin(3.0 * x)


def _moons(n: int, noise: float, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Two interleaving half circles (as scikit-learn's make_moons), labels 0 and 1, balanced."""
    y = torch.arange(n) % 2                                            # (n,) 0,1,0,1,...
    angle = torch.rand(n, generator=gen) * math.pi                     # (n,)
    upper = torch.stack([torch.cos(angle), torch.sin(angle)], 1)       # (n, 2)
    lower = torch.stack([1 - torch.cos(angle), 0.5 - torch.sin(angle)], 1)
    X = torch.where(y[:, None] == 0, upper, lower) - torch.tensor([0.5, 0.25])   # centred
    X = X + noise * torch.randn(n, 2, generator=gen)
    return X, y.float()


@dataclass
class Task:
    X_train: torch.Tensor          # (N, d) d = 1 (curve) or 2 (moons)
    y_train: torch.Tensor          # (N,) targets (curve) or 0/1 labels (moons)
    X_val: torch.Tensor            # (M, d)
    y_val: torch.Tensor            # (M,)
    X_show: torch.Tensor           # (CURVE_POINTS, 1) or (GRID*GRID, 2): where the fit is drawn
    extent: tuple[float, float, float, float]   # x0, x1, y0, y1 of the drawing


def make_task(task: str, n_train: int, noise: float, seed: int = 0, n_val: int = 400) -> Task:
    gen = torch.Generator().manual_seed(seed)
    if task == "curve":
        def sample(n):
            x = torch.rand(n, 1, generator=gen) * 2 - 1                 # (n, 1) in [-1, 1]
            return x, true_curve(x[:, 0]) + noise * torch.randn(n, generator=gen)
        X_train, y_train = sample(n_train)
        X_val, y_val = sample(n_val)
        X_show = torch.linspace(-1.1, 1.1, CURVE_POINTS)[:, None]      # (CURVE_POINTS, 1)
        return Task(X_train, y_train, X_val, y_val, X_show, (-1.1, 1.1, -2.0, 2.0))
    X_train, y_train = _moons(n_train, noise, gen)
    X_val, y_val = _moons(n_val, noise, gen)
    xlim, ylim = 1.9, 1.5
    gy, gx = torch.meshgrid(torch.linspace(-ylim, ylim, GRID), torch.linspace(-xlim, xlim, GRID),
                            indexing="ij")                             # (GRID, GRID) each, row = y
    X_show = torch.stack([gx.ravel(), gy.ravel()], 1)                  # (GRID*GRID, 2)
    return Task(X_train, y_train, X_val, y_val, X_show, (-xlim, xlim, -ylim, ylim))


# ---------------------------------------------------------------------------------------------
# The model: an MLP far bigger than the data, with dropout and input jitter as layers

# (WideMLP and InputJitter live in bigmodel_core.models.mlp)


def penalized_weights(model: nn.Module) -> list[torch.Tensor]:
    """The theta of the formulas: every Linear layer's weight matrix (biases are left alone)."""
    return [m.weight for m in model.modules() if isinstance(m, nn.Linear)]


def count_weights(model: nn.Module) -> int:
    return sum(w.numel() for w in penalized_weights(model))


# ---------------------------------------------------------------------------------------------
# The two penalties, as the course text writes them, and how they are applied

def l1_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """lambda * sum_i |theta_i|  (course text 2 §3.3.3)."""
    return lam * sum(w.abs().sum() for w in penalized_weights(model))


def l2_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """lambda * sum_i theta_i^2  (course text 2 §3.3.3)."""
    return lam * sum((w * w).sum() for w in penalized_weights(model))


@torch.no_grad()
def soft_threshold_(model: nn.Module, threshold: float) -> None:
    """L1's proximal step: theta <- sign(theta) * max(|theta| - threshold, 0), in place."""
    for w in penalized_weights(model):
        w.copy_(w.sign() * (w.abs() - threshold).clamp_min(0.0))


@torch.no_grad()
def weight_decay_(model: nn.Module, factor: float) -> None:
    """L2 as weight decay: theta <- theta * (1 - factor), in place (factor = lr * 2 * lambda)."""
    for w in penalized_weights(model):
        w.mul_(1.0 - factor)


def loss_fn(task: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """J(theta): mean squared error for the curve, binary cross-entropy (on logits) for the moons."""
    return F.mse_loss if task == "curve" else F.binary_cross_entropy_with_logits


# ---------------------------------------------------------------------------------------------
# A training run, with snapshots for the live pictures

class Throttle:
    """When to redraw live pictures: at most every `interval` seconds, and never more than half the
    time, so drawing cannot starve training (the gap after a draw is at least as long as the draw)."""

    def __init__(self, interval: float = LIVE_INTERVAL_S, clock: Callable[[], float] = time.perf_counter):
        self.interval, self.clock = interval, clock
        self.next_at = -math.inf
        self.updates = 0

    def ready(self) -> bool:
        return self.clock() >= self.next_at

    def drew(self, started: float) -> None:
        """Call after a draw that began at `started` (a value of the same clock)."""
        took = self.clock() - started
        self.next_at = started + max(self.interval, 2 * took)
        self.updates += 1


@dataclass
class Snapshot:
    """What the page draws after an evaluation."""
    step: int
    train_loss: float              # J on the clean training points (eval mode, no dropout)
    val_loss: float                # J on the validation points
    penalty_l1: float              # lambda_1 * sum |theta| with the current weights
    penalty_l2: float              # lambda_2 * sum theta^2
    sum_abs: float                 # sum |theta|
    sum_sq: float                  # sum theta^2
    zeros: int                     # weights that are exactly 0.0
    weights: np.ndarray            # every penalized weight, flattened (for the histogram)
    prediction: np.ndarray         # the model on task.X_show (curve values or P(class 1))

    @property
    def finite(self) -> bool:
        """Every number the page draws is finite (a diverging run's are not)."""
        return all(math.isfinite(v) for v in (self.train_loss, self.val_loss, self.penalty_l1,
                                              self.penalty_l2, self.sum_abs, self.sum_sq)) \
            and bool(np.isfinite(self.weights).all() and np.isfinite(self.prediction).all())


def histogram_counts(weights: np.ndarray, bins: int = HIST_BINS) -> tuple[float, np.ndarray, int]:
    """(edge, counts (bins,), zeros): the non-zero weights in `bins` equal bins over [-edge, edge],
    edge = the largest |weight|, and the count of exact zeros (L1's proximal step makes them)."""
    w = np.asarray(weights, dtype=np.float64)
    w = w[np.isfinite(w)]
    zeros = int((w == 0).sum())
    nz = w[w != 0]
    edge = float(np.abs(nz).max()) if nz.size else 1.0
    counts, _ = np.histogram(nz, bins=bins, range=(-edge, edge))
    return edge, counts, zeros


def decision_edges(p: np.ndarray) -> np.ndarray:
    """The cells of a (G, G) map of P(class 1) where the predicted class flips to the right or above:
    the decision boundary P = 0.5, drawn cell by cell. (components/regularization_replay.js: boundary.)"""
    cls = np.nan_to_num(p, nan=0.5) > 0.5                                 # (G, G) the predicted class
    edge = np.zeros_like(cls)
    edge[:, :-1] |= cls[:, :-1] != cls[:, 1:]
    edge[:-1, :] |= cls[:-1, :] != cls[1:, :]
    return edge


@dataclass(frozen=True)
class Frame:
    """One evaluation kept for the replay: a Snapshot's numbers and pictures, compact (no weights)."""
    step: int
    train_loss: float
    val_loss: float
    sum_abs: float                 # sum |theta|
    sum_sq: float                  # sum theta^2
    zeros: int                     # weights exactly 0.0
    n_weights: int
    hist_edge: float               # the histogram's bins span [-hist_edge, hist_edge]
    hist_counts: np.ndarray        # (HIST_BINS,) counts of the non-zero weights
    prediction: np.ndarray         # float32: the model on task.X_show


def frame_of(snap: Snapshot) -> Frame:
    edge, counts, zeros = histogram_counts(snap.weights)
    return Frame(snap.step, snap.train_loss, snap.val_loss, snap.sum_abs, snap.sum_sq, zeros, int(snap.weights.size),
                 edge, counts, np.asarray(snap.prediction, dtype=np.float32))


class FrameKeeper:
    """At most `max_frames` evaluations, evenly spread over a run of unknown length: every stride-th
    one is kept, and when the list is full every other one is dropped and the stride doubles."""

    def __init__(self, max_frames: int = REPLAY_FRAMES):
        self.max_frames, self.stride, self.seen = max_frames, 1, 0
        self.frames: list[Frame] = []

    def add(self, snap: Snapshot) -> None:
        if self.seen % self.stride == 0:
            self.frames.append(frame_of(snap))
            if len(self.frames) > self.max_frames:
                self.frames = self.frames[::2]
                self.stride *= 2
        self.seen += 1

    def finish(self, final: Snapshot) -> list[Frame]:
        """The kept frames, ending with the model the run keeps (the best one after early stopping)."""
        frames = [f for f in self.frames if f.step < final.step]
        return frames + [frame_of(final)]


def frame_at(steps, step: float) -> int:
    """Which frame the replay shows at `step`: the last one at or before it (the first when none is)."""
    return max(0, int(np.searchsorted(np.asarray(steps), step, side="right")) - 1)


def replay_arrays(frames: list[Frame]) -> dict[str, np.ndarray]:
    """The frames as flat arrays for the browser: steps, losses, sums, zeros (F,), hist (F, HIST_BINS),
    hist_edge (F,), prediction (F, P)."""
    return {"step": np.array([f.step for f in frames], dtype=np.float32),
            "train_loss": np.array([f.train_loss for f in frames], dtype=np.float64),
            "val_loss": np.array([f.val_loss for f in frames], dtype=np.float64),
            "sum_abs": np.array([f.sum_abs for f in frames], dtype=np.float64),
            "sum_sq": np.array([f.sum_sq for f in frames], dtype=np.float64),
            "zeros": np.array([f.zeros for f in frames], dtype=np.float32),
            "hist_edge": np.array([f.hist_edge for f in frames], dtype=np.float32),
            "hist": np.stack([f.hist_counts for f in frames]).astype(np.float32),
            "prediction": np.stack([f.prediction for f in frames]).astype(np.float32)}


def untrained_snapshot(cfg: RegConfig, task: Task | None = None) -> Snapshot:
    """The network before training (the same on both sides: the init ignores the regularization)."""
    task = task or make_task(cfg.task, cfg.n_train, cfg.noise, cfg.seed)
    model = WideMLP(task.X_train.shape[1], cfg.hidden, cfg.depth, cfg.dropout, cfg.jitter, cfg.seed).eval()
    with torch.no_grad():
        return snapshot(model, task, cfg, 0)


@dataclass
class RunResult:
    config: RegConfig
    history: TrainHistory
    curve: pd.DataFrame            # step, train_loss, val_loss: one row per evaluation
    final: Snapshot                # the model the run keeps (best one if early stopping fired)
    best_step: int                 # the evaluation whose weights are kept
    stopped_early: bool
    task: Task = field(repr=False)
    model: nn.Module = field(repr=False)
    frames: list[Frame] = field(default_factory=list, repr=False)   # for the replay (FrameKeeper)


def snapshot(model: nn.Module, task: Task, cfg: RegConfig, step: int) -> Snapshot:
    """Measure the model as it is now (the caller puts it in eval mode, under no_grad)."""
    J = loss_fn(cfg.task)
    device = next(model.parameters()).device
    out_show = model(task.X_show.to(device))
    pred = out_show if cfg.task == "curve" else torch.sigmoid(out_show)
    w = torch.cat([p.detach().flatten() for p in penalized_weights(model)])
    return Snapshot(
        step=step,
        train_loss=float(J(model(task.X_train.to(device)), task.y_train.to(device))),
        val_loss=float(J(model(task.X_val.to(device)), task.y_val.to(device))),
        penalty_l1=float(l1_penalty(model, cfg.l1)), penalty_l2=float(l2_penalty(model, cfg.l2)),
        sum_abs=float(w.abs().sum()), sum_sq=float((w * w).sum()),
        zeros=int((w == 0).sum()), weights=w.cpu().numpy(), prediction=pred.cpu().numpy())


def train_run(cfg: RegConfig, *, on_snapshot: Callable[[Snapshot], None] | None = None,
              should_stop: Callable[[], bool] | None = None, l1_mode: str = "proximal",
              device: torch.device | None = None) -> RunResult:
    """Train the over-parameterized MLP with the regularizations of `cfg`, through train.fit.

    l1_mode: "proximal" (soft-threshold after each step: exact zeros) or "penalty" (lambda*|theta|
    added to the loss; its subgradient sign(theta) only makes weights hover near 0).
    """
    validate(cfg)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)              # a 4k-weight MLP: thread wake-ups would cost more than the math
    try:
        with torch.random.fork_rng(devices=[]):                # dropout masks repeat with the seed
            torch.manual_seed(cfg.seed)
            return _train_run(cfg, on_snapshot, should_stop, l1_mode, device or device_for("regularization"))   # tiny MLP: the CPU on purpose
    finally:
        torch.set_num_threads(threads)


def _train_run(cfg: RegConfig, on_snapshot, should_stop, l1_mode: str, device: torch.device) -> RunResult:
    task = make_task(cfg.task, cfg.n_train, cfg.noise, cfg.seed)
    d_in = task.X_train.shape[1]
    model = WideMLP(d_in, cfg.hidden, cfg.depth, cfg.dropout, cfg.jitter, cfg.seed).to(device)
    J = loss_fn(cfg.task)
    train_cfg = TrainConfig(epochs=cfg.steps, lr=cfg.lr, batch_size=cfg.n_train, optimizer=cfg.optimizer,
                            momentum=cfg.momentum, seed=cfg.seed, grad_clip=cfg.grad_clip, eval_every=cfg.eval_every,
                            report_every=cfg.eval_every)

    def penalty(m: nn.Module) -> torch.Tensor:                 # L1 in the loss (the "naive" way)
        return l1_penalty(m, cfg.l1)

    done = {"steps": 0}

    def after_step(m: nn.Module) -> None:                      # the proximal / decay steps
        done["steps"] += 1
        if cfg.l1 and l1_mode == "proximal":
            soft_threshold_(m, cfg.lr * cfg.l1)
        if cfg.l2:
            weight_decay_(m, cfg.lr * 2 * cfg.l2)

    rows: list[dict] = []
    keeper = FrameKeeper()
    best = {"val": math.inf, "step": 0, "state": None, "snap": None, "since": 0}
    last = {"snap": None}                                      # the last snapshot with finite numbers

    def evaluate(m: nn.Module) -> dict[str, float]:
        step = done["steps"]
        snap = snapshot(m, task, cfg, step)
        if not snap.finite:
            return {"val_loss": snap.val_loss}
        last["snap"] = snap
        keeper.add(snap)
        rows.append({"step": step, "train_loss": snap.train_loss, "val_loss": snap.val_loss})
        if snap.val_loss < best["val"]:
            best.update(val=snap.val_loss, step=step, since=0, snap=snap,
                        state=copy.deepcopy(m.state_dict()) if cfg.patience else None)
        else:
            best["since"] += 1
        if on_snapshot:
            on_snapshot(snap)
        return {"val_loss": snap.val_loss, "train_loss_clean": snap.train_loss}

    def stop() -> bool:
        if should_stop and should_stop():
            return True
        return bool(cfg.patience) and best["since"] >= cfg.patience

    # the untrained model is the first point of every curve
    model.eval()
    with torch.no_grad():
        evaluate(model)
    hist = fit(model, (task.X_train, task.y_train), train_cfg, loss_fn=J, evaluate=evaluate,
               should_stop=stop, penalty=penalty if (cfg.l1 and l1_mode == "penalty") else None,
               after_step=after_step, device=device)
    stopped_early = hist.reason == "stopped" and bool(cfg.patience) and best["since"] >= cfg.patience
    if stopped_early and best["state"] is not None:            # keep the best weights
        model.load_state_dict(best["state"])
    model.eval()
    with torch.no_grad():
        final = snapshot(model, task, cfg, done["steps"])
    if hist.diverged or not final.finite:                      # draw the last finite state, never inf
        final = last["snap"]
    if stopped_early:
        final.step = best["step"]
    curve = pd.DataFrame(rows)
    return RunResult(cfg, hist, curve, final, best["step"] if stopped_early else final.step,
                     stopped_early, task, model, keeper.finish(final))
