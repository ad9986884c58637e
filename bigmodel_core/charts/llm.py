"""Charts of the "Inside the LLM" page, as Vega-Lite dicts (drawn with _ui.vega; no Streamlit here).

- `lens_spec`: the logit lens as a layers x positions grid, each cell the block's top next token,
  coloured by its probability (layer 1 at the bottom, as the blocks stack).
- `answer_spec`: the final answer's probability after each block (a line).
- `norms_spec`: the residual stream's norm after the embedding and each block (lines per position).
- `params_spec`: parameters per part as horizontal bars.
- `heads_grid_spec` + `selected_head_rows`: all 30 x 9 heads as one picture whose red outline (the chosen
  head) is the named data set "sel": a new layer or head swaps those rows, the picture is not rebuilt.
Sized for a projector: 13-14 px labels, cells wide enough for a short token.
"""
from __future__ import annotations

import numpy as np

from bigmodel_core.charts.attention import model_view_spec
from bigmodel_core.charts.images import as_numpy
from bigmodel_core.charts.spec import FONT, TITLE_FONT


def _short(s: str, n: int = 8) -> str:
    return s if len(s) <= n else s[:n - 1] + "…"


def lens_spec(top_tokens: list[list[str]], top_probs, *, col_labels: list[str], layer_title: str,
              position_title: str, prob_title: str, cell_w: int = 64, cell_h: int = 19) -> dict:
    """top_tokens[l][t]: block l+1's most probable next token at position t (display strings);
    top_probs (n_layer, T): its probability. One rect + one text per cell."""
    P = as_numpy(top_probs)
    L, T = P.shape
    rows = [{"layer": l + 1, "pos": t, "token": _short(top_tokens[l][t]), "full": top_tokens[l][t],
             "p": round(float(P[l, t]), 4), "input": col_labels[t]} for l in range(L) for t in range(T)]
    x = {"field": "pos", "type": "ordinal", "title": position_title,
         "axis": {"labelExpr": "datum.value", "labelAngle": -40, "labelFontSize": FONT, "titleFontSize": FONT,
                  "labelLimit": 90}}
    labels = {str(t): col_labels[t] for t in range(T)}
    x["axis"]["labelExpr"] = "(" + _js_obj(labels) + ")[datum.value]"
    y = {"field": "layer", "type": "ordinal", "sort": "descending", "title": layer_title,
         "axis": {"labelFontSize": FONT, "titleFontSize": FONT}}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows},
        "width": cell_w * T, "height": cell_h * L,
        "encoding": {"x": x, "y": y},
        "layer": [
            {"mark": {"type": "rect", "stroke": "white", "strokeWidth": 0.5},
             "encoding": {"color": {"field": "p", "type": "quantitative", "title": prob_title,
                                    "scale": {"scheme": "blues", "domain": [0, 1]}},
                          "tooltip": [{"field": "layer", "title": layer_title}, {"field": "input"},
                                      {"field": "full", "title": "→"},
                                      {"field": "p", "title": prob_title, "format": ".3f"}]}},
            {"mark": {"type": "text", "fontSize": 11, "font": "Source Code Pro, monospace"},
             "encoding": {"text": {"field": "token"},
                          "color": {"condition": {"test": "datum.p > 0.55", "value": "white"}, "value": "#222"}}},
        ],
        "config": {"view": {"stroke": None}},
    }


def _js_obj(d) -> str:
    import json
    return json.dumps(d, ensure_ascii=False)


def answer_spec(probs, ranks, *, token: str, layer_title: str, prob_title: str, title: str) -> dict:
    P, R = as_numpy(probs), as_numpy(ranks)
    rows = [{"layer": l + 1, "p": float(P[l]), "rank": int(R[l]) + 1} for l in range(len(P))]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": {"text": title, "fontSize": TITLE_FONT},
        "data": {"values": rows}, "width": 420, "height": 200,
        "mark": {"type": "line", "point": True, "color": "#1f77b4"},
        "encoding": {
            "x": {"field": "layer", "type": "quantitative", "title": layer_title, "scale": {"domain": [1, len(P)]},
                  "axis": {"labelFontSize": FONT, "titleFontSize": FONT, "tickMinStep": 1}},
            "y": {"field": "p", "type": "quantitative", "title": prob_title, "scale": {"domain": [0, 1]},
                  "axis": {"labelFontSize": FONT, "titleFontSize": FONT, "format": ".0%"}},
            "tooltip": [{"field": "layer"}, {"field": "p", "format": ".3f"}, {"field": "rank"}]},
    }


def norms_spec(norms, *, tokens: list[str], layer_title: str, norm_title: str, mean_label: str) -> dict:
    """norms (n_layer + 1, T): |x| after the embedding (layer 0) and after each block; one line per
    position (the first token, which many models use as an "attention sink", stands out) and the mean."""
    N = as_numpy(norms)
    L1, T = N.shape
    rows = [{"layer": l, "norm": float(N[l, t]), "series": f"{t}: {tokens[t]}"} for l in range(L1) for t in range(T)]
    rows += [{"layer": l, "norm": float(N[l].mean()), "series": mean_label} for l in range(L1)]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows}, "width": 460, "height": 260,
        "mark": {"type": "line", "strokeWidth": 1.5},
        "encoding": {
            "x": {"field": "layer", "type": "quantitative", "title": layer_title,
                  "axis": {"labelFontSize": FONT, "titleFontSize": FONT}},
            "y": {"field": "norm", "type": "quantitative", "title": norm_title, "scale": {"type": "log"},
                  "axis": {"labelFontSize": FONT, "titleFontSize": FONT}},
            "color": {"field": "series", "type": "nominal", "legend": {"labelFontSize": 12, "title": None,
                                                                       "labelLimit": 140, "columns": 1}},
            "strokeWidth": {"condition": {"test": f"datum.series == {_js_obj(mean_label)}", "value": 4}, "value": 1.2},
            "tooltip": [{"field": "series"}, {"field": "layer"}, {"field": "norm", "format": ".1f"}]},
    }


def params_spec(parts: dict[str, int], names: dict[str, str], *, count_title: str) -> dict:
    rows = [{"part": names[k], "n": int(v), "label": f"{v:,}"} for k, v in parts.items() if k != "total"]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"values": rows}, "width": 360, "height": 150,
        "encoding": {"y": {"field": "part", "type": "nominal", "sort": None, "title": None,
                           "axis": {"labelFontSize": FONT}},
                     "x": {"field": "n", "type": "quantitative", "title": count_title,
                           "axis": {"labelFontSize": FONT, "titleFontSize": FONT, "format": "~s"}}},
        "layer": [{"mark": {"type": "bar", "color": "#1f77b4"}},
                  {"mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 12},
                   "encoding": {"text": {"field": "label"}}}],
    }


def selected_head_rows(layer: int, head: int) -> list[dict]:
    """The outline's one row for the chosen (layer, head), numbered from 1: the centre of its square."""
    return [{"cx": head - 0.5, "cy": layer - 0.5}]


def heads_grid_spec(attn_weights, *, head_px: int = 20, layer_title: str = "layer",
                    head_title: str = "head") -> dict:
    """The (L, H, T, T) weights as attention's model view (one PNG, a clickable square per head), plus an
    outline drawn from the named data set "sel" (selected_head_rows), so the spec stays the same for
    every chosen head and the browser only swaps that row. Starts on head (1, 1)."""
    spec = model_view_spec(attn_weights, selected=None, head_px=head_px, layer_title=layer_title,
                           head_title=head_title)
    enc = spec["layer"][1]["encoding"]                                   # the click layer's x / y
    spec["layer"].append({"data": {"name": "sel"},
                          "mark": {"type": "square", "size": (head_px + 6) ** 2, "filled": False,
                                   "stroke": "#ff2d55", "strokeWidth": 3},
                          "encoding": {"x": enc["x"], "y": enc["y"]}})
    spec["datasets"] = {"sel": selected_head_rows(1, 1)}
    return spec
