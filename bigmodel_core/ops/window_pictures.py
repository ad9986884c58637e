"""Pictures for the convolution and pooling pages: a map as a crisp upscaled image with outlined boxes.

Altair refuses more than 5,000 cells, so the (padded) input is drawn as one RGB image instead: each
input pixel becomes a square of `cell` screen pixels (nearest neighbour, no blur), and windows,
taps and winners are outlined on top. The clickable feature map stays an Altair heat map
(`bigmodel_core.charts.heatmap`) drawn at the same cell size, so both sit at the same scale.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from bigmodel_core.charts import colorize

PAD_TINT = np.array([70, 110, 190], dtype=np.float32)   # zero padding is shown tinted blue
WINDOW = (255, 45, 85)        # the window's outline (same red as charts.Box)
TAP = (255, 200, 0)           # dilated taps
WINNER = (0, 200, 120)        # the max-pooling winner
FRAME = (60, 110, 230)        # the original image's border inside the padding


@dataclass(frozen=True)
class Outline:
    """A rectangle of cells (rows r0..r1-1, cols c0..c1-1) to outline in one colour."""
    r0: int
    c0: int
    r1: int
    c1: int
    color: tuple[int, int, int] = WINDOW
    width: int = 3


def to_rgb_uint8(a, *, signed: bool = False) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8: grey for [0, 1] images, red-blue around 0 when signed.
    (3, H, W) RGB in [0, 1] is passed through."""
    a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a, dtype=np.float32)
    if a.ndim == 3:
        return (np.clip(a.transpose(1, 2, 0), 0, 1) * 255).round().astype(np.uint8)
    if signed:
        vmax = float(np.abs(a).max()) or 1.0
        return colorize(a, "RdBu_r", -vmax, vmax)
    lo, hi = float(a.min()), float(a.max())
    lo, hi = min(lo, 0.0), max(hi, 1.0)                      # images: 0 black, 1 white
    g = ((a - lo) / (hi - lo) * 255).round().astype(np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


def render_map(rgb: np.ndarray, *, cell: int, padding: int = 0,
               outlines: tuple[Outline, ...] | list[Outline] = (), grid: bool = False) -> Image.Image:
    """An (H, W, 3) uint8 picture upscaled to `cell` px per pixel, padding tinted, outlines drawn."""
    H, W, _ = rgb.shape
    img = rgb.astype(np.float32)
    if padding:
        inside = np.zeros((H, W), dtype=bool)
        inside[padding: H - padding, padding: W - padding] = True
        img[~inside] = 0.55 * img[~inside] + 0.45 * PAD_TINT
    big = np.repeat(np.repeat(img.round().astype(np.uint8), cell, 0), cell, 1)
    pic = Image.fromarray(big)
    draw = ImageDraw.Draw(pic)
    if grid and cell >= 6:                                   # thin cell borders on small maps
        for r in range(H + 1):
            draw.line([(0, r * cell), (W * cell, r * cell)], fill=(200, 200, 200), width=1)
        for c in range(W + 1):
            draw.line([(c * cell, 0), (c * cell, H * cell)], fill=(200, 200, 200), width=1)
    if padding:
        draw.rectangle([padding * cell, padding * cell, (W - padding) * cell - 1,
                        (H - padding) * cell - 1], outline=FRAME, width=2)
    for o in outlines:
        draw.rectangle([o.c0 * cell, o.r0 * cell, o.c1 * cell - 1, o.r1 * cell - 1],
                       outline=o.color, width=o.width)
    return pic


def cell_size(H: int, W: int, size_px: int = 340) -> int:
    """Screen pixels per cell so the longer side fills about size_px (at least 2)."""
    return max(2, size_px // max(H, W))
