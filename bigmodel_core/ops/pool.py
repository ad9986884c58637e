"""2-D pooling, explained: every output cell is one window of the input reduced to one number.

Course text 1 §3.1.2 writes max pooling as

    p(x, y) = max_{i, j} x(x*s + i, y*s + j),   i, j in 0 .. k-1

and course texts 3/4/5 §3.1.2 add average pooling (the mean over the same window). Global average
pooling is one window as large as the whole map. No padding, so the output size is

    out = floor((i - k) / s) + 1

`pool2d_explained` runs the formula as a loop over output positions (d2l's `pool2d`), remembering
for max pooling which input cell won each window; `F.max_pool2d` / `F.avg_pool2d` are the fast path
beside it and give the same numbers (tests check it). `translation_invariance` shifts the input by
a few pixels and counts how many pooled values stay the same.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError

POOL_KINDS = ("max", "avg")


def pool_output_size(i: int, size: int, stride: int) -> int:
    """floor((i - k) / s) + 1: how many windows fit along one axis (no padding)."""
    return (i - size) // stride + 1


@dataclass(frozen=True)
class PoolWindow:
    """Everything behind one pooled cell p(row, col)."""
    row: int
    col: int
    top: int                             # the window's top-left cell in the input
    left: int
    size: int
    values: torch.Tensor                 # (k, k) the input values in the window
    result: float                        # max or mean of `values`
    winner: tuple[int, int] | None       # max pooling: input (row, col) of the largest value

    @property
    def extent(self) -> tuple[int, int, int, int]:
        """(r0, c0, r1, c1): the window's rectangle in input coordinates."""
        return self.top, self.left, self.top + self.size, self.left + self.size


class PoolExplained:
    """The result of `pool2d_explained`: pooled map, arg-max positions, any cell's window."""

    def __init__(self, x, output, argmax, kind, size, stride):
        self.input = x              # (H, W)
        self.output = output        # (H_out, W_out)
        self.argmax = argmax        # (H_out, W_out, 2) input (row, col) of each window's max; None for avg
        self.kind, self.size, self.stride = kind, size, stride

    @property
    def share_discarded(self) -> float:
        """1 - outputs / inputs: the share of activations that do not survive as their own value."""
        return 1.0 - self.output.numel() / self.input.numel()

    @property
    def share_never_win(self) -> float | None:
        """Max pooling: the share of input cells that win no window at all."""
        if self.argmax is None:
            return None
        winners = {tuple(p) for p in self.argmax.reshape(-1, 2).tolist()}
        return 1.0 - len(winners) / self.input.numel()

    def window(self, row: int, col: int) -> PoolWindow:
        H_out, W_out = self.output.shape
        if not (0 <= row < H_out and 0 <= col < W_out):
            raise IndexError(f"pooled cell ({row}, {col}) outside {H_out}x{W_out}")
        top, left = row * self.stride, col * self.stride
        values = self.input[top: top + self.size, left: left + self.size]
        winner = None if self.argmax is None else tuple(int(v) for v in self.argmax[row, col])
        return PoolWindow(row, col, top, left, self.size, values, float(self.output[row, col]), winner)


def pool2d_explained(x, *, kind: str = "max", size: int = 2, stride: int | None = None,
                     fast: bool = True) -> PoolExplained:
    """p(r, c) = max (or mean) of x over the k x k window at (r*s, c*s); stride defaults to k.

    x: (H, W). Returns the pooled map and, for max pooling, where each window's maximum sits
    (the first one in reading order on ties, as PyTorch does). fast=True uses F.max_pool2d /
    F.avg_pool2d for the map; fast=False runs the loop below for every cell.
    """
    if kind not in POOL_KINDS:
        raise ValueError(f"kind must be one of {POOL_KINDS}, got {kind!r}")
    x = torch.as_tensor(x, dtype=torch.float32)
    if x.dim() != 2:
        raise ValueError(f"x must be (H, W), got {tuple(x.shape)}")
    stride = size if stride is None else stride
    H, W = x.shape
    H_out, W_out = pool_output_size(H, size, stride), pool_output_size(W, size, stride)
    if size < 1 or stride < 1 or H_out < 1 or W_out < 1:
        raise UserInputError("pooling.errors.no_output", height=H, width=W, size=size, stride=stride)

    if fast:   # the fast path; return_indices gives the arg-max as a flat index r * W + c
        if kind == "max":
            y, idx = F.max_pool2d(x[None, None], size, stride, return_indices=True)
            y, idx = y[0, 0], idx[0, 0]                                  # (H_out, W_out)
            argmax = torch.stack([idx // W, idx % W], dim=-1)            # (H_out, W_out, 2)
        else:
            y, argmax = F.avg_pool2d(x[None, None], size, stride)[0, 0], None
        return PoolExplained(x, y, argmax, kind, size, stride)

    # the formula, one output cell at a time (d2l's pool2d)
    y = torch.zeros(H_out, W_out, device=x.device)
    argmax = torch.zeros(H_out, W_out, 2, dtype=torch.long) if kind == "max" else None
    for r in range(H_out):
        for c in range(W_out):
            window = x[r * stride: r * stride + size, c * stride: c * stride + size]   # (k, k)
            if kind == "max":
                y[r, c] = window.max()
                i, j = divmod(int(window.argmax()), size)                # first max in reading order
                argmax[r, c] = torch.tensor([r * stride + i, c * stride + j])
            else:
                y[r, c] = window.mean()
    return PoolExplained(x, y, argmax, kind, size, stride)


def global_avg_pool(x) -> torch.Tensor:
    """Global average pooling: one window as large as the map, (C, H, W) or (H, W) -> (C,) or ()."""
    x = torch.as_tensor(x, dtype=torch.float32)
    return x.mean(dim=(-2, -1))


# ---------------------------------------------------------------------------------------------
# Translation invariance: shift the input, pool both, count the pooled values that stayed

def shift_image(x: torch.Tensor, dx: int = 0, dy: int = 0) -> torch.Tensor:
    """x moved right by dx and down by dy pixels; the cells that move in are zeros."""
    H, W = x.shape
    out = torch.zeros_like(x)
    out[dy:, dx:] = x[: H - dy, : W - dx]
    return out


@dataclass(frozen=True)
class InvarianceResult:
    shifted: torch.Tensor        # (H, W) the input moved by `shift` pixels
    pooled: torch.Tensor         # (H_out, W_out) pooling of the original
    pooled_shifted: torch.Tensor # (H_out, W_out) pooling of the shifted input
    unchanged: torch.Tensor      # (H_out, W_out) bool: the same value in both
    share_unchanged: float       # of pooled values that are not zero in both maps
    share_unchanged_raw: float   # the same share for raw pixels, without pooling (the baseline)


def _share_same(a: torch.Tensor, b: torch.Tensor, tol: float) -> tuple[torch.Tensor, float]:
    """Cells where a and b agree, and their share among cells that are non-zero in a or b
    (an empty background matches itself trivially, so it is left out of the share)."""
    same = (a - b).abs() <= tol
    active = (a.abs() > tol) | (b.abs() > tol)
    share = float(same[active].float().mean()) if active.any() else 1.0
    return same, share


def translation_invariance(x, shift: int, *, kind: str = "max", size: int = 2,
                           stride: int | None = None, tol: float = 1e-6) -> InvarianceResult:
    """Shift x right by `shift` pixels, pool both, and compare the pooled maps cell by cell."""
    x = torch.as_tensor(x, dtype=torch.float32)
    shifted = shift_image(x, dx=shift)
    a = pool2d_explained(x, kind=kind, size=size, stride=stride).output
    b = pool2d_explained(shifted, kind=kind, size=size, stride=stride).output
    unchanged, share = _share_same(a, b, tol)
    _, share_raw = _share_same(x, shifted, tol)
    return InvarianceResult(shifted, a, b, unchanged, share, share_raw)
