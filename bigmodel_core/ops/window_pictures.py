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
    """Whole screen pixels per cell so the longer side fills at least about size_px."""
    return max(2, -(-size_px // max(H, W)))


def number_grid(values, *, title: str = "", cell: int = 34, diverging: bool = False,
                domain: tuple[float, float] | None = None, fmt: str = ".2f",
                marks: tuple[tuple[int, int], ...] = ()):
    """A small matrix as labelled cells (a window, a kernel, their products): no axes, no legend.

    marks: (row, col) cells to outline (the max-pooling winner)."""
    import altair as alt
    import pandas as pd
    a = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, dtype=np.float64)
    H, W = a.shape
    rows, cols = np.mgrid[0:H, 0:W]
    df = pd.DataFrame({"row": rows.ravel(), "col": cols.ravel(), "value": a.ravel()})
    if diverging:
        vmax = float(np.abs(a).max()) or 1.0
        scale, lo, hi = alt.Scale(scheme="redblue", domain=[-vmax, vmax], reverse=True), -vmax, vmax
        dark = f"abs(datum.value) > {0.6 * vmax}"
    else:
        lo, hi = domain or (float(a.min()), float(a.max()) if a.max() > a.min() else float(a.min()) + 1)
        scale = alt.Scale(scheme="greys", domain=[lo, hi], reverse=True)    # 0 black, 1 white
        dark = f"datum.value < {(lo + hi) / 2}"
    x = alt.X("col:O", axis=None)
    y = alt.Y("row:O", axis=None)
    base = alt.Chart(df).encode(x=x, y=y)
    rect = base.mark_rect(stroke="#ffffff", strokeWidth=1).encode(
        color=alt.Color("value:Q", scale=scale, legend=None),
        tooltip=[alt.Tooltip("row:O", title="i"), alt.Tooltip("col:O", title="j"),
                 alt.Tooltip("value:Q", format=".4f")])
    text = base.mark_text(fontSize=max(9, min(15, cell // 3))).encode(
        text=alt.Text("value:Q", format=fmt),
        color=alt.when(dark).then(alt.value("white")).otherwise(alt.value("black")))
    layers = [rect, text]
    if marks:
        mdf = pd.DataFrame([{"row": r, "col": c} for r, c in marks])
        layers.append(alt.Chart(mdf).mark_rect(fill=None, stroke="#00c878", strokeWidth=3)
                      .encode(x=x, y=y))
    chart = alt.layer(*layers).properties(width=W * cell, height=H * cell,
                                          autosize={"type": "pad", "contains": "padding"})
    return chart.properties(title=alt.TitleParams(title, fontSize=16)) if title else chart
