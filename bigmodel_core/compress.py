"""Making a trained network small: quantization, pruning, distillation (course text 3 §7: "model
compression and quantization", "knowledge distillation").

- Quantization, symmetric absmax (the int8 scheme of Dettmers et al. 2022, "LLM.int8()", §2):

      S = max|w| / (2^(b-1) - 1)        q = clamp(round(w / S), -(2^(b-1) - 1), 2^(b-1) - 1)        ŵ = S q

  per tensor (one S) or per output channel (one S per row of dim 0). Rounding is torch.round (ties
  to even). Every |w - ŵ| <= S / 2, so one large weight (a big S) costs every other weight precision.
- Pruning by magnitude (Han et al. 2015, "Learning both weights and connections"): zero the
  `fraction` of weights with the smallest |w|, over all layers at once ("global") or layer by layer,
  then optionally fine-tune a few steps with the zeros held at zero.
- Distillation (Hinton, Vinyals & Dean 2015, "Distilling the knowledge in a neural network"):

      L = alpha T^2 KL(p_teacher^T || p_student^T) + (1 - alpha) CE(student logits, labels),
      p^T = softmax(z / T)

  The T^2 keeps the soft term's gradients on the same scale as the hard term's when T changes.

The real 4-bit format an LLM ships in (GGUF Q4_1, one block of 32 weights) is decoded in
bigmodel_core/q4_1.py. Weights here are the Conv2d / Linear `.weight` tensors; biases stay float32
(they are 0.2 % of the CNN and int8 inference keeps them in 32 bits as well).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.train import TrainConfig, TrainHistory, fit

MIN_BITS, MAX_BITS = 2, 16


# ---------------------------------------------------------------------------------------------
# Quantization

def qmax(bits: int) -> int:
    """The largest integer level of symmetric b-bit quantization: 127 for int8, 7 for int4, 1 for int2."""
    return 2 ** (bits - 1) - 1


def check_bits(bits) -> int:
    """Bits as an int in [2, 16]; 0 or 1 bit leaves no level besides 0 (2^(1-1) - 1 = 0)."""
    if isinstance(bits, bool) or not isinstance(bits, (int, float)) or not math.isfinite(bits) \
            or bits != int(bits) or not MIN_BITS <= int(bits) <= MAX_BITS:
        raise UserInputError("compression.errors.bits", bits=bits, lo=MIN_BITS, hi=MAX_BITS)
    return int(bits)


def quantize_tensor(w: torch.Tensor, bits: int, per_channel: bool = False
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Symmetric absmax quantization of `w` to `bits` bits. Returns (q, scale, w_hat).

    q: integers in [-qmax, qmax] (int8 for bits <= 8, else int32), the shape of w.
    scale: S, a 0-d tensor per tensor; per channel, shape (C, 1, ..., 1) so that w_hat = scale * q.
    w_hat: S q, float, the shape of w. An all-zero tensor (or channel) gets S = 0 and q = 0.
    """
    bits = check_bits(bits)
    levels = qmax(bits)
    w = w.detach()
    if per_channel:
        C = w.shape[0]
        absmax = w.abs().reshape(C, -1).amax(dim=1)                   # (C,) one max per output channel
        absmax = absmax.view(C, *([1] * (w.ndim - 1)))                # (C, 1, ..., 1) broadcasts over w
    else:
        absmax = w.abs().max()                                        # () one max for the tensor
    scale = absmax / levels                                           # S = max|w| / (2^(b-1) - 1)
    safe = torch.where(scale > 0, scale, torch.ones_like(scale))      # S = 0 only where w = 0
    q = torch.round(w / safe).clamp(-levels, levels)                  # round half to even, then clamp
    w_hat = scale * q                                                 # what the network computes with
    return q.to(torch.int8 if bits <= 8 else torch.int32), scale, w_hat


@dataclass(frozen=True)
class QuantError:
    """How far w_hat is from w."""
    scale_max: float        # the largest S (the only S per tensor)
    max_abs: float          # max |w - w_hat|, at most S / 2
    rms: float              # sqrt(mean (w - w_hat)^2)
    sqnr_db: float          # signal-to-quantization-noise ratio: 10 log10(sum w^2 / sum (w - w_hat)^2)
    zero_fraction: float    # share of non-zero weights rounded to q = 0 (their information is gone)
    levels_used: int        # distinct q values that occur


def quantization_error(w: torch.Tensor, q: torch.Tensor, scale: torch.Tensor, w_hat: torch.Tensor) -> QuantError:
    err = (w - w_hat).double()
    noise = float((err ** 2).sum())
    signal = float((w.double() ** 2).sum())
    nonzero = w != 0
    return QuantError(
        scale_max=float(scale.max()), max_abs=float(err.abs().max()), rms=float(err.pow(2).mean().sqrt()),
        sqnr_db=math.inf if noise == 0 else 10 * math.log10(signal / noise),
        zero_fraction=float(((q == 0) & nonzero).sum()) / max(1, int(nonzero.sum())),
        levels_used=int((torch.bincount(q.flatten().long() - int(q.min())) > 0).sum()))   # distinct levels


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers whose weights are quantized or pruned: every Conv2d and Linear, by name."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def quantize_model(model: nn.Module, bits: int, per_channel: bool = False) -> nn.Module:
    """A copy of `model` whose Conv2d / Linear weights are replaced by w_hat (biases stay float).

    This is "fake" quantization: the arithmetic stays float, on exactly the values an int kernel
    would reconstruct, so the accuracy measured is the quantized model's.
    """
    qmodel = copy.deepcopy(model)
    with torch.no_grad():
        for _, layer in weight_layers(qmodel):
            layer.weight.copy_(quantize_tensor(layer.weight, bits, per_channel)[2])
    return qmodel


def model_bytes(model: nn.Module, bits: int | None = None, per_channel: bool = False) -> int:
    """Storage of the model: float32 everywhere (bits None), or b-bit weights + float32 scales + float32 biases."""
    total = 0
    for _, layer in weight_layers(model):
        n = layer.weight.numel()
        if bits is None:
            total += 4 * n
        else:
            n_scales = layer.weight.shape[0] if per_channel else 1
            total += math.ceil(n * bits / 8) + 4 * n_scales               # packed b-bit integers, fp32 S
        total += 4 * (layer.bias.numel() if layer.bias is not None else 0)
    return total


@dataclass(frozen=True)
class OutlierDemo:
    """One weight made `factor` times the largest: what it does to everybody else's precision."""
    scale_plain: float          # S of the tensor as it is
    scale_outlier: float        # S once the outlier is in
    rms_plain: float            # rms error of the other weights, no outlier
    rms_outlier: float          # ... with the outlier inside the same absmax
    rms_apart: float            # ... with the outlier kept apart in 16 bits (LLM.int8's decomposition)
    zeros_plain: float          # share of the other weights rounded to 0
    zeros_outlier: float


def outlier_demo(w: torch.Tensor, bits: int, factor: float) -> OutlierDemo:
    """Replace the largest |w| by factor x max|w| (same sign) and quantize per tensor three ways.

    LLM.int8() (Dettmers et al. 2022, §3.2) keeps the few outlier feature dimensions in 16 bits and
    quantizes the rest to int8; here the same split is applied to one outlier weight.
    """
    if not (math.isfinite(factor) and 1 <= factor <= 1000):
        raise UserInputError("compression.errors.factor", factor=factor)
    flat = w.detach().flatten().float()                                # (n,)
    i = int(flat.abs().argmax())
    rest = torch.ones_like(flat, dtype=torch.bool)
    rest[i] = False                                                    # every weight but the outlier
    out = flat.clone()
    out[i] = flat[i] * factor
    q0, s0, h0 = quantize_tensor(flat, bits)
    q1, s1, h1 = quantize_tensor(out, bits)
    q2, s2, h2 = quantize_tensor(flat[rest], bits)                     # the rest alone; the outlier in fp16
    rms = lambda a, b: float((a - b).pow(2).mean().sqrt())             # noqa: E731
    nz = flat[rest] != 0
    return OutlierDemo(float(s0), float(s1), rms(flat[rest], h0[rest]), rms(flat[rest], h1[rest]),
                       rms(flat[rest], h2), float(((q0[rest] == 0) & nz).float().mean()),
                       float(((q1[rest] == 0) & nz).float().mean()))


# ---------------------------------------------------------------------------------------------
# Pruning

def check_fraction(fraction) -> float:
    if not isinstance(fraction, (int, float)) or not 0 <= fraction < 1:   # NaN fails too
        raise UserInputError("compression.errors.sparsity", percent=f"{float(fraction) * 100:g}")
    return float(fraction)


def magnitude_masks(model: nn.Module, fraction: float, scope: str = "global") -> dict[str, torch.Tensor]:
    """{layer name: bool mask, True = kept} that drops exactly round(fraction x n) smallest |w|.

    scope "global": one ranking over all weights of all layers (layers with small weights lose more);
    "layer": each layer loses round(fraction x its size). Ties are broken by position, so the count
    is exact even when many weights share a magnitude.
    """
    fraction = check_fraction(fraction)
    if scope not in ("global", "layer"):
        raise UserInputError("compression.errors.scope", scope=scope)
    layers = weight_layers(model)
    mags = [layer.weight.detach().abs().flatten() for _, layer in layers]   # one (n_l,) per layer

    def drop(m: torch.Tensor) -> torch.Tensor:                         # (n,) -> (n,) bool, True = kept
        keep = torch.ones_like(m, dtype=torch.bool)
        k = round(fraction * m.numel())
        keep[torch.argsort(m, stable=True)[:k]] = False                # the k smallest magnitudes
        return keep

    if scope == "global":
        keep = drop(torch.cat(mags))                                   # (N,) over all layers
        parts = torch.split(keep, [m.numel() for m in mags])
    else:
        parts = [drop(m) for m in mags]
    return {name: part.view_as(layer.weight) for (name, layer), part in zip(layers, parts)}


def apply_masks_(model: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """w <- w * mask, in place, for every masked layer."""
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name, mask in masks.items():
            modules[name].weight.mul_(mask.to(modules[name].weight.device))


def prune_magnitude(model: nn.Module, fraction: float, scope: str = "global") -> nn.Module:
    """Zero exactly round(fraction x n) of the smallest-magnitude Conv2d/Linear weights, in place.

    Returns the same model (so `pruned = prune_magnitude(copy.deepcopy(m), 0.9)` reads well).
    """
    apply_masks_(model, magnitude_masks(model, fraction, scope))
    return model


def sparsity(model: nn.Module) -> dict[str, float]:
    """Share of exact zeros per weight layer, and "all" over every weight."""
    out, zeros, total = {}, 0, 0
    for name, layer in weight_layers(model):
        z, n = int((layer.weight == 0).sum()), layer.weight.numel()
        out[name] = z / n
        zeros, total = zeros + z, total + n
    out["all"] = zeros / total
    return out


def finetune_pruned(model: nn.Module, masks: dict[str, torch.Tensor], data: tuple[torch.Tensor, torch.Tensor],
                    config: TrainConfig) -> TrainHistory:
    """A short fine-tune after pruning: ordinary training, the pruned weights put back to 0 after
    every step so the sparsity stays exactly what it was."""
    return fit(model, data, config, loss_fn=F.cross_entropy, after_step=lambda m: apply_masks_(m, masks))


# ---------------------------------------------------------------------------------------------
# Distillation

def softmax_at(logits: torch.Tensor, T: float) -> torch.Tensor:
    """p^T = softmax(z / T): T = 1 is the usual softmax; a larger T shows the small probabilities."""
    return F.softmax(logits / T, dim=-1)


def check_distillation(T: float, alpha: float) -> None:
    if not (isinstance(T, (int, float)) and math.isfinite(T) and 0 < T <= 100):
        raise UserInputError("compression.errors.temperature", T=T)
    if not (isinstance(alpha, (int, float)) and 0 <= alpha <= 1):
        raise UserInputError("compression.errors.alpha", alpha=alpha)


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
                      T: float, alpha: float) -> torch.Tensor:
    """alpha T^2 KL(p_teacher^T || p_student^T) + (1 - alpha) CE(student_logits, labels), batch mean.

    student_logits, teacher_logits: (N, K); labels: (N,) class indices.
    """
    check_distillation(T, alpha)
    log_p_student = F.log_softmax(student_logits / T, dim=-1)              # (N, K) log p_s^T
    p_teacher = F.softmax(teacher_logits.detach() / T, dim=-1)             # (N, K) p_t^T, a fixed target
    soft = F.kl_div(log_p_student, p_teacher, reduction="batchmean")       # sum_k p_t (log p_t - log p_s), mean over N
    hard = F.cross_entropy(student_logits, labels)                         # -log p_s(label) at T = 1
    return alpha * T * T * soft + (1 - alpha) * hard


@dataclass(frozen=True)
class DistillConfig:
    T: float = 4.0              # temperature of both softmaxes in the soft term
    alpha: float = 0.9          # weight of the soft term; 0 = hard labels only (no teacher)
    epochs: int = 20            # passes over the 4,000 training digits
    lr: float = 3e-3            # Adam
    batch_size: int = 64
    seed: int = 0               # student init and shuffling


def train_student(student: nn.Module, X: torch.Tensor, y: torch.Tensor, teacher_logits: torch.Tensor,
                  config: DistillConfig = DistillConfig()) -> TrainHistory:
    """Train `student` in place on (X, y) with distillation_loss against the teacher's logits.

    X: (N, 1, 28, 28); y: (N,); teacher_logits: (N, 10), computed once (the teacher is frozen).
    fit() hands the loss each batch's targets; here the "targets" are sample indices, so the loss can
    look up both the label and the teacher's logits of the same digits.
    """
    check_distillation(config.T, config.alpha)
    labels, teacher = y.to(X.device), teacher_logits.to(X.device)
    index = torch.arange(len(X), device=X.device)                          # (N,) row numbers

    def loss_fn(student_logits: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        return distillation_loss(student_logits, teacher[i], labels[i], config.T, config.alpha)

    return fit(student, (X, index), TrainConfig(epochs=config.epochs, lr=config.lr, batch_size=config.batch_size,
                                                optimizer="adam", seed=config.seed, report_every=50),
               loss_fn=loss_fn)


@torch.no_grad()
def logits_of(model: nn.Module, X: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """model(X) in batches, on the model's device, returned on the CPU: (N, 10)."""
    device = next(model.parameters()).device
    model.eval()
    return torch.cat([model(X[i:i + batch_size].to(device)).cpu() for i in range(0, len(X), batch_size)])
