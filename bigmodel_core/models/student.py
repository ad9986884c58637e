"""The distillation student: a small MLP on 14x14 digits (Hinton et al. 2015 distil a big net into a small one).

    (N, 1, 28, 28) -> 2x2 average pool -> (N, 196) -> Linear(196 -> 16) -> ReLU -> Linear(16 -> 10)

3,322 parameters, 127x fewer than the CNN teacher's 421,642. Inputs in [0, 1] like the CNN's.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class StudentConfig:
    pool: int = 2        # average-pool the 28x28 digit by this factor first (28 / 2 = 14)
    hidden: int = 16     # units of the one hidden layer


class StudentMLP(nn.Module):
    def __init__(self, config: StudentConfig = StudentConfig()):
        super().__init__()
        self.config = config
        side = 28 // config.pool
        self.fc1 = nn.Linear(side * side, config.hidden)
        self.fc2 = nn.Linear(config.hidden, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(x, self.config.pool)          # (N, 1, 14, 14)
        x = x.flatten(1) - 0.1307                      # (N, 196), roughly centred like the CNN's input
        return self.fc2(F.relu(self.fc1(x)))           # (N, 10) logits


def new_student(config: StudentConfig = StudentConfig(), seed: int = 0) -> StudentMLP:
    """A freshly initialized student with a fixed seed (the caller's random stream is left alone)."""
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = StudentMLP(config)
    torch.random.set_rng_state(state)
    return model
