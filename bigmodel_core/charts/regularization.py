"""Pictures for the regularization page: data in, `alt.Chart` out, no Streamlit.

- `fit_chart`: the fitted curve over the noisy training points (1-D), or the decision map with its
  boundary and the training points (2-D).
- `loss_chart`: training and validation loss over steps, the gap between them shaded.
- `weights_histogram`: the weights' histogram with the exact zeros as their own red bar.

Sized and coloured for a classroom projector: thick lines, large points, large fonts.
Every label arrives translated (the caller passes the text), so the builders stay language-free.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bigmodel_core.regularization import (GRID, HIST_BINS, Snapshot, Task, decision_edges, histogram_counts,
                                          true_curve)

TRAIN_COLOR = "#1f77b4"    # blue: training loss
VAL_COLOR = "#d62728"      # red: validation loss
GAP_COLOR = "#ff9896"      # the shaded gap between them
FIT_COLOR = "#2ca02c"      # green: the model's curve
CLASS_COLORS = ("#1f77b4", "#ff7f0e")   # class 0 blue, class 1 orange
ZERO_COLOR = "#d62728"
FONT = 14


def _style(chart: alt.Chart) -> alt.Chart:
    return (chart.configure_axis(labelFontSize=FONT - 1, titleFontSize=FONT)
            .configure_legend(labelFontSize=FONT, titleFontSize=FONT, orient="top")
            .configure_title(fontSize=FONT + 2, anchor="start"))


def fit_chart(task: Task, snap: Snapshot, kind: str, *, title: str, labels: dict[str, str],
              width: int = 420, height: int = 260, style: bool = True) -> alt.Chart:
    """The model's fit on top of the training data.

    kind "curve": training points, the true curve (dashed) and the model's curve.
    kind "moons": P(class 1) on a GRID x GRID map, the boundary P = 0.5 in black, the points.
    labels: "train", "truth", "model", "class0", "class1", "x", "y" in the learner's language.
    """
    x0, x1, y0, y1 = task.extent
    if kind == "curve":
        xs = task.X_show[:, 0].numpy()
        pred = np.clip(np.nan_to_num(snap.prediction, nan=0.0), y0, y1)   # stay on the chart
        lines = pd.concat([
            pd.DataFrame({"x": xs, "y": true_curve(task.X_show[:, 0]).numpy(), "series": labels["truth"]}),
            pd.DataFrame({"x": xs, "y": pred, "series": labels["model"]})])
        pts = pd.DataFrame({"x": task.X_train[:, 0].numpy(), "y": task.y_train.numpy(),
                            "series": labels["train"]})
        xs_, ys_ = alt.Scale(domain=[x0, x1], nice=False), alt.Scale(domain=[y0, y1], nice=False)
        color = alt.Color("series:N", title=None, legend=alt.Legend(labelFontSize=12, columnPadding=6,
                                                                    symbolSize=70), scale=alt.Scale(
            domain=[labels["train"], labels["truth"], labels["model"]],
            range=["#222222", "#888888", FIT_COLOR]))
        curve = alt.Chart(lines).mark_line(strokeWidth=4, clip=True).encode(
            x=alt.X("x:Q", scale=xs_, title=labels["x"]), y=alt.Y("y:Q", scale=ys_, title=labels["y"]),
            color=color, strokeDash=alt.StrokeDash("series:N", title=None, scale=alt.Scale(
                domain=[labels["truth"], labels["model"]], range=[[6, 4], [1, 0]])))
        dots = alt.Chart(pts).mark_circle(size=140, opacity=1, stroke="white", strokeWidth=1.5).encode(
            x=alt.X("x:Q", scale=xs_), y=alt.Y("y:Q", scale=ys_), color=color,
            tooltip=[alt.Tooltip("x:Q", format=".2f"), alt.Tooltip("y:Q", format=".2f")])
        chart = alt.layer(curve, dots)
    else:
        dx, dy = (x1 - x0) / (GRID - 1), (y1 - y0) / (GRID - 1)
        p = np.nan_to_num(snap.prediction.reshape(GRID, GRID), nan=0.5)     # (GRID, GRID), row = y
        gx, gy = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
        cells = pd.DataFrame({"x": gx.ravel() - dx / 2, "x2": gx.ravel() + dx / 2,
                              "y": gy.ravel() - dy / 2, "y2": gy.ravel() + dy / 2, "p": p.ravel()})
        edge = decision_edges(p)                                             # cells where the class flips
        border = pd.DataFrame({"x": gx[edge], "y": gy[edge]})
        pts = pd.DataFrame({"x": task.X_train[:, 0].numpy(), "y": task.X_train[:, 1].numpy(),
                            "label": np.where(task.y_train.numpy() > 0.5, labels["class1"], labels["class0"])})
        xs_ = alt.Scale(domain=[x0 - dx / 2, x1 + dx / 2], nice=False)
        ys_ = alt.Scale(domain=[y0 - dy / 2, y1 + dy / 2], nice=False)
        heat = alt.Chart(cells).mark_rect(opacity=0.55).encode(
            x=alt.X("x:Q", scale=xs_, title=labels["x"]), x2="x2:Q",
            y=alt.Y("y:Q", scale=ys_, title=labels["y"]), y2="y2:Q",
            color=alt.Color("p:Q", scale=alt.Scale(domain=[0, 1], range=["#9ecae1", "#ffffff", "#fdae6b"]),
                            legend=None))
        line = alt.Chart(border).mark_square(size=max(6, (width / GRID) ** 2 * 0.9), color="black").encode(
            x=alt.X("x:Q", scale=xs_), y=alt.Y("y:Q", scale=ys_))
        dots = alt.Chart(pts).mark_circle(size=150, opacity=1, stroke="black", strokeWidth=1.2, clip=True).encode(
            x=alt.X("x:Q", scale=xs_), y=alt.Y("y:Q", scale=ys_),
            color=alt.Color("label:N", title=None, scale=alt.Scale(
                domain=[labels["class0"], labels["class1"]], range=list(CLASS_COLORS))))
        chart = alt.layer(heat, line, dots)
    chart = chart.properties(width=width, height=height, title=title)
    return _style(chart) if style else chart


def loss_frame(curve: pd.DataFrame) -> pd.DataFrame:
    """Rows with finite, positive losses only (a log axis cannot show 0, inf or NaN)."""
    ok = np.isfinite(curve["train_loss"]) & np.isfinite(curve["val_loss"])
    ok &= (curve["train_loss"] > 0) & (curve["val_loss"] > 0)
    return curve[ok]


def loss_chart(curve: pd.DataFrame, *, title: str, labels: dict[str, str], best_step: int | None = None,
               y_domain: tuple[float, float] | None = None, x_domain: tuple[float, float] | None = None,
               width: int = 420, height: int = 200,
               style: bool = True) -> alt.Chart:
    """Training (blue) and validation (red) loss over steps; the gap between them shaded.

    curve: one row per evaluation with step, train_loss, val_loss. labels: "train", "val", "gap",
    "step", "loss", "best". best_step: a dashed rule where early stopping kept the weights.
    """
    df = loss_frame(curve)
    scale = alt.Scale(type="log", **({"domain": list(y_domain)} if y_domain else {}), nice=False)
    x = alt.X("step:Q", title=labels["step"],
              scale=alt.Scale(domain=list(x_domain), nice=False) if x_domain else alt.Undefined)
    gap = alt.Chart(df).mark_area(color=GAP_COLOR, opacity=0.45, clip=True).encode(
        x=x, y=alt.Y("train_loss:Q", scale=scale, title=labels["loss"]), y2="val_loss:Q")
    long = df.melt(id_vars="step", value_vars=["train_loss", "val_loss"], var_name="which", value_name="loss")
    long["which"] = long["which"].map({"train_loss": labels["train"], "val_loss": labels["val"]})
    lines = alt.Chart(long).mark_line(strokeWidth=3.5, clip=True).encode(
        x=x, y=alt.Y("loss:Q", scale=scale),
        color=alt.Color("which:N", title=None, scale=alt.Scale(
            domain=[labels["train"], labels["val"]], range=[TRAIN_COLOR, VAL_COLOR])),
        tooltip=[alt.Tooltip("which:N", title=""), alt.Tooltip("step:Q", title=labels["step"]),
                 alt.Tooltip("loss:Q", format=".4f", title=labels["loss"])])
    layers = [gap, lines]
    if len(df):
        last = df.iloc[-1]
        mid = float(np.sqrt(last.train_loss * last.val_loss))               # middle on a log axis
        layers.append(alt.Chart(pd.DataFrame({"step": [last.step], "y": [mid], "text": [labels["gap"]]}))
                      .mark_text(align="right", dx=-6, fontSize=FONT, fontWeight="bold", color=VAL_COLOR)
                      .encode(x="step:Q", y=alt.Y("y:Q", scale=scale), text="text:N"))
    if best_step is not None:
        layers.append(alt.Chart(pd.DataFrame({"step": [best_step], "text": [labels["best"]]}))
                      .mark_rule(strokeDash=[6, 4], strokeWidth=2, color="black").encode(x="step:Q"))
    chart = alt.layer(*layers).properties(width=width, height=height, title=title)
    return _style(chart) if style else chart


def histogram_frame(weights: np.ndarray, bins: int = HIST_BINS) -> tuple[pd.DataFrame, int]:
    """Counts of the non-zero weights in `bins` equal bins, symmetric around 0, and the zero count."""
    edge, counts, zeros = histogram_counts(weights, bins)
    edges = np.linspace(-edge, edge, bins + 1)
    return pd.DataFrame({"lo": edges[:-1], "hi": edges[1:], "count": counts}), zeros


def weights_histogram(weights: np.ndarray, *, title: str, labels: dict[str, str], width: int = 420,
                      height: int = 150, style: bool = True) -> alt.Chart:
    """Histogram of the weights; the exactly-zero ones are a separate red bar at 0 with their count.

    labels: "weight", "count", "zeros" (a format string with {zeros}).
    The count axis is a square-root scale, so a tall zero bar does not flatten the rest.
    """
    df, zeros = histogram_frame(weights)
    ymax = max(int(df["count"].max()) if len(df) else 1, zeros, 1)
    y_scale = alt.Scale(type="sqrt", domain=[0, ymax * 1.15])
    bars = alt.Chart(df).mark_rect(color="#7f7f7f").encode(
        x=alt.X("lo:Q", title=labels["weight"]), x2="hi:Q",
        y=alt.Y("count:Q", title=labels["count"], scale=y_scale), y2=alt.datum(0),
        tooltip=[alt.Tooltip("lo:Q", format=".3f"), alt.Tooltip("hi:Q", format=".3f"), "count:Q"])
    width_bin = float(df["hi"].iloc[0] - df["lo"].iloc[0]) if len(df) else 0.05
    zdf = pd.DataFrame({"lo": [-width_bin / 2], "hi": [width_bin / 2], "count": [zeros], "top": [ymax * 1.15],
                        "text": [labels["zeros"].format(zeros=zeros)]})
    zbar = alt.Chart(zdf).mark_rect(color=ZERO_COLOR).encode(x="lo:Q", x2="hi:Q", y="count:Q", y2=alt.datum(0))
    ztext = alt.Chart(zdf).mark_text(dy=2, baseline="top", align="left", dx=8, fontSize=FONT + 1,
                                      fontWeight="bold", color=ZERO_COLOR).encode(
        x=alt.X("hi:Q"), y=alt.Y("top:Q", scale=y_scale), text="text:N")
    chart = alt.layer(bars, zbar, ztext).properties(width=width, height=height, title=title)
    return _style(chart) if style else chart
