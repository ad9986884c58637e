"""RNN hidden state: step through h_t = tanh(W x_t + U h_{t-1} + b), and see why LSTM and GRU exist.

Seeds 000 §3.2, 002 §3.2.1 (GRU), 003 §3.2, 004 §3.2. The math lives in bigmodel_core.ops.rnn and
bigmodel_core.models.rnn; this file draws it.
"""
from __future__ import annotations

import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
import torch

from bigmodel_core.charts.spec import Box, heatmap, line_chart
from bigmodel_core.errors import UserInputError
from bigmodel_core.models import rnn as M
from bigmodel_core.ops.rnn import gru_step, hidden_state_gradients, lstm_step, rnn_step, run_sequence
from bigmodel_core.tex import tex_text
from app_pages._queue import heavy
from app_pages._ui import (altair, page_header, vega, section, show_code, show_error, sync_url, t, text_limit,
                           url_state, why_and_try)

HIDDEN = 8               # units of the stepping cells: few enough to read every number
GRAD_HIDDEN = 16         # units of the cells in the gradient chart
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
CELL_COLORS = {"RNN": "#d62728", "LSTM": "#1f77b4", "GRU": "#2ca02c"}
PLAY_DELAY_S = 0.6


# ---------------------------------------------------------------------------------------------
# Cached work (plain values in, results out)

@st.cache_data(max_entries=32, show_spinner=False)
def encode(source: str, text: str, freq: float, noise: float) -> M.Encoded:
    if source == "sine":
        return M.sine_sequence(freq, noise)
    return M.encode_text(text)


@st.cache_resource(max_entries=16, show_spinner=False)
def stepping_cells(source: str, text: str, freq: float, noise: float) -> dict:
    """The three cells trained on this sequence (next-step prediction) and their runs over it."""
    seq = encode(source, text, freq, noise)
    out = {}
    for kind in M.CELL_CLASSES:
        model = M.fit_next_step(kind, seq, hidden_size=HIDDEN)
        with torch.no_grad():
            out[kind] = (model, run_sequence(model.cell, seq.x))
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def gradient_norms(source: str, text: str, freq: float, noise: float, scale: float) -> pd.DataFrame:
    seq = encode(source, text, freq, noise)
    rows = []
    for kind, name in CELL_NAMES.items():
        cell = M.demo_cell(kind, seq.x.shape[1], GRAD_HIDDEN, weight_scale=scale)
        norms = hidden_state_gradients(cell, seq.x)                    # (T,)
        rows += [{"t": t + 1, "norm": max(float(v), 1e-30), "cell": name} for t, v in enumerate(norms)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Pictures

def fmt_vec(v: torch.Tensor, decimals: int = 2) -> str:
    """A column vector in LaTeX with every entry rounded."""
    return r"\begin{bmatrix}" + r"\\".join(f"{x:.{decimals}f}" for x in v.tolist()) + r"\end{bmatrix}"


def state_map(a: torch.Tensor, labels, title: str, *, t_now: int | None = None, gate: bool = False,
              cell_px: float = 20) -> alt.Chart:
    """(T, H) over time -> units (rows) x time (columns); gates in [0, 1], states red-blue."""
    H = a.shape[1]
    boxes = (Box(0, t_now - 1, H, t_now, "#ff9f0a"),) if t_now else ()
    kw = dict(scheme="greens", domain=(0.0, 1.0)) if gate else dict(diverging=True)
    return heatmap(a.T, title=title, x_labels=list(labels), y_labels=[f"{i + 1}" for i in range(H)],
                   boxes=boxes, cell_px=cell_px, value_title=title.split(" ")[0], **kw)


def gates_chart(run, kind: str, labels) -> alt.VConcatChart:
    g = run.gates()
    names = {"rnn": [("h", False)], "lstm": [("i", True), ("f", True), ("o", True), ("c", False)],
             "gru": [("r", True), ("z", True), ("h", False)]}[kind]
    charts = [state_map(g[n], labels, t(f"rnn.gate.{kind}.{n}"), gate=is_gate, cell_px=11)
              for n, is_gate in names]
    return alt.vconcat(*charts, spacing=6).resolve_scale(color="independent")


# ---------------------------------------------------------------------------------------------

page_header("rnn")

url_state("rnn.source", "text", choices=("text", "sine"))
url_state("rnn.text", "hello hello", max_chars=200)
url_state("rnn.freq", 2.0, lo=0.5, hi=6.0)
url_state("rnn.noise", 0.1, lo=0.0, hi=0.5)

col_in, col_play = st.columns([1, 3], gap="large")
with col_in:
    source_names = {s: t(f"rnn.source_{s}") for s in ("text", "sine")}   # bound now, in this language
    st.radio(t("rnn.source"), ("text", "sine"), key="rnn.source", horizontal=True,
             format_func=source_names.get)
    source = st.session_state["rnn.source"]
    if source == "text":
        st.text_input(t("rnn.text"), key="rnn.text", max_chars=200)
        text_limit(200)
    else:
        st.slider(t("rnn.freq"), 0.5, 6.0, step=0.5, key="rnn.freq")
        st.slider(t("rnn.noise"), 0.0, 0.5, step=0.05, key="rnn.noise")
    sync_url("rnn.source", "rnn.text", "rnn.freq", "rnn.noise")
    inputs = (source, st.session_state["rnn.text"], float(st.session_state["rnn.freq"]),
              float(st.session_state["rnn.noise"]))
    try:
        seq = encode(*inputs)
    except UserInputError as e:
        show_error(e)
        st.stop()
    if seq.cut_from:
        st.info(t("rnn.cut", n=seq.cut_from, max=M.MAX_STEPS), icon=":material/content_cut:")
    st.caption(t(f"rnn.model_note_{seq.kind}", steps=seq.steps, hidden=HIDDEN,
                 vocab=len(seq.vocab)))
    with st.spinner(t("rnn.preparing")):
        cells = stepping_cells(*inputs)


@st.cache_data(max_entries=64, show_spinner=False)
def hidden_spec(inputs: tuple, title: str) -> dict:
    """The hidden-state heat map as a plain Vega-Lite dict (units x time, red-blue around 0).

    The same spec at every step: the outlined step comes from the small named dataset "rnn_box",
    so a slider move only swaps that dataset into the live chart instead of redrawing the chart."""
    seq, (_, run) = encode(*inputs), stepping_cells(*inputs)["rnn"]
    a = run.hidden_states.detach().float().cpu().numpy().T           # (H, T): units x time
    H, T = a.shape
    cell = min(30, 640 / T)
    vmax = float(np.abs(a).max()) or 1.0
    values = [{"row": r, "col": c, "row2": r + 1, "col2": c + 1, "value": float(a[r, c])}
              for r in range(H) for c in range(T)]

    def axis(names):
        return {"values": [i + 0.5 for i in range(len(names))], "title": None, "labelAngle": 0, "grid": False,
                "ticks": False, "labelExpr": "[" + ",".join(_js(s) for s in names) + "][floor(datum.value - 0.5)]"}

    x = {"field": "col", "type": "quantitative", "scale": {"domain": [0, T], "nice": False, "zero": False},
         "axis": axis(list(seq.labels))}
    y = {"field": "row", "type": "quantitative", "scale": {"domain": [0, H], "nice": False, "zero": False,
                                                           "reverse": True},
         "axis": axis([f"{i + 1}" for i in range(H)])}
    value_title = title.split(" ")[0]
    rect = {"mark": {"type": "rect"}, "encoding": {
        "x": x, "x2": {"field": "col2"}, "y": y, "y2": {"field": "row2"},
        "color": {"field": "value", "type": "quantitative", "title": value_title,
                  "scale": {"scheme": "redblue", "domain": [-vmax, vmax], "reverse": True}},
        "tooltip": [{"field": "row", "type": "quantitative"}, {"field": "col", "type": "quantitative"},
                    {"field": "value", "type": "quantitative", "format": ".2f", "title": value_title}]}}
    box = {"data": {"name": "rnn_box"}, "mark": {"type": "rect", "fill": None, "strokeWidth": 2.5,
                                                 "stroke": "#ff9f0a"},
           "encoding": {"x": {**x, "field": "c0"}, "x2": {"field": "c1"},     # same axes: Vega-Lite merges them
                        "y": {**y, "field": "r0"}, "y2": {"field": "r1"}}}
    # both datasets named: beside a named dataset, Streamlit would not draw unnamed data.values
    return {"data": {"name": "rnn_cells"}, "datasets": {"rnn_cells": values}, "layer": [rect, box], "title": title,
            "width": int(round(T * cell)), "height": int(round(H * cell)),
            "autosize": {"type": "pad", "contains": "padding"}}


def _js(s: str) -> str:
    return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"


def hidden_chart(inputs: tuple, step: int, title: str) -> None:
    """Draw the heat map with step t outlined (only the box's dataset changes from step to step)."""
    vega(hidden_spec(inputs, title), key="rnn.hidden_chart",
         datasets={"rnn_box": [{"c0": step - 1, "c1": step, "r0": 0, "r1": HIDDEN}]})


@st.fragment
def step_through(seq: M.Encoded, cells: dict) -> None:
    """The time-step slider and play button, the formula with this step's numbers, the heat map."""
    T = seq.steps
    url_state("rnn.t", 1, lo=1, hi=M.MAX_STEPS)
    if st.session_state.get("rnn.playing"):
        st.session_state["rnn.t"] = st.session_state["rnn.t"] % T + 1    # next step (wraps)
        if st.session_state["rnn.t"] == T:
            st.session_state["rnn.playing"] = False
    st.session_state["rnn.t"] = min(max(1, st.session_state["rnn.t"]), T)

    c_slider, c_btn = st.columns([4, 1], vertical_alignment="bottom")
    with c_slider:
        if T > 1:
            st.slider(t("rnn.step"), 1, T, key="rnn.t")
    with c_btn:
        playing = st.session_state.get("rnn.playing", False)
        if st.button(t("common.stop") if playing else t("rnn.play"), key="rnn.play", type="primary",
                     icon=":material/stop:" if playing else ":material/play_arrow:", width="stretch"):
            st.session_state["rnn.playing"] = not playing
            st.rerun(scope="fragment")
    sync_url("rnn.t")
    step = st.session_state["rnn.t"]

    model, run = cells["rnn"]
    s = run.steps[step - 1]                                              # this step's RNNStep
    with torch.no_grad():
        out = M.readout_step(model, s.h, seq)

    # x_t and y_t in words, then the seed's formula with this step's numbers
    m1, m2, m3 = st.columns(3)
    m1.metric(t("rnn.x_t", t=step), seq.labels[step - 1])
    if seq.kind == "text":
        shown = "␣" if out["char"] == " " else out["char"]
        m2.metric(t("rnn.y_t_text", t=step), f"'{shown}'",
                  help=t("rnn.y_help_text"))
        m3.metric(t("rnn.p_next"), f"{out['p']:.0%}")
        y_tex = (rf"y_{{{step}}} = \mathrm{{softmax}}(V h_{{{step}}} + c) \;\Rightarrow\; "
                 + tex_text(f"'{shown}'") + rf"\ ({out['p'] * 100:.0f}\%)")
    else:
        m2.metric(t("rnn.y_t_sine", t=step), f"{out['value']:.2f}", help=t("rnn.y_help_sine"))
        nxt = seq.labels[step] if step < T else "—"
        m3.metric(t("rnn.x_next"), nxt)
        y_tex = rf"y_{{{step}}} = V h_{{{step}}} + c = {out['value']:.2f}"
    typed = tex_text(f"'{seq.labels[step - 1]}'")                       # learner text: escaped
    x_tex = (rf"x_{{{step}}} = \text{{one-hot}}({typed})" if seq.kind == "text"
             else rf"x_{{{step}}} = {float(s.x[0]):.2f}")
    # one formula per line, no aligned block: each wraps at its top-level + and = on a phone
    with st.container(gap="small"):
        st.latex(rf"h_{{{step}}} = \tanh(\underbrace{{W x_{{{step}}}}}_{{{fmt_vec(s.Wx)}}} + "
                 rf"\underbrace{{U h_{{{step - 1}}}}}_{{{fmt_vec(s.Uh)}}} + \underbrace{{b}}_{{{fmt_vec(s.b)}}})")
        st.latex(rf"h_{{{step}}} = \tanh\Big(\underbrace{{{fmt_vec(s.pre)}}}_{{{tex_text(t('rnn.pre_short'))}}}\Big)"
                 rf" = {fmt_vec(s.h)}")
        st.latex(x_tex + r"\qquad\allowbreak " + y_tex)
    # the table is drawn only while its expander is open: a slider move then redraws less
    numbers = st.expander(t("rnn.table"), icon=":material/table:", key="rnn.table_open", on_change="rerun")
    if numbers.open:
        with numbers:
            df = pd.DataFrame({"h_{t-1}": s.h_prev, "W x_t": s.Wx, "U h_{t-1}": s.Uh, "b": s.b,
                               "pre": s.pre, "h_t": s.h}).round(4)
            df.index = [f"{t('rnn.unit')} {i + 1}" for i in range(len(df))]
            st.table(df)
            st.caption(t("rnn.table_note"))

    hidden_chart(inputs, step, t("rnn.hidden_map"))
    st.caption(t("rnn.hidden_caption", t=step))
    if st.session_state.get("rnn.playing"):
        time.sleep(PLAY_DELAY_S)
        st.rerun(scope="fragment")


with col_play:
    step_through(seq, cells)

show_code(rnn_step, lstm_step, gru_step)

# --- RNN vs LSTM vs GRU: the gates over time --------------------------------------------------
st.subheader(t("rnn.compare_title"))
st.caption(t("rnn.compare_caption"))
g_cols = st.columns(3, gap="medium")
gate_tex = {   # one equation per line so each fits a third of the page
    "rnn": r"\begin{aligned} h_t &= \tanh(W x_t + U h_{t-1} + b) \end{aligned}",
    "lstm": r"\begin{aligned} i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i)\\ f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f)\\"
            r" o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o)\\ g_t &= \tanh(W_g x_t + U_g h_{t-1} + b_g)\\"
            r" c_t &= f_t \odot c_{t-1} + i_t \odot g_t\\ h_t &= o_t \odot \tanh(c_t) \end{aligned}",
    "gru": r"\begin{aligned} r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r)\\ z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z)\\"
           r" n_t &= \tanh\big(W_n x_t + b_{in}\\ &\qquad + r_t \odot (U_n h_{t-1} + b_{hn})\big)\\"   # two lines: fits a third of the page
           r" h_t &= (1 - z_t) \odot n_t + z_t \odot h_{t-1} \end{aligned}",
}
for col, kind in zip(g_cols, M.CELL_CLASSES):
    with col:
        st.markdown(f"**{CELL_NAMES[kind]}** — {t(f'rnn.cell_{kind}')}")
        st.latex(r"\small " + gate_tex[kind])
        altair(gates_chart(cells[kind][1], kind, seq.labels), key=f"rnn.gates_{kind}")

# --- Vanishing and exploding gradients --------------------------------------------------------
st.subheader(t("rnn.grad_title"))


@st.fragment
def gradients(inputs: tuple, T: int) -> None:
    url_state("rnn.scale", 1.0, lo=0.25, hi=4.0)
    c1, c2 = st.columns([1, 2], gap="large")
    with c1:
        st.slider(t("rnn.scale"), 0.25, 4.0, step=0.25, key="rnn.scale")
        sync_url("rnn.scale")
        scale = float(st.session_state["rnn.scale"])
        df = gradient_norms(*inputs, scale)
        first = df[df.t == 1].set_index("cell")["norm"]
        for name in CELL_NAMES.values():
            st.metric(t("rnn.grad_first", cell=name, T=T), f"{first[name]:.1e}")
        st.caption(t("rnn.grad_caption", hidden=GRAD_HIDDEN))
    with c2:
        chart = line_chart(df, x="t", y="norm", series="cell", log_y=True, points=True,
                           x_title=t("rnn.grad_x"), y_title=t("rnn.grad_y", T=T), width=620,
                           height=300)
        chart = chart.encode(color=alt.Color("cell:N", title=None, scale=alt.Scale(
            domain=list(CELL_COLORS), range=list(CELL_COLORS.values()))))
        altair(chart.configure_axis(labelFontSize=13, titleFontSize=14).configure_legend(labelFontSize=14),
               key="rnn.grad_chart")


gradients(inputs, seq.steps)

# --- Train the three cells on a task that needs memory ----------------------------------------
st.subheader(t("rnn.train_title"))
st.caption(t("rnn.train_caption", symbols=M.N_SYMBOLS, steps=M.RecallConfig().steps))
url_state("rnn.delay", M.RecallConfig().delay, lo=1, hi=40)
tc1, tc2 = st.columns([1, 3], gap="large")
with tc1:
    st.slider(t("rnn.delay"), 1, 40, key="rnn.delay")
    sync_url("rnn.delay")
    delay = int(st.session_state["rnn.delay"])
    example, _ = M.recall_data(delay, 1, seed=7)
    ids = example[0].argmax(-1).tolist()
    st.markdown(t("rnn.example", seq=" ".join(M.SYMBOLS[i] for i in ids[:12]) +
                  (" …" if len(ids) > 12 else ""), answer=M.SYMBOLS[ids[0]]))
    go = st.button(t("common.train"), key="rnn.train", icon=":material/play_arrow:", type="primary")
results_all = st.session_state.setdefault("rnn.results", {})
with tc2:
    bars = dict(zip(M.CELL_CLASSES, st.columns(3)))
    if go:
        progress = {k: bars[k].progress(0.0, text=CELL_NAMES[k]) for k in M.CELL_CLASSES}

        def on_progress(kind, e):
            progress[kind].progress(e.fraction, text=t("rnn.progress", cell=CELL_NAMES[kind], step=e.step,
                                                       total=e.total_steps, loss=f"{e.train_loss:.3f}"))
        with heavy("rnn_train"):                                   # one training at a time per process
            results_all[delay] = M.train_side_by_side(M.RecallConfig(delay=delay), on_progress=on_progress)
    results = results_all.get(delay)
    if results is None:
        st.info(t("rnn.train_hint", delay=delay), icon=":material/model_training:")
    else:
        for kind, r in results.items():
            with bars[kind]:
                st.metric(t("rnn.final_acc", cell=CELL_NAMES[kind]), f"{r.test_acc:.0%}",
                          delta=f"{r.test_acc - 1 / M.N_SYMBOLS:+.0%} {t('rnn.vs_chance')}")
                if r.history.diverged:
                    st.warning(t("common.diverged", step=r.history.diverged_at))
        loss_df = pd.DataFrame([{"step": s, "loss": v, "cell": CELL_NAMES[k]} for k, r in results.items()
                                for s, v in zip(r.history.steps, r.history.train_loss)])
        acc_df = pd.DataFrame([{"step": e["step"], "acc": e["test_acc"], "cell": CELL_NAMES[k]}
                               for k, r in results.items() for e in r.history.evals])
        color = alt.Color("cell:N", title=None, scale=alt.Scale(domain=list(CELL_COLORS),
                                                                range=list(CELL_COLORS.values())))
        lc = line_chart(loss_df, y="loss", series="cell", x_title=t("common.step"),
                        y_title=t("common.loss"), width=380, height=240).encode(color=color)
        ac = line_chart(acc_df, y="acc", series="cell", x_title=t("common.step"),
                        y_title=t("rnn.test_acc"), width=380, height=240, points=True).encode(color=color)
        altair(alt.hconcat(lc, ac).configure_axis(labelFontSize=13, titleFontSize=14)
               .configure_legend(labelFontSize=14), key="rnn.train_chart")
        done = [r for r in results.values() if r.history.reason == "finished"]
        st.caption(t("common.finished", steps=sum(r.history.steps[-1] for r in done if r.history.steps),
                     seconds=f"{sum(r.history.seconds for r in results.values()):.1f}"))

# --- The formula ------------------------------------------------------------------------------
section("formula")
st.latex(r"h_t = f(W x_t + U h_{t-1} + b), \qquad y_t = g(V h_t + c)")
st.markdown(t("rnn.formula_text"))
st.latex(r"\frac{\partial h_T}{\partial h_t} = \prod_{k=t+1}^{T} \frac{\partial h_k}{\partial h_{k-1}}"
         r" = \prod_{k=t+1}^{T} \mathrm{diag}\big(1 - h_k^2\big)\, U")
st.markdown(t("rnn.formula_grad"))
st.latex(r"c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad\quad h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}")
st.markdown(t("rnn.formula_gates"))
show_code(run_sequence, hidden_state_gradients)

why_and_try("rnn")
