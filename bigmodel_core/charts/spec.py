"""What every chart shares: the builders, the style, and the way a chart reaches the browser. No Streamlit.

- `matrix_spec`: the one heat map, a Vega-Lite dict over named data (value labels, masked cells, a click
  selection of a cell, outlined rows / columns / rectangles (`Box`: a window, a winner), block-averaged
  above MAX_CELLS).
- `line_chart`: curves over steps (loss, accuracy, gradient norms), long form, optional log scale.
- `FONT`, `TITLE_FONT`, `STYLE` / `style(chart)`: one set of font sizes, for a classroom projector.
- `to_spec(chart)`: Altair -> a plain Vega-Lite dict (the one conversion); `to_live_spec` for charts
  redrawn as a control moves (`stable_names` + `arrow_datasets`); `arrow_bytes`: rows as Arrow, the
  form `_ui.vega` sends data in; `js_str`: a Python string as a Vega expression string.
(Pictures, when there are too many cells for a chart, are in `charts.images`.)
"""
from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd

from bigmodel_core.charts.images import as_numpy

MAX_CELLS = 5_000  # Altair's row limit for inline data
FONT = 14          # axis labels and titles, legends, numbers written on a chart (a classroom projector)
TITLE_FONT = 16    # a chart's title
STYLE = {"axis": {"labelFontSize": FONT, "titleFontSize": FONT},          # a Vega-Lite "config"
         "legend": {"labelFontSize": FONT, "titleFontSize": FONT},
         "title": {"fontSize": TITLE_FONT, "anchor": "start"}}


def block_reduce(a: np.ndarray, max_cells: int = MAX_CELLS) -> tuple[np.ndarray, int]:
    """Average-pool a 2-D array in square blocks until it has at most `max_cells` cells.

    Returns (reduced array, block size); block 1 means unchanged.
    """
    H, W = a.shape
    block = 1
    while (-(-H // block)) * (-(-W // block)) > max_cells:
        block += 1
    if block == 1:
        return a, 1
    Hp, Wp = -(-H // block) * block, -(-W // block) * block
    padded = np.full((Hp, Wp), np.nan)
    padded[:H, :W] = a
    reduced = np.nanmean(padded.reshape(Hp // block, block, Wp // block, block), axis=(1, 3))
    return reduced, block


@dataclass(frozen=True)
class Box:
    """A rectangle of cells to outline: rows r0..r1-1, cols c0..c1-1."""
    r0: int
    c0: int
    r1: int
    c1: int
    color: str = "#ff2d55"


def js_str(s) -> str:
    """A Python string as a single-quoted Vega expression string (for labelExpr lookups)."""
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


def style(chart):
    """An Altair chart in the house style (`STYLE`): the same font sizes on every page."""
    return (chart.configure_axis(**STYLE["axis"]).configure_legend(**STYLE["legend"])
            .configure_title(**STYLE["title"]))


def line_chart(df: pd.DataFrame, *, x: str = "step", y: str = "value", series: str | None = "series",
               title: str = "", log_y: bool = False, x_title: str | None = None,
               y_title: str | None = None, width: int = 360, height: int = 220,
               points: bool = False) -> alt.Chart:
    """Curves over steps from a long DataFrame (one row per (series, step))."""
    y_scale = alt.Scale(type="log") if log_y else alt.Scale(zero=False)
    enc = dict(x=alt.X(f"{x}:Q", title=x_title or x),
               y=alt.Y(f"{y}:Q", title=y_title or y, scale=y_scale),
               tooltip=[alt.Tooltip(f"{x}:Q"), alt.Tooltip(f"{y}:Q", format=".4g")])
    if series and series in df.columns:
        enc["color"] = alt.Color(f"{series}:N", title=None)
        enc["tooltip"].insert(0, alt.Tooltip(f"{series}:N"))
    chart = alt.Chart(df).mark_line(point=points).encode(**enc).properties(width=width, height=height)
    return chart.properties(title=title) if title else chart


# ---------------------------------------------------------------------------------------------
# Altair -> the dict the browser gets

def to_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a plain Vega-Lite dict, built once: pages cache it (st.cache_data) and draw it
    with st.vega_lite_chart, so a rerun does not pay Altair's per-object schema work again.
    (Tests validate the same charts with chart.to_dict().)"""
    from altair.utils.schemapi import debug_mode
    with debug_mode(False):
        return chart.to_dict(validate=False)


def stable_names(spec: dict, prefix: str = "d") -> dict:
    """The spec with its named datasets renamed d0, d1, ... in the order the spec first uses them.

    Altair names each dataset by a hash of its rows, so moving a slider (new point, new rule)
    renames a dataset and changes the spec itself, and the browser rebuilds the whole Vega view.
    With position-based names the spec stays the same and Streamlit only swaps the changed rows
    into the live chart. Returns a new dict; `spec` is not modified."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    order: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "datasets" and node is spec:
                    continue
                if k == "data" and isinstance(v, dict) and v.get("name") in datasets:
                    name = order.setdefault(v["name"], f"{prefix}{len(order)}")
                    out[k] = {**v, "name": name}
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(spec)
    for old in datasets:                       # declared but never referenced: keep, renamed too
        order.setdefault(old, f"{prefix}{len(order)}")
    out["datasets"] = {order[old]: rows for old, rows in datasets.items()}
    return out


def arrow_bytes(rows: list[dict]) -> bytes:
    """Rows as Arrow IPC bytes, the form st.vega_lite_chart sends chart data in (built straight from
    the rows: going through pandas, as Streamlit does for a list of dicts, costs milliseconds)."""
    import pyarrow as pa
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def arrow_datasets(spec: dict) -> dict:
    """The spec with each named dataset (a list of rows) serialized by arrow_bytes: done once where
    the spec is cached, not on every rerun."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    return {**spec, "datasets": {name: rows if isinstance(rows, bytes) else arrow_bytes(rows)
                                 for name, rows in datasets.items()}}


def to_live_spec(chart: alt.TopLevelMixin) -> dict:
    """`to_spec` for a chart redrawn as a control moves: datasets named by position (stable_names)
    and already in Arrow form (arrow_datasets), so a rerun sends only bytes and the browser swaps
    the changed rows into the chart it already shows."""
    return arrow_datasets(stable_names(to_spec(chart)))


# ---------------------------------------------------------------------------------------------
# The heat map as a plain Vega-Lite dict: no Altair objects, no schema validation, about a
# millisecond to build, so a page can redraw several of them per key press. The one builder for
# a matrix on screen (attention weights, hidden states, a convolution's output, a confusion matrix).

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
                  labelExpr="[" + ",".join(js_str(s) for s in names) + "][floor(datum.value - 0.5)]")
    return ax


def matrix_spec(a, *, row_labels: list[str] | None = None, col_labels: list[str] | None = None,
                title: str = "", value_title: str = "value", kind: str = "weights", numbers: bool | None = None,
                fmt: str = ".2f", cell_px: float = 34, select: str | None = None, row: int | None = None,
                col: int | None = None, x_title: str | None = None, y_title: str | None = None,
                domain: tuple[float, float] | None = None, legend: bool | str = True, cell_h: float | None = None,
                x_orient: str = "bottom", box_data: str | None = None, labels_in_data: bool = False,
                boxes: tuple[Box, ...] | list[Box] = (), scheme: str | None = None, reverse: bool = False,
                data_name: str = "matrix", max_cells: int = MAX_CELLS) -> dict:
    """A 2-D array as coloured cells, row 0 on top, as a Vega-Lite dict (drawn with `_ui.vega`).

    kind: "weights" (0..1, white to dark blue, square-root colour scale so small weights still show),
          "diverging" (red < 0 < blue, centred on 0), "sequential" (min..max, viridis);
          `scheme` (any Vega scheme: "greys", "blues", "greens", ..., `reverse`d) overrides kind's colours.
    Cells that are -inf (masked scores) are grey with a cross.
    row / col: outline that row / column; boxes: more outlined rectangles (`Box`, each its colour).
    select: a click selection over (row, col), read with `_ui.clicked(key, select)`.
    legend: True, False, or "bottom" (a horizontal colour bar under the map).
    Arrays with more than max_cells cells are block-averaged first (coordinates stay the original's).

    For charts redrawn on every key press, keep the spec itself the same when only the numbers or the
    outline move (Streamlit then swaps the data into the live chart instead of drawing a new one):
    box_data: the outlines go into the named dataset `box_data` and the cells into the named dataset
        `data_name` (both in spec["datasets"]).
    labels_in_data: the row labels come from the data (a band axis), not from the spec.
    With `domain` given, the colour scale, the number size and the white-on-dark rule depend only on it.
    """
    full = as_numpy(a)
    arr, block = block_reduce(full, max_cells)
    h, w = arr.shape                                         # cells drawn
    H, W = full.shape                                        # the original's coordinates
    cell_h = cell_h or cell_px                               # px per original row / column
    drawn_w, drawn_h = cell_px * block, cell_h * block       # px per drawn cell
    masked = ~np.isfinite(arr)
    finite = arr[~masked]
    values = [{"row": r * block, "col": c * block, "value": (None if masked[r, c] else float(arr[r, c])),
               "masked": bool(masked[r, c]),
               "rlabel": row_labels[r] if row_labels else str(r * block),
               "clabel": col_labels[c] if col_labels else str(c * block)}
              for r in range(h) for c in range(w)]
    if scheme:
        scale = {"scheme": scheme, "reverse": reverse, **({"domain": list(domain)} if domain else {})}
    elif kind == "weights":
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

    if legend == "bottom":
        legend_dict = {"orient": "bottom", "direction": "horizontal", "titleOrient": "left",
                       "gradientLength": max(60, min(160, int(W * cell_px) - 40))}
    else:
        legend_dict = ({"labelFontSize": 12, "titleFontSize": 13, "gradientLength": max(80, int(H * cell_h) - 30)}
                       if legend else None)
    color = {"field": "value", "type": "quantitative", "scale": scale, "title": value_title, "legend": legend_dict,
             "condition": {"test": "datum.masked", "value": "#d9d9d9"}}
    rect_mark = {"type": "rect", **({"stroke": "white", "strokeWidth": 0.5} if min(drawn_w, drawn_h) >= 12 else {})}
    rect = {"name": "cells", "mark": rect_mark, "encoding": {
        **xy("col", "row"), "x2": {"field": "col2"}, **({} if labels_in_data else {"y2": {"field": "row2"}}),
        "color": color,
        "tooltip": [{"field": "rlabel", "type": "nominal", "title": "row"},
                    {"field": "clabel", "type": "nominal", "title": "column"},
                    {"field": "value", "type": "quantitative", "format": fmt, "title": value_title}]},
        "transform": [{"calculate": f"datum.col + {block}", "as": "col2"},
                      {"calculate": f"datum.row + {block}", "as": "row2"}]}
    layers = [rect]
    if numbers is None:
        numbers = drawn_w >= 28
    if numbers and block == 1:
        longest = (max(len(format(v, fmt)) for v in domain) if domain else
                   max((len(format(v, fmt)) for v in finite.tolist()), default=3))
        font = max(8, min(15, min(cell_px * 0.8 / (0.6 * longest), cell_h / 1.6)))
        if kind == "weights" and not scheme:
            dark = f"datum.value > {0.25 * (domain or (0, 1))[1]}"
        elif kind == "diverging" and not scheme:
            vmax = max(abs(v) for v in domain) if domain else (float(np.abs(finite).max()) if finite.size else 1.0)
            dark = f"abs(datum.value) > {0.55 * vmax}"
        else:
            lo, hi = domain or ((float(finite.min()), float(finite.max())) if finite.size else (0, 1))
            light_low = scheme is None or reverse        # viridis is dark at its low end; "blues" etc. at the high
            dark = f"datum.value {'<' if light_low else '>'} {(lo + hi) / 2}"
        layers.append({"mark": {"type": "text", "fontSize": font}, "encoding": {
            **xy("cx", "cy"),
            "text": {"condition": {"test": "datum.masked", "value": "×"}, "field": "value", "type": "quantitative",
                     "format": fmt},
            "color": {"condition": [{"test": dark, "value": "white"}], "value": "black"}},
            "transform": [{"calculate": "datum.col + 0.5", "as": "cx"}, {"calculate": "datum.row + 0.5", "as": "cy"}]})
    outlines = ([{"r0": row, "r1": row + 1, "c0": 0, "c1": W}] if row is not None else []) + \
               ([{"r0": 0, "r1": H, "c0": col, "c1": col + 1}] if col is not None else []) + \
               [{"r0": b.r0, "r1": b.r1, "c0": b.c0, "c1": b.c1, "color": b.color} for b in boxes]   # no colour: Box's
    if outlines or box_data:
        layers.append({"data": {"name": box_data} if box_data else {"values": outlines},
                       "mark": {"type": "rect", "fill": None, "strokeWidth": 3},
                       "encoding": {**xy("c0", "r0"), "x2": {"field": "c1"}, "y2": {"field": "r1"},
                                    "stroke": {"condition": {"test": "datum.color", "field": "color",
                                                             "type": "nominal", "scale": None},
                                               "value": Box.color}}})
    spec = {"$schema": "https://vega.github.io/schema/vega-lite/v6.json", "data": {"values": values},
            "layer": layers, "width": int(round(W * cell_px)), "height": int(round(H * cell_h)),
            "autosize": {"type": "pad", "contains": "padding"}}
    if box_data:                # both named: Streamlit draws no unnamed data beside named datasets
        spec["data"] = {"name": data_name}
        spec["datasets"] = {data_name: values, box_data: outlines}
    if select:
        spec["params"] = [{"name": select, "select": {"type": "point", "fields": ["row", "col"], "on": "click",
                                                      "clear": False}, "views": ["cells"]}]
    if title:
        spec["title"] = {"text": title, "fontSize": TITLE_FONT, "anchor": "start"}
    return spec
