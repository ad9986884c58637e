"""Client-side explorables: pictures that only re-arrange data already sent, drawn in the browser.

Each explorable is one JS file + one CSS file in app_pages/components/, read once at import and
registered as a Streamlit components v2 component (inline HTML/CSS/JS: no iframe, no build step, no
CDN). Python sends the data once; the browser redraws on every slider move with no server rerun and
reports a value back (setStateValue) only when the learner commits it. Under AppTest a component
renders nothing, so every page keeps its settings in st.session_state as well.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import streamlit as st

COMPONENTS_DIR = Path(__file__).parent / "components"


def component_js(name: str) -> str:
    """An explorable's JavaScript as the browser gets it: the shared helpers (_common.js), then its own
    file. Browser tests load the same text to compare its exported arithmetic with the Python core."""
    return "\n".join((COMPONENTS_DIR / f).read_text(encoding="utf-8") for f in ("_common.js", f"{name}.js"))


def _register(name: str):
    return st.components.v2.component(
        f"bigmodel_{name}",
        css=(COMPONENTS_DIR / f"{name}.css").read_text(encoding="utf-8"),
        js=component_js(name),
    )


_sampling = _register("sampling")


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


_landscape_map = _register("landscape_map")


def landscape_map_explorable(*, surface: dict, z, levels: list[float], paths: list[dict], start: tuple,
                             step: float, gd_lr: float | None, theory: dict | None, labels: dict, lang: str,
                             key: str, on_start) -> None:
    """The toy surface's map with the optimizer paths, the start point picked in the browser, GD's first
    step with its numbers and (on the quadratic bowl) Goh's theory panel, all written by the JS.

    surface: {name, kappa, angle, xlim, ylim, f_min, minima}: the JS evaluates f and its gradient in
    closed form (bigmodel_core.landscape.Surface.f / grad). z: (n, n) log10(f - f*) on the grid
    (float32, sent once per surface; row i at ys[i]), levels: the iso-line levels. paths: [{name,
    label, color, xy (float32 (end + 1, 2) clipped to the map), diverged, end}]. start: the committed
    start point; step: its grid. theory: {kappa, lr_gd, lr_momentum, beta, measured_gd,
    measured_momentum} on the bowl, else None. A click on the map, or Enter after the arrow keys,
    sends the new start ([x, y], a trigger) and calls on_start: the paths fragment reruns.
    """
    _landscape_map(
        key=key, on_start_change=on_start,
        data={"surface": surface, "z": float32_b64(z), "n": int(len(z)), "levels": [float(v) for v in levels],
              "paths": paths, "start": [float(start[0]), float(start[1])], "step": float(step),
              "gd_lr": gd_lr, "theory": theory, "labels": labels, "lang": lang},
    )


def component_value(key: str, name: str):
    """A component's state or trigger value `name` as Streamlit keeps it in st.session_state[key]."""
    state = st.session_state.get(key)
    if state is None:
        return None
    return state.get(name) if hasattr(state, "get") else getattr(state, name, None)


_regularization_replay = _register("regularization_replay")


def regularization_replay_explorable(data: dict, *, key: str) -> None:
    """The A/B panels of the regularization page replayed from training snapshots, in the browser.

    data (see app_pages/regularization.py replay_data): the task's drawing (kind, extent, grid, the
    curve's xs and truth, the training points as float32), per side the kept frames (steps, losses,
    sums, zeros, histogram edges as lists; histograms and predictions as float32, frames x values)
    and every evaluation's losses, the lambdas and labels. The "training step" slider picks a frame
    in the browser; nothing is sent back.
    """
    _regularization_replay(key=key, data=data)
