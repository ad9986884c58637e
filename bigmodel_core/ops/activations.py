"""Activation functions, their derivatives, where they saturate, and what depth does to gradients.

Course text 2 §2.1.2 ("激活函数"): a network's activation maps a neuron's input to its output; the course text
names sigmoid, tanh and ReLU. We add leaky ReLU, GELU and SiLU, the ones modern networks use.

    sigmoid(x) = 1 / (1 + e^-x)             sigmoid'(x) = sigmoid(x) (1 - sigmoid(x))   <= 1/4
    tanh(x)    = (e^x - e^-x) / (e^x + e^-x) tanh'(x)   = 1 - tanh(x)^2                  <= 1
    relu(x)    = max(0, x)                   relu'(x)   = 1 if x > 0 else 0
    leaky(x)   = x if x > 0 else a x         leaky'(x)  = 1 if x > 0 else a
    gelu(x)    = x Phi(x)                    gelu'(x)   = Phi(x) + x phi(x)
    silu(x)    = x sigmoid(x)                silu'(x)   = sigmoid(x) (1 + x (1 - sigmoid(x)))

The derivative the app draws comes from autograd (`derivative`); `closed_form_derivative` is the
table above, written out so tests (and learners) can check autograd against it.

Depth (`depth_gradients`): backpropagation multiplies the gradient by W^T diag(f'(z)) once per
layer, so a factor that is < 1 on average (sigmoid's f' <= 1/4) shrinks it geometrically: after
50 layers nothing is left to learn from. ReLU's f' is exactly 1 where it is active, and He
initialisation (std = sqrt(2 / n)) makes up for the half that is inactive.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu")
# the initialisation each activation is usually paired with: Glorot/Xavier for the S-shaped ones
# (Glorot & Bengio 2010), He/Kaiming for the rectifiers (He et al. 2015)
TYPICAL_INIT = {"sigmoid": "xavier", "tanh": "xavier", "relu": "he", "leaky_relu": "he",
                "gelu": "he", "silu": "he"}
INITS = ("typical", "xavier", "he")
MAX_DEPTH = 50


def activation(name: str, x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """f(x) for one of ACTIVATIONS, elementwise (any shape in, same shape out)."""
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "relu":
        return F.relu(x)
    if name == "leaky_relu":
        return F.leaky_relu(x, negative_slope)
    if name == "gelu":
        return F.gelu(x)                        # exact: x * Phi(x), Phi the normal CDF
    if name == "silu":
        return F.silu(x)                        # x * sigmoid(x), also called swish
    raise UserInputError("activations.errors.unknown", name=name)


def derivative(name: str, x: torch.Tensor, negative_slope: float = 0.01) -> tuple[torch.Tensor, torch.Tensor]:
    """(f(x), f'(x)) with f' from autograd: d/dx of sum f(x) is f'(x) at every point (elementwise f)."""
    x = x.detach().clone().requires_grad_(True)        # (N,)
    y = activation(name, x, negative_slope)            # (N,)
    (dy,) = torch.autograd.grad(y.sum(), x)            # (N,)  f'(x_i), since df(x_j)/dx_i = 0 for j != i
    return y.detach(), dy


activation_derivative = derivative      # its name in bigmodel_core's public API


def closed_form_derivative(name: str, x: torch.Tensor, negative_slope: float = 0.01) -> torch.Tensor:
    """f'(x) from the formulas in the module docstring (the textbook derivatives)."""
    if name == "sigmoid":
        s = torch.sigmoid(x)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(x) ** 2
    if name == "relu":
        return (x > 0).to(x.dtype)                     # autograd's convention: relu'(0) = 0
    if name == "leaky_relu":
        return torch.where(x > 0, torch.ones_like(x), torch.full_like(x, negative_slope))
    if name == "gelu":
        Phi = 0.5 * (1 + torch.erf(x / math.sqrt(2)))    # normal CDF
        phi = torch.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi)   # normal density
        return Phi + x * phi
    if name == "silu":
        s = torch.sigmoid(x)
        return s * (1 + x * (1 - s))
    raise UserInputError("activations.errors.unknown", name=name)


@dataclass(frozen=True)
class Curves:
    """An activation sampled on a grid: x, f(x), f'(x) and the saturated intervals."""
    x: np.ndarray                           # (N,)
    y: np.ndarray                           # (N,)
    dy: np.ndarray                          # (N,)
    saturated: tuple[tuple[float, float], ...]   # [(x_start, x_end), ...] where |f'| < threshold


def curves(name: str, lo: float, hi: float, n: int = 401, threshold: float = 0.05,
           negative_slope: float = 0.01) -> Curves:
    """Sample f and f' (autograd) on n points of [lo, hi] and find where the gradient all but vanishes."""
    if not lo < hi:
        raise UserInputError("activations.errors.range", lo=lo, hi=hi)
    x = torch.linspace(lo, hi, n, dtype=torch.float64)       # (N,)
    y, dy = derivative(name, x, negative_slope)
    return Curves(x.numpy(), y.numpy(), dy.numpy(), saturated_regions(x.numpy(), dy.numpy(), threshold))


def saturated_regions(x: np.ndarray, dy: np.ndarray, threshold: float) -> tuple[tuple[float, float], ...]:
    """Maximal runs of grid points where |f'(x)| < threshold, as (start, end) intervals in x.

    An interval's edges are put halfway between the last point inside and the first outside.
    """
    inside = np.abs(dy) < threshold                # (N,) bool
    regions, start = [], None
    for i, flag in enumerate(inside):
        if flag and start is None:
            start = x[0] if i == 0 else (x[i - 1] + x[i]) / 2
        if not flag and start is not None:
            regions.append((float(start), float((x[i - 1] + x[i]) / 2)))
            start = None
    if start is not None:
        regions.append((float(start), float(x[-1])))
    return tuple(regions)


def init_std(init: str, fan_in: int, fan_out: int, name: str, negative_slope: float = 0.01) -> float:
    """The weight standard deviation of Xavier/Glorot (sqrt(2 / (fan_in + fan_out))) or He/Kaiming
    (gain / sqrt(fan_in), gain = sqrt(2 / (1 + a^2)) with a the leaky slope, a = 0 for the rest)."""
    if init == "typical":
        init = TYPICAL_INIT[name]
    if init == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if init == "he":
        a = negative_slope if name == "leaky_relu" else 0.0
        return math.sqrt(2.0 / (1 + a ** 2)) / math.sqrt(fan_in)
    raise UserInputError("activations.errors.init", init=init)


def depth_gradients(name: str, depth: int, init: str = "typical", width: int = 128, batch: int = 64,
                    seed: int = 0, negative_slope: float = 0.01) -> np.ndarray:
    """Gradient size after passing back through k = 0..depth layers of h <- f(W h), Xavier or He weights.

    A stack of `depth` random linear layers (width x width, zero bias), each followed by the
    activation, is run forward on a batch of standard-normal inputs; from a random gradient at the
    output we backpropagate and record ||dL/dh|| at every layer's input. One fixed random generator gives the
    same weight directions for every activation, only their scale (init_std) differs.
    Returns (depth + 1,): entry k is the norm k layers below the output divided by the norm at the
    output (entry 0 is 1). Float64, so even sigmoid's 1e-30 stays representable.
    """
    if not 1 <= depth <= MAX_DEPTH:
        raise UserInputError("activations.errors.depth", depth=depth, max=MAX_DEPTH)
    g = torch.Generator().manual_seed(seed)
    std = init_std(init, width, width, name, negative_slope)
    Ws = [torch.randn(width, width, generator=g, dtype=torch.float64) * std for _ in range(depth)]
    h = torch.randn(batch, width, generator=g, dtype=torch.float64)   # (B, n) the input
    grad_out = torch.randn(batch, width, generator=g, dtype=torch.float64)   # (B, n) dL/d(output)

    hs = [h.requires_grad_(True)]
    for W in Ws:
        h = activation(name, h @ W.T, negative_slope)     # (B, n)
        h.retain_grad()
        hs.append(h)
    h.backward(grad_out)
    norms = [hs[depth - k].grad.norm().item() for k in range(depth + 1)]   # k layers below the output
    return np.asarray(norms) / norms[0]


def depth_ratios(init: str = "typical", negative_slope: float = 0.01, depth: int = MAX_DEPTH,
                 seed: int = 0, names: tuple[str, ...] = ACTIVATIONS) -> dict[str, list[float]]:
    """depth_gradients of each activation as plain lists, {name: [ratio after 0..depth layers]}: what
    the activations explorable draws its depth chart from. The slope only changes leaky ReLU's."""
    return {name: depth_gradients(name, depth, init, seed=seed, negative_slope=negative_slope).tolist()
            for name in names}


def depth_table(depth: int, init: str = "typical", negative_slope: float = 0.01, seed: int = 0,
                names: tuple[str, ...] = ACTIVATIONS):
    """depth_gradients for several activations as one long DataFrame: activation, layers, ratio."""
    import pandas as pd
    frames = []
    for name in names:
        ratio = depth_gradients(name, depth, init, seed=seed, negative_slope=negative_slope)
        frames.append(pd.DataFrame({"activation": name, "layers": np.arange(depth + 1), "ratio": ratio}))
    return pd.concat(frames, ignore_index=True)
