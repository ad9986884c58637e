"""Loss functions and their gradients: what a wrong prediction costs and how hard it pushes back.

Course text 2 §3.1.1 (a loss compares the prediction with the truth and measures the difference) and
§3.3.1 (the formulas):

    MSE           = 1/n sum_i (y_i - yhat_i)^2              dMSE/dyhat_i = 2/n (yhat_i - y_i)
    MAE           = 1/n sum_i |y_i - yhat_i|                dMAE/dyhat_i = sign(yhat_i - y_i) / n
    Huber_delta   = 1/n sum_i { r^2 / 2            if |r| <= delta      (r = yhat_i - y_i)
                              { delta (|r| - delta/2) otherwise
    Cross-entropy = H(p, q) = -sum_i p_i log q_i            p = one-hot truth y, q = softmax(z)

For classification the model outputs logits z; q = softmax(z) and, with a one-hot truth,
H = -log q_y. Its gradient with respect to the logits is simply q - p ("p - y" when p names the
model's probabilities): at most 1 in size on the true class, and largest exactly when the model is
confidently wrong. MSE on the probabilities must pass back through the softmax's Jacobian
diag(q) - q q^T, whose entries vanish as q saturates: a confidently wrong model barely learns.
Gradients here come from autograd; tests check them against the closed forms and torch's losses.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError

REGRESSION_LOSSES = ("mse", "mae", "huber")
CLASSIFICATION_LOSSES = ("cross_entropy", "mse_probs")


def regression_loss(name: str, pred: torch.Tensor, target: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """Mean loss over the elements, as in the formulas above (pred, target: same shape) -> ()."""
    return pointwise_loss(name, pred, target, delta).mean()


def pointwise_loss(name: str, pred: torch.Tensor, target: torch.Tensor, delta: float = 1.0) -> torch.Tensor:
    """The loss of every element on its own (the terms of the sum, before the 1/n): same shape out."""
    r = pred - target                                           # residual
    if name == "mse":
        return r ** 2
    if name == "mae":
        return r.abs()
    if name == "huber":
        if delta <= 0:
            raise UserInputError("losses.errors.delta", delta=delta)
        quadratic = 0.5 * r ** 2                                # near the target: like MSE / 2
        linear = delta * (r.abs() - 0.5 * delta)                # far away: like MAE, slope delta
        return torch.where(r.abs() <= delta, quadratic, linear)
    raise UserInputError("losses.errors.unknown", name=name)


@dataclass(frozen=True)
class Point:
    """One loss evaluated at one prediction: its value and d loss / d prediction."""
    loss: float
    grad: float


def regression_point(name: str, pred: float, target: float, delta: float = 1.0) -> Point:
    """Loss and its gradient (autograd) for a single prediction against a single target."""
    p = torch.tensor(pred, dtype=torch.float64, requires_grad=True)
    loss = regression_loss(name, p, torch.tensor(target, dtype=torch.float64), delta)
    (grad,) = torch.autograd.grad(loss, p)
    return Point(loss.item(), grad.item())


def regression_curves(target: float, lo: float, hi: float, delta: float = 1.0, n: int = 241):
    """Every regression loss and its gradient over predictions in [lo, hi], one autograd pass per
    loss (the points are independent). Long DataFrame: loss, prediction, value, grad."""
    import pandas as pd
    pred = torch.linspace(lo, hi, n, dtype=torch.float64).requires_grad_(True)    # (N,)
    y = torch.full_like(pred, target)                                               # (N,)
    frames = []
    for name in REGRESSION_LOSSES:
        per_point = pointwise_loss(name, pred, y, delta)                            # (N,)
        (grad,) = torch.autograd.grad(per_point.sum(), pred)                        # (N,)
        frames.append(pd.DataFrame({"loss": name, "prediction": pred.detach().numpy(),
                                    "value": per_point.detach().numpy(), "grad": grad.numpy()}))
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Classification:
    """Cross-entropy and MSE-on-probabilities for one example: every number the page shows."""
    logits: np.ndarray          # (K,) z
    probs: np.ndarray           # (K,) q = softmax(z)
    target: np.ndarray          # (K,) one-hot y
    ce: float                   # -log q_y
    ce_grad: np.ndarray         # (K,) dCE/dz = q - y
    mse: float                  # 1/K sum (q_i - y_i)^2
    mse_grad: np.ndarray        # (K,) dMSE/dz, through the softmax


def softmax_cross_entropy(logits: torch.Tensor, true_class: int) -> torch.Tensor:
    """H(p, q) = -sum_i p_i log q_i with p one-hot at true_class and q = softmax(logits); (K,) -> ()."""
    K = logits.shape[-1]
    if not 0 <= true_class < K:
        raise UserInputError("losses.errors.class", k=true_class, n=K)
    log_q = logits - torch.logsumexp(logits, dim=-1)           # (K,) log softmax, stable
    p = F.one_hot(torch.tensor(true_class), K).to(logits.dtype)  # (K,)
    return -(p * log_q).sum()


def mse_on_probs(logits: torch.Tensor, true_class: int) -> torch.Tensor:
    """MSE between q = softmax(logits) and the one-hot truth: 1/K sum_i (q_i - y_i)^2; (K,) -> ()."""
    K = logits.shape[-1]
    if not 0 <= true_class < K:
        raise UserInputError("losses.errors.class", k=true_class, n=K)
    q = torch.softmax(logits, dim=-1)                           # (K,)
    y = F.one_hot(torch.tensor(true_class), K).to(logits.dtype)  # (K,)
    return ((q - y) ** 2).mean()


def classify(logits, true_class: int) -> Classification:
    """Both classification losses and their gradients w.r.t. the logits (autograd) for one example."""
    z = torch.as_tensor(logits, dtype=torch.float64).detach().clone().requires_grad_(True)   # (K,)
    ce = softmax_cross_entropy(z, true_class)
    (ce_grad,) = torch.autograd.grad(ce, z)                     # (K,) = q - y
    mse = mse_on_probs(z, true_class)
    (mse_grad,) = torch.autograd.grad(mse, z)                   # (K,) = J_softmax^T 2/K (q - y)
    q = torch.softmax(z.detach(), dim=-1)
    y = F.one_hot(torch.tensor(true_class), z.shape[-1]).double()
    return Classification(z.detach().numpy(), q.numpy(), y.numpy(), ce.item(), ce_grad.numpy(),
                          mse.item(), mse_grad.numpy())


def true_logit_sweep(logits, true_class: int, lo: float = -8.0, hi: float = 8.0, n: int = 161):
    """Move the true class's logit over [lo, hi] (the others fixed): both losses and the size of
    their push on that logit, |dL/dz_y|. Long DataFrame: loss, z, value, push."""
    import pandas as pd
    base = torch.as_tensor(logits, dtype=torch.float64)                           # (K,)
    zs = torch.linspace(lo, hi, n, dtype=torch.float64)                          # (N,)
    Z = base.repeat(n, 1)                                                         # (N, K)
    Z[:, true_class] = zs
    Z.requires_grad_(True)
    rows = []
    for name, fn in (("cross_entropy", softmax_cross_entropy), ("mse_probs", mse_on_probs)):
        values = torch.stack([fn(Z[i], true_class) for i in range(n)])           # (N,)
        (grad,) = torch.autograd.grad(values.sum(), Z)                            # (N, K) rows independent
        rows.append(pd.DataFrame({"loss": name, "z": zs.numpy(), "value": values.detach().numpy(),
                                  "push": grad[:, true_class].abs().numpy()}))
    return pd.concat(rows, ignore_index=True)
