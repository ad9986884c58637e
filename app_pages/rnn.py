"""RNN hidden state: step through h_t = tanh(W x_t + U h_{t-1} + b), and see why LSTM and GRU exist.

Seeds 000 §3.2, 002 §3.2.1 (GRU), 003 §3.2, 004 §3.2. The math lives in bigmodel_core.ops.rnn and
bigmodel_core.models.rnn; this file draws it.
"""
from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
import torch

from bigmodel_core.charts.spec import line_chart
from bigmodel_core.errors import UserInputError
from bigmodel_core.models import rnn as M
from bigmodel_core.ops.rnn import gru_step, hidden_state_gradients, lstm_step, rnn_step, run_sequence
from app_pages._explorables import committed, rnn_gates_explorable, rnn_step_explorable
from app_pages._queue import heavy
from app_pages._ui import (altair, lang, page_header, section, show_code, show_error, sync_url, t, text_limit,
                           url_state, why_and_try)

HIDDEN = 8               # units of the stepping cells: few enough to read every number
GRAD_HIDDEN = 16         # units of the cells in the gradient chart
CELL_NAMES = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}
CELL_COLORS = {"RNN": "#d62728", "LSTM": "#1f77b4", "GRU": "#2ca02c"}
GATES = {"rnn": ("h",), "lstm": ("h", "i", "f", "o", "c"), "gru": ("h", "r", "z")}   # drawn per cell, over time


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

def _commit_step() -> None:
    """The step the learner stopped at in the browser becomes the page's (and the URL's) step."""
    step = committed("rnn.stepper", "step")
    if isinstance(step, (int, float)) and 1 <= step <= M.MAX_STEPS:
        st.session_state["rnn.t"] = int(step)


def stepper_labels(kind: str) -> dict:
    """The explorable's words in the learner's language (gate names for the chosen cell)."""
    names = ("step", "play", "x_t", "y_t_text", "y_t_sine", "p_next", "x_next", "table", "unit",
             "hidden_map", "hidden_caption")
    labels = {n: t(f"rnn.{n}") for n in names}
    labels["stop"] = t("common.stop")
    labels["table_note"] = t(f"rnn.table_note_{kind}")
    labels.update({f"gate_{g}": t(f"rnn.gate.{kind}.{g}") for g in GATES[kind][1:]})
    return labels


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


@st.fragment
def step_through(seq: M.Encoded, cells: dict) -> None:
    """The cell to step through (server-side: another trained model) and the step-through explorable:
    the time step, play, the heat maps, the gates and the formula with this step's numbers are drawn
    in the browser; the step comes back here only when the learner stops (for the URL)."""
    url_state("rnn.cell", "rnn", choices=tuple(M.CELL_CLASSES))
    url_state("rnn.t", 1, lo=1, hi=M.MAX_STEPS)
    st.session_state["rnn.t"] = min(max(1, st.session_state["rnn.t"]), seq.steps)
    st.segmented_control(t("rnn.cell"), tuple(M.CELL_CLASSES), key="rnn.cell", required=True,
                         format_func=CELL_NAMES.get)
    kind = st.session_state["rnn.cell"]
    model, _ = cells[kind]
    rnn_step_explorable(arrays=M.step_arrays(model, seq), x_labels=list(seq.labels), vocab=list(seq.vocab),
                        seq_kind=seq.kind, step=st.session_state["rnn.t"], labels=stepper_labels(kind),
                        lang=lang(), key="rnn.stepper", on_commit=_commit_step)
    sync_url("rnn.cell", "rnn.t")


with col_play:
    step_through(seq, cells)

show_code(rnn_step, lstm_step, gru_step)

# --- RNN vs LSTM vs GRU: the equations side by side -------------------------------------------
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
gate_names = {f"{kind}_{g}": t(f"rnn.gate.{kind}.{g}") for kind, gates in GATES.items() for g in gates}
rnn_gates_explorable(cells={kind: M.step_arrays(cells[kind][0], seq) for kind in M.CELL_CLASSES}, names=CELL_NAMES,
                     step=st.session_state["rnn.t"], labels={"step": t("rnn.step"), **gate_names}, lang=lang(),
                     key="rnn.gates")

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
