"""Pictures for the self-attention page: data in, Altair chart or Vega-Lite dict out, no Streamlit.

- `matrix_spec`: a token x token (or token x dimension) matrix with token labels, numbers in the cells,
  a click selection, an outlined row; masked cells (-inf) drawn grey with a cross.
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
from bigmodel_core.charts.spec import js_str as _js

FONT = 14                    # axis labels
TITLE_FONT = 16
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


# ---------------------------------------------------------------------------------------------
# The same heat map as a plain Vega-Lite dict: no Altair objects, no schema validation, about a
# millisecond to build. The page redraws up to nine of these per key press (target: 100 ms), and
# building + validating an Altair chart costs tens of milliseconds each; draw with st.vega_lite_chart.

def _axis_dict(names, n, angle, title, orient):
    if orient == "none":
        return None
    ax = {"grid": False, "labelFontSize": FONT, "titleFontSize": FONT, "title": title, "labelOverlap": False}
    if orient:
        ax["orient"] = orient
    if names is None:
        step = max(1, n // 8)
        ax.update(values=[i + 0.5 for i in range(0, n, step)], labelExpr="floor(datum.value)")
    else:
        ax.update(values=[i + 0.5 for i in range(n)], ticks=False, labelAngle=angle, labelLimit=140,
                  labelExpr="[" + ",".join(_js(s) for s in names) + "][floor(datum.value - 0.5)]")
    return ax


def matrix_spec(a, *, row_labels: list[str] | None = None, col_labels: list[str] | None = None,
                title: str = "", value_title: str = "value", kind: str = "weights", numbers: bool | None = None,
                fmt: str = ".2f", cell_px: float = 34, select: str | None = None, row: int | None = None,
                col: int | None = None, x_title: str | None = None, y_title: str | None = None,
                domain: tuple[float, float] | None = None, legend: bool = True, cell_h: float | None = None,
                x_orient: str = "bottom", box_data: str | None = None, labels_in_data: bool = False) -> dict:
    """A 2-D array as coloured cells, row 0 on top, as a Vega-Lite dict (drawn with st.vega_lite_chart).

    kind: "weights" (0..1, white to dark blue, square-root colour scale so small weights still show),
          "diverging" (red < 0 < blue, centred on 0), "sequential" (min..max, viridis).
    Cells that are -inf (masked scores) are grey with a cross. row / col: outline that row / column.
    select: a click selection over (row, col), read with on_select="rerun".

    For charts redrawn on every key press, keep the spec itself the same when only the numbers or the
    outline move (Streamlit then swaps the data into the live chart instead of drawing a new one):
    box_data: the outlined row / column go into the named dataset `box_data` and the cells into the
        named dataset "matrix" (both in spec["datasets"]).
    labels_in_data: the row labels come from the data (a band axis), not from the spec.
    With `domain` given, the colour scale, the number size and the white-on-dark rule depend only on it.
    """
    arr = _np(a)
    H, W = arr.shape
    cell_h = cell_h or cell_px
    masked = ~np.isfinite(arr)
    finite = arr[~masked]
    values = [{"row": r, "col": c, "value": (None if masked[r, c] else float(arr[r, c])), "masked": bool(masked[r, c]),
               "rlabel": row_labels[r] if row_labels else str(r), "clabel": col_labels[c] if col_labels else str(c)}
              for r in range(H) for c in range(W)]
    if kind == "weights":
        scale = {"scheme": "blues", "type": "sqrt", "domain": list(domain or (0.0, 1.0))}
    elif kind == "diverging":
        vmax = float(np.abs(finite).max()) if finite.size else 1.0
        scale = {"scheme": "redblue", "reverse": True, "domain": list(domain or (-(vmax or 1.0), vmax or 1.0))}
    else:
        scale = {"scheme": "viridis", **({"domain": list(domain)} if domain else {})}
    angle = -45 if col_labels and max(len(s) for s in col_labels) > 2 else 0
    xs = {"domain": [0, W], "nice": False, "zero": False}
    ys = {"domain": [0, H], "nice": False, "zero": False, "reverse": True}
    x_axis, y_axis = _axis_dict(col_labels, W, angle, x_title, x_orient), _axis_dict(row_labels, H, 0, y_title, None)

    if labels_in_data:          # rows on a band scale named by the data's rlabel field (in row order)
        y_band = {"field": "rlabel", "type": "nominal", "sort": None,
                  "scale": {"paddingInner": 0, "paddingOuter": 0},
                  "axis": {"grid": False, "labelFontSize": FONT, "titleFontSize": FONT, "title": y_title,
                           "ticks": False, "labelLimit": 140}}

    def xy(xf, yf):
        y = y_band if labels_in_data else {"field": yf, "type": "quantitative", "scale": ys, "axis": y_axis}
        return {"x": {"field": xf, "type": "quantitative", "scale": xs, "axis": x_axis}, "y": y}

    color = {"field": "value", "type": "quantitative", "scale": scale, "title": value_title,
             "legend": ({"labelFontSize": 12, "titleFontSize": 13, "gradientLength": max(80, int(H * cell_h) - 30)}
                        if legend else None),
             "condition": {"test": "datum.masked", "value": "#d9d9d9"}}
    rect_mark = {"type": "rect", **({"stroke": "white", "strokeWidth": 0.5} if min(cell_px, cell_h) >= 12 else {})}
    rect = {"name": "cells", "mark": rect_mark, "encoding": {
        **xy("col", "row"), "x2": {"field": "col2"}, **({} if labels_in_data else {"y2": {"field": "row2"}}),
        "color": color,
        "tooltip": [{"field": "rlabel", "type": "nominal", "title": "row"},
                    {"field": "clabel", "type": "nominal", "title": "column"},
                    {"field": "value", "type": "quantitative", "format": fmt, "title": value_title}]},
        "transform": [{"calculate": "datum.col + 1", "as": "col2"}, {"calculate": "datum.row + 1", "as": "row2"}]}
    layers = [rect]
    if numbers is None:
        numbers = cell_px >= 28
    if numbers:
        longest = (max(len(format(v, fmt)) for v in domain) if domain else
                   max((len(format(v, fmt)) for v in finite.tolist()), default=3))
        font = max(8, min(15, min(cell_px * 0.8 / (0.6 * longest), cell_h / 1.6)))
        if kind == "weights":
            dark = f"datum.value > {0.25 * (domain or (0, 1))[1]}"
        elif kind == "diverging":
            vmax = max(abs(v) for v in domain) if domain else (float(np.abs(finite).max()) if finite.size else 1.0)
            dark = f"abs(datum.value) > {0.55 * vmax}"
        else:
            lo, hi = domain or ((float(finite.min()), float(finite.max())) if finite.size else (0, 1))
            dark = f"datum.value < {(lo + hi) / 2}"
        layers.append({"mark": {"type": "text", "fontSize": font}, "encoding": {
            **xy("cx", "cy"),
            "text": {"condition": {"test": "datum.masked", "value": "×"}, "field": "value", "type": "quantitative",
                     "format": fmt},
            "color": {"condition": [{"test": dark, "value": "white"}], "value": "black"}},
            "transform": [{"calculate": "datum.col + 0.5", "as": "cx"}, {"calculate": "datum.row + 0.5", "as": "cy"}]})
    boxes = ([{"r0": row, "r1": row + 1, "c0": 0, "c1": W}] if row is not None else []) + \
            ([{"r0": 0, "r1": H, "c0": col, "c1": col + 1}] if col is not None else [])
    if boxes or box_data:
        layers.append({"data": {"name": box_data} if box_data else {"values": boxes},
                       "mark": {"type": "rect", "fill": None, "stroke": "#ff2d55", "strokeWidth": 3},
                       "encoding": {**xy("c0", "r0"), "x2": {"field": "c1"}, "y2": {"field": "r1"}}})
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "data": {"values": values},
            "layer": layers, "width": int(W * cell_px), "height": int(H * cell_h),
            "autosize": {"type": "pad", "contains": "padding"}}
    if box_data:                # both named: Streamlit draws no unnamed data beside named datasets
        spec["data"] = {"name": "matrix"}
        spec["datasets"] = {"matrix": values, box_data: boxes}
    if select:
        spec["params"] = [{"name": select, "select": {"type": "point", "fields": ["row", "col"], "on": "click",
                                                      "clear": False}, "views": ["cells"]}]
    if title:
        spec["title"] = {"text": title, "fontSize": TITLE_FONT, "anchor": "start"}
    return spec
