"""The compression page's measured results: every setting run once on the shipped CNN, stored in
assets/compression.json (+ the distilled students in assets/compression_students.safetensors) by
scripts/train_compression.py, so sliders that pick a setting only look a number up.

- `quantization_table`: the whole CNN's held-out accuracy and size at 2..8 bits, per tensor and per
  channel; and with one layer quantized at a time (which layer is sensitive).
- `pruning_curve`: accuracy against sparsity, global and per layer, before and after a short fine-tune.
- `distillation_grid`: the 3,322-weight student trained on the CNN's soft labels at each (T, alpha),
  and on hard labels only (alpha = 0).
Tests recompute points of each table and compare.
"""
from __future__ import annotations

import copy
import time
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from bigmodel_core.compress import (DistillConfig, finetune_pruned, logits_of, magnitude_masks, model_bytes,
                                    quantize_model, quantize_tensor, sparsity, apply_masks_, train_student,
                                    weight_layers)
from bigmodel_core.data import ASSETS, load_record
from bigmodel_core.models.student import StudentConfig, StudentMLP, new_student
from bigmodel_core.train import TrainConfig, accuracy

RESULTS_PATH = ASSETS / "compression.json"
STUDENTS_PATH = ASSETS / "compression_students.safetensors"

BITS = (2, 3, 4, 5, 6, 7, 8)
FRACTIONS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
FINETUNE = TrainConfig(epochs=1, lr=3e-4, batch_size=64, optimizer="adam", seed=0, max_steps=30)
TEMPERATURES = (1.0, 2.0, 4.0, 8.0, 16.0)
ALPHAS = (0.5, 0.9, 1.0)
DISTILL = DistillConfig()


def quantization_table(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> dict:
    """Accuracy and bytes of the float CNN, of the whole CNN at every b, and of one layer at a time."""
    whole = [{"bits": b, "per_channel": pc, "accuracy": accuracy(quantize_model(model, b, pc), X, y),
              "bytes": model_bytes(model, b, pc)} for b in BITS for pc in (False, True)]
    one_layer = []
    for name, _ in weight_layers(model):
        for b in (2, 4, 8):
            for pc in (False, True):
                m = copy.deepcopy(model)
                layer = dict(m.named_modules())[name]
                with torch.no_grad():
                    layer.weight.copy_(quantize_tensor(layer.weight, b, pc)[2])
                one_layer.append({"layer": name, "bits": b, "per_channel": pc, "accuracy": accuracy(m, X, y)})
    return {"float": {"accuracy": accuracy(model, X, y), "bytes": model_bytes(model)},
            "whole": whole, "one_layer": one_layer}


def pruning_curve(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor], X: torch.Tensor, y: torch.Tensor,
                  fractions=FRACTIONS, config: TrainConfig = FINETUNE) -> list[dict]:
    """For each scope and fraction: accuracy right after pruning and after `config`'s short fine-tune."""
    rows = []
    for scope in ("global", "layer"):
        for f in fractions:
            pruned = copy.deepcopy(model)
            masks = magnitude_masks(pruned, f, scope)
            apply_masks_(pruned, masks)
            row = {"scope": scope, "fraction": f, "accuracy": accuracy(pruned, X, y),
                   "layer_sparsity": sparsity(pruned)}
            hist = finetune_pruned(pruned, masks, train, config)
            row["finetune_reason"] = hist.reason
            row["accuracy_finetuned"] = accuracy(pruned, X, y) if not hist.diverged else None
            rows.append(row)
    return rows


def student_key(T: float, alpha: float) -> str:
    return "hard" if alpha == 0 else f"T{T:g}_a{alpha:g}"


def distillation_grid(teacher: nn.Module, X_train, y_train, X, y) -> tuple[dict, dict[str, torch.Tensor]]:
    """Train a student per (T, alpha) and one on hard labels; (results, {key.param: tensor})."""
    teacher_logits = logits_of(teacher, X_train)                                  # (4000, 10), once
    settings = [(1.0, 0.0)] + [(T, a) for T in TEMPERATURES for a in ALPHAS]
    students, tensors = [], {}
    for T, a in settings:
        student = new_student(StudentConfig(), seed=DISTILL.seed)
        cfg = DistillConfig(**{**asdict(DISTILL), "T": T, "alpha": a})
        t0 = time.perf_counter()
        hist = train_student(student, X_train, y_train, teacher_logits, cfg)
        key = student_key(T, a)
        students.append({"key": key, "T": T, "alpha": a, "accuracy": accuracy(student, X, y),
                         "reason": hist.reason, "seconds": round(time.perf_counter() - t0, 2)})
        tensors.update({f"{key}.{k}": v.detach().cpu().contiguous() for k, v in student.state_dict().items()})
    return {"config": asdict(DISTILL), "students": students,
            "teacher_accuracy": accuracy(teacher, X, y),
            "teacher_train_agreement": float((teacher_logits.argmax(-1) == y_train).float().mean())}, tensors


def load_results(path: Path = RESULTS_PATH) -> dict:
    return load_record(path)


def load_student(key: str, path: Path = STUDENTS_PATH) -> StudentMLP:
    """One distilled (or hard-label) student from the shipped file, eval mode, CPU."""
    from safetensors.torch import load_file
    tensors = load_file(str(path))
    model = StudentMLP(StudentConfig())
    model.load_state_dict({k[len(key) + 1:]: v for k, v in tensors.items() if k.startswith(key + ".")})
    return model.eval()


@torch.no_grad()
def ms_per_digit(model: nn.Module, X: torch.Tensor, repeats: int = 3) -> float:
    """Best-of-`repeats` wall time of one forward pass over X, in milliseconds per digit."""
    model.eval()
    model(X[:10])                                                                 # warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        model(X)
        best = min(best, time.perf_counter() - t0)
    return 1000 * best / len(X)
