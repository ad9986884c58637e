"""Pictures for the robustness and privacy page: data in, image arrays or alt.Chart out. No Streamlit.

- perturbation_image: the added noise x_adv - x on a diverging scale (red brighter, blue darker).
- probability_pair_spec: the ten class probabilities before and after the attack, side by side.
- accuracy_eps_chart: held-out accuracy against eps, one line per model and attack, a rule at eps.
- rounds_chart: FedAvg's global accuracy per round against central training on the same steps.
"""
from __future__ import annotations

import math

import altair as alt
import numpy as np
import pandas as pd

from bigmodel_core.charts.images import as_numpy, upscale
from bigmodel_core.charts.spec import FONT


def perturbation_image(delta, eps: float, scale: int = 1) -> np.ndarray:
    """x_adv - x (28, 28) as RGB on white: red where a pixel got brighter, blue where darker, full
    colour at |delta| = eps (so every FGSM pixel is fully coloured unless the clip cut it)."""
    d = as_numpy(delta)
    v = np.clip(d / eps, -1, 1) if eps > 0 else np.zeros_like(d)
    red, blue = np.array([0.80, 0.07, 0.10]), np.array([0.10, 0.30, 0.85])
    colour = np.where((v >= 0)[..., None], red, blue)
    w = np.abs(v)[..., None]
    out = (1 - w) * 1.0 + w * colour
    return upscale((np.clip(out, 0, 1) * 255).round().astype(np.uint8), scale)


def probability_pair_spec(p_clean, p_adv, *, labels: dict[str, str], width: int = 330,
                          height: int = 200) -> dict:
    """Grouped bars: each digit's probability on the clean digit (grey) and the attacked one (red).

    A plain Vega-Lite dict (the eps slider redraws it on every key press; building it through Altair
    took 50-100 ms on 2 busy cores)."""
    pc, pa = as_numpy(p_clean).ravel(), as_numpy(p_adv).ravel()
    order = [labels["clean"], labels["adversarial"]]
    rows = [{"digit": str(d), "input": labels[k], "probability": float(p[d])}
            for k, p in (("clean", pc), ("adversarial", pa)) for d in range(10)]
    axis = {"labelFontSize": FONT, "titleFontSize": FONT}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows}, "mark": {"type": "bar"}, "width": width, "height": height,
        "encoding": {
            "x": {"field": "digit", "type": "nominal", "title": labels["digit"],
                  "axis": {**axis, "labelAngle": 0, "labelFontSize": FONT}},
            "xOffset": {"field": "input", "type": "nominal", "sort": order},
            "y": {"field": "probability", "type": "quantitative", "title": labels["probability"],
                  "scale": {"domain": [0, 1]}, "axis": {**axis, "format": "%", "tickCount": 5}},
            "color": {"field": "input", "type": "nominal", "sort": order,
                      "scale": {"domain": order, "range": ["#9aa3ad", "#d62728"]},
                      "legend": {"title": None, "orient": "top", "labelFontSize": FONT}},
            "tooltip": [{"field": "digit", "type": "nominal"}, {"field": "input", "type": "nominal"},
                        {"field": "probability", "type": "quantitative", "format": ".4f"}]}}


RULE_DATA = "chosen_eps"                                         # the rule's one-row data set


def accuracy_eps_chart(curves: dict[str, list[dict]], *, eps: float, labels: dict[str, str],
                       width: int = 420, height: int = 240) -> alt.Chart:
    """curves: {series name: [{"eps", "accuracy"}, ...]} -> lines with points; a rule at the chosen eps."""
    rows = [{"series": name, "eps": float(r["eps"]), "accuracy": float(r["accuracy"])}
            for name, rs in curves.items() for r in rs if math.isfinite(float(r["accuracy"]))]
    df = pd.DataFrame(rows, columns=["series", "eps", "accuracy"])
    x = alt.X("eps:Q", title=labels["eps"], axis=alt.Axis(labelFontSize=FONT, titleFontSize=FONT))
    y = alt.Y("accuracy:Q", title=labels["accuracy"], scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%", tickCount=5, labelFontSize=FONT, titleFontSize=FONT))
    lines = alt.Chart(df).mark_line(point=True).encode(
        x=x, y=y, color=alt.Color("series:N", sort=list(curves), legend=alt.Legend(title=None, orient="bottom",
                                                                                  labelFontSize=FONT - 1,
                                                                                  columns=2, labelLimit=260)),
        strokeDash=alt.StrokeDash("series:N", sort=list(curves), legend=None),
        tooltip=["series:N", alt.Tooltip("eps:Q", format=".2f"), alt.Tooltip("accuracy:Q", format=".1%")])
    # layer 1: the rule reads the named data set "chosen_eps", so moving eps changes only that data set
    # (move_rule) and the browser swaps it into the chart already drawn instead of building a new one
    rule = alt.Chart(alt.NamedData(RULE_DATA)).mark_rule(color="#444", strokeDash=[4, 3]).encode(x="eps:Q")
    return (lines + rule).properties(width=width, height=height, datasets={RULE_DATA: [{"eps": float(eps)}]})


def move_rule(spec: dict, eps: float) -> dict:
    """accuracy_eps_chart's spec (a dict) with the rule moved to eps: only the data set "chosen_eps"
    changes, the layers stay the same object, so Streamlit swaps the data instead of redrawing."""
    return {**spec, "datasets": {**spec["datasets"], RULE_DATA: [{"eps": float(eps)}]}}


def rounds_chart(fed: list[dict], central: list[dict], *, labels: dict[str, str], rounds: int,
                 plain: list[dict] | None = None, width: int = 460, height: int = 240) -> alt.Chart:
    """fed / central / plain: [{"round", "accuracy"}, ...] (round 0 = before training); plain is the same
    FedAvg without privacy noise, when the learner has trained both. Only finite points are drawn."""
    series = [("fedavg", fed), ("central", central)] + ([("plain", plain)] if plain else [])
    rows = [{"series": labels[name], "round": int(r["round"]), "accuracy": float(r["accuracy"])}
            for name, rs in series for r in rs if math.isfinite(float(r["accuracy"]))]
    df = pd.DataFrame(rows, columns=["series", "round", "accuracy"])
    order = [labels[name] for name, _ in series]
    colours = ["#1f77b4", "#9aa3ad", "#2ca02c"][:len(order)]
    return alt.Chart(df).mark_line(point=True).encode(
        x=alt.X("round:Q", title=labels["round"], scale=alt.Scale(domain=[0, max(1, rounds)]),
                axis=alt.Axis(tickMinStep=1, labelFontSize=FONT, titleFontSize=FONT)),
        y=alt.Y("accuracy:Q", title=labels["accuracy"], scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%", tickCount=5, labelFontSize=FONT, titleFontSize=FONT)),
        color=alt.Color("series:N", sort=order, scale=alt.Scale(domain=order, range=colours),
                        legend=alt.Legend(title=None, orient="bottom", labelFontSize=FONT)),
        tooltip=["series:N", "round:Q", alt.Tooltip("accuracy:Q", format=".1%")],
    ).properties(width=width, height=height)
