"""Pictures for the compression page: plain Vega-Lite dicts (drawn by app_pages._ui.vega), no Streamlit.

- `histogram_rows`: w and w_hat counted on the same bins (the reference the bits explorable's JS is tested against).
- `sparsity_spec`: accuracy against sparsity, right after pruning and after a short fine-tune.
- `softmax_spec`: the teacher's probabilities for one digit at several temperatures.
- `students_spec`: student accuracy against T for each alpha, the hard-label student as a rule.
- `block_spec`: one Q4_1 block's 32 weights on its 16 levels m + d k.
Every visible word arrives translated in `labels`; numbers only are computed here.
"""
from __future__ import annotations

import math

import numpy as np

from bigmodel_core.charts.spec import FONT, STYLE

BLUE, ORANGE, GREY, RED, GREEN = "#1f5fbf", "#ff7f0e", "#888888", "#d62728", "#2ca02c"
CONFIG = {**STYLE, "legend": {**STYLE["legend"], "orient": "top"}, "view": {"stroke": None}}


def _top(spec: dict, title: str | None = None) -> dict:
    # autosize "pad": width and height are the plot area (Streamlit's default "fit" squeezes the plot
    # to make room for the title, legend and axes inside them)
    out = {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "config": CONFIG,
           "autosize": {"type": "pad"}, **spec}
    if title:
        out["title"] = title
    return out


def histogram_rows(w: np.ndarray, w_hat: np.ndarray, names: tuple[str, str], bins: int = 81) -> list[dict]:
    """Counts of w and w_hat on the same `bins` bins over [-max|w|, max|w|] (odd: 0 sits mid-bin)."""
    w, w_hat = np.asarray(w, np.float64).ravel(), np.asarray(w_hat, np.float64).ravel()
    a = float(np.abs(w).max()) or 1.0
    edges = np.linspace(-a * 1.0001, a * 1.0001, bins + 1)
    rows = []
    for name, v in zip(names, (w, w_hat)):
        index = np.clip(((v - edges[0]) / (edges[1] - edges[0])).astype(np.int64), 0, bins - 1)   # bin of each value
        counts = np.bincount(index, minlength=bins)
        rows += [{"x0": float(edges[i]), "x1": float(edges[i + 1]), "count": int(c), "series": name}
                 for i, c in enumerate(counts) if c]
    return rows


def sparsity_spec(rows: list[dict], scope: str, fraction: float, labels: dict,
                  width: int = 400, height: int = 220) -> dict:
    """rows from compress_results.pruning_curve; labels: pruned, finetuned, global, layer, sparsity, accuracy, title."""
    data = []
    for r in rows:
        for key, name in (("accuracy", labels["pruned"]), ("accuracy_finetuned", labels["finetuned"])):
            if r.get(key) is not None:
                data.append({"sparsity": 100 * r["fraction"], "accuracy": 100 * r[key], "after": name,
                             "scope": labels[r["scope"]], "chosen": r["scope"] == scope})
    x = {"field": "sparsity", "type": "quantitative", "title": labels["sparsity"], "scale": {"domain": [0, 100]}}
    y = {"field": "accuracy", "type": "quantitative", "title": labels["accuracy"], "scale": {"domain": [0, 100]}}
    return _top({"width": width, "height": height, "layer": [
        {"data": {"values": data}, "mark": {"type": "line", "point": True, "strokeWidth": 3, "tooltip": True},
         "encoding": {"x": x, "y": y,
                      "color": {"field": "after", "type": "nominal", "title": None,
                                "scale": {"domain": [labels["pruned"], labels["finetuned"]], "range": [BLUE, GREEN]}},
                      "strokeDash": {"field": "scope", "type": "nominal", "title": None,
                                     "scale": {"domain": [labels["global"], labels["layer"]], "range": [[1, 0], [5, 4]]}},
                      "opacity": {"condition": {"test": "datum.chosen", "value": 1}, "value": 0.35}}},
        {"data": {"values": [{"sparsity": 100 * fraction}]}, "mark": {"type": "rule", "color": RED, "strokeWidth": 2},
         "encoding": {"x": {"field": "sparsity", "type": "quantitative"}}},
    ]}, labels.get("title"))


def softmax_spec(probs: dict[float, np.ndarray], labels: dict, width: int = 300, height: int = 180) -> dict:
    """probs: {T: (10,) probabilities}; labels: digit, prob, title. Grouped bars, log-free (0..1)."""
    data = [{"digit": str(k), "p": float(p[k]), "T": f"T = {T:g}"} for T, p in sorted(probs.items()) for k in range(10)]
    temps = [f"T = {T:g}" for T in sorted(probs)]
    return _top({"width": width, "height": height, "data": {"values": data},
                 "mark": {"type": "bar", "tooltip": True},
                 "encoding": {"x": {"field": "digit", "type": "nominal", "title": labels["digit"],
                                    "axis": {"labelAngle": 0}},
                              "xOffset": {"field": "T", "type": "nominal", "sort": temps},
                              "y": {"field": "p", "type": "quantitative", "title": labels["prob"],
                                    "scale": {"domain": [0, 1]}},
                              "color": {"field": "T", "type": "nominal", "title": None, "sort": temps,
                                        "scale": {"range": [BLUE, ORANGE, GREEN, RED, GREY]}}}},
                labels.get("title"))


def students_spec(students: list[dict], hard_acc: float, T: float, labels: dict,
                  width: int = 300, height: int = 180) -> dict:
    """students: {"T", "alpha", "accuracy"} (alpha > 0); labels: hard, temperature, accuracy, title."""
    data = [{"T": s["T"], "accuracy": 100 * s["accuracy"], "alpha": f"α = {s['alpha']:g}"}
            for s in students if s["alpha"] > 0]
    accs = [d["accuracy"] for d in data] + [100 * hard_acc]
    lo, hi = math.floor(min(accs) - 1), math.ceil(max(accs) + 1)
    y = {"field": "accuracy", "type": "quantitative", "title": labels["accuracy"], "scale": {"domain": [lo, hi]}}
    return _top({"width": width, "height": height, "layer": [
        {"data": {"values": data}, "mark": {"type": "line", "point": {"size": 60}, "strokeWidth": 3, "tooltip": True},
         "encoding": {"x": {"field": "T", "type": "quantitative", "title": labels["temperature"],
                            "scale": {"type": "log", "base": 2}, "axis": {"values": [1, 2, 4, 8, 16]}},
                      "y": y, "color": {"field": "alpha", "type": "nominal", "title": None,
                                        "scale": {"range": [BLUE, ORANGE, GREEN]}}}},
        {"data": {"values": [{"accuracy": 100 * hard_acc, "label": labels["hard"]}]},
         "mark": {"type": "rule", "strokeDash": [6, 4], "color": RED, "strokeWidth": 2},
         "encoding": {"y": {"field": "accuracy", "type": "quantitative"}, "tooltip": {"field": "label"}}},
        {"data": {"values": [{"T": T}]}, "mark": {"type": "rule", "color": GREY, "strokeWidth": 1},
         "encoding": {"x": {"field": "T", "type": "quantitative"}}},
    ]}, labels.get("title"))


def block_spec(q: np.ndarray, w: np.ndarray, d: float, m: float, labels: dict,
               width: int = 460, height: int = 220) -> dict:
    """The 32 weights of one block as points on the 16 levels m + d k (k = 0..15); labels: index, weight, title."""
    points = [{"i": i, "w": float(w[i]), "q": int(q[i])} for i in range(len(w))]
    levels = [{"level": float(m + d * k), "k": k} for k in range(16)]
    return _top({"width": width, "height": height, "layer": [
        {"data": {"values": levels}, "mark": {"type": "rule", "color": "#dddddd", "strokeWidth": 1},
         "encoding": {"y": {"field": "level", "type": "quantitative"}, "tooltip": [{"field": "k"}, {"field": "level"}]}},
        {"data": {"values": points}, "mark": {"type": "point", "filled": True, "size": 80, "color": ORANGE, "tooltip": True},
         "encoding": {"x": {"field": "i", "type": "quantitative", "title": labels["index"], "scale": {"domain": [0, 31]}},
                      "y": {"field": "w", "type": "quantitative", "title": labels["weight"]}}},
    ]}, labels.get("title"))
