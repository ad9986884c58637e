"""Activation functions: f, f' (autograd) and saturation; what depth does to the gradient (seed 001 §2.1.2)."""
import math

import streamlit as st

from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.activations import (ACTIVATIONS, INITS, MAX_DEPTH, TYPICAL_INIT, curves,
                                           depth_gradients, depth_table, derivative, init_std)
from bigmodel_core.charts.curves import ACTIVATION_LABELS, activation_chart, depth_chart
from bigmodel_core.charts.spec import to_live_spec
from app_pages._ui import lang, page_header, vega, section, show_code, show_error, sync_url, t, url_state, why_and_try

K = "activations"
WIDTH = 128          # the depth experiment's layer width (see depth_gradients)


@st.cache_data(max_entries=64)
def curve_frames(names: tuple[str, ...], xmax: float, threshold: float, slope: float):
    """f and f' of each activation on [-xmax, xmax] (long frames) and each one's saturated intervals."""
    import pandas as pd
    f_rows, df_rows, regions = [], [], {}
    for name in names:
        c = curves(name, -xmax, xmax, n=241, threshold=threshold, negative_slope=slope)
        f_rows.append(pd.DataFrame({"activation": name, "x": c.x, "value": c.y}))
        df_rows.append(pd.DataFrame({"activation": name, "x": c.x, "value": c.dy}))
        regions[name] = c.saturated
    return pd.concat(f_rows, ignore_index=True), pd.concat(df_rows, ignore_index=True), regions


@st.cache_data(max_entries=64)
def depth_curve(name: str, init: str, slope: float):
    """One activation's gradient ratios through the 50-layer stack (seeded, so deterministic)."""
    return depth_table(MAX_DEPTH, init, negative_slope=slope, names=(name,))


def depth_frame(init: str, slope: float):
    """All six; the slope only matters to leaky ReLU, so the others stay cached when it moves."""
    import pandas as pd
    return pd.concat([depth_curve(n, init, slope if n == "leaky_relu" else 0.01) for n in ACTIVATIONS],
                     ignore_index=True)


@st.cache_data(max_entries=256)
def point(name: str, x0: float, slope: float) -> tuple[float, float]:
    import torch
    y, dy = derivative(name, torch.tensor([x0], dtype=torch.float64), slope)
    return y.item(), dy.item()


@st.cache_data(max_entries=256)
def function_specs(names: tuple[str, ...], focus: str, xmax: float, x0: float, threshold: float,
                   slope: float, lang_: str) -> tuple[dict, dict]:
    """The f and f' charts as Vega-Lite dicts (built once per setting; lang_ keys the cache)."""
    f_df, d_df, regions = curve_frames(names, xmax, threshold, slope)
    y0, d0 = point(focus, x0, slope)
    label = ACTIVATION_LABELS[focus]
    f = activation_chart(f_df, focus=focus, x0=x0, y0=y0, regions=regions[focus],
                         title=t(f"{K}.f_title", name=label), y_title="f(x)",
                         saturated_label=t(f"{K}.saturated"), focus_scale=True)
    d = activation_chart(d_df, focus=focus, x0=x0, y0=d0, regions=regions[focus],
                         title=t(f"{K}.df_title", name=label), y_title="f'(x)",
                         saturated_label=t(f"{K}.saturated"), threshold=threshold)
    return to_live_spec(f), to_live_spec(d)


@st.cache_data(max_entries=256)
def depth_spec(init: str, slope: float, focus: str, n_layers: int, lang_: str) -> dict:
    return to_live_spec(depth_chart(depth_frame(init, slope), focus=focus, n_layers=n_layers,
                                 title=t(f"{K}.depth_chart_title", width=WIDTH),
                                 x_title=t(f"{K}.depth_x"), y_title=t(f"{K}.depth_y")))


def formulas(name: str, x0: float, y0: float, d0: float, slope: float) -> list[str]:
    """The activation's formula and derivative, then the same with the learner's x0 plugged in."""
    x = f"{x0:.2f}"
    if name == "sigmoid":
        return [r"\sigma(x) = \frac{1}{1 + e^{-x}}, \qquad \sigma'(x) = \sigma(x)\,(1 - \sigma(x)) \le \tfrac14",
                rf"\sigma({x}) = \frac{{1}}{{1 + e^{{-({x})}}}} = {y0:.4f}, \qquad "
                rf"\sigma'({x}) = {y0:.4f} \times {1 - y0:.4f} = {d0:.4f}"]
    if name == "tanh":
        return [r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}, \qquad \tanh'(x) = 1 - \tanh^2(x) \le 1",
                rf"\tanh({x}) = {y0:.4f}, \qquad \tanh'({x}) = 1 - ({y0:.4f})^2 = {d0:.4f}"]
    if name == "relu":
        return [r"\mathrm{ReLU}(x) = \max(0, x), \qquad \mathrm{ReLU}'(x) = \begin{cases}1 & x > 0\\ 0 & x \le 0\end{cases}",
                rf"\mathrm{{ReLU}}({x}) = \max(0, {x}) = {y0:.4f}, \qquad \mathrm{{ReLU}}'({x}) = {d0:.0f}"]
    if name == "leaky_relu":
        a = f"{slope:.2f}"
        return [rf"\mathrm{{LeakyReLU}}(x) = \begin{{cases}}x & x > 0\\ a\,x & x \le 0\end{{cases}}, \quad "
                rf"\mathrm{{LeakyReLU}}'(x) = \begin{{cases}}1 & x > 0\\ a & x \le 0\end{{cases}}, \quad a = {a}",
                rf"\mathrm{{LeakyReLU}}({x}) = {y0:.4f}, \qquad \mathrm{{LeakyReLU}}'({x}) = {d0:.2f}"]
    if name == "gelu":
        Phi = 0.5 * (1 + math.erf(x0 / math.sqrt(2)))
        phi = math.exp(-x0 ** 2 / 2) / math.sqrt(2 * math.pi)
        return [r"\mathrm{GELU}(x) = x\,\Phi(x), \qquad \mathrm{GELU}'(x) = \Phi(x) + x\,\varphi(x)"
                r"\quad (\Phi, \varphi:\ \text{normal CDF, density})",
                rf"\mathrm{{GELU}}({x}) = {x} \times {Phi:.4f} = {y0:.4f}, \qquad "
                rf"\mathrm{{GELU}}'({x}) = {Phi:.4f} + {x} \times {phi:.4f} = {d0:.4f}"]
    s = 1 / (1 + math.exp(-x0))
    return [r"\mathrm{SiLU}(x) = x\,\sigma(x), \qquad \mathrm{SiLU}'(x) = \sigma(x)\,\bigl(1 + x\,(1 - \sigma(x))\bigr)",
            rf"\mathrm{{SiLU}}({x}) = {x} \times {s:.4f} = {y0:.4f}, \qquad "
            rf"\mathrm{{SiLU}}'({x}) = {s:.4f} \times (1 + {x} \times {1 - s:.4f}) = {d0:.4f}"]


@st.fragment
def x0_play(out: dict, names: tuple[str, ...], focus: str, xmax: float, threshold: float, slope: float,
            regions: tuple[tuple[float, float], ...]):
    """The x0 slider and everything that shows x0: a move reruns only this (Streamlit draws the rest
    once). The outputs sit in containers the page laid out around the slider (`out`)."""
    st.slider(t(f"{K}.x0"), -xmax, xmax, step=0.05, key=f"{K}.x0")
    sync_url(f"{K}.x0")
    x0 = float(st.session_state[f"{K}.x0"])
    y0, d0 = point(focus, x0, slope)
    spec_f, spec_d = function_specs(names, focus, xmax, x0, threshold, slope, lang())
    with out["f"]:
        vega(spec_f, key=f"{K}.chart_f")
    with out["d"]:
        vega(spec_d, key=f"{K}.chart_df")
    shaded = ", ".join(f"[{a:.2f}, {b:.2f}]" for a, b in regions) or t(f"{K}.none")
    with out["at"]:
        st.markdown(t(f"{K}.at_x0", name=ACTIVATION_LABELS[focus], x0=f"{x0:.2f}", y=f"{y0:.4f}",
                      d=f"{d0:.4f}", threshold=f"{threshold:.2f}", regions=shaded))
    with out["formula"]:
        st.latex(formulas(focus, x0, y0, d0, slope)[1])     # the numbers line


@st.fragment
def depth_play(out: dict, focus: str, init: str, slope: float):
    """The depth slider and everything that shows N (metric, values, chart, last formula line)."""
    st.slider(t(f"{K}.depth"), 1, MAX_DEPTH, key=f"{K}.depth")
    sync_url(f"{K}.depth")
    n_layers = int(st.session_state[f"{K}.depth"])
    label = ACTIVATION_LABELS[focus]
    depth = depth_frame(init, slope)
    at_n = depth[depth["layers"] == n_layers].set_index("activation")["ratio"]
    with out["stats"]:
        st.metric(t(f"{K}.metric_ratio", name=label, n=n_layers), f"{at_n[focus]:.3g}")
        st.caption(" · ".join(f"{ACTIVATION_LABELS[a]} {at_n[a]:.2g}" for a in ACTIVATIONS))
    with out["chart"]:
        vega(depth_spec(init, slope, focus, n_layers, lang()), key=f"{K}.chart_depth")
    with out["formula"]:
        st.latex(rf"\frac{{\lVert \partial L / \partial h_{{N - {n_layers}}} \rVert}}{{\lVert \partial L / \partial h_N \rVert}}"
                 rf"\Big|_{{\text{{{label}}}}} = {at_n[focus]:.3g}"
                 + (rf", \qquad \bigl(\tfrac14\bigr)^{{{n_layers}}} = {0.25 ** n_layers:.3g}" if focus == "sigmoid" else ""))


def play_and_formula():
    """Lay the page out first (containers), then fill it: the x0 and depth sliders live in two small
    fragments that redraw only the elements showing their value; every other control reruns the page."""
    url_state(f"{K}.focus", "sigmoid", choices=ACTIVATIONS)
    url_state(f"{K}.xmax", 6, lo=1, hi=20)
    url_state(f"{K}.x0", 2.0, lo=-20.0, hi=20.0)
    url_state(f"{K}.compare", True)
    url_state(f"{K}.threshold", 0.05, lo=0.01, hi=0.25)
    url_state(f"{K}.slope", 0.1, lo=0.01, hi=0.5)
    url_state(f"{K}.depth", 20, lo=1, hi=MAX_DEPTH)
    url_state(f"{K}.init", "typical", choices=INITS)

    ctrl, col_f, col_d = st.columns([1.05, 2, 2], gap="medium")
    with ctrl:
        st.radio(t(f"{K}.focus"), ACTIVATIONS, format_func=ACTIVATION_LABELS.get, key=f"{K}.focus",
                 horizontal=True)
        st.slider(t(f"{K}.xmax"), 1, 20, key=f"{K}.xmax")
        xmax = st.session_state[f"{K}.xmax"]
        if abs(st.session_state[f"{K}.x0"]) > xmax:              # keep x0 inside the drawn range
            st.session_state[f"{K}.x0"] = float(max(-xmax, min(xmax, st.session_state[f"{K}.x0"])))
        x0_box = st.container()
        st.slider(t(f"{K}.threshold"), 0.01, 0.25, step=0.01, key=f"{K}.threshold",
                  help=t(f"{K}.threshold_help"))
        st.slider(t(f"{K}.slope"), 0.01, 0.5, step=0.01, key=f"{K}.slope", help=t(f"{K}.slope_help"))
        st.toggle(t(f"{K}.compare"), key=f"{K}.compare")
    focus = st.session_state[f"{K}.focus"]
    threshold = float(st.session_state[f"{K}.threshold"])
    slope = float(st.session_state[f"{K}.slope"])
    names = ACTIVATIONS if st.session_state[f"{K}.compare"] else (focus,)

    try:
        regions = curve_frames(names, float(xmax), threshold, slope)[2][focus]
    except UserInputError as e:
        show_error(e)
        return
    at_box = st.container()

    # -- depth: the gradient after N layers, every activation at once ---------------------------
    st.markdown(f"#### {t(f'{K}.depth_title')}")
    ctrl2, col_depth = st.columns([1.05, 4], gap="medium")
    with ctrl2:
        depth_box = st.container()
        st.radio(t(f"{K}.init"), INITS, format_func=lambda i: t(f"{K}.inits.{i}"), key=f"{K}.init")
        stats_box = st.container()
    init = st.session_state[f"{K}.init"]
    sync_url(f"{K}.focus", f"{K}.xmax", f"{K}.x0", f"{K}.compare", f"{K}.threshold", f"{K}.slope",
             f"{K}.depth", f"{K}.init")
    show_code(derivative, depth_gradients)

    # -- the formula, with the learner's numbers -------------------------------------------------
    section("formula")
    st.caption(t(f"{K}.seed_note"))
    st.latex(formulas(focus, 0.0, 0.5, 0.25, slope)[0])     # the general formula (no numbers)
    x0_formula_box = st.container()
    used = TYPICAL_INIT[focus] if init == "typical" else init
    std = init_std(init, WIDTH, WIDTH, focus, slope)
    st.markdown(t(f"{K}.chain_text"))
    st.latex(r"\frac{\partial L}{\partial h_{0}} = W_1^{\top} \operatorname{diag}\bigl(f'(z_1)\bigr)\,\allowbreak "
             r"W_2^{\top} \operatorname{diag}\bigl(f'(z_2)\bigr) \allowbreak \cdots W_N^{\top} "     # \allowbreak: a phone
             r"\operatorname{diag}\bigl(f'(z_N)\bigr)\, \allowbreak \frac{\partial L}{\partial h_N}")  # wraps here
    if used == "xavier":
        st.latex(rf"\text{{Xavier: }} W_{{ij}} \sim \mathcal{{N}}\!\Bigl(0, \tfrac{{2}}{{n_\text{{in}} + n_\text{{out}}}}\Bigr),"
                 rf"\quad \mathrm{{std}} = \sqrt{{2 / ({WIDTH} + {WIDTH})}} = {std:.4f}")
    else:
        st.latex(rf"\text{{He: }} W_{{ij}} \sim \mathcal{{N}}\!\Bigl(0, \tfrac{{2}}{{(1 + a^2)\, n_\text{{in}}}}\Bigr),"
                 rf"\quad \mathrm{{std}} = {std:.4f}")
    depth_formula_box = st.container()

    with x0_box:
        x0_play({"f": col_f, "d": col_d, "at": at_box, "formula": x0_formula_box},
                names, focus, float(xmax), threshold, slope, regions)
    with depth_box:
        depth_play({"stats": stats_box, "chart": col_depth, "formula": depth_formula_box}, focus, init, slope)


page_header(K)
play_and_formula()
why_and_try(K)
