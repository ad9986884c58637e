"""Activation functions: f, f' and saturation; what depth does to the gradient (course text 2, §2.1.2).

f and f' are closed-form, so the activation, the range, x0, the threshold and the depth N are drawn in
the browser (app_pages/components/activation_curves.js, the same formulas as ops/activations.py). Python
runs what needs PyTorch, the 50-layer depth experiment, once per initialisation and leaky slope.
"""
import streamlit as st

from bigmodel_core.ops.activations import (ACTIVATIONS, INITS, MAX_DEPTH, TYPICAL_INIT, depth_gradients,
                                           depth_ratios, derivative)
from bigmodel_core.charts.curves import ACTIVATION_COLORS, ACTIVATION_LABELS
from app_pages._explorables import activation_curves_explorable, valid_settings
from app_pages._ui import lang, page_header, section, show_code, sync_url, t, url_state, why_and_try

KEY = "activations"
WIDTH = 128          # the depth experiment's layer width (see depth_gradients)
# the settings the browser owns: {name: rule} (see _explorables.valid_settings), and their URL ranges
FIELDS = {"focus": list(ACTIVATIONS), "xmax": (1, 20), "x0": (-20.0, 20.0), "threshold": (0.01, 0.25),
          "compare": bool, "depth": (1, MAX_DEPTH)}
JS_LABELS = ("focus", "xmax", "x0", "threshold", "threshold_help", "compare", "f_title", "df_title", "saturated",
             "none", "at_x0", "depth_title", "depth", "metric_ratio", "depth_x", "depth_y", "phi_note")


@st.cache_data(max_entries=256)
def depth_curve(name: str, init: str, slope: float) -> list[float]:
    """One activation's depth experiment (PyTorch, fixed random weights), cached per setting."""
    return depth_ratios(init, slope, names=(name,))[name]


def depth_data(init: str, slope: float) -> dict[str, list[float]]:
    """All six; the slope only matters to leaky ReLU, so the others stay cached when it moves."""
    return {n: depth_curve(n, init, slope if n == "leaky_relu" else 0.01) for n in ACTIVATIONS}


def settings() -> dict:
    return {name: st.session_state[f"{KEY}.{name}"] for name in FIELDS}


def on_commit() -> None:
    """The browser committed its settings (0.6 s after the last move): keep them, for the URL."""
    sent = (st.session_state.get(f"{KEY}.explorable") or {}).get("settings")
    for name, value in valid_settings(sent, FIELDS).items():
        st.session_state[f"{KEY}.{name}"] = value
    xmax = st.session_state[f"{KEY}.xmax"]
    st.session_state[f"{KEY}.x0"] = float(max(-xmax, min(xmax, st.session_state[f"{KEY}.x0"])))


def labels() -> dict:
    out = {k: t(f"{KEY}.{k}") for k in JS_LABELS}
    out["depth_chart_title"] = t(f"{KEY}.depth_chart_title", width=WIDTH)
    return out


@st.fragment
def play() -> None:
    """The explorable and the two settings that need PyTorch (they rerun only this fragment)."""
    c1, c2 = st.columns(2, gap="medium")
    c1.radio(t(f"{KEY}.init"), INITS, format_func=lambda i: t(f"{KEY}.inits.{i}"), key=f"{KEY}.init", horizontal=True)
    c2.slider(t(f"{KEY}.slope"), 0.01, 0.5, step=0.01, key=f"{KEY}.slope", help=t(f"{KEY}.slope_help"))
    init, slope = st.session_state[f"{KEY}.init"], float(st.session_state[f"{KEY}.slope"])
    activation_curves_explorable(
        settings=settings(), depth=depth_data(init, slope), slope=slope, init=init, width=WIDTH,
        typical=TYPICAL_INIT, names=ACTIVATION_LABELS, colors=ACTIVATION_COLORS, labels=labels(), lang=lang(),
        key=f"{KEY}.explorable", on_commit=on_commit)
    sync_url(*(f"{KEY}.{name}" for name in FIELDS), f"{KEY}.slope", f"{KEY}.init")


def page() -> None:
    url_state(f"{KEY}.focus", "sigmoid", choices=ACTIVATIONS)
    url_state(f"{KEY}.xmax", 6, lo=1, hi=20)
    url_state(f"{KEY}.x0", 2.0, lo=-20.0, hi=20.0)
    url_state(f"{KEY}.compare", True)
    url_state(f"{KEY}.threshold", 0.05, lo=0.01, hi=0.25)
    url_state(f"{KEY}.slope", 0.1, lo=0.01, hi=0.5)
    url_state(f"{KEY}.depth", 20, lo=1, hi=MAX_DEPTH)
    url_state(f"{KEY}.init", "typical", choices=INITS)
    xmax = st.session_state[f"{KEY}.xmax"]                        # a link may give x0 outside the range
    st.session_state[f"{KEY}.x0"] = float(max(-xmax, min(xmax, st.session_state[f"{KEY}.x0"])))
    play()
    show_code(derivative, depth_gradients)

    section("formula")
    st.caption(t(f"{KEY}.seed_note"))
    st.markdown(t(f"{KEY}.chain_text"))
    st.latex(r"\frac{\partial L}{\partial h_{0}} = W_1^{\top} \operatorname{diag}\bigl(f'(z_1)\bigr)\,\allowbreak "
             r"W_2^{\top} \operatorname{diag}\bigl(f'(z_2)\bigr) \allowbreak \cdots W_N^{\top} "     # \allowbreak: a phone
             r"\operatorname{diag}\bigl(f'(z_N)\bigr)\, \allowbreak \frac{\partial L}{\partial h_N}")  # wraps here
    st.latex(r"\text{Xavier: } W_{ij} \sim \mathcal{N}\!\Bigl(0, \tfrac{2}{n_\text{in} + n_\text{out}}\Bigr),"
             r"\qquad \text{He: } W_{ij} \sim \mathcal{N}\!\Bigl(0, \tfrac{2}{(1 + a^2)\, n_\text{in}}\Bigr)")


page_header(KEY)
page()
why_and_try(KEY)
