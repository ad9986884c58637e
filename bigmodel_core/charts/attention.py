"""Pictures for the self-attention page: data in, Altair chart or Vega-Lite dict out, no Streamlit.

- The page's heat maps (token x token scores, positional encodings) are charts.spec.matrix_spec, the one
  heat-map builder (re-exported here as `matrix_spec`).
- `model_view_spec`: every head of every layer as a small map in one clickable grid (BertViz's
  "model view"); the grid is one PNG, so 72 maps of T x T cost one image, not 72 T^2 rows.
- `saturation_chart`, `attribution_chart`, `summary_spec`: the page's other pictures.
The by-hand query row (its numbers, formula and matrices) is drawn in the browser: app_pages/components/attention_row.js.
Sized for a classroom projector: large labels, strong colours.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd
import torch

from bigmodel_core.charts.images import as_numpy as _np, png_data_url as _png_data_url
from bigmodel_core.charts.spec import FONT, TITLE_FONT, js_str as _js, matrix_spec  # noqa: F401 (matrix_spec: the page's heat maps)
# Streamlit fits a chart's axes *inside* its width ("fit") unless the spec says otherwise; "pad" keeps
# width/height as the plot area, so a cell is exactly cell_px and images are not squeezed.
PAD = alt.AutoSizeParams(type="pad", contains="padding")


def _blues(a: np.ndarray) -> np.ndarray:
    """Weights in [0, 1] -> RGB uint8, white to dark blue on a square-root scale (as matrix_spec)."""
    import matplotlib
    rgba = matplotlib.colormaps["Blues"](np.sqrt(np.clip(a, 0, 1)))
    return (rgba[..., :3] * 255).round().astype(np.uint8)


def model_view_spec(attn_weights, *, selected: tuple[int, int] | None = None, head_px: int = 60,
                    select: str | None = "head", layer_title: str = "layer", head_title: str = "head") -> dict:
    """All heads of all layers, (L, H, T, T) weights of one sentence, as an L x H grid of small maps.

    The grid is one PNG at its drawn size (each head nearest-neighbour scaled to head_px, so every
    cell stays a crisp square), with a transparent square over each head that catches the clicks:
    a click selects (layer, head), numbered from 1. `selected` is outlined. A Vega-Lite dict.
    """
    A = _np(attn_weights)
    L, H, T, _ = A.shape
    gap = 4                                                      # white margin around each head
    step = head_px + 2 * gap
    idx = np.arange(head_px) * T // head_px                      # nearest-neighbour: pixel -> cell
    tiles = _blues(A)[:, :, idx][:, :, :, idx]                   # (L, H, head_px, head_px, 3)
    tiles = np.pad(tiles, ((0, 0), (0, 0), (gap, gap), (gap, gap), (0, 0)), constant_values=255)
    grid = np.ascontiguousarray(tiles.transpose(0, 2, 1, 3, 4).reshape(L * step, H * step, 3))

    def axis(n, title, orient):
        return {"values": [i + 0.5 for i in range(n)], "labelExpr": "floor(datum.value) + 1", "title": title,
                "orient": orient, "grid": False, "ticks": False, "domain": False,
                "labelFontSize": FONT, "titleFontSize": FONT}
    x = {"type": "quantitative", "scale": {"domain": [0, H], "nice": False, "zero": False}, "axis": axis(H, head_title, "top")}
    y = {"type": "quantitative", "scale": {"domain": [0, L], "nice": False, "zero": False, "reverse": True},
         "axis": axis(L, layer_title, "left")}
    picture = {"data": {"values": [{"x": 0, "y": 0, "url": _png_data_url(grid)}]},
               "mark": {"type": "image", "width": H * step, "height": L * step, "aspect": False,
                        "align": "left", "baseline": "top"},
               "encoding": {"x": {"field": "x", **x}, "y": {"field": "y", **y}, "url": {"field": "url", "type": "nominal"}}}
    heads = [{"layer": l + 1, "head": h + 1, "cx": h + 0.5, "cy": l + 0.5} for l in range(L) for h in range(H)]
    hit = {"name": "heads", "data": {"values": heads},
           "mark": {"type": "square", "size": step * step, "opacity": 0.001},
           "encoding": {"x": {"field": "cx", **x}, "y": {"field": "cy", **y},
                        "tooltip": [{"field": "layer", "type": "ordinal"}, {"field": "head", "type": "ordinal"}]}}
    layers = [picture, hit]
    if selected is not None:
        layers.append({"data": {"values": [{"cx": selected[1] - 0.5, "cy": selected[0] - 0.5}]},
                       "mark": {"type": "square", "size": (head_px + 6) ** 2, "filled": False,
                                "stroke": "#ff2d55", "strokeWidth": 3},
                       "encoding": {"x": {"field": "cx", **x}, "y": {"field": "cy", **y}}})
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "layer": layers,
            "width": H * step, "height": L * step, "autosize": {"type": "pad", "contains": "padding"}}
    if select:
        spec["params"] = [{"name": select, "select": {"type": "point", "fields": ["layer", "head"], "on": "click",
                                                      "clear": False}, "views": ["heads"]}]
    return spec


def saturation_chart(df: pd.DataFrame, *, scaled_label: str, unscaled_label: str, x_title: str, y_title: str,
                     now: str = "saturation_now", width: int = 380, height: int = 240) -> alt.LayerChart:
    """Mean largest softmax weight per row vs d_k, with and without the 1/sqrt(d_k).

    The learner's d_k (dashed rule) and sentence (diamond) come from the named dataset `now`, rows
    {"d_k", "max_weight"}: the spec stays the same when they move, so the live chart only takes new data.
    """
    d = df.assign(series=np.where(df["scaled"], scaled_label, unscaled_label))
    color = alt.Color("series:N", title=None, scale=alt.Scale(domain=[scaled_label, unscaled_label],
                                                              range=["#1f77b4", "#d62728"]),
                      legend=alt.Legend(orient="bottom", labelFontSize=13, labelLimit=300))
    x = alt.X("d_k:Q", title=x_title, scale=alt.Scale(type="log", base=2, domain=[2, 64]),
              axis=alt.Axis(values=[2, 4, 8, 16, 32, 64], labelFontSize=FONT, titleFontSize=FONT))
    y = alt.Y("max_weight:Q", title=y_title, scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(labelFontSize=FONT, titleFontSize=FONT))
    lines = alt.Chart(d).mark_line(point=True, strokeWidth=3).encode(
        x=x, y=y, color=color, tooltip=["series:N", "d_k:Q", alt.Tooltip("max_weight:Q", format=".2f"),
                                        alt.Tooltip("score_std:Q", format=".2f")])
    rule = alt.Chart(alt.NamedData(now)).mark_rule(strokeDash=[4, 3], color="black", strokeWidth=2).encode(x=x)
    diamond = alt.Chart(alt.NamedData(now)).mark_point(shape="diamond", size=180, filled=True,
                                                       color="black").encode(x=x, y=y)
    return alt.layer(lines, rule, diamond).properties(width=width, height=height, autosize=PAD)


def attribution_chart(tokens: list[str], attributions, *, title: str = "", value_title: str = "attribution",
                      width: int = 420) -> alt.Chart:
    """One horizontal bar per token, red for pushing the similarity down, blue for up."""
    a = _np(attributions)
    df = pd.DataFrame({"i": range(len(tokens)), "token": tokens, "value": a})
    vmax = float(np.abs(a).max()) or 1.0
    chart = alt.Chart(df).mark_bar().encode(
        y=alt.Y("i:O", title=None, axis=alt.Axis(labelExpr="[" + ",".join(_js(s) for s in tokens) + "][datum.value]",
                                                 labelFontSize=FONT)),
        x=alt.X("value:Q", title=value_title, axis=alt.Axis(labelFontSize=FONT, titleFontSize=FONT)),
        color=alt.Color("value:Q", scale=alt.Scale(scheme="redblue", domain=[-vmax, vmax]), legend=None),
        tooltip=["token:N", alt.Tooltip("value:Q", format=".4f")],
    ).properties(width=width, height=max(120, 26 * len(tokens)), autosize=PAD)
    return chart.properties(title=alt.Title(title, fontSize=TITLE_FONT, anchor="start")) if title else chart


def summary_spec(df: pd.DataFrame, field: str, *, title: str, fmt: str = ".1f", layer_title: str = "layer",
                 head_title: str = "head") -> dict:
    """A layers x heads table of one per-head number (entropy, distance) as a heat map with values."""
    L, H = int(df["layer"].max()), int(df["head"].max())
    grid = df.pivot(index="layer", columns="head", values=field).to_numpy()
    return matrix_spec(grid, row_labels=[str(i) for i in range(1, L + 1)], col_labels=[str(i) for i in range(1, H + 1)],
                        kind="sequential", fmt=fmt, cell_px=34, title=title, value_title=field,
                        x_title=head_title, y_title=layer_title, legend=False)
