"""How big is big: a transformer's parameters, memory and compute from its shape; Chinchilla's scaling law.

Seed 004 §2 (pre-trained big models): size is parameters, data and compute. Every number here comes from
bigmodel_core.scale and is checked in tests against the published counts.
"""
from __future__ import annotations

import math
from dataclasses import asdict

import pandas as pd
import psutil
import streamlit as st

from bigmodel_core.errors import UserInputError
from bigmodel_core.scale import (ADAM_MIXED_BYTES, BYTES_PER_WEIGHT, CNN_SHAPE, GPU_80GB, MAX_TOKENS, MLP_KINDS,
                                 MODEL_KINDS, NORM_KINDS, PARTS, POSITION_KINDS, PRESETS, PUBLISHED_COUNTS,
                                 TRAINING_TOKENS, TransformerShape, budget_allocations, check_tokens,
                                 chinchilla_loss, compute_optimal, conv_net_parameter_count, count_elements,
                                 gguf_counts, human, human_bytes, inference_flops_per_token, kaplan_loss,
                                 kv_cache_bytes, measure_matmul_flops, parameter_breakdown, parameter_count,
                                 training_bytes, training_flops, weight_bytes, years_to_train)
from bigmodel_core.charts.scale import breakdown_bar, budget_rows, loss_map_spec
from bigmodel_core.charts.spec import arrow_bytes
from app_pages._ui import altair, page_header, section, show_code, show_error, sync_url, t, url_state, vega, why_and_try

KEY = "scale"
CUSTOM = "custom"
INTS = {"n_layer": (1, 1000), "d_model": (1, 100_000), "n_head": (1, 1000), "n_kv_head": (1, 1000),
        "d_ff": (1, 1_000_000), "vocab_size": (1, 10_000_000), "n_ctx": (1, MAX_TOKENS), "n_token_types": (0, 16)}
CHOICES = {"mlp": MLP_KINDS, "norm": NORM_KINDS, "position": POSITION_KINDS, "kind": MODEL_KINDS}
BOOLS = ("bias", "tied_head", "pooler")
FIELDS = (*INTS, *CHOICES, *BOOLS)
GPT3 = PRESETS["gpt3-175b"]


# ---------------------------------------------------------------------------------------------
# Cached: the app's own models counted from their tensors, the benchmark, the loss map

@st.cache_resource(show_spinner=False)
def _own_models() -> list[dict]:
    from safetensors import safe_open
    from bigmodel_core.models.bert import minilm_dir
    from bigmodel_core.models.cnn import CNN
    with safe_open(str(minilm_dir() / "model.safetensors"), "pt") as f:
        minilm = count_elements(f.get_slice(k).get_shape() for k in f.keys() if k != "embeddings.position_ids")
    smol_shape, smol = gguf_counts()
    cnn = sum(p.numel() for p in CNN().parameters())
    return [{"model": "all-MiniLM-L6-v2 (model.safetensors)", "tensors": minilm,
             "calculator": parameter_count(PRESETS["all-MiniLM-L6-v2"])},
            {"model": "SmolLM2-135M-Instruct (GGUF)", "tensors": smol, "calculator": parameter_count(smol_shape)},
            {"model": "CNN (cnn_anatomy)", "tensors": cnn, "calculator": conv_net_parameter_count(CNN_SHAPE)}]


@st.cache_data(max_entries=4, show_spinner=False)
def _loss_map(points: tuple[tuple[str, float, float], ...], lang: str) -> dict:
    """The map's spec with its fixed data sets (the 2,500-cell loss grid, the frontiers, the models) turned
    into Arrow bytes once, not on every budget move; only "iso" and "opt" are converted per rerun."""
    labels = {k: t(f"{KEY}.map_{k}") for k in ("x", "y", "loss", "fit", "rule", "kaplan")}
    spec = loss_map_spec([{"name": n, "n": a, "d": b} for n, a, b in points], labels)
    spec["datasets"] = {k: arrow_bytes(v) if isinstance(v, list) and v and k not in ("iso", "opt") else v
                        for k, v in spec["datasets"].items()}
    return spec


# ---------------------------------------------------------------------------------------------
# Shape state: a preset fills the controls; touching a control makes the shape "custom"

def _apply_preset() -> None:
    name = st.session_state[f"{KEY}.preset"]
    if name in PRESETS:
        for field, value in asdict(PRESETS[name]).items():
            st.session_state[f"{KEY}.{field}"] = value
        n = parameter_count(PRESETS[name])
        st.session_state[f"{KEY}.tokens_b"] = round((TRAINING_TOKENS[name] or 20 * n) / 1e9, 3)


def _mark_custom() -> None:
    current = _shape_from_state()
    st.session_state[f"{KEY}.preset"] = next((k for k, v in PRESETS.items() if v == current), CUSTOM)


def _shape_from_state() -> TransformerShape:
    return TransformerShape(**{f: st.session_state[f"{KEY}.{f}"] for f in FIELDS})


page_header(KEY)
url_state(f"{KEY}.preset", "gpt2", choices=[*PRESETS, CUSTOM])
_start = PRESETS.get(st.session_state[f"{KEY}.preset"], PRESETS["gpt2"])
for _f in INTS:
    url_state(f"{KEY}.{_f}", getattr(_start, _f), lo=INTS[_f][0], hi=INTS[_f][1])
for _f in CHOICES:
    url_state(f"{KEY}.{_f}", getattr(_start, _f), choices=list(CHOICES[_f]))
for _f in BOOLS:
    url_state(f"{KEY}.{_f}", getattr(_start, _f))
_default_tokens = TRAINING_TOKENS.get(st.session_state[f"{KEY}.preset"]) or 20 * parameter_count(_start)
url_state(f"{KEY}.tokens_b", round(_default_tokens / 1e9, 3), lo=1e-9, hi=1e6)
url_state(f"{KEY}.kv_tokens", 1024, lo=1, hi=MAX_TOKENS)
url_state(f"{KEY}.kv_batch", 1, lo=1, hi=100_000)
url_state(f"{KEY}.kv_dtype", "float16", choices=["float32", "float16", "int8"])
url_state(f"{KEY}.log_c", 23.5, lo=17.0, hi=27.0)

top = st.columns([2, 5])
top[0].selectbox(t(f"{KEY}.preset"), [*PRESETS, CUSTOM], key=f"{KEY}.preset", on_change=_apply_preset,
                 format_func=lambda v: t(f"{KEY}.custom") if v == CUSTOM else v)
with top[1].expander(t(f"{KEY}.shape"), expanded=st.session_state[f"{KEY}.preset"] == CUSTOM):
    cols = st.columns(4)
    for i, f in enumerate(INTS):
        cols[i % 4].number_input(t(f"{KEY}.f_{f}"), INTS[f][0], INTS[f][1], step=1, key=f"{KEY}.{f}",
                                 on_change=_mark_custom)
    cols = st.columns(4)
    for i, f in enumerate(CHOICES):
        cols[i].selectbox(t(f"{KEY}.f_{f}"), CHOICES[f], key=f"{KEY}.{f}", on_change=_mark_custom)
    cols = st.columns(4)
    for i, f in enumerate(BOOLS):
        cols[i].checkbox(t(f"{KEY}.f_{f}"), key=f"{KEY}.{f}", on_change=_mark_custom)
sync_url(f"{KEY}.preset", *(f"{KEY}.{f}" for f in FIELDS))

shape = _shape_from_state()
preset = st.session_state[f"{KEY}.preset"]
try:
    parts = parameter_breakdown(shape)
except UserInputError as e:
    show_error(e)
    st.stop()
n_params = sum(parts.values())

tab_params, tab_memory, tab_compute, tab_laws = st.tabs(
    [t(f"{KEY}.tab_params"), t(f"{KEY}.tab_memory"), t(f"{KEY}.tab_compute"), t(f"{KEY}.tab_laws")])

# -- parameters -------------------------------------------------------------------------------
with tab_params:
    m = st.columns(3)
    m[0].metric(t(f"{KEY}.total"), f"{n_params:,}", help=human(n_params))
    if preset in PUBLISHED_COUNTS:
        pub = PUBLISHED_COUNTS[preset]
        m[1].metric(t(f"{KEY}.published"), f"{pub:,.0f}" if pub == int(pub) and pub % 1e8 else human(pub))
        same = n_params == pub
        m[2].markdown(t(f"{KEY}.match_exact") if same else
                      t(f"{KEY}.match_close", diff=f"{(n_params - pub) / pub:+.2%}"))
    labels = {p: t(f"{KEY}.part_{p}") for p in PARTS}
    altair(breakdown_bar(parts, labels), key=f"{KEY}.bar")
    table = pd.DataFrame([{t(f"{KEY}.col_part"): labels[p], t(f"{KEY}.col_params"): f"{v:,}",
                           t(f"{KEY}.col_share"): f"{v / n_params:.1%}"} for p, v in parts.items()])
    st.dataframe(table, hide_index=True, width="content")
    if shape.pooler:
        st.caption(t(f"{KEY}.pooler_note", n=f"{parts['pooler']:,}", without=f"{n_params - parts['pooler']:,}"))
    with st.expander(t(f"{KEY}.own_models")):
        if st.toggle(t(f"{KEY}.count_own"), key=f"{KEY}.count_own"):   # reading the GGUF takes seconds
            own = pd.DataFrame(_own_models())
            own["="] = ["✓" if a == b else "✗" for a, b in zip(own.tensors, own.calculator)]
            st.dataframe(own.rename(columns={"tensors": t(f"{KEY}.col_tensors"),
                                             "calculator": t(f"{KEY}.col_calc")}), hide_index=True, width="content")
            st.caption(t(f"{KEY}.own_caption"))

# -- memory: a fragment (the KV-cache controls rerun only this tab) ----------------------------------

@st.fragment
def memory_tab(shape: TransformerShape, n_params: int) -> None:
    ram = psutil.virtual_memory().total
    st.markdown(t(f"{KEY}.memory_intro", ram=human_bytes(ram)))
    rows = [{"what": t(f"{KEY}.weights_at", dtype=d), "bytes": b} for d, b in weight_bytes(n_params).items()]
    rows.append({"what": t(f"{KEY}.adam_row"), "bytes": training_bytes(n_params)})
    kv_cols = st.columns(3)
    kv_cols[0].number_input(t(f"{KEY}.kv_tokens"), 1, MAX_TOKENS, step=256, key=f"{KEY}.kv_tokens")
    kv_cols[1].number_input(t(f"{KEY}.kv_batch"), 1, 100_000, step=1, key=f"{KEY}.kv_batch")
    kv_cols[2].selectbox(t(f"{KEY}.kv_dtype"), ["float32", "float16", "int8"], key=f"{KEY}.kv_dtype")
    sync_url(f"{KEY}.kv_tokens", f"{KEY}.kv_batch", f"{KEY}.kv_dtype")
    tokens, batch = st.session_state[f"{KEY}.kv_tokens"], st.session_state[f"{KEY}.kv_batch"]
    kv_bytes = None
    if shape.kind == "decoder":
        kv_bytes = kv_cache_bytes(shape, tokens, batch, BYTES_PER_WEIGHT[st.session_state[f"{KEY}.kv_dtype"]])
        rows.append({"what": t(f"{KEY}.kv_row", tokens=f"{tokens:,}", batch=batch), "bytes": kv_bytes})
    mem = pd.DataFrame([{t(f"{KEY}.col_what"): r["what"], t(f"{KEY}.col_bytes"): human_bytes(r["bytes"]),
                         t(f"{KEY}.col_here"): "✓" if r["bytes"] < ram else "✗",
                         t(f"{KEY}.col_gpu"): "✓" if r["bytes"] < GPU_80GB else "✗"} for r in rows])
    st.dataframe(mem, hide_index=True, width="content")
    if kv_bytes is None:
        st.caption(t(f"{KEY}.kv_encoder"))
    st.markdown(t(f"{KEY}.adam_why"))
    st.dataframe(pd.DataFrame([{t(f"{KEY}.col_what"): k, t(f"{KEY}.col_bytes_param"): v}
                               for k, v in ADAM_MIXED_BYTES.items()]), hide_index=True, width="content")


with tab_memory:
    memory_tab(shape, n_params)

# -- compute ----------------------------------------------------------------------------------
with tab_compute:
    st.number_input(t(f"{KEY}.tokens_b"), 1e-9, 1e6, step=1.0, format="%.3f", key=f"{KEY}.tokens_b")
    n_tokens = st.session_state[f"{KEY}.tokens_b"] * 1e9
    try:
        check_tokens(n_tokens)
        train = training_flops(n_params, n_tokens)
    except UserInputError as e:
        show_error(e)
        train = None
    c = st.columns(3)
    if train is not None:
        c[0].metric(t(f"{KEY}.train_flops"), f"{train:.3g}")
    c[1].metric(t(f"{KEY}.infer_flops"), f"{inference_flops_per_token(n_params):.3g}")
    c[2].metric(t(f"{KEY}.tokens_per_param"), f"{n_tokens / n_params:.1f}")
    st.markdown(t(f"{KEY}.bench_intro"))
    if st.button(t(f"{KEY}.bench"), key=f"{KEY}.bench"):
        st.session_state[f"{KEY}.measured"] = measure_matmul_flops()
    speed = st.session_state.get(f"{KEY}.measured")
    if speed:
        gpt3 = training_flops(parameter_count(GPT3), TRAINING_TOKENS["gpt3-175b"])
        st.success(t(f"{KEY}.bench_result", gflops=f"{speed / 1e9:.1f}",
                     years=f"{years_to_train(gpt3, speed):,.0f}"))
        if train is not None:
            st.markdown(t(f"{KEY}.bench_yours", years=f"{years_to_train(train, speed):,.3g}",
                          ms=f"{inference_flops_per_token(n_params) / speed * 1e3:,.1f}"))

# -- scaling laws: a fragment (the budget slider reruns only this tab; the map's spec stays, its
# "iso" and "opt" data sets are swapped) --------------------------------------------------------------

@st.fragment
def laws_tab(n_params: int, n_tokens: float, train: float | None, parts: dict[str, int]) -> None:
    st.slider(t(f"{KEY}.log_c"), 17.0, 27.0, step=0.25, key=f"{KEY}.log_c")
    sync_url(f"{KEY}.log_c")
    flops = 10 ** st.session_state[f"{KEY}.log_c"]
    points = tuple((name, float(parameter_count(c)), float(TRAINING_TOKENS[name]))
                   for name, c in PRESETS.items() if TRAINING_TOKENS[name])
    points += (("Chinchilla", 70e9, 1.4e12),)
    left, right = st.columns([3, 2])
    with left:
        vega(_loss_map(points, st.session_state.get("lang", "en")), datasets=budget_rows(flops), key=f"{KEY}.map")
    with right:
        st.markdown(t(f"{KEY}.budget", c=f"{flops:.3g}"))
        st.dataframe(pd.DataFrame([
            {"": t(f"{KEY}.map_{k}"), "N": human(n), "D": human(d),
             "D/N": f"{d / n:.1f}" if k == "kaplan" else f"{d / n:.0f}", "L": f"{loss:.3f}"}
            for k, (n, d, loss) in budget_allocations(flops).items()]), hide_index=True, width="content")
        st.caption(t(f"{KEY}.laws_caption"))
        if train is not None:
            st.markdown(t(f"{KEY}.yours_on_map", loss=f"{chinchilla_loss(n_params, n_tokens):.3f}",
                          kaplan=f"{kaplan_loss(max(n_params - parts['embeddings'] - parts['head'], 1)):.3f}"))


with tab_laws:
    laws_tab(n_params, n_tokens, train, parts)
sync_url(f"{KEY}.tokens_b")

# ---------------------------------------------------------------------------------------------
# The formula, with the learner's numbers

section("formula")
d, L, kv = shape.d_model, shape.n_layer, shape.n_kv_head * shape.head_dim
st.latex(r"N = \underbrace{V d + T d}_{\text{embeddings}} + L\big(\underbrace{2d^2 + 2\,d\,d_{kv}}_{\text{attention}}"
         r" + \underbrace{m\, d\, d_{ff}}_{\text{MLP}}\big) + \text{biases} + \text{norms} + \text{head}")
st.markdown(t(f"{KEY}.formula_now", L=L, d=d, dkv=kv, m=3 if shape.mlp == "swiglu" else 2, dff=shape.d_ff,
              att=f"{parts['attention'] // L:,}", mlp=f"{parts['mlp'] // L:,}", n=f"{n_params:,}"))
st.latex(r"C_{\text{train}} \approx 6ND \qquad C_{\text{token}} \approx 2N \qquad "
         r"\text{KV} = 2 \cdot L \cdot h_{kv} \cdot d_{head} \cdot T \cdot B \cdot \text{bytes}")
st.latex(r"L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}} = 1.69 + \frac{406.4}{N^{0.34}} + "
         r"\frac{410.7}{D^{0.28}}")
if train is not None:
    st.latex(rf"L({human(n_params)}, {human(n_tokens)}) = 1.69 + {406.4 / n_params ** 0.34:.4f} + "
             rf"{410.7 / n_tokens ** 0.28:.4f} = {chinchilla_loss(n_params, n_tokens):.4f}")
show_code(parameter_breakdown, kv_cache_bytes, compute_optimal)

why_and_try(KEY)
