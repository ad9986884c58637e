"""Adversarial examples and adversarial training on the course CNN (course text 4: security and attacks).

    x_adv = fgsm(model, x, y, eps=0.1)                          # (N, 1, 28, 28), still in [0, 1]
    x_adv = fgsm_targeted(model, x, target, eps=0.1)            # push towards class `target`
    x_adv = pgd(model, x, y, eps=0.1, alpha=0.02, steps=10)     # many small FGSM steps, projected
    rows = accuracy_vs_eps(model, X, y, (0, 0.05, 0.1, 0.2))    # held-out accuracy under attack

- FGSM, the fast gradient sign method (Goodfellow, Shlens & Szegedy 2015, "Explaining and Harnessing
  Adversarial Examples"):  x_adv = clip_[0,1]( x + eps * sign(grad_x L(f(x), y)) )  with L the
  cross-entropy. One backward pass; every pixel moves by exactly eps (unless the clip stops it), the
  direction that raises the loss fastest under a max-norm budget ||x_adv - x||_inf <= eps.
- Targeted FGSM (Kurakin, Goodfellow & Bengio 2017): step *down* the loss of a chosen class t,
  x_adv = clip(x - eps * sign(grad_x L(f(x), t))).
- PGD, projected gradient descent (Madry et al. 2018): `steps` FGSM steps of size alpha, each
  followed by a projection back into the eps-ball around x and into [0, 1]. Stronger than one step.
- Adversarial training (Goodfellow et al. 2015 §6): train on a mix of clean digits and FGSM digits
  made against the current weights, L = 1/2 L(f(x), y) + 1/2 L(f(x_adv), y).

Pixels are in [0, 1] (the CNN standardizes inside its forward), so eps is a fraction of full
brightness: eps = 0.1 moves each pixel by at most 25.5 grey levels out of 255.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.train import TrainConfig, accuracy, fit, make_optimizer

MAX_EPS = 0.5        # beyond half of full brightness an "attack" just paints a new image
MAX_PGD_STEPS = 50
ATTACKS = ("fgsm", "pgd")


def check_eps(eps: float) -> float:
    """eps must be a number in [0, MAX_EPS]; anything else is a learner's mistake, not a crash."""
    try:
        eps = float(eps)
    except (TypeError, ValueError):
        raise UserInputError("robustness.errors.eps", eps=eps, max_eps=MAX_EPS) from None
    if not math.isfinite(eps) or not 0.0 <= eps <= MAX_EPS:
        raise UserInputError("robustness.errors.eps", eps=eps, max_eps=MAX_EPS)
    return eps


def input_gradient(model: nn.Module, x: torch.Tensor, y: torch.Tensor, *, return_logits: bool = False):
    """grad_x of the summed cross-entropy L(f(x), y): (N, 1, 28, 28), one backward pass.

    The sum (not the mean) gives each digit its own gradient, unscaled by the batch size; the sign,
    which is all FGSM uses, is the same either way. The model's weights get no gradient.
    return_logits: also return f(x) (N, 10) from the same forward pass.
    """
    device = next(model.parameters()).device
    with torch.enable_grad():                                   # works inside a caller's no_grad too
        x = x.detach().to(device).clone().requires_grad_(True)
        logits = model(x)                                       # (N, 10)
        loss = F.cross_entropy(logits, y.to(device), reduction="sum")
        grad, = torch.autograd.grad(loss, x)                   # only d loss / d x, weights untouched
    return (grad, logits.detach()) if return_logits else grad


def fgsm(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """FGSM: x_adv = clamp(x + eps * sign(grad_x CE(f(x), y)), 0, 1). x: (N, 1, H, W) in [0, 1]."""
    eps = check_eps(eps)
    grad = input_gradient(model, x, y)                          # (N, 1, H, W)
    return (x.to(grad.device) + eps * grad.sign()).clamp(0.0, 1.0).detach()


def fgsm_targeted(model: nn.Module, x: torch.Tensor, target: torch.Tensor | int, eps: float) -> torch.Tensor:
    """Targeted FGSM: step down the loss of class `target`, x_adv = clamp(x - eps * sign(grad), 0, 1)."""
    eps = check_eps(eps)
    target = _as_labels(target, x.shape[0])
    grad = input_gradient(model, x, target)
    return (x.to(grad.device) - eps * grad.sign()).clamp(0.0, 1.0).detach()


def pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor | int, eps: float, *, alpha: float | None = None,
        steps: int = 10, targeted: bool = False) -> torch.Tensor:
    """PGD (Madry et al. 2018): `steps` signed-gradient steps of size alpha, each projected back into
    the box |x_adv - x| <= eps and into [0, 1]. targeted: y is the class to reach (steps go down).

    alpha defaults to 2.5 * eps / steps, so the walk can reach the edge of the box and move along it.
    """
    eps = check_eps(eps)
    if not 1 <= int(steps) <= MAX_PGD_STEPS:
        raise UserInputError("robustness.errors.steps", steps=steps, max_steps=MAX_PGD_STEPS)
    alpha = 2.5 * eps / steps if alpha is None else float(alpha)
    y = _as_labels(y, x.shape[0])
    x0 = x.detach().to(next(model.parameters()).device)
    sign = -1.0 if targeted else 1.0
    x_adv = x0.clone()
    for _ in range(int(steps)):
        grad = input_gradient(model, x_adv, y)
        x_adv = x_adv + sign * alpha * grad.sign()                               # one FGSM step
        x_adv = torch.max(torch.min(x_adv, x0 + eps), x0 - eps).clamp(0.0, 1.0)  # project: box, then [0, 1]
    return x_adv.detach()


def _as_labels(y, n: int) -> torch.Tensor:
    if isinstance(y, int):
        return torch.full((n,), y, dtype=torch.long)
    return y.long()


# ---------------------------------------------------------------------------------------------
# Accuracy under attack

@torch.no_grad()
def _correct(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch: int = 1000) -> torch.Tensor:
    pred = torch.cat([model(x[i:i + batch]).argmax(-1) for i in range(0, len(x), batch)])
    return pred.cpu() == y.cpu()


def accuracy_vs_eps(model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps_values, *,
                    attack: str = "fgsm", pgd_steps: int = 10) -> list[dict]:
    """Held-out accuracy under FGSM (or PGD) for each eps: [{"eps", "accuracy", "flipped"}, ...].

    FGSM's direction sign(grad_x L) does not depend on eps, so it is computed once (one backward pass
    over X) and every eps costs only a forward pass. "flipped" counts digits the clean model got right
    and the attacked one gets wrong. PGD recomputes its walk for each eps (steps backward passes).
    """
    eps_values = [check_eps(e) for e in eps_values]
    if attack not in ATTACKS:
        raise UserInputError("robustness.errors.attack", attack=attack)
    device = next(model.parameters()).device
    X, y = X.to(device), y.to(device)
    grad, logits = input_gradient(model, X, y, return_logits=True)          # (N, 1, 28, 28), (N, 10)
    clean = (logits.argmax(-1) == y).cpu()
    direction = grad.sign()                                                 # the same for every eps
    rows = []
    for eps in eps_values:
        if eps == 0:
            ok = clean
        elif attack == "fgsm":
            x_adv = (X + eps * direction).clamp(0.0, 1.0)
        elif attack == "pgd":
            x_adv = pgd(model, X, y, eps, steps=pgd_steps)
        if eps > 0:
            ok = _correct(model, x_adv, y)
        rows.append({"eps": eps, "accuracy": float(ok.float().mean()),
                     "flipped": int((clean & ~ok).sum())})
    return rows


# ---------------------------------------------------------------------------------------------
# One digit at every eps of a slider: what the browser needs to redraw FGSM by itself

EPS_STEP = 0.01                      # the eps slider's step: grid eps_k = k * EPS_STEP, k = 0..MAX_EPS / EPS_STEP


def eps_grid(step: float = EPS_STEP, max_eps: float = MAX_EPS) -> list[float]:
    """The slider's eps values, [0, 0.01, ..., 0.5], rounded so that eps_grid()[k] == round(k * step, 2)."""
    return [round(k * step, 10) for k in range(int(round(max_eps / step)) + 1)]


def perturb(x: torch.Tensor, direction: torch.Tensor, eps: float) -> torch.Tensor:
    """FGSM's step for a known direction: clamp(x + eps * direction, 0, 1) (direction = sign(grad),
    or -sign(grad) for targeted FGSM). The browser mirrors this (robustness_eps.js perturb)."""
    return (x + eps * direction).clamp(0.0, 1.0)


def perturbation_numbers(x: torch.Tensor, x_adv: torch.Tensor, eps: float) -> dict:
    """What the formula shows for one attacked digit: pixels moved up / down by the full eps, the rest
    (the clip at 0 or 1 stopped them), ||x_adv - x||_inf and ||x_adv - x||_2."""
    delta = (x_adv - x).double()
    return {"plus": int((delta > eps - 1e-6).sum()), "minus": int((delta < -eps + 1e-6).sum()),
            "clipped": int((delta.abs() <= eps - 1e-6).sum()), "linf": float(delta.abs().max()),
            "l2": float(delta.pow(2).sum().sqrt())}


@torch.no_grad()
def fgsm_sweep(model: nn.Module, x: torch.Tensor, y: int, eps_values, *, target: int | None = None) -> dict:
    """One digit attacked by FGSM at every eps of eps_values, with one backward and ONE batched forward pass.

    x: (1, 1, 28, 28) in [0, 1]; y: its label. target: None for FGSM (up the loss of y), or a class for
    targeted FGSM (down the loss of `target`). FGSM's direction sign(grad_x L) does not depend on eps, so
    x_adv(eps) = perturb(x, direction, eps) for every eps, and the model sees all of them in one batch.
    Returns {"direction": (28, 28) in {-1, 0, 1}, "probs": (len(eps_values), 10) softmax of f(x_adv(eps)),
    "loss": (len(eps_values),) L(f(x_adv(eps)), y)}: the page sends these once per digit / attack / model
    and the browser looks the probabilities up, so they are exactly the model's.
    """
    eps_values = [check_eps(e) for e in eps_values]
    device = next(model.parameters()).device
    x = x.to(device)
    label = torch.tensor([int(y)], device=device)
    if target is None:
        direction = input_gradient(model, x, label).sign()                          # (1, 1, 28, 28)
    else:
        direction = -input_gradient(model, x, torch.tensor([int(target)], device=device)).sign()
    eps = torch.tensor(eps_values, dtype=x.dtype, device=device).view(-1, 1, 1, 1)  # (E, 1, 1, 1)
    batch = perturb(x, direction, eps)                                              # (E, 1, 28, 28)
    logits = model(batch)                                                           # (E, 10)
    loss = F.cross_entropy(logits, label.expand(len(eps_values)), reduction="none")
    return {"direction": direction[0, 0].cpu(), "probs": logits.softmax(-1).cpu(), "loss": loss.cpu()}


# ---------------------------------------------------------------------------------------------
# Adversarial training: fine-tune on clean + FGSM digits made against the current weights

@dataclass(frozen=True)
class AdvTrainConfig:
    eps: float = 0.2            # FGSM budget of the training examples
    epochs: int = 2             # passes over the training digits
    lr: float = 3e-4            # Adam, from the trained weights (a fine-tune, not a restart)
    batch_size: int = 64
    regenerate_every: int = 8   # optimizer steps between re-crafting the FGSM digits
    seed: int = 0


@dataclass
class AdvTrainResult:
    steps: int
    seconds: float
    reason: str                                            # "finished", "stopped" or "diverged"
    diverged_at: int | None = None
    train_loss: list[float] = field(default_factory=list)  # mean loss of each chunk


def adversarial_finetune(model: nn.Module, X: torch.Tensor, y: torch.Tensor, config: AdvTrainConfig = AdvTrainConfig(),
                         *, on_progress: Callable[[int, int, float], None] | None = None,
                         should_stop: Callable[[], bool] | None = None) -> AdvTrainResult:
    """Adversarial training (Goodfellow et al. 2015) through the one training loop, bigmodel_core.train.fit.

    The training digits are walked in chunks of regenerate_every batches: FGSM copies of a chunk are
    made against the current weights, then fit() takes regenerate_every steps over the chunk's clean
    and adversarial digits together (batches of 2 x batch_size, shuffled), i.e. the loss
    1/2 CE(f(x), y) + 1/2 CE(f(x_adv), y) in expectation. Adam's state carries over from chunk to
    chunk. Trains `model` in place.
    """
    check_eps(config.eps)
    device = next(model.parameters()).device
    X, y = X.to(device), y.to(device)
    N = X.shape[0]
    opt = make_optimizer([p for p in model.parameters() if p.requires_grad], TrainConfig(lr=config.lr))
    chunk = config.batch_size * config.regenerate_every
    gen = torch.Generator().manual_seed(config.seed)
    total = config.epochs * math.ceil(N / chunk)
    res = AdvTrainResult(steps=0, seconds=0.0, reason="finished")
    t0 = time.perf_counter()

    done = 0
    for epoch in range(config.epochs):
        order = torch.randperm(N, generator=gen).to(device)
        for start in range(0, N, chunk):
            if should_stop and should_stop():
                res.reason = "stopped"
                break
            idx = order[start:start + chunk]
            xc, yc = X[idx], y[idx]                              # (C, 1, 28, 28), (C,)
            model.eval()                                         # craft against the current weights
            xa = fgsm(model, xc, yc, config.eps)                 # (C, 1, 28, 28)
            hist = fit(model, (torch.cat([xc, xa]), torch.cat([yc, yc])),    # (2C, ...) shuffled by fit
                       TrainConfig(epochs=1, lr=config.lr, batch_size=2 * config.batch_size,
                                   seed=config.seed + done, report_every=10**9),
                       loss_fn=F.cross_entropy, optimizer=opt, device=device)
            res.steps += math.ceil(hist.samples_seen / (2 * config.batch_size))
            if hist.train_loss:
                res.train_loss.append(hist.train_loss[-1])
            done += 1
            if hist.diverged:
                res.reason, res.diverged_at = "diverged", res.steps + 1
                break
            if on_progress:
                on_progress(done, total, res.train_loss[-1] if res.train_loss else float("nan"))
        if res.reason != "finished":
            break
    model.eval()
    res.seconds = time.perf_counter() - t0
    return res


def robustness_report(model: nn.Module, X: torch.Tensor, y: torch.Tensor, eps_fgsm, eps_pgd,
                      pgd_digits: int = 500, pgd_steps: int = 10) -> dict:
    """Clean accuracy, accuracy under FGSM (all of X) and under PGD (the first pgd_digits) at each eps,
    as plain numbers for a JSON record."""
    return {"clean_accuracy": accuracy(model, X, y),
            "fgsm": accuracy_vs_eps(model, X, y, eps_fgsm, attack="fgsm"),
            "pgd": accuracy_vs_eps(model, X[:pgd_digits], y[:pgd_digits], eps_pgd, attack="pgd",
                                   pgd_steps=pgd_steps)}
