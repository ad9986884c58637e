"""Pictures for the CNN anatomy and interpretability pages: data in, image arrays or alt.Chart out.

Sized for a classroom projector: big digits (nearest-neighbour upscaling keeps pixels crisp),
high-contrast colour maps, large axis labels. No Streamlit here.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bigmodel_core.charts.images import as_numpy, colorize, tile_images, upscale
from bigmodel_core.charts.spec import FONT, matrix_spec



def digit_image(x28, scale: int = 8) -> np.ndarray:
    """The (28, 28) input in [0, 1] as the model sees it: ink white on black, upscaled to 224 px."""
    a = np.clip(as_numpy(x28), 0, 1)
    return upscale((a * 255).round().astype(np.uint8), scale)


def feature_map_grid(maps, *, ncols: int = 8, scale: int = 3, diverging: bool = False) -> np.ndarray:
    """(C, H, W) feature maps -> one RGB tile image (C maps, ncols per row), each map on its own range.

    diverging (for pre-ReLU conv outputs): blue negative, white 0, red positive, symmetric per map;
    otherwise "inferno" from black (0) to yellow (the map's maximum).
    """
    m = as_numpy(maps)
    C, H, W = m.shape
    if diverging:
        vmax = np.abs(m).reshape(C, -1).max(1)[:, None, None]
        m = np.where(vmax > 0, m / np.where(vmax > 0, vmax, 1), 0.0)         # each map in [-1, 1]
        tiles = tile_images(m * 0.5 + 0.5, ncols=ncols, pad=1, normalize="all", pad_value=np.nan)
        lo, hi, cmap = 0.0, 1.0, "RdBu_r"
    else:
        tiles = tile_images(m, ncols=ncols, pad=1, normalize="each", pad_value=np.nan)
        lo, hi, cmap = 0.0, 1.0, "inferno"
    pad = np.isnan(tiles)
    rgb = colorize(np.nan_to_num(tiles, nan=0.0), cmap, vmin=lo, vmax=hi)
    rgb[pad] = 255                                                           # white gaps between maps
    return upscale(rgb, scale)


def filter_grid(kernels, *, ncols: int = 8, scale: int = 14) -> np.ndarray:
    """conv1's (32, 1, 3, 3) kernels as 3x3 tiles on one shared diverging scale (red +, blue -)."""
    k = as_numpy(kernels)[:, 0]                                              # (32, 3, 3)
    vmax = float(np.abs(k).max()) or 1.0
    tiles = tile_images(k / vmax * 0.5 + 0.5, ncols=ncols, pad=1, normalize="all", pad_value=np.nan)
    pad = np.isnan(tiles)
    rgb = colorize(np.nan_to_num(tiles, nan=0.5), "RdBu_r", vmin=0.0, vmax=1.0)
    rgb[pad] = 255
    return upscale(rgb, scale)


def probability_chart(probs, *, predicted: int, label: int | None = None, title: str = "",
                      x_title: str = "digit", y_title: str = "probability") -> alt.Chart:
    """Ten bars, one per digit; the prediction in orange, the others grey; values printed above."""
    p = as_numpy(probs).ravel()
    df = pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": p,
                       "kind": ["predicted" if d == predicted else "other" for d in range(10)],
                       "text": [f"{v:.0%}" if v >= 0.005 else "" for v in p]})
    base = alt.Chart(df).encode(
        x=alt.X("digit:N", sort=None, title=x_title, axis=alt.Axis(labelFontSize=FONT + 3, labelAngle=0,
                                                                   titleFontSize=FONT)),
        y=alt.Y("probability:Q", title=y_title, scale=alt.Scale(domain=[0, 1.08]),
                axis=alt.Axis(format="%", labelFontSize=FONT, titleFontSize=FONT, tickCount=5)))
    bars = base.mark_bar().encode(
        color=alt.Color("kind:N", scale=alt.Scale(domain=["predicted", "other"], range=["#f28e2b", "#9aa3ad"]),
                        legend=None),
        tooltip=[alt.Tooltip("digit:N"), alt.Tooltip("probability:Q", format=".4f")])
    text = base.mark_text(dy=-10, fontSize=FONT, fontWeight="bold").encode(text="text:N")
    chart = (bars + text).properties(width=330, height=230)
    return chart.properties(title=title) if title else chart


def fc1_image(activations) -> np.ndarray:
    """The 128 fc1 activations as an 8 x 16 RGB image (neuron i at row i // 16, col i % 16), inferno
    from black (0, inactive) to yellow (the largest activation), with 1-pixel white gaps."""
    a = as_numpy(activations).reshape(128, 1, 1)                          # (128,) -> one cell per neuron
    cells = np.broadcast_to(a, (128, 4, 4))                                 # each neuron a 4x4 square
    tiles = tile_images(cells, ncols=16, pad=1, normalize="all", pad_value=np.nan)
    pad = np.isnan(tiles)
    rgb = colorize(np.nan_to_num(tiles, nan=0.0), "inferno", vmin=0.0, vmax=1.0)
    rgb[pad] = 255
    return rgb


def confusion_spec(cm: np.ndarray, *, x_title: str, y_title: str) -> dict:
    """(true, predicted) counts as a labelled 10x10 heat map (a Vega-Lite dict)."""
    digits = [str(d) for d in range(cm.shape[0])]
    return matrix_spec(cm, row_labels=digits, col_labels=digits, numbers=True, fmt=".0f", cell_px=34,
                       scheme="blues", value_title="count", title=f"{y_title} ↓ / {x_title} →")


def overlay(digit, attribution, *, scale: int = 8, signed: bool = False, gamma: float = 0.6) -> np.ndarray:
    """An attribution map over the digit, as an RGB image on white paper (reads well when projected).

    The digit is drawn light grey on white. signed (IG, occlusion): red where the pixel raised the
    target's score, blue where it lowered it; otherwise (saliency, Grad-CAM) yellow -> dark red for
    small -> large. Colour opacity grows with |attribution| / max |attribution| (to the power gamma).
    """
    d = np.clip(as_numpy(digit), 0, 1)
    a = as_numpy(attribution)
    paper = np.repeat((1.0 - 0.45 * d)[..., None], 3, axis=2)              # (28, 28, 3) grey digit on white
    vmax = float(np.abs(a).max()) or 1.0
    weight = ((np.abs(a) / vmax) ** gamma)[..., None]                     # (28, 28, 1) in [0, 1]
    if signed:
        red, blue = np.array([0.80, 0.07, 0.10]), np.array([0.10, 0.30, 0.85])
        colour = np.where((a >= 0)[..., None], red, blue)
    else:
        colour = colorize(np.abs(a) / vmax, "YlOrRd", vmin=0.0, vmax=1.0) / 255.0
    out = paper * (1 - weight) + colour * weight
    return upscale((np.clip(out, 0, 1) * 255).round().astype(np.uint8), scale)


def signed_colorbar(width: int = 224, height: int = 14) -> np.ndarray:
    """The legend of a signed overlay: blue (lowers the score) -> white (0) -> red (raises it)."""
    v = np.linspace(-1, 1, width)
    w = (np.abs(v) ** 0.6)[:, None]
    colour = np.where((v >= 0)[:, None], np.array([0.80, 0.07, 0.10]), np.array([0.10, 0.30, 0.85]))
    row = (1 - w) + colour * w                                             # (width, 3) over white
    return (np.repeat(row[None], height, axis=0) * 255).round().astype(np.uint8)


def latex_number(v: float, digits: int = 2) -> str:
    """A number for a formula: fixed point while short, a × 10^n when large or tiny."""
    if v != 0 and not 1e-3 <= abs(v) < 1e5:
        mantissa, exp = f"{v:.{digits}e}".split("e")
        return rf"{mantissa}\times 10^{{{int(exp)}}}"
    return f"{v:.{digits}f}"


def softmax_line_latex(z, k: int) -> str | None:
    """The numbers of p_k = e^{z_k} / sum_j e^{z_j} for one digit, or None if a logit is not finite.

    sum_j e^{z_j} overflows float64 once a logit passes ~709 (a diverged network's logits reach 1e13),
    so it is computed as log-sum-exp, L = z_max + log sum_j e^{z_j - z_max}, and written e^{L} when e^L
    would be too long to read; p_k = e^{z_k - L} never overflows."""
    z = np.asarray(z, dtype=np.float64)                                # (10,) logits
    if not np.isfinite(z).all():
        return None
    L = z.max() + np.log(np.exp(z - z.max()).sum())                   # log sum_j e^{z_j}
    total = f"{np.exp(L):.4g}" if L < 20 else rf"e^{{{latex_number(L)}}}"
    p = float(np.exp(z[k] - L))
    return (rf"z_{{{k}}} = {latex_number(z[k])},\quad \sum_j e^{{z_j}} = {total}"
            rf",\quad p_{{{k}}} = \frac{{e^{{{latex_number(z[k])}}}}}{{\sum_j e^{{z_j}}}} = {p:.4f}")
