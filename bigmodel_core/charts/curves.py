"""Altair builders for the activation and loss pages: long DataFrames in, `alt.Chart` out.

Kept apart from the maths (ops/activations.py, ops/losses.py). Every visible word comes in as an
argument (the page translates it); sizes and fonts are chosen for a classroom projector: thick
lines, 14-16 px labels, one fixed colour per activation / loss on every chart.
"""
from __future__ import annotations

import math

import altair as alt
import pandas as pd

ACTIVATION_LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
                     "gelu": "GELU", "silu": "SiLU"}
ACTIVATION_COLORS = {"sigmoid": "#d62728", "tanh": "#ff7f0e", "relu": "#1f5fbf", "leaky_relu": "#17a2b8",
                     "gelu": "#2ca02c", "silu": "#8e44ad"}
LOSS_COLORS = {"mse": "#1f5fbf", "mae": "#ff7f0e", "huber": "#2ca02c",
               "cross_entropy": "#d62728", "mse_probs": "#1f5fbf"}
SATURATED_FILL = "#f4b183"


def _big_fonts(chart, legend_columns: int | None = None):
    legend = dict(columns=legend_columns) if legend_columns else {}
    # "pad": width/height are the plotting area; axes, title and legend are added around it
    # (Streamlit's default "fit" would squeeze them all into width x height)
    chart = chart.properties(autosize=alt.AutoSizeParams(type="pad", contains="padding"))
    return (chart.configure_axis(labelFontSize=14, titleFontSize=15, gridColor="#e6e6e6")
            .configure_legend(labelFontSize=14, titleFontSize=14, symbolStrokeWidth=4, orient="bottom", **legend)
            .configure_title(fontSize=17, anchor="start")
            .configure_view(strokeWidth=0))


def _color(labels: dict[str, str], colors: dict[str, str], names) -> alt.Scale:
    names = list(names)
    return alt.Scale(domain=[labels[n] for n in names], range=[colors[n] for n in names])


def activation_chart(df: pd.DataFrame, *, focus: str, x0: float, y0: float,
                     regions: tuple[tuple[float, float], ...], title: str, y_title: str,
                     x_title: str = "x", saturated_label: str = "saturated",
                     threshold: float | None = None, focus_scale: bool = False,
                     width: int = 285, height: int = 250) -> alt.Chart:
    """f(x) or f'(x) of several activations (long df: activation, x, value) with the focus one drawn
    thick, its saturated intervals shaded, and its value at x0 marked and labelled.
    focus_scale: fit the y axis to the focus curve (the others are clipped), so sigmoid's 0..1 is
    not squashed by ReLU's 0..R."""
    df = df.assign(label=df["activation"].map(ACTIVATION_LABELS), focus=df["activation"] == focus)
    names = [n for n in ACTIVATION_LABELS if n in set(df["activation"])]
    lo, hi = float(df["x"].min()), float(df["x"].max())
    x = alt.X("x:Q", title=x_title, scale=alt.Scale(domain=[lo, hi], nice=False))
    color = alt.Color("label:N", title=None, scale=_color(ACTIVATION_LABELS, ACTIVATION_COLORS, names),
                      sort=[ACTIVATION_LABELS[n] for n in names])
    layers = []
    if regions:
        rdf = pd.DataFrame([{"x": a, "x2": b, "what": saturated_label} for a, b in regions])
        layers.append(alt.Chart(rdf).mark_rect(color=SATURATED_FILL, opacity=0.35).encode(
            x=alt.X("x:Q", scale=alt.Scale(domain=[lo, hi], nice=False)), x2="x2:Q",
            tooltip=[alt.Tooltip("what:N", title=""), alt.Tooltip("x:Q", format=".2f"),
                     alt.Tooltip("x2:Q", format=".2f")]))
        mid = [(a + b) / 2 for a, b in regions if (b - a) > 0.12 * (hi - lo)]
        if mid:
            layers.append(alt.Chart(pd.DataFrame({"x": mid, "t": saturated_label})).mark_text(
                baseline="top", dy=4, fontSize=14, color="#a0522d", fontWeight="bold").encode(
                x=alt.X("x:Q", scale=alt.Scale(domain=[lo, hi], nice=False)),
                y=alt.value(0), text="t:N"))
    values = df.loc[df["focus"], "value"] if focus_scale else df["value"]
    vlo, vhi = min(0.0, float(values.min())), max(0.0, float(values.max()))
    pad = 0.08 * (vhi - vlo or 1.0)
    y_scale = alt.Scale(domain=[vlo - pad, vhi + pad], nice=False)
    layers.append(alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(
        y=alt.Y("y:Q", scale=y_scale)))
    if threshold is not None:
        tdf = pd.DataFrame({"y": [threshold, -threshold]})
        layers.append(alt.Chart(tdf).mark_rule(color="#a0522d", strokeDash=[4, 4]).encode(y="y:Q"))
    lines = alt.Chart(df).mark_line(clip=True).encode(
        x=x, y=alt.Y("value:Q", title=y_title, scale=y_scale), color=color, detail="activation:N",
        strokeWidth=alt.condition("datum.focus", alt.value(4.5), alt.value(2)),
        opacity=alt.condition("datum.focus", alt.value(1.0), alt.value(0.45)),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("x:Q", format=".2f"),
                 alt.Tooltip("value:Q", format=".4f")])
    layers.append(lines)
    pt = pd.DataFrame({"x": [x0], "value": [y0], "text": [f"{y0:.3f}"]})
    layers.append(alt.Chart(pt).mark_rule(color="#333", strokeDash=[2, 3]).encode(x="x:Q"))
    layers.append(alt.Chart(pt).mark_point(filled=True, size=180, color="black").encode(x="x:Q", y="value:Q"))
    layers.append(alt.Chart(pt).mark_text(align="left", dx=10, dy=-12, fontSize=16, fontWeight="bold").encode(
        x="x:Q", y="value:Q", text="text:N"))
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return _big_fonts(chart, legend_columns=3)


def depth_chart(df: pd.DataFrame, *, focus: str, n_layers: int, title: str, x_title: str,
                y_title: str, width: int = 560, height: int = 300) -> alt.Chart:
    """Gradient size vs layers passed back through (long df: activation, layers, ratio), log y,
    a rule at the learner's N with each activation's value there."""
    df = df.assign(label=df["activation"].map(ACTIVATION_LABELS), focus=df["activation"] == focus)
    names = [n for n in ACTIVATION_LABELS if n in set(df["activation"])]
    floor = 1e-40
    df["ratio"] = df["ratio"].clip(lower=floor)
    lo = 10 ** math.floor(math.log10(max(floor, float(df["ratio"].min()))))
    hi = 10 ** math.ceil(math.log10(max(10.0, float(df["ratio"].max()))))
    color = alt.Color("label:N", title=None, scale=_color(ACTIVATION_LABELS, ACTIVATION_COLORS, names),
                      sort=[ACTIVATION_LABELS[n] for n in names])
    y = alt.Y("ratio:Q", title=y_title, scale=alt.Scale(type="log", domain=[lo, hi]),
              axis=alt.Axis(format="~e", tickCount=8))
    x = alt.X("layers:Q", title=x_title, scale=alt.Scale(domain=[0, int(df["layers"].max())], nice=False))
    band = pd.DataFrame({"y": [0.1], "y2": [10.0]})
    layers = [
        alt.Chart(band).mark_rect(color="#2ca02c", opacity=0.08).encode(y="y:Q", y2="y2:Q"),
        alt.Chart(df).mark_line().encode(
            x=x, y=y, color=color, detail="activation:N",
            strokeWidth=alt.condition("datum.focus", alt.value(5), alt.value(2.5)),
            tooltip=[alt.Tooltip("label:N", title=""), "layers:Q", alt.Tooltip("ratio:Q", format=".3g")]),
    ]
    at = df[df["layers"] == n_layers].copy()
    at["text"] = [f"{v:.2g}" if f else "" for v, f in zip(at["ratio"], at["focus"])]   # label the focus only
    layers += [
        alt.Chart(pd.DataFrame({"layers": [n_layers]})).mark_rule(color="#333", strokeWidth=2,
                                                                   strokeDash=[5, 3]).encode(x="layers:Q"),
        alt.Chart(at).mark_point(filled=True, size=110).encode(x="layers:Q", y="ratio:Q", color=color),
        alt.Chart(at).mark_text(align="left", dx=8, fontSize=14, fontWeight="bold").encode(
            x="layers:Q", y="ratio:Q", text="text:N", color=color),
    ]
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return _big_fonts(chart)


LABEL_GAP_PX = 17          # value labels at least this far apart vertically (14 px bold text)


def spread_labels(values: dict[str, float], gap: float) -> dict[str, float]:
    """Heights for one label per value, at least `gap` apart: from the highest value down, each
    label sits at its value unless that is too close to the one above, then just below it."""
    heights, above = {}, None
    for name in sorted(values, key=values.get, reverse=True):
        heights[name] = values[name] if above is None else min(values[name], above - gap)
        above = heights[name]
    return {name: heights[name] for name in values}


def regression_chart(df: pd.DataFrame, *, column: str, labels: dict[str, str], target: float,
                     prediction: float, current: dict[str, float], title: str, x_title: str,
                     y_title: str, target_label: str, width: int = 285, height: int = 250) -> alt.Chart:
    """Loss (column="value") or its gradient (column="grad") vs the prediction for each loss
    (long df: loss, prediction, value, grad), the target as a dashed rule, the current point marked."""
    df = df.assign(label=df["loss"].map(labels))
    names = list(dict.fromkeys(df["loss"]))
    color = alt.Color("label:N", title=None, scale=_color(labels, LOSS_COLORS, names),
                      sort=[labels[n] for n in names])
    # Both domains written out (what Vega-Lite would derive from the curves, the zero line
    # included), so moving the prediction changes only the point layers: the browser then redraws
    # those marks instead of recomputing the scales, the axes and every curve.
    x = alt.X("prediction:Q", title=x_title, scale=alt.Scale(
        domain=[min(0.0, float(df["prediction"].min())), max(0.0, float(df["prediction"].max()))], nice=False))
    y_scale = alt.Scale(domain=[min(0.0, float(df[column].min())), max(0.0, float(df[column].max()))], nice=True)
    layers = [
        alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#888").encode(y=alt.Y("y:Q", scale=y_scale)),
        alt.Chart(pd.DataFrame({"prediction": [target], "t": [target_label]})).mark_rule(
            color="#333", strokeDash=[6, 4], strokeWidth=2).encode(x="prediction:Q"),
        alt.Chart(pd.DataFrame({"prediction": [target], "t": [target_label]})).mark_text(
            align="left", dx=5, baseline="top", fontSize=14, fontWeight="bold").encode(
            x="prediction:Q", y=alt.value(2), text="t:N"),
        alt.Chart(df).mark_line(strokeWidth=3.5).encode(
            x=x, y=alt.Y(f"{column}:Q", title=y_title, scale=y_scale), color=color,
            tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("prediction:Q", format=".2f"),
                     alt.Tooltip(f"{column}:Q", format=".3f")]),
    ]
    lo, hi = y_scale.domain
    label_y = spread_labels(current, gap=LABEL_GAP_PX * (hi - lo) / height)
    pts = pd.DataFrame([{"loss": n, "label": labels[n], "prediction": prediction, column: v, "ly": label_y[n],
                         "text": f"{v:.2f}"} for n, v in current.items()])
    layers += [
        alt.Chart(pd.DataFrame({"prediction": [prediction]})).mark_rule(color="#333", strokeDash=[2, 3]).encode(
            x="prediction:Q"),
        alt.Chart(pts).mark_point(filled=True, size=170, opacity=1).encode(
            x="prediction:Q", y=f"{column}:Q", color=color),
        alt.Chart(pts).mark_text(align="left", dx=9, baseline="middle", fontSize=14, fontWeight="bold").encode(
            x="prediction:Q", y=alt.Y("ly:Q", scale=y_scale), text="text:N", color=color),
    ]
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return _big_fonts(chart)


def class_bars(df: pd.DataFrame, *, class_labels: list[str], true_label: str, panel_order: list[str],
               width: int = 95, height: int = 230) -> alt.Chart:
    """Side-by-side bar panels (long df: panel, cls, value, kind): probabilities on [0, 1] and
    gradients on one shared [-1, 1] scale, so a small push looks small. The true class is outlined."""
    panels = []
    for i, panel in enumerate(panel_order):
        sub = df[df["panel"] == panel].copy()
        sub["true"] = sub["cls"] == true_label
        sub["text"] = sub["value"].map(lambda v: f"{v:+.2f}" if panel != panel_order[0] else f"{v:.2f}")
        domain = [0, 1] if i == 0 else [-1, 1]
        axis = alt.Axis(labels=i < 2, ticks=i < 2,   # the 3rd panel shares the 2nd's scale
                        values=[-1, -0.5, 0, 0.5, 1] if i else [0, 0.2, 0.4, 0.6, 0.8, 1])
        y = alt.Y("value:Q", title=None, scale=alt.Scale(domain=domain, nice=False, clamp=True), axis=axis)
        xx = alt.X("cls:N", title=None, sort=class_labels, axis=alt.Axis(labelAngle=0, labelFontSize=15),
                   scale=alt.Scale(domain=class_labels))     # fixed, so new values redraw only the bars
        bars = alt.Chart(sub).mark_bar(size=26).encode(
            x=xx, y=y,
            color=alt.Color("kind:N", legend=None, scale=alt.Scale(
                domain=["prob", "ce", "mse"], range=["#7f7f7f", LOSS_COLORS["cross_entropy"], LOSS_COLORS["mse_probs"]])),
            stroke=alt.condition("datum.true", alt.value("black"), alt.value(None)),
            strokeWidth=alt.condition("datum.true", alt.value(3), alt.value(0)),
            tooltip=["cls:N", alt.Tooltip("value:Q", format=".4f")])
        text = alt.Chart(sub).mark_text(fontSize=14, fontWeight="bold",
                                        dy=alt.ExprRef("datum.value >= 0 ? -10 : 12")).encode(
            x=xx, y=y, text="text:N")
        zero = alt.Chart(pd.DataFrame({"y": [0.0]})).mark_rule(color="#555").encode(y="y:Q")
        panels.append(alt.layer(bars, zero, text).properties(width=width, height=height, title=panel))
    chart = alt.hconcat(*panels, spacing=14)
    return _big_fonts(chart)


def sweep_chart(df: pd.DataFrame, *, labels: dict[str, str], z_now: float, current: dict[str, float],
                title: str, x_title: str, y_title: str, width: int = 230, height: int = 230) -> alt.Chart:
    """|dL/dz_y| (long df: loss, z, push) as the true class's logit moves: cross-entropy keeps
    pushing when the model is confidently wrong (left), MSE on probabilities goes quiet.
    x_title should say which side is which (wrong on the left, right on the right)."""
    df = df.assign(label=df["loss"].map(labels))
    names = list(dict.fromkeys(df["loss"]))
    color = alt.Color("label:N", title=None, scale=_color(labels, LOSS_COLORS, names),
                      sort=[labels[n] for n in names])
    lo, hi = float(df["z"].min()), float(df["z"].max())
    x = alt.X("z:Q", title=x_title, scale=alt.Scale(domain=[lo, hi], nice=False))
    pts = pd.DataFrame([{"label": labels[n], "z": z_now, "push": v, "text": f"{v:.2f}"} for n, v in current.items()])
    layers = [
        alt.Chart(df).mark_line(strokeWidth=3.5).encode(
            x=x, y=alt.Y("push:Q", title=y_title, scale=alt.Scale(domain=[0, 1.05], nice=False)),
            color=color, tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("z:Q", format=".2f"),
                                  alt.Tooltip("push:Q", format=".3f")]),
        alt.Chart(pd.DataFrame({"z": [z_now]})).mark_rule(color="#333", strokeDash=[2, 3]).encode(x="z:Q"),
        alt.Chart(pts).mark_point(filled=True, size=170, opacity=1).encode(x="z:Q", y="push:Q", color=color),
        alt.Chart(pts).mark_text(align="left", dx=9, dy=-8, fontSize=14, fontWeight="bold").encode(
            x="z:Q", y="push:Q", text="text:N", color=color),
    ]
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return _big_fonts(chart)
