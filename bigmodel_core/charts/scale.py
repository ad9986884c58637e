"""Charts of the "How big is big" page: the parameter breakdown and Chinchilla's loss map. No Streamlit.

The loss map is drawn over log10 N (x) and log10 D (y): a banded heat map of L(N, D) (the bands are its
contours), the iso-FLOP line 6 N D = C of the chosen budget, the compute-optimal frontier N_opt(C), the
20-tokens-per-parameter rule of thumb, Kaplan et al.'s allocation for contrast, and the presets.
"""
from __future__ import annotations

import altair as alt
import numpy as np
import pandas as pd

from bigmodel_core.charts.spec import to_spec
from bigmodel_core.scale import chinchilla_loss, compute_optimal, kaplan_optimal

PART_COLORS = {"embeddings": "#4c78a8", "attention": "#f58518", "mlp": "#54a24b", "norms": "#b279a2",
               "head": "#e45756", "pooler": "#9d755d"}
LOSS_BANDS = [1.9, 2.0, 2.1, 2.2, 2.4, 2.6, 3.0, 3.5, 4.0]   # contour levels (nats per token)
LOG_N = (6.0, 13.0)          # 1 million .. 10 trillion parameters
LOG_D = (8.0, 14.0)          # 100 million .. 100 trillion tokens


def breakdown_bar(parts: dict[str, int], labels: dict[str, str], *, width: int = 620) -> alt.Chart:
    """One horizontal bar, stacked by part, with each part's share on hover."""
    total = sum(parts.values())
    df = pd.DataFrame([{"part": labels[k], "key": k, "params": v, "share": v / total, "order": i}
                       for i, (k, v) in enumerate(parts.items()) if v > 0])
    return alt.Chart(df).mark_bar(height=34).encode(
        x=alt.X("params:Q", stack="zero", title=None, axis=alt.Axis(format="~s")),
        color=alt.Color("part:N", scale=alt.Scale(domain=list(df["part"]),
                                                  range=[PART_COLORS[k] for k in df["key"]]),
                        legend=alt.Legend(orient="bottom", title=None)),
        order="order:Q",
        tooltip=["part:N", alt.Tooltip("params:Q", format=","), alt.Tooltip("share:Q", format=".1%")],
    ).properties(width=width, height=50)


def loss_grid(n: int = 50) -> pd.DataFrame:
    """L(N, D) on an n x n grid of log10 N and log10 D (cells: x, x2, y, y2, loss)."""
    xs = np.linspace(*LOG_N, n + 1)
    ys = np.linspace(*LOG_D, n + 1)
    xc, yc = (xs[:-1] + xs[1:]) / 2, (ys[:-1] + ys[1:]) / 2
    X, Y = np.meshgrid(xc, yc)                                            # (n, n) cell centres
    loss = chinchilla_loss(10.0**X, 10.0**Y)
    step_x, step_y = xs[1] - xs[0], ys[1] - ys[0]
    return pd.DataFrame({"x": (X - step_x / 2).ravel(), "x2": (X + step_x / 2).ravel(),
                         "y": (Y - step_y / 2).ravel(), "y2": (Y + step_y / 2).ravel(),
                         "loss": loss.ravel()})


def _inside(df: pd.DataFrame) -> pd.DataFrame:
    return df[(df.x >= LOG_N[0]) & (df.x <= LOG_N[1]) & (df.y >= LOG_D[0]) & (df.y <= LOG_D[1])]


def frontier_lines(labels: dict[str, str]) -> pd.DataFrame:
    """The compute-optimal (N, D) of Chinchilla's fit, the 20-tokens rule and Kaplan, for C = 1e17..1e27."""
    rows = []
    for c in np.logspace(15, 28, 60):
        for key, (n, d) in (("fit", compute_optimal(c)), ("rule", ((c / 120) ** 0.5, 20 * (c / 120) ** 0.5)),
                            ("kaplan", kaplan_optimal(c))):
            rows.append({"x": np.log10(n), "y": np.log10(d), "line": labels[key], "c": c})
    return _inside(pd.DataFrame(rows))


def budget_rows(flops: float) -> dict[str, list[dict]]:
    """The parts of the map that follow the budget C: its iso-FLOP line 6 N D = C and its optimum."""
    x = np.linspace(*LOG_N, 80)
    iso = pd.DataFrame({"x": x, "y": np.log10(flops / 6) - x})            # log10 D = log10(C/6) - log10 N
    iso["loss"] = chinchilla_loss(10.0**iso.x, 10.0**iso.y)
    n_opt, d_opt = compute_optimal(flops)
    opt = pd.DataFrame([{"x": np.log10(n_opt), "y": np.log10(d_opt)}])
    return {"iso": _inside(iso).to_dict("records") or [{"x": None, "y": None, "loss": None}],
            "opt": _inside(opt).to_dict("records") or [{"x": None, "y": None}]}


def loss_map_spec(points: list[dict], labels: dict[str, str], *, width: int = 560, height: int = 440) -> dict:
    """The banded loss map, the frontiers and the models (points: name, n, d) as a Vega-Lite dict whose
    named data sets "iso" and "opt" (budget_rows) are swapped in per budget without rebuilding the rest."""
    ax = dict(values=list(range(int(LOG_N[0]), int(LOG_N[1]) + 1)), labelExpr="'10^' + datum.value")
    ay = dict(values=list(range(int(LOG_D[0]), int(LOG_D[1]) + 1)), labelExpr="'10^' + datum.value")
    x_scale, y_scale = alt.Scale(domain=list(LOG_N), nice=False), alt.Scale(domain=list(LOG_D), nice=False)
    heat = alt.Chart(loss_grid()).mark_rect().encode(
        x=alt.X("x:Q", scale=x_scale, axis=alt.Axis(title=labels["x"], **ax)), x2="x2",
        y=alt.Y("y:Q", scale=y_scale, axis=alt.Axis(title=labels["y"], **ay)), y2="y2",
        color=alt.Color("loss:Q", scale=alt.Scale(type="threshold", domain=LOSS_BANDS, scheme="viridis",
                                                  reverse=True), legend=alt.Legend(title=labels["loss"])),
        tooltip=[alt.Tooltip("loss:Q", format=".3f")])
    iso = alt.Chart(alt.Data(name="iso")).mark_line(color="white", strokeDash=[6, 3], strokeWidth=2).encode(
        x="x:Q", y="y:Q", tooltip=[alt.Tooltip("loss:Q", format=".3f")])
    lines = alt.Chart(frontier_lines(labels)).mark_line(strokeWidth=2.5).encode(
        x="x:Q", y="y:Q", detail="line:N",
        color=alt.Color("line:N", scale=alt.Scale(domain=[labels["fit"], labels["rule"], labels["kaplan"]],
                                                  range=["#ff4b4b", "#ffd23f", "#111111"]),
                        legend=alt.Legend(title=None, orient="bottom")),
        strokeDash=alt.StrokeDash("line:N", legend=None))
    opt = alt.Chart(alt.Data(name="opt")).mark_point(filled=True, size=140, color="#ff4b4b", shape="diamond",
                                                      stroke="black").encode(x="x:Q", y="y:Q")
    models = _inside(pd.DataFrame([{"x": np.log10(p["n"]), "y": np.log10(p["d"]), "name": p["name"]}
                                   for p in points]))
    base = alt.Chart(models).encode(x="x:Q", y="y:Q", tooltip=["name:N"])
    dots = base.mark_point(filled=True, size=90, color="white", stroke="black")
    names = base.mark_text(align="left", dx=7, dy=-7, color="white", fontSize=11).encode(text="name:N")
    spec = to_spec(alt.layer(heat, iso, lines, opt, dots, names).properties(width=width, height=height))
    spec.setdefault("datasets", {}).update(budget_rows(1e21))            # placeholders: the page swaps them
    return spec
