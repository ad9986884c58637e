"""One training loop for every page (course text 2 §3.3: forward, loss, backward, step; course text 1 §4.1).

    history = fit(model, (X, y), TrainConfig(epochs=3, lr=1e-3), loss_fn=F.cross_entropy,
                  evaluate=lambda m: {"test_acc": accuracy(m, X_test, y_test)},
                  on_progress=print, should_stop=lambda: stop_clicked)

- Device-aware: the model and the data move to `device` (get_device() by default).
- Progress: `on_progress(TrainEvent)` after every `report_every` steps and after every evaluation.
- Stoppable: `should_stop()` is polled every step; the loop ends cleanly with reason "stopped".
- Divergence: the run ends with reason "diverged" and the step number, before the optimizer applies
  the step, when the loss or the gradient is not finite, or when the loss has grown past
  `diverge_factor` times the first step's loss (or times 1, if that was smaller). Waiting for inf is too late: a cross-entropy on
  logits of 1e6 is still finite (the CNN at lr 100 "finished" at loss 1e13), and an MSE reaches inf
  only after the weights are ~1e19. The model keeps its last weights, which are finite.
- Gradient clipping (`grad_clip`, as nanoGPT's train.py): the gradient's global norm is scaled down
  to at most grad_clip before each step (Pascanu et al. 2013, "On the difficulty of training RNNs",
  §3.2), so one step moves the weights by at most lr * grad_clip (lr * grad_clip / (1 - beta) with
  momentum beta): an overshoot cannot grow geometrically.
- Regularization hooks: `penalty(model)` is added to the loss (e.g. L1, or an L2 sum written out);
  `after_step(model)` runs after each optimizer step (e.g. L1's proximal soft-threshold).
- Synchronisation (issue 16): reading a loss (`.item()`) makes the CPU wait for the GPU, so on an
  accelerator the loop keeps the losses and gradient norms on the device and reads them every
  `sync_every` steps (default: report_every) or every SYNC_SECONDS, in one copy. The checks are the
  same, only later: when a read shows a bad step k, the loop restores the weights, optimizer state
  and random state of the previous read and replays the good steps up to k, so the model ends with
  exactly the weights before step k, as on the CPU, where the loss is read every step (free there).
  So `penalty` and `after_step` must depend on the model alone: a replayed step calls them again.
- After the run, `outcome(history, ...)` says what the learner should be told: it finished and
  learned, it was stopped, it diverged, or it finished no better than guessing.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace
from typing import Callable

import torch
from torch import nn

from bigmodel_core.device import get_device

OPTIMIZERS = ("sgd", "momentum", "adam")
SYNC_SECONDS = 0.2              # on an accelerator: read the device's losses at least this often


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 1             # passes over the training data
    lr: float = 1e-3            # learning rate
    batch_size: int = 64        # samples per step
    optimizer: str = "adam"     # "sgd", "momentum" (SGD with momentum) or "adam"
    momentum: float = 0.9       # used by "momentum"
    weight_decay: float = 0.0   # L2 as decoupled weight decay (the optimizer's own)
    seed: int = 0               # shuffling (and, if the caller seeds the model with it, init)
    max_steps: int | None = None  # stop after this many steps even mid-epoch
    report_every: int = 10      # steps between progress reports
    eval_every: int | None = None  # steps between evaluations; None = at each epoch's end
    grad_clip: float = 0.0      # scale the gradient's global norm down to this before a step; 0 = off
    diverge_factor: float = 1e3  # a loss above this many times the first step's loss = diverged


@dataclass
class TrainEvent:
    """What a progress callback receives."""
    step: int                   # optimizer steps taken so far
    total_steps: int            # steps the run will take if nothing stops it
    epoch: int                  # 0-based epoch of the last step
    train_loss: float           # mean training loss since the previous report
    metrics: dict[str, float] | None = None  # evaluation results, when this event follows one
    elapsed_s: float = 0.0

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / max(1, self.total_steps))


@dataclass
class TrainHistory:
    steps: list[int] = field(default_factory=list)          # step of each train_loss entry
    train_loss: list[float] = field(default_factory=list)   # mean loss over each report interval
    evals: list[dict[str, float]] = field(default_factory=list)  # {"step": .., "epoch": .., metrics}
    reason: str = "finished"    # "finished", "stopped" or "diverged"
    diverged_at: int | None = None  # the step whose loss or gradient was not finite, or exploded
    diverged_how: str | None = None  # "nonfinite" (inf / NaN) or "exploded" (> diverge_factor x first)
    first_loss: float | None = None  # the loss of the first step (the yardstick of "exploded")
    diverged_loss: float | None = None  # the loss that ended the run (may be inf or NaN)
    clipped_steps: int = 0      # steps whose gradient norm was scaled down to grad_clip
    seconds: float = 0.0
    samples_seen: int = 0

    @property
    def diverged(self) -> bool:
        return self.reason == "diverged"


def make_optimizer(params, config: TrainConfig) -> torch.optim.Optimizer:
    """The optimizers the course texts use: plain SGD, SGD with momentum, Adam (weight decay as L2)."""
    name = config.optimizer
    if name == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    if name == "adam":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay) \
            if config.weight_decay else torch.optim.Adam(params, lr=config.lr)
    raise ValueError(f"unknown optimizer {name!r}; expected one of {OPTIMIZERS}")


def _grad_norm(params: list[torch.Tensor]) -> tuple[float, list[torch.Tensor]]:
    """The gradient's global L2 norm ||g|| over every parameter, and the gradients themselves."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0, grads
    norms = torch._foreach_norm(grads)                       # one norm per tensor, fused
    return float(torch.linalg.vector_norm(torch.stack(norms))), grads


def _grad_norm_tensor(params: list[torch.Tensor]) -> tuple[torch.Tensor | None, list[torch.Tensor]]:
    """The same norm as a 0-d tensor left on the device (no synchronisation)."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return None, grads
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))), grads


def _prepare(model: nn.Module, train_data, config: TrainConfig, optimizer, device: torch.device):
    """Both loops start alike: model and data on the device, the optimizer, the step budget."""
    model.to(device)
    X, y = train_data[0].to(device), train_data[1].to(device)
    N = X.shape[0]
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer or make_optimizer(params, config)
    steps_per_epoch = math.ceil(N / config.batch_size)
    total = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    return X, y, N, params, opt, steps_per_epoch, total


def _next_batch(order: torch.Tensor, i: int, batch_size: int, step: int, total: int, should_stop, hist):
    """The i-th mini-batch of this epoch's shuffle, or None when training ends here: the step budget
    is spent, or the learner pressed Stop (then hist.reason says so)."""
    if step >= total:
        return None
    if should_stop and should_stop():
        hist.reason = "stopped"
        return None
    return order[i * batch_size:(i + 1) * batch_size]


def _diverge_limit(config: TrainConfig, first: float) -> float:
    """The loss past which a run has diverged: diverge_factor x the first loss, with a yardstick of at
    least 1 (a run that starts almost solved, e.g. a federated client whose two classes the global model
    already knows at first loss 0.001, may rise to a loss of 1 without having exploded)."""
    return config.diverge_factor * max(first, 1.0)


def _evaluate_into(hist: "TrainHistory", model: nn.Module, evaluate, step: int, epoch: int) -> dict[str, float]:
    """evaluate(model) in eval mode under no_grad, appended to hist.evals at (step, epoch)."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        metrics = {k: float(v) for k, v in evaluate(model).items()}
    model.train(was_training)
    hist.evals.append({"step": step, "epoch": epoch, **metrics})
    return metrics


def _report(hist: "TrainHistory", running: float, n_running: int, event: "TrainEvent", on_progress) -> None:
    """Close a reporting window: its mean loss into hist, then the event (with that loss) to on_progress."""
    if n_running:
        hist.steps.append(event.step)
        hist.train_loss.append(running / n_running)
    if on_progress:
        on_progress(replace(event, train_loss=hist.train_loss[-1] if hist.train_loss else float("nan")))


def fit(model: nn.Module, train_data: tuple[torch.Tensor, torch.Tensor], config: TrainConfig, *,
        loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
        on_progress: Callable[[TrainEvent], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
        penalty: Callable[[nn.Module], torch.Tensor] | None = None,
        after_step: Callable[[nn.Module], None] | None = None,
        optimizer: torch.optim.Optimizer | None = None,
        device: torch.device | None = None, sync_every: int | None = None) -> TrainHistory:
    """Train `model` in place on (X, y) with mini-batches; returns the history.

    loss_fn(model(X_batch), y_batch) -> scalar. `evaluate(model)` runs under torch.no_grad() with
    the model in eval mode and must return plain floats. sync_every: steps between reads of the
    device's losses (module docstring); default 1 on the CPU, report_every on an accelerator.
    """
    device = device or get_device()
    if sync_every is None:
        sync_every = 1 if device.type == "cpu" else max(1, config.report_every)
    if sync_every > 1:
        return _fit_deferred(model, train_data, config, loss_fn=loss_fn, evaluate=evaluate,
                             on_progress=on_progress, should_stop=should_stop, penalty=penalty,
                             after_step=after_step, optimizer=optimizer, device=device, sync_every=sync_every)
    X, y, N, params, opt, steps_per_epoch, total = _prepare(model, train_data, config, optimizer, device)
    gen = torch.Generator().manual_seed(config.seed)
    hist = TrainHistory()
    t0 = time.perf_counter()
    step, running, n_running, epoch = 0, 0.0, 0, 0

    def run_eval() -> dict[str, float]:
        return _evaluate_into(hist, model, evaluate, step, epoch)

    def diverge(at: int, loss_value: float, how: str | None = None) -> None:
        hist.reason, hist.diverged_at, hist.diverged_loss = "diverged", at, loss_value
        hist.diverged_how = how or ("nonfinite" if not math.isfinite(loss_value) else "exploded")

    def report(metrics=None):
        nonlocal running, n_running
        _report(hist, running, n_running, TrainEvent(step, total, epoch, float("nan"), metrics, time.perf_counter() - t0),
                on_progress)
        running, n_running = 0.0, 0

    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(N, generator=gen).to(device)
        for i in range(steps_per_epoch):
            idx = _next_batch(order, i, config.batch_size, step, total, should_stop, hist)
            if idx is None:
                break
            xb, yb = X[idx], y[idx]
            loss = loss_fn(model(xb), yb)
            if penalty is not None:
                loss = loss + penalty(model)
            opt.zero_grad(set_to_none=True)
            loss_value = loss.item()
            if hist.first_loss is None:
                hist.first_loss = loss_value
            if not math.isfinite(loss_value) or loss_value > _diverge_limit(config, hist.first_loss):
                diverge(step + 1, loss_value)
                break
            loss.backward()
            norm, grads = _grad_norm(params)
            if not math.isfinite(norm):
                diverge(step + 1, loss_value, "nonfinite")
                break
            if config.grad_clip and norm > config.grad_clip:  # g <- g * c / ||g||
                torch._foreach_mul_(grads, config.grad_clip / (norm + 1e-6))
                hist.clipped_steps += 1
            opt.step()
            if after_step is not None:
                with torch.no_grad():
                    after_step(model)
            step += 1
            hist.samples_seen += xb.shape[0]
            running += loss_value
            n_running += 1
            if config.eval_every and evaluate and step % config.eval_every == 0:
                report(run_eval())
            elif step % config.report_every == 0:
                report()
        if hist.reason != "finished" or step >= total:
            break                                            # the final evaluation follows below
        if evaluate and not config.eval_every:
            report(run_eval())
    if n_running:
        report()
    if evaluate and hist.reason != "diverged" and (not hist.evals or hist.evals[-1]["step"] != step):
        report(run_eval())
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


def _fit_deferred(model, train_data, config: TrainConfig, *, loss_fn, evaluate, on_progress, should_stop,
                  penalty, after_step, optimizer, device: torch.device, sync_every: int) -> TrainHistory:
    """fit() with the losses read every sync_every steps (the module docstring's "Synchronisation").

    Same history, same weights as reading every step: pending steps are checked at each read; a bad
    one rolls the run back to the last read's checkpoint and replays the good steps before it.
    """
    X, y, N, params, opt, steps_per_epoch, total = _prepare(model, train_data, config, optimizer, device)
    gen = torch.Generator().manual_seed(config.seed)
    hist = TrainHistory()
    t0 = time.perf_counter()
    step, running, n_running, epoch = 0, 0.0, 0, 0
    pending: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]] = []   # (idx, loss, grad norm)
    last_sync = time.perf_counter()

    def rng_state():
        return (torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None)

    def checkpoint():
        """Weights, optimizer state and random state after the last read (all steps good)."""
        return ([p.detach().clone() for p in model.parameters()], copy.deepcopy(opt.state_dict()), rng_state())

    def take_step(idx: torch.Tensor):
        """forward, loss, backward, clip, step: no read of any device value."""
        xb, yb = X[idx], y[idx]
        loss = loss_fn(model(xb), yb)
        if penalty is not None:
            loss = loss + penalty(model)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        norm, grads = _grad_norm_tensor(params)
        if config.grad_clip and norm is not None:              # g <- g * min(1, c / ||g||), on the device
            torch._foreach_mul_(grads, (config.grad_clip / (norm.double() + 1e-6)).clamp(max=1.0))   # fp64 as float()
        opt.step()
        if after_step is not None:
            with torch.no_grad():
                after_step(model)
        return loss.detach(), norm

    def read() -> bool:
        """Check every pending step (one device-to-host copy); False if one of them was bad."""
        nonlocal step, running, n_running, ckpt, last_sync
        if not pending:
            return True
        zero = pending[0][1].new_zeros(())
        values = torch.stack([torch.stack([l.float(), (n if n is not None else zero).float()])
                              for _, l, n in pending]).tolist()          # (P, 2): the one synchronisation
        first_step = step - len(pending) + 1
        for k, (loss_value, norm) in enumerate(values):
            if hist.first_loss is None:
                hist.first_loss = loss_value
            bad = None
            if not math.isfinite(loss_value) or loss_value > _diverge_limit(config, hist.first_loss):
                bad = "nonfinite" if not math.isfinite(loss_value) else "exploded"
            elif not math.isfinite(norm):
                bad = "nonfinite"
            if bad:
                hist.reason, hist.diverged_at = "diverged", first_step + k
                hist.diverged_loss, hist.diverged_how = loss_value, bad
                weights, opt_state, (cpu_rng, dev_rng) = ckpt        # roll back to the last read ...
                with torch.no_grad():
                    for p, w in zip(model.parameters(), weights):
                        p.copy_(w)
                opt.load_state_dict(opt_state)
                torch.set_rng_state(cpu_rng)
                if dev_rng is not None:
                    torch.cuda.set_rng_state(dev_rng, device)
                for idx, _, _ in pending[:k]:                        # ... and replay the good steps
                    take_step(idx)
                step = first_step + k - 1
                hist.samples_seen -= sum(int(idx.numel()) for idx, _, _ in pending[k:])
                pending.clear()
                return False
            if config.grad_clip and norm > config.grad_clip:
                hist.clipped_steps += 1
            running += loss_value
            n_running += 1
        pending.clear()
        ckpt = checkpoint()
        last_sync = time.perf_counter()
        return True

    def run_eval() -> dict[str, float]:
        return _evaluate_into(hist, model, evaluate, step, epoch)

    def report(metrics=None):
        nonlocal running, n_running
        _report(hist, running, n_running, TrainEvent(step, total, epoch, float("nan"), metrics, time.perf_counter() - t0),
                on_progress)
        running, n_running = 0.0, 0

    model.train()
    ckpt = checkpoint()
    for epoch in range(config.epochs):
        order = torch.randperm(N, generator=gen).to(device)
        for i in range(steps_per_epoch):
            idx = _next_batch(order, i, config.batch_size, step, total, should_stop, hist)
            if idx is None:
                break
            pending.append((idx, *take_step(idx)))
            step += 1
            hist.samples_seen += int(idx.numel())
            eval_due = bool(config.eval_every and evaluate and step % config.eval_every == 0)
            report_due = step % config.report_every == 0
            if (eval_due or report_due or step % sync_every == 0 or step == 1
                    or time.perf_counter() - last_sync >= SYNC_SECONDS):
                if not read():
                    break
                if eval_due:
                    report(run_eval())
                elif report_due:
                    report()
        if hist.reason == "finished" and not read():
            break
        if hist.reason != "finished" or step >= total:
            break                                            # the final evaluation follows below
        if evaluate and not config.eval_every:
            report(run_eval())
    if hist.reason != "diverged":
        read()
    if n_running:
        report()
    if evaluate and hist.reason != "diverged" and (not hist.evals or hist.evals[-1]["step"] != step):
        report(run_eval())
    model.eval()
    hist.seconds = time.perf_counter() - t0
    return hist


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> float:
    """Share of samples whose arg-max prediction equals the label."""
    device = next(model.parameters()).device
    correct = 0
    for i in range(0, X.shape[0], batch_size):
        logits = model(X[i:i + batch_size].to(device))
        correct += (logits.argmax(-1).cpu() == y[i:i + batch_size].cpu()).sum().item()
    return correct / X.shape[0]


def guessing_accuracy(labels: torch.Tensor) -> float:
    """The best accuracy without looking at the input: always answer the most common label."""
    return float(torch.bincount(labels.flatten().long()).max()) / labels.numel()


def guessing_bound(chance: float, n: int, z: float = 3.0) -> float:
    """Accuracy a guesser can still reach on n samples by luck: chance + z standard errors,
    sqrt(chance * (1 - chance) / n) (a binomial proportion). Below it, a run learned nothing."""
    return chance + z * math.sqrt(chance * (1 - chance) / max(1, n))


def outcome(history: TrainHistory, *, accuracy: float | None = None, chance: float | None = None,
            n_eval: int = 1) -> str:
    """What a finished run amounts to: "diverged", "stopped", "chance" (it finished, but its
    accuracy is no better than guessing: the steps undid themselves or never moved) or "learned"."""
    if history.reason in ("diverged", "stopped"):
        return history.reason
    if accuracy is not None and chance is not None and (
            not math.isfinite(accuracy) or accuracy <= guessing_bound(chance, n_eval)):
        return "chance"
    return "learned"
