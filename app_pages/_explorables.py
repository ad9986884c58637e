"""Client-side explorables: pictures that only re-arrange data already sent, drawn in the browser.

Each explorable is one JS file + one CSS file in app_pages/components/, read once at import and
registered as a Streamlit components v2 component (inline HTML/CSS/JS: no iframe, no build step, no
CDN). Python sends the data once; the browser redraws on every slider move with no server rerun and
reports a value back (setStateValue) only when the learner commits it. Under AppTest a component
renders nothing, so every page keeps its settings in st.session_state as well.
"""
from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import streamlit as st

COMPONENTS_DIR = Path(__file__).parent / "components"
# helper files an explorable needs besides _common.js (prepended in this order)
HELPERS = {"activation_curves": ("_plot.js",), "loss_curves": ("_plot.js",), "latent_decoder": ("_plot.js",)}


def component_js(name: str) -> str:
    """An explorable's JavaScript as the browser gets it: the shared helpers (_common.js and its
    HELPERS), then its own file. Browser tests load the same text to compare its exported arithmetic
    with the Python core."""
    files = ("_common.js", *HELPERS.get(name, ()), f"{name}.js")
    return "\n".join((COMPONENTS_DIR / f).read_text(encoding="utf-8") for f in files)


def _register(name: str):
    return st.components.v2.component(
        f"bigmodel_{name}",
        css=(COMPONENTS_DIR / f"{name}.css").read_text(encoding="utf-8"),
        js=component_js(name),
    )


_sampling = _register("sampling")
_activation_curves = _register("activation_curves")
_loss_curves = _register("loss_curves")
_latent_decoder = _register("latent_decoder")


def float32_b64(values) -> str:
    """A vector as little-endian float32 bytes in base64: what the JS decodes into a Float32Array."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def sampling_explorable(*, logits, token_labels: list[tuple[int, str]], settings: dict, labels: dict,
                        lang: str, key: str):
    """Top-20 next-token bars with temperature / top-k / top-p sliders drawn in the browser.

    logits: (vocab,) next-token logits, sent once as float32. token_labels: [(id, display string)]
    for the likeliest ids. settings: {"temperature", "top_k", "top_p"}, the committed values (the
    sliders start there). Returns the learner's settings as last moved (None before any move); mount
    it inside an st.form so they reach Python only when the form is submitted.
    """
    result = _sampling(
        key=key,
        data={"logits": float32_b64(logits), "tokens": [[int(i), s] for i, s in token_labels],
              "settings": settings, "labels": labels, "lang": lang},
    )
    return (result or {}).get("settings") if hasattr(result, "get") else getattr(result, "settings", None)


def committed(sent, fields: dict) -> dict:
    """The settings an explorable sent back (setStateValue), checked: {name: value} for each field
    whose value is valid, the rest dropped (a forged message cannot put NaN or 1e9 into a page).

    fields: {name: rule}, a rule being bool (a true/false switch), a list of the allowed values, or a
    (lo, hi) pair of numbers: the value is clamped to [lo, hi] and takes lo's type (int or float).
    """
    out = {}
    if not isinstance(sent, dict):
        return out
    for name, rule in fields.items():
        value = sent.get(name)
        if rule is bool:
            if isinstance(value, bool):
                out[name] = value
        elif isinstance(rule, list):
            if value in rule and not isinstance(value, bool):
                out[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            lo, hi = rule
            out[name] = type(lo)(min(hi, max(lo, value)))
    return out


def _state(result, name: str):
    """One state value of a mounted component (None before the browser sent any)."""
    return (result or {}).get(name) if hasattr(result, "get") else getattr(result, name, None)


def activation_curves_explorable(*, settings: dict, depth: dict[str, list[float]], slope: float, init: str,
                                 width: int, typical: dict[str, str], names: dict[str, str],
                                 colors: dict[str, str], labels: dict, lang: str, key: str, on_commit):
    """f, f' and the depth chart of the six activations, drawn in the browser.

    settings: {"focus", "xmax", "x0", "threshold", "compare", "depth"}, the committed values (the
    controls start there). depth: {activation: [ratio after 0..50 layers]} from PyTorch's depth
    experiment (ops.activations.depth_table) for this init and slope, sent as JSON once per setting.
    The JS computes f and f' itself (closed form). The learner's settings come back 0.6 s after the
    last move (on_commit runs first, as a widget callback would).
    """
    return _activation_curves(
        key=key,
        data={"settings": settings, "depth": depth, "slope": slope, "init": init, "width": width,
              "typical": typical, "names": names, "colors": colors, "labels": labels, "lang": lang},
        on_settings_change=on_commit,
    )


def loss_curves_explorable(*, part: str, settings: dict, labels: dict, names: dict[str, str],
                           colors: dict[str, str], lang: str, key: str, on_commit, **ranges):
    """One of the losses page's two pictures, drawn in the browser (every loss there is closed-form).

    part="regression": settings {"pred", "target", "delta"}, ranges pred_range=(lo, hi); the loss and
    gradient curves, the metrics and the formulas with the learner's numbers.
    part="classification": settings {"z0", "z1", "z2", "true_class"}, ranges logit_range=(lo, hi) and
    classes=[three names]; the softmax / gradient bars, the push sweep, the metrics and the formulas.
    Nothing but these settings and the words is sent. The learner's settings come back 0.6 s after
    the last move (on_commit runs first, as a widget callback would).
    """
    return _loss_curves(
        key=key,
        data={"part": part, "settings": settings, "labels": labels, "names": names, "colors": colors,
              "lang": lang, **ranges},
        on_settings_change=on_commit,
    )


def latent_decoder_explorable(*, decoder: tuple, codes, digits, sheet: str, sheet_cols: int, errors,
                              domain: tuple[float, float], step: float, settings: dict, colors: list[str],
                              labels: dict, lang: str, key: str, on_commit):
    """The latent-2 autoencoder's map, decoded in the browser.

    decoder: (W' (784, 2), b' (784,)) of the latent-2 model, float32, sent once: the JS computes
    x_hat = sigmoid(W' z + b') for every point the learner picks. codes (N, 2), digits (N,) labels,
    errors (N,) each digit's BCE, sheet: the N digits' pixels as one PNG (charts.autoencoder.digit_sheet,
    sheet_cols digits a row): the map, the picked original and its numbers. domain: the map's
    (z1_hi, z2_hi); step: the sliders' step. settings {"z1", "z2", "picked"} come back 0.6 s after
    the last move (on_commit runs first, as a widget callback would).
    """
    W, b = decoder
    return _latent_decoder(
        key=key,
        data={"W": float32_b64(W), "b": float32_b64(b), "codes": float32_b64(codes),
              "digits": [int(d) for d in digits], "sheet": sheet, "sheet_cols": sheet_cols,
              "bce": float32_b64(errors), "domain": list(domain), "step": step, "settings": settings,
              "colors": colors, "labels": labels, "lang": lang},
        on_settings_change=on_commit,
    )
