"""2-D convolution, explained: one output pixel = one window of the input times the kernel, summed.

Course text 1 §3.1.1 (and 3/4/5 §3.1) write the convolution layer as

    y(x, y) = sum_{i=0}^{kh-1} sum_{j=0}^{kw-1} w(i, j) * x(x + i, y + j) + b

`conv2d_explained` runs exactly that: a loop over output positions (d2l's `corr2d`), each one a
window of the zero-padded input times the kernel, summed, plus the bias. Stride moves the window
by s pixels, dilation spreads the kernel's taps d pixels apart, and the output size is

    out = floor((i + 2p - d(k - 1) - 1) / s) + 1

The fast path beside it, `torch.nn.functional.conv2d`, gives the same numbers (tests check it);
the page draws the whole feature map with the fast path, and `.window` explains any one pixel (the
browser's twin, convWindow in app_pages/components/conv.js, is tested against it).
Like every deep-learning library this is cross-correlation: the kernel is not flipped.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd
import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError

# ---------------------------------------------------------------------------------------------
# Kernel presets: the classic 3x3 image filters, as (kh, kw) lists

KERNEL_PRESETS: dict[str, list[list[float]]] = {
    "identity":      [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "box_blur":      [[1 / 9] * 3] * 3,
    "gaussian_blur": [[1 / 16, 2 / 16, 1 / 16], [2 / 16, 4 / 16, 2 / 16], [1 / 16, 2 / 16, 1 / 16]],
    "sharpen":       [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "edge":          [[0, 1, 0], [1, -4, 1], [0, 1, 0]],          # the Laplacian
    "sobel_x":       [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]],        # d/dx: lights up vertical edges
    "sobel_y":       [[-1, -2, -1], [0, 0, 0], [1, 2, 1]],        # d/dy: lights up horizontal edges
    "emboss":        [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]],
}
KERNEL_SIZES = (3, 5)       # custom kernels the learner may type
MAX_KERNEL_ABS = 100.0      # a typed weight larger than this is surely a typo


def kernel_preset(name: str) -> torch.Tensor:
    """One preset as a float32 (3, 3) tensor."""
    if name not in KERNEL_PRESETS:
        raise KeyError(f"unknown kernel {name!r}; choose from {tuple(KERNEL_PRESETS)}")
    return torch.tensor(KERNEL_PRESETS[name], dtype=torch.float32)


_FRACTION = re.compile(r"^\s*([+-]?\d+(?:\.\d*)?)\s*/\s*(\d+(?:\.\d*)?)\s*$")


def parse_kernel_cell(cell, row: int, col: int) -> float:
    """One typed cell -> a float. Accepts numbers, '0.5', '-2', '1/9'; refuses the rest clearly."""
    where = {"row": row + 1, "col": col + 1}
    if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell).strip() == "":
        raise UserInputError("convolution.errors.empty_cell", **where)
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        value = float(cell)
    else:
        text = str(cell).strip().replace(",", ".").replace("−", "-")
        fraction = _FRACTION.match(text)
        try:
            if fraction:
                value = float(fraction.group(1)) / float(fraction.group(2))
            else:
                value = float(text)
        except (ValueError, ZeroDivisionError):
            raise UserInputError("convolution.errors.not_number", text=str(cell)[:20], **where) from None
    if not math.isfinite(value) or abs(value) > MAX_KERNEL_ABS:
        raise UserInputError("convolution.errors.absurd_cell", text=str(cell)[:20],
                             limit=f"{MAX_KERNEL_ABS:g}", **where)
    return value


def parse_kernel_grid(grid) -> torch.Tensor:
    """A typed square grid (list of rows, or a DataFrame from st.data_editor) -> (k, k) float32.

    Raises UserInputError naming the first bad cell: empty, not a number, or absurdly large.
    """
    rows = grid.values.tolist() if isinstance(grid, pd.DataFrame) else [list(r) for r in grid]
    k = len(rows)
    if k not in KERNEL_SIZES or any(len(r) != k for r in rows):
        raise UserInputError("convolution.errors.kernel_shape", sizes="3×3, 5×5")
    return torch.tensor([[parse_kernel_cell(cell, r, c) for c, cell in enumerate(row)]
                         for r, row in enumerate(rows)], dtype=torch.float32)


def identity_kernel(k: int) -> torch.Tensor:
    """(k, k) zeros with a 1 in the centre: y = x, the custom editor's fallback."""
    kernel = torch.zeros(k, k)
    kernel[k // 2, k // 2] = 1.0
    return kernel


def custom_kernel_cells(k: int, text: str = "", preset: str = "sobel_x") -> list[list[str]]:
    """The starting cells of a k x k custom-kernel editor: `text` (a link's comma-separated cells,
    kept as typed so parse_kernel_grid gives a hand-edited link the same clear message) when it has
    k*k cells, else the 3x3 `preset` centred in zeros."""
    cells = [c.strip() for c in text.split(",")] if text else []
    if len(cells) == k * k:
        return [cells[r * k: (r + 1) * k] for r in range(k)]
    grid = torch.zeros(k, k)
    o = (k - 3) // 2
    grid[o: o + 3, o: o + 3] = kernel_preset(preset)
    return [[f"{float(v):.4g}" for v in row] for row in grid]


# ---------------------------------------------------------------------------------------------
# The output-size formula

def output_size(i: int, k: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """floor((i + 2p - d(k - 1) - 1) / s) + 1: how many window positions fit along one axis."""
    return (i + 2 * padding - dilation * (k - 1) - 1) // stride + 1


# ---------------------------------------------------------------------------------------------
# One output pixel, with its arithmetic

@dataclass(frozen=True)
class Window:
    """Everything behind one output pixel y(row, col)."""
    row: int                 # output position
    col: int
    top: int                 # the window's top-left tap in the padded input
    left: int
    dilation: int
    patch: torch.Tensor      # (C, kh, kw) input values under the kernel's taps
    kernel: torch.Tensor     # (C, kh, kw)
    products: torch.Tensor   # (C, kh, kw) kernel * patch, element by element
    bias: float
    total: float             # sum of the products
    result: float            # total + bias = the output pixel

    @property
    def extent(self) -> tuple[int, int, int, int]:
        """(r0, c0, r1, c1) in padded-input coordinates: the rectangle the taps span."""
        C, kh, kw = self.kernel.shape
        return (self.top, self.left,
                self.top + self.dilation * (kh - 1) + 1, self.left + self.dilation * (kw - 1) + 1)

    def taps(self) -> list[tuple[int, int]]:
        """(row, col) of every kernel tap in padded-input coordinates."""
        C, kh, kw = self.kernel.shape
        return [(self.top + i * self.dilation, self.left + j * self.dilation)
                for i in range(kh) for j in range(kw)]


class ConvExplained:
    """The result of `conv2d_explained`: the feature map, and any pixel's window on demand."""

    def __init__(self, image, kernel, output, padded, bias, stride, padding, dilation):
        self.image = image          # (C, H, W)
        self.kernel = kernel        # (C, kh, kw)
        self.output = output        # (H_out, W_out): the feature map
        self.padded = padded        # (C, H + 2p, W + 2p): the input the window slides over
        self.bias, self.stride, self.padding, self.dilation = bias, stride, padding, dilation

    def window(self, row: int, col: int) -> Window:
        """The window behind output pixel (row, col): patch, kernel, products, sum, + b."""
        H_out, W_out = self.output.shape
        if not (0 <= row < H_out and 0 <= col < W_out):
            raise IndexError(f"output pixel ({row}, {col}) outside {H_out}x{W_out}")
        patch = _patch(self.padded, row, col, self.kernel.shape[-2:], self.stride, self.dilation)
        products = self.kernel * patch                              # (C, kh, kw)
        total = float(products.sum())
        return Window(row, col, row * self.stride, col * self.stride, self.dilation,
                      patch, self.kernel, products, self.bias, total, total + self.bias)


def _patch(padded: torch.Tensor, row: int, col: int, kernel_hw, stride: int, dilation: int):
    """The (C, kh, kw) input values under the kernel when its top-left tap sits at (row*s, col*s)."""
    kh, kw = kernel_hw
    top, left = row * stride, col * stride
    return padded[:, top: top + dilation * (kh - 1) + 1: dilation,
                     left: left + dilation * (kw - 1) + 1: dilation]


# ---------------------------------------------------------------------------------------------
# The operation: the readable loop, and the fast path beside it

def conv2d_explained(image, kernel, *, bias: float = 0.0, stride: int = 1, padding: int = 0,
                     dilation: int = 1, fast: bool = True) -> ConvExplained:
    """y(r, c) = sum_i sum_j w(i, j) * x(r*s + d*i, c*s + d*j) + b over a zero-padded input.

    image: (H, W) or (C, H, W). kernel: (kh, kw) or (C, kh, kw); a 2-D kernel on a C-channel image
    is used on every channel. The C per-channel results are summed into one feature map.
    fast=False computes every pixel with the loop below; fast=True (the page) uses F.conv2d.
    """
    x = torch.as_tensor(image, dtype=torch.float32)
    w = torch.as_tensor(kernel, dtype=torch.float32)
    x = x.unsqueeze(0) if x.dim() == 2 else x                       # (C, H, W)
    if x.dim() != 3 or w.dim() not in (2, 3):
        raise ValueError(f"image must be (H, W) or (C, H, W), kernel (kh, kw) or (C, kh, kw); "
                         f"got {tuple(x.shape)} and {tuple(w.shape)}")
    C, H, W = x.shape
    w = w.expand(C, *w.shape) if w.dim() == 2 else w                # (C, kh, kw)
    if w.shape[0] != C:
        raise ValueError(f"kernel has {w.shape[0]} channels, image has {C}")
    kh, kw = w.shape[-2:]
    H_out = output_size(H, kh, stride=stride, padding=padding, dilation=dilation)
    W_out = output_size(W, kw, stride=stride, padding=padding, dilation=dilation)
    if stride < 1 or padding < 0 or dilation < 1 or H_out < 1 or W_out < 1:
        raise UserInputError("convolution.errors.no_output", height=H, width=W, kh=kh, kw=kw,
                             stride=stride, padding=padding, dilation=dilation)
    padded = F.pad(x, (padding, padding, padding, padding))        # (C, H + 2p, W + 2p), zeros

    if fast:   # the fast path: one call, batched as (N=1, C, H, W) with one output channel
        y = F.conv2d(x[None], w[None], bias=torch.tensor([float(bias)], device=x.device), stride=stride,
                     padding=padding, dilation=dilation)[0, 0]      # (H_out, W_out)
    else:      # the formula, one output pixel at a time (d2l's corr2d)
        y = torch.zeros(H_out, W_out, device=x.device)
        for r in range(H_out):
            for c in range(W_out):
                patch = _patch(padded, r, c, (kh, kw), stride, dilation)   # (C, kh, kw)
                y[r, c] = (w * patch).sum() + bias
    return ConvExplained(x, w, y, padded, float(bias), stride, padding, dilation)


def feature_map(image, kernel: str = "sobel_x") -> torch.Tensor:
    """(H, W) image -> (H - 2, W - 2) feature map: one preset 3x3 kernel, stride 1, no padding, no bias.
    The pooling page pools this (Sobel x: the vertical edges), as a CNN pools its conv layers' maps."""
    return conv2d_explained(image, kernel_preset(kernel)).output


# ---------------------------------------------------------------------------------------------
# Input images for the page: grey (H, W) or RGB (3, H, W) in [0, 1], shrunk for speed

def image_to_tensor(img, *, rgb: bool = False, max_side: int = 64) -> tuple[torch.Tensor, bool]:
    """A PIL image -> float32 (H, W) grey or (3, H, W) RGB in [0, 1], longer side <= max_side.

    Returns (tensor, resized): resized is True when the image was shrunk.
    """
    from bigmodel_core.data import to_grayscale_array, to_rgb_array
    resized = max(img.size) > max_side
    a = to_rgb_array(img, max_side) if rgb else to_grayscale_array(img, max_side)
    return torch.from_numpy(a.copy()), resized
