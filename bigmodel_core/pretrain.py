"""Pre-training then fine-tuning, on digits: why a pre-trained model needs few labels (course text 5 §2).

The shipped autoencoder (bigmodel_core/models/autoencoder.py) was pre-trained on the 4,000 training
digits *without their labels*: its encoder z = ReLU(W x + b) turns a 784-pixel digit into 32 numbers.
A classifier on top gets only N labelled digits, and is trained three ways:

    scratch     encoder and head both start random, both trained        (no pre-training)
    probe       encoder copied from the autoencoder and frozen; only the linear head W_h z + b_h is trained
    finetune    encoder copied from the autoencoder, then everything trained ("fine-tune all")

Same network (784 -> 32 -> 10), same optimizer, same steps: only the starting point and what may change
differ. Accuracy is measured on the 1,000 held-out digits, which no model ever trained on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.autoencoder import load_autoencoder

METHODS = ("scratch", "probe", "finetune")
N_LABELS = (10, 20, 50, 100, 200, 500, 1000)      # the sweep the page shows
MAX_LABELS = 1000


@dataclass(frozen=True)
class LabelRunConfig:
    n_labels: int = 100          # labelled training digits the classifier sees
    method: str = "probe"        # one of METHODS
    latent: int = 32             # which shipped autoencoder supplies the encoder
    steps: int = 200             # full-batch Adam steps
    lr: float = 3e-3             # Adam learning rate (the same for all three methods)
    weight_decay: float = 1e-4   # a little L2, the same for all three
    encoder_lr: float = 0.1      # fine-tuning: the pre-trained encoder moves at 0.1 x lr (keeps what it knows)
    seed: int = 0                # which digits are labelled, and the random initial weights


class DigitClassifier(nn.Module):
    """x (B, 784) -> z = ReLU(W x + b) (B, latent) -> logits = W_h z + b_h (B, 10)."""

    def __init__(self, latent: int = 32):
        super().__init__()
        self.encoder = nn.Linear(784, latent)     # the autoencoder's encoder shape
        self.head = nn.Linear(latent, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.encoder(x)))


def labelled_subset(y: torch.Tensor, n: int, seed: int = 0) -> torch.Tensor:
    """Indices of n training digits, as balanced over the 10 classes as n allows, chosen with a fixed seed."""
    if not 10 <= n <= MAX_LABELS:
        raise UserInputError("pretrain_finetune.errors.n_labels", n=n, hi=MAX_LABELS)
    gen = torch.Generator().manual_seed(seed)
    per_class = [torch.nonzero(y == c).flatten()[torch.randperm(int((y == c).sum()), generator=gen)]
                 for c in range(10)]
    order = torch.stack([p[: n // 10 + 1] for p in per_class], 1).flatten()   # round-robin over classes
    return order[:n]


def build_classifier(cfg: LabelRunConfig) -> DigitClassifier:
    """The classifier with its starting weights and the right parts frozen."""
    if cfg.method not in METHODS:
        raise UserInputError("pretrain_finetune.errors.method", method=cfg.method)
    torch.manual_seed(cfg.seed)
    model = DigitClassifier(cfg.latent)                                   # random start (scratch)
    if cfg.method in ("probe", "finetune"):
        ae = load_autoencoder(cfg.latent, device=torch.device("cpu"))
        model.encoder.load_state_dict(ae.encoder.state_dict())            # the pre-trained encoder
    model.encoder.requires_grad_(cfg.method != "probe")                   # a probe freezes it
    return model


@torch.no_grad()
def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    return float((model(X).argmax(1) == y).float().mean())


def train_with_labels(cfg: LabelRunConfig, X_train: torch.Tensor, y_train: torch.Tensor, X_test: torch.Tensor,
                      y_test: torch.Tensor, on_step: Callable[[int, float], None] | None = None,
                      should_stop: Callable[[], bool] | None = None) -> dict:
    """Train one classifier on cfg.n_labels labelled digits; returns held-out accuracy and the loss curve."""
    idx = labelled_subset(y_train, cfg.n_labels, cfg.seed)
    X, y = X_train[idx].cpu(), y_train[idx].cpu()                         # (n, 784), (n,)
    model = build_classifier(cfg)
    trainable = [p for p in model.parameters() if p.requires_grad]
    enc_lr = cfg.lr * (cfg.encoder_lr if cfg.method == "finetune" else 1.0)
    groups = [{"params": list(model.head.parameters()), "lr": cfg.lr}]
    if cfg.method != "probe":
        groups.append({"params": list(model.encoder.parameters()), "lr": enc_lr})
    opt = torch.optim.Adam(groups, weight_decay=cfg.weight_decay)
    losses = []
    model.train()
    for step in range(cfg.steps):
        loss = F.cross_entropy(model(X), y)                               # full batch: all n labels
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step:
            on_step(step, losses[-1])
        if should_stop and should_stop():
            break
    return {"method": cfg.method, "n_labels": cfg.n_labels, "test_acc": accuracy(model, X_test.cpu(), y_test.cpu()),
            "train_acc": accuracy(model, X, y), "losses": losses,
            "trainable": sum(p.numel() for p in trainable), "model": model}


def compare(n_labels: int, X_train, y_train, X_test, y_test, *, seed: int = 0,
            on_step: Callable[[str, int, float], None] | None = None) -> list[dict]:
    """The three methods on the same n labelled digits."""
    out = []
    for method in METHODS:
        cfg = LabelRunConfig(n_labels=n_labels, method=method, seed=seed)
        cb = (lambda s, l, m=method: on_step(m, s, l)) if on_step else None
        out.append(train_with_labels(cfg, X_train, y_train, X_test, y_test, on_step=cb))
    return out


def as_rows(results: list[dict]) -> list[dict]:
    """Results without the models, for tables, charts and caches."""
    return [{k: v for k, v in r.items() if k not in ("model", "losses")} for r in results]


def class_counts(y: torch.Tensor, idx: torch.Tensor) -> np.ndarray:
    return np.bincount(y[idx].numpy(), minlength=10)
