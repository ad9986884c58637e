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


# explorables that draw matrices also get the SVG heat map (_heatmap.js / .css) before their own files
HELPERS = {"rnn_step": ("_heatmap.js",), "attention_row": ("_heatmap.js",)}


def component_js(name: str) -> str:
    """An explorable's JavaScript as the browser gets it: the shared helpers (_common.js, and those in
    HELPERS), then its own file. Browser tests load the same text to compare its exported arithmetic
    with the Python core."""
    files = ("_common.js", *HELPERS.get(name, ()), f"{name}.js")
    return "\n".join((COMPONENTS_DIR / f).read_text(encoding="utf-8") for f in files)


def _register(name: str):
    css = [f"{Path(f).stem}.css" for f in HELPERS.get(name, ())] + [f"{name}.css"]
    return st.components.v2.component(
        f"bigmodel_{name}",
        css="\n".join((COMPONENTS_DIR / f).read_text(encoding="utf-8") for f in css),
        js=component_js(name),
    )


_sampling = _register("sampling")
_rnn_step = _register("rnn_step")
_attention_row = _register("attention_row")


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


def component_state(result, name: str):
    """One state value of a mounted component (None before the browser sent it)."""
    return (result or {}).get(name) if hasattr(result, "get") else getattr(result, name, None)


def rnn_step_explorable(*, arrays: dict, x_labels: list[str], vocab: list[str], seq_kind: str, step: int,
                        labels: dict, lang: str, key: str, on_commit=None):
    """Step through a trained recurrent cell: hidden-state heat map with step t outlined, the gates
    (LSTM: i, f, o, c; GRU: r, z), the state update with step t's numbers and y_t, drawn in the browser.

    arrays: bigmodel_core.models.rnn.step_arrays(model, seq) (the cell's W, U, b_ih, b_hh, the inputs x
    and the output layer V, c), sent once as float32; the JS runs the cell over the sequence itself.
    step: the committed time step (1..T), where the slider starts. Returns the step the learner
    committed (0.8 s after the last move, or on stop), None before any.
    """
    T, I = arrays["x"].shape
    result = _rnn_step(
        key=key, on_step_change=on_commit or (lambda: None),
        data={"kind": arrays["kind"], "seq_kind": seq_kind, "T": int(T), "I": int(I), "H": int(arrays["U"].shape[1]),
              "O": int(arrays["V"].shape[0]), "step": int(step), "x_labels": list(x_labels), "vocab": list(vocab),
              **{name: float32_b64(arrays[name]) for name in ("x", "W", "U", "b_ih", "b_hh", "V", "c")},
              "labels": labels, "lang": lang},
    )
    return component_state(result, "step")


def rnn_gates_explorable(*, cells: dict[str, dict], names: dict[str, str], step: int, labels: dict, lang: str,
                         key: str) -> None:
    """RNN, LSTM and GRU side by side: each trained cell's hidden state and gates over time (units x
    time), one time step outlined in all three, moved by its own slider in the browser (no commit).

    cells: kind -> bigmodel_core.models.rnn.step_arrays(model, seq), sent once as float32 (the same
    cell equations as rnn_step_explorable run in the browser). names: kind -> the cell's display name.
    """
    _rnn_step(key=key, data={"compare": [
        {"kind": kind, "name": names[kind], "T": int(a["x"].shape[0]), "I": int(a["x"].shape[1]),
         "H": int(a["U"].shape[1]), **{n: float32_b64(a[n]) for n in ("x", "W", "U", "b_ih", "b_hh")}}
        for kind, a in cells.items()], "step": int(step), "labels": labels, "lang": lang})


def attention_row_explorable(*, tokens: list[str], Q, K, V, settings: dict, labels: dict, lang: str, key: str,
                             on_commit=None):
    """Self-attention by hand for one query row: the weight matrix (click / arrow keys pick the row), the
    score and softmax rows, the weighted sum of V, the formula with live numbers, and the Q, K, V, score
    and output matrices, all drawn in the browser.

    Q, K, V: (heads, T, d_k) from bigmodel_core.ops.attention.by_hand_attention, sent once as float32.
    settings: {"query", "head", "temperature", "scale", "causal"}, the committed values; the JS applies
    them with the arithmetic of scaled_dot_product_attention_explained. Returns the settings the learner
    committed (0.8 s after the last change), None before any.
    """
    heads, T, d_k = Q.shape
    result = _attention_row(
        key=key, on_settings_change=on_commit or (lambda: None),
        data={"tokens": list(tokens), "heads": int(heads), "T": int(T), "d_k": int(d_k),
              "Q": float32_b64(Q), "K": float32_b64(K), "V": float32_b64(V),
              "settings": settings, "labels": labels, "lang": lang},
    )
    return component_state(result, "settings")
