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

from bigmodel_core.charts.images import colorize

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


def html_grid(values, *, title: str = "", cell: int = 46, diverging: bool = False,
              domain: tuple[float, float] | None = None, fmt: str = "{:.2f}",
              marks: tuple[tuple[int, int], ...] = ()) -> str:
    """A small matrix (a window, a kernel, their products) as an HTML table of coloured, numbered
    cells: big enough for a projector, and far cheaper to build than a chart on every rerun.

    marks: (row, col) cells outlined in green (the max-pooling winner)."""
    a = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, dtype=np.float64)
    if diverging:
        vmax = float(np.abs(a).max()) or 1.0
        rgb = colorize(a, "RdBu_r", -vmax, vmax)
    else:
        lo, hi = domain or (float(a.min()), float(a.max()))
        rgb = colorize(a, "gray", lo, hi if hi > lo else lo + 1)
    font = max(11, min(16, cell // 3))
    rows = []
    for r in range(a.shape[0]):
        tds = []
        for c in range(a.shape[1]):
            R, G, B = (int(v) for v in rgb[r, c])
            ink = "#fff" if 0.299 * R + 0.587 * G + 0.114 * B < 140 else "#111"
            border = "3px solid #00c878" if (r, c) in marks else "1px solid #fff"
            tds.append(f'<td style="width:{cell}px;height:{cell}px;background:rgb({R},{G},{B});color:{ink};'
                       f'border:{border};text-align:center;padding:0;font-size:{font}px">'
                       f"{fmt.format(a[r, c])}</td>")
        rows.append("<tr>" + "".join(tds) + "</tr>")
    head = f'<div style="font-weight:600;font-size:18px;margin-bottom:2px">{title}</div>' if title else ""
    return (f'{head}<table style="border-collapse:collapse;margin:0;table-layout:fixed">'
            + "".join(rows) + "</table>")


def heatmap_spec(values, *, cell: float, select: str, box: tuple[int, int] | None = None,
                 diverging: bool = False, domain: tuple[float, float] | None = None,
                 value_title: str = "value", max_cells: int = 5_000):
    """A clickable heat map as a plain Vega-Lite dict + its long-form DataFrame (no Altair objects:
    building and validating those costs more than the whole rerun budget on a busy server).

    Same picture as `bigmodel_core.charts.heatmap`: row 0 at the top, cells of `cell` px, a point
    selection `select` over (row, col), the cell `box` outlined; maps larger than max_cells are
    block-averaged (coordinates stay the original's). Use with st.vega_lite_chart(df, spec, ...)."""
    from bigmodel_core.charts.spec import block_reduce, heatmap_frame
    a = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, dtype=np.float64)
    H, W = a.shape
    reduced, block = block_reduce(a, max_cells)
    df = heatmap_frame(reduced, block)
    if diverging:
        vmax = float(np.abs(a).max()) or 1.0
        scale = {"scheme": "redblue", "domain": [-vmax, vmax], "reverse": True}
    else:
        scale = {"scheme": "greys", "reverse": True, **({"domain": list(domain)} if domain else {})}
    step = max(1, max(H, W) // 6)
    axis = {"title": None, "grid": False, "labelExpr": "floor(datum.value)"}
    x = {"field": "col", "type": "quantitative", "scale": {"domain": [0, W], "nice": False, "zero": False},
         "axis": {**axis, "values": [i + 0.5 for i in range(0, W, step)]}}
    y = {"field": "row", "type": "quantitative",
         "scale": {"domain": [0, H], "nice": False, "zero": False, "reverse": True},
         "axis": {**axis, "values": [i + 0.5 for i in range(0, H, step)]}}
    rect = {"mark": {"type": "rect"},
            "params": [{"name": select, "select": {"type": "point", "fields": ["row", "col"], "on": "click",
                                                   "clear": False}}],
            "encoding": {"x": x, "x2": {"field": "col2"}, "y": y, "y2": {"field": "row2"},
                         "color": {"field": "value", "type": "quantitative", "scale": scale,
                                   "title": value_title},
                         "tooltip": [{"field": "row", "type": "quantitative"},
                                     {"field": "col", "type": "quantitative"},
                                     {"field": "value", "type": "quantitative", "format": ".3f",
                                      "title": value_title}]}}
    layers = [rect]
    if box is not None:
        r, c = box
        layers.append({"data": {"values": [{"r0": r, "c0": c, "r1": r + 1, "c1": c + 1}]},
                       "mark": {"type": "rect", "fill": None, "stroke": "#ff2d55", "strokeWidth": 3},
                       "encoding": {"x": {"field": "c0", "type": "quantitative"}, "x2": {"field": "c1"},
                                    "y": {"field": "r0", "type": "quantitative"}, "y2": {"field": "r1"}}})
    spec = {"width": int(round(W * cell)), "height": int(round(H * cell)), "layer": layers,
            "autosize": {"type": "pad", "contains": "padding"},
            "config": {"legend": {"orient": "bottom", "direction": "horizontal", "titleOrient": "left",
                                  "gradientLength": max(60, min(160, int(W * cell) - 40))}}}
    return spec, df
