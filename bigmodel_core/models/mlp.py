"""The two multilayer perceptrons of the training pages (course text 2 §3.1: a stack of Linear layers
with a non-linearity between them, y = W_L g(... g(W_1 x + b_1) ...) + b_L).

They differ in shape and purpose, so they are two named classes:

- `DigitMLP`: 784 -> hidden -> 10 with ReLU, trained on MNIST digits (scripts/train_landscape.py).
  The loss-landscape page draws its loss surface (Li et al. 2018). Parameter names fc1.*, fc2.*
  are those of the shipped assets/landscape_mlp.safetensors.
- `WideMLP`: in -> [Linear -> tanh -> Dropout(p)] x depth -> Linear -> 1, far bigger than the few
  points it learns from, so it overfits on purpose (the regularization page). Input jitter (data
  augmentation) and dropout are layers, active in train() only; the same seed gives the same
  initial weights whatever the regularization.
"""
from __future__ import annotations

import torch
from torch import nn


class DigitMLP(nn.Module):
    """784 -> hidden -> 10 with ReLU: the network whose loss landscape the page draws."""

    def __init__(self, hidden: int = 64):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)                                             # (B, 784)
        return self.fc2(torch.relu(self.fc1(x)))                     # (B, 10) logits


class InputJitter(nn.Module):
    """Data augmentation: x + sigma * noise, fresh at every training step; identity in eval()."""

    def __init__(self, sigma: float, seed: int = 0):
        super().__init__()
        self.sigma = sigma
        self.gen = torch.Generator().manual_seed(seed + 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.sigma == 0:
            return x
        noise = torch.randn(x.shape, generator=self.gen).to(x.device)
        return x + self.sigma * noise


class WideMLP(nn.Module):
    """in -> [Linear -> tanh -> Dropout(p)] x depth -> Linear -> 1 output (value or logit)."""

    def __init__(self, in_dim: int, hidden: int = 64, depth: int = 3, dropout: float = 0.0,
                 jitter: float = 0.0, seed: int = 0):
        super().__init__()
        self.jitter = InputJitter(jitter, seed)
        layers, d = [], in_dim
        with torch.random.fork_rng(devices=[]):                        # same seed, same init,
            torch.manual_seed(seed)                                    # whatever the regularization
            for _ in range(depth):
                layers += [nn.Linear(d, hidden), nn.Tanh(), nn.Dropout(dropout)]
                d = hidden
            layers.append(nn.Linear(d, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:               # x: (B, in_dim)
        return self.net(self.jitter(x)).squeeze(-1)                    # (B,)
