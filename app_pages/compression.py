"""Compression: quantize the CNN's weights, read the LLM's own 4-bit blocks, prune, distil (seed 002 §7).

Every number comes from bigmodel_core: the layer's quantization is computed live (milliseconds), the
whole-model accuracies, pruning curves and distilled students were measured once by
scripts/train_compression.py (assets/compression.json), so the sliders only look them up.
Each part is a fragment: moving its controls reruns only that part and its formula line.
"""
from __future__ import annotations

import dataclasses

if __name__ != "__main__":
    # Streamlit runs a page as "__main__". Python 3.14's standard library has a `compression` package,
    # and libraries probe for it (tifffile, through scikit-image, tries `from compression import zstd`);
    # when this folder is on sys.path (AppTest runs pages from here) that import would find this file
    # and run the page inside another page's cached function. Refuse to be imported as a module.
    raise ImportError("app_pages/compression.py is a Streamlit page, not the 'compression' package")

import numpy as np
import streamlit as st
import torch

from bigmodel_core import q4_1
from bigmodel_core.compress import (check_bits, check_fraction, distillation_loss, logits_of, magnitude_masks,
                                    outlier_demo, quantize_tensor, softmax_at,
                                    weight_layers)
from bigmodel_core.compress_results import (ALPHAS, FRACTIONS, TEMPERATURES, load_results, load_student,
                                            student_key)
from bigmodel_core.charts.compression import (block_spec, softmax_spec,
                                              sparsity_spec, students_spec)
from bigmodel_core.charts.cnn import digit_image, filter_grid
from bigmodel_core.data import load_mnist
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.cnn import load_cnn
from app_pages._digit_input import crisp_images
from app_pages._explorables import committed, compression_bits_explorable
from app_pages._ui import lang, page_header, section, show_code, show_error, sync_url, t, url_state, vega, why_and_try

KEY = "compression"
LAYERS = ("conv1", "conv2", "fc1", "fc2")
OUTLIERS = (1, 2, 5, 10, 20, 50, 100)
MATRICES = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")
SPARSITIES = tuple(round(100 * f) for f in FRACTIONS) + (100,)     # 100 % is there to be refused


def k(name: str) -> str:
    return f"{KEY}.{name}"


@st.cache_resource(show_spinner=False)
def teacher():
    """The shipped CNN on the CPU, once per process, never modified (copies are pruned)."""
    return load_cnn(device=torch.device("cpu"))


@st.cache_resource(show_spinner=False)
def results() -> dict:
    return load_results()


@st.cache_resource(show_spinner=False)
def heldout_logits(key: str) -> np.ndarray:
    """(1000, 10) logits of the teacher ("teacher") or a student on every held-out digit, once per
    process, so moving T, alpha or the digit only picks rows (no forward pass per slider move)."""
    model = teacher() if key == "teacher" else load_student(key)
    return logits_of(model, test_digits()[0]).numpy()


@st.cache_resource(show_spinner=False)
def test_digits() -> tuple[torch.Tensor, np.ndarray]:
    split = load_mnist()
    return torch.from_numpy(split.x_test.astype(np.float32) / 255.0).unsqueeze(1), split.y_test


@st.cache_data(max_entries=64, show_spinner=False)
def outlier_table(layer: str, factor: float) -> dict:
    """The outlier experiment at every bit width 2..8 for one layer and factor (the JS looks it up)."""
    w = dict(weight_layers(teacher()))[layer].weight
    return {str(b): dataclasses.asdict(outlier_demo(w, b, factor)) for b in range(2, 9)}


@st.cache_data(max_entries=32, show_spinner=False)
def pruned_filters(scope: str, fraction: float) -> tuple[np.ndarray, float]:
    """conv1's filters after pruning (zeros show white) and the magnitude threshold tau."""
    model = teacher()
    masks = magnitude_masks(model, fraction, scope)
    conv1 = model.conv1.weight.detach() * masks["conv1"]
    kept = torch.cat([layer.weight.detach().abs().flatten()[masks[name].flatten()]
                      for name, layer in weight_layers(model)])
    return filter_grid(conv1, scale=6), float(kept.min()) if kept.numel() else 0.0


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def sci(x: float) -> str:
    """A probability for LaTeX: 0.046, or 7.68 \\times 10^{-6} when it is small."""
    if x >= 1e-3 or x == 0:
        return f"{x:.3f}"
    mantissa, exponent = f"{x:.2e}".split("e")
    return rf"{mantissa} \times 10^{{{int(exponent)}}}"


def kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB"


# ---------------------------------------------------------------------------------------------
# (1) Quantize a layer of the CNN

@st.fragment
def quantization_part(formula_box) -> None:
    url_state(k("layer"), "conv2", choices=LAYERS)
    url_state(k("bits"), 4, lo=1, hi=8)
    url_state(k("per_channel"), False)
    url_state(k("outlier"), 10, choices=OUTLIERS)
    sent = committed(k("bits_view"), "bits")                           # the explorable's last commit
    if sent is not None and sent != st.session_state.get(k("_bits_sent")):
        st.session_state[k("_bits_sent")] = sent
        if isinstance(sent, int) and not isinstance(sent, bool) and 2 <= sent <= 8:
            st.session_state[k("bits")] = sent                        # a forged message changes nothing
    c1, c3, c4 = st.columns([1.4, 1, 1.4])
    c1.selectbox(t(k("layer")), LAYERS, key=k("layer"),
                 format_func=lambda n: f"{n} · {dict(weight_layers(teacher()))[n].weight.numel():,} {t(k('weights'))}")
    c3.toggle(t(k("per_channel")), key=k("per_channel"), help=t(k("per_channel_help")))
    c4.select_slider(t(k("outlier")), OUTLIERS, key=k("outlier"), format_func=lambda v: f"{v}×")
    sync_url(k("layer"), k("bits"), k("per_channel"), k("outlier"))
    layer, bits, pc = st.session_state[k("layer")], int(st.session_state[k("bits")]), bool(st.session_state[k("per_channel")])
    try:
        check_bits(bits)                           # a link's 1 bit: said, and the slider starts at 4
    except UserInputError as e:
        show_error(e)
        bits = 4
    table = results()["quantization"]
    w = dict(weight_layers(teacher()))[layer].weight.detach()
    st.caption(t(k("bits_help")))
    compression_bits_explorable(
        w=w.numpy(), per_channel=pc, bits=bits, layer=layer,
        title=t(k("hist_title"), layer=layer, n=f"{w.numel():,}"),
        whole=[{n: r[n] for n in ("bits", "per_channel", "accuracy", "bytes")} for r in table["whole"]],
        float_={"accuracy": table["float"]["accuracy"], "bytes": table["float"]["bytes"]},
        alone=[{"bits": r["bits"], "accuracy": r["accuracy"]} for r in table["one_layer"]
               if r["layer"] == layer and r["per_channel"] == pc],
        outlier=outlier_table(layer, float(st.session_state[k("outlier")])),
        labels=_bits_labels(), lang=lang(), key=k("bits_view"))
    st.caption(t(k("outlier_caption")))
    with formula_box:
        st.latex(r"S = \frac{\max|w|}{2^{b-1} - 1}\qquad q = \operatorname{clamp}\Big(\operatorname{round}\Big(\frac{w}{S}\Big),"
                 r"\,-(2^{b-1} - 1),\, 2^{b-1} - 1\Big)\qquad \hat w = S\,q,\qquad |w - \hat w| \le \tfrac{S}{2}")
        st.caption(t(k("formula_numbers_above")))
        if pc:
            st.caption(t(k("formula_per_channel"), layer=layer))


BITS_LABELS = ("bits", "hist_w", "hist_w_hat", "scale_s", "max_error", "sqnr", "to_zero", "levels", "cnn_acc", "cnn_size",
               "points", "of_float", "alone", "per_tensor", "per_channel_short", "bits_axis", "bits_title",
               "float_note", "outlier_title", "outlier_text")


def _bits_labels() -> dict:
    """The explorable's words in the learner's language (placeholders left for the JS to fill)."""
    keep = {"levels": ("used", "total"), "cnn_acc": ("bits",), "alone": ("layer", "acc"), "float_note": ("acc", "size"),
            "outlier_text": ("s0", "s1", "r0", "r1", "r2", "z0", "z1", "bits")}
    return {n: t(k(n), **{p: "{" + p + "}" for p in keep.get(n, ())}) for n in BITS_LABELS}


# ---------------------------------------------------------------------------------------------
# (2) The LLM's own 4 bits: one Q4_1 block of SmolLM2-135M-Instruct, decoded by hand

@st.fragment
def q4_1_part(formula_box) -> None:
    url_state(k("q_layer"), 0, lo=0, hi=29)
    url_state(k("q_matrix"), "attn_q", choices=MATRICES)
    url_state(k("q_block"), 0, lo=0)
    c1, c2, c3 = st.columns([1, 1, 1])
    c1.slider(t(k("q_layer")), 0, 29, key=k("q_layer"))
    c2.selectbox(t(k("q_matrix")), MATRICES, key=k("q_matrix"))
    name = f"blk.{st.session_state[k('q_layer')]}.{st.session_state[k('q_matrix')]}.weight"
    n_blocks = q4_1.block_count(name)
    if st.session_state[k("q_block")] >= n_blocks:
        st.session_state[k("q_block")] = 0
    c3.number_input(t(k("q_block"), n=f"{n_blocks:,}"), 0, n_blocks - 1, step=1, key=k("q_block"))
    sync_url(k("q_layer"), k("q_matrix"), k("q_block"))
    block = q4_1.read_block(name, int(st.session_state[k("q_block")]))
    stats = q4_1.tensor_stats(name)
    ref = q4_1.reference_block(name, block.index)
    raw = block.raw.hex(" ").split(" ")
    st.markdown(t(k("q_where"), name=name, shape=" × ".join(map(str, stats["shape"])), row=block.row,
                  c0=block.col, c1=block.col + 31, bpw=f"{stats['bits_per_weight']:g}",
                  q4=kb(stats["bytes"]), fp32=kb(stats["fp32_bytes"])))
    st.markdown(f"**{t(k('q_bytes'))}** `d:` `{' '.join(raw[0:2])}` (= {block.d:.6g}) · `m:` `{' '.join(raw[2:4])}` "
                f"(= {block.m:.6g}) · "
                f"`qs:` `{' '.join(raw[4:])}`")
    left, right = st.columns([1.3, 1], gap="medium")
    with left:
        vega(block_spec(block.q, block.w, block.d, block.m, {
            "index": t(k("q_index")), "weight": t(k("weight")), "title": t(k("q_chart_title"))}), key=k("q_chart"))
    with right:
        rows = "".join(f"<tr><td>{j}</td><td><code>{int(b, 16):08b}</code></td><td>{block.q[j]}</td><td>{block.w[j]:.5f}</td>"
                       f"<td>{block.q[j + 16]}</td><td>{block.w[j + 16]:.5f}</td></tr>"
                       for j, b in enumerate(raw[4:]))
        st.html(f"<table style='font-size:13px'><tr><th>{t(k('q_byte'))}</th><th>bits</th><th>q<sub>j</sub></th>"
                f"<th>w<sub>j</sub></th><th>q<sub>j+16</sub></th><th>w<sub>j+16</sub></th></tr>{rows}</table>")
    diff = float(np.abs(ref - block.w).max())
    if diff == 0:
        st.success(t(k("q_check"), diff="0"), icon=":material/check_circle:")
    else:
        st.warning(t(k("q_check"), diff=f"{diff:g}"), icon=":material/warning:")
    with formula_box:
        st.latex(rf"w_0 = d\,q_0 + m = {block.d:.6g} \times {block.q[0]} + ({block.m:.6g}) = {block.w[0]:.6g}")
        st.latex(rf"w_{{16}} = d\,q_{{16}} + m = {block.d:.6g} \times {block.q[16]} + ({block.m:.6g}) = {block.w[16]:.6g}")


# ---------------------------------------------------------------------------------------------
# (3) Pruning

@st.fragment
def pruning_part(formula_box) -> None:
    url_state(k("scope"), "global", choices=("global", "layer"))
    url_state(k("sparsity"), 50, choices=SPARSITIES)
    c1, c2 = st.columns([1, 2.2])
    c1.segmented_control(t(k("scope")), ("global", "layer"), key=k("scope"), required=True,
                         format_func=lambda s: t(k(f"scope_{s}")))
    c2.select_slider(t(k("sparsity")), SPARSITIES, key=k("sparsity"), format_func=lambda v: f"{v} %")
    sync_url(k("scope"), k("sparsity"))
    scope, percent = st.session_state[k("scope")], int(st.session_state[k("sparsity")])
    try:
        fraction = check_fraction(percent / 100)
    except UserInputError as e:
        show_error(e)
        with formula_box:
            show_error(e)
        return
    rows = results()["pruning"]
    row = next(r for r in rows if r["scope"] == scope and round(100 * r["fraction"]) == percent)
    labels = {"pruned": t(k("after_pruning")), "finetuned": t(k("after_finetune")), "global": t(k("scope_global")),
              "layer": t(k("scope_layer")), "sparsity": t(k("sparsity_axis")), "accuracy": t(k("accuracy_axis")),
              "title": t(k("sparsity_title"))}
    left, right = st.columns([1.35, 1], gap="medium")
    with left:
        vega(sparsity_spec(rows, scope, fraction, labels), key=k("sparsity_chart"))
    image, tau = pruned_filters(scope, fraction)
    n_weights = sum(layer.weight.numel() for _, layer in weight_layers(teacher()))
    with right:
        m1, m2 = st.columns(2)
        m1.metric(t(k("after_pruning")), pct(row["accuracy"]))
        m2.metric(t(k("after_finetune")), pct(row["accuracy_finetuned"]))
        if row["finetune_reason"] == "diverged":
            st.error(t(k("finetune_diverged")), icon=":material/warning:")
        st.caption(t(k("finetune_note")))
        st.caption(t(k("kept"), kept=f"{n_weights - round(fraction * n_weights):,}", n=f"{n_weights:,}"))
        st.markdown(" · ".join(f"**{name}** {pct(row['layer_sparsity'][name])}" for name in LAYERS))
        st.image(image, caption=t(k("filters_caption")), width=image.shape[1])
    with formula_box:
        st.latex(rf"m_i = \big[\,|w_i| \ge \tau\,\big],\quad w_i \leftarrow m_i\,w_i:\quad "
                 rf"k = \operatorname{{round}}({fraction:g} \times {n_weights}) = {round(fraction * n_weights)}"
                 rf"\ \text{{{t(k('zeros_word'))}}},\quad \tau = {tau:.3g}" if scope == "global" else
                 rf"m_i = \big[\,|w_i| \ge \tau_\ell\,\big]\ \text{{{t(k('per_layer_word'))}}}\ \ell:\quad k_\ell = "
                 rf"\operatorname{{round}}({fraction:g}\, n_\ell)")


# ---------------------------------------------------------------------------------------------
# (4) Distillation

@st.fragment
def distillation_part(formula_box) -> None:
    url_state(k("T"), 4.0, choices=TEMPERATURES)
    url_state(k("alpha"), 0.9, choices=ALPHAS)
    url_state(k("digit"), 0, lo=0, hi=999)
    c1, c2, c3 = st.columns(3)
    c1.select_slider(t(k("T")), TEMPERATURES, key=k("T"), format_func=lambda v: f"{v:g}")
    c2.select_slider(t(k("alpha")), ALPHAS, key=k("alpha"), format_func=lambda v: f"{v:g}")
    c3.slider(t(k("digit")), 0, 999, key=k("digit"))
    sync_url(k("T"), k("alpha"), k("digit"))
    T, alpha, index = float(st.session_state[k("T")]), float(st.session_state[k("alpha")]), int(st.session_state[k("digit")])
    d = results()["distillation"]
    by_key = {s["key"]: s for s in d["students"]}
    soft, hard = by_key[student_key(T, alpha)], by_key["hard"]
    X, y = test_digits()
    x = X[index:index + 1]                                                          # (1, 1, 28, 28)
    z_teacher = torch.from_numpy(heldout_logits("teacher")[index])                  # (10,) logits
    z_student = torch.from_numpy(heldout_logits(soft["key"])[index])
    temps = sorted({1.0, 4.0, T})
    probs = {temp: softmax_at(z_teacher, temp).numpy() for temp in temps}
    m1, m2, m3 = st.columns(3)
    m1.metric(t(k("teacher")), pct(d["teacher_accuracy"]),
              t(k("teacher_facts"), params=f"{d['teacher_params']:,}", size=kb(4 * d["teacher_params"]),
                ms=f"{d['teacher_ms_per_digit']:.3f}"),
              delta_color="off", delta_arrow="off")
    m2.metric(t(k("soft_student"), T=f"{T:g}", alpha=f"{alpha:g}"), pct(soft["accuracy"]),
              f"{100 * (soft['accuracy'] - hard['accuracy']):+.1f} {t(k('points'))} {t(k('vs_hard'))}")
    m3.metric(t(k("hard_student")), pct(hard["accuracy"]),
              t(k("student_facts"), params=f"{d['student_params']:,}", size=kb(4 * d["student_params"]),
                ms=f"{d['student_ms_per_digit']:.4f}"),
              delta_color="off", delta_arrow="off")
    if soft["reason"] == "diverged":
        st.error(t(k("student_diverged")), icon=":material/warning:")
    best = max((s for s in d["students"] if s["alpha"] > 0), key=lambda s: s["accuracy"])
    st.markdown(t(k("verdict"), best=pct(best["accuracy"]), T=f"{best['T']:g}", alpha=f"{best['alpha']:g}",
                  hard=pct(hard["accuracy"]), gap=f"{100 * (best['accuracy'] - hard['accuracy']):+.1f}",
                  agree=pct(d["teacher_train_agreement"])))
    st.caption(t(k("speed_note"), ratio=f"{d['teacher_params'] / d['student_params']:.0f}",
                 speed=f"{d['teacher_ms_per_digit'] / d['student_ms_per_digit']:.0f}"))
    left, mid, right = st.columns([1.1, 1.1, 0.5], gap="medium")
    with left:
        vega(students_spec(d["students"], hard["accuracy"], T, {
            "hard": t(k("hard_student")), "temperature": t(k("T")), "accuracy": t(k("accuracy_axis")),
            "title": t(k("students_title"))}), key=k("students_chart"))
    with mid:
        vega(softmax_spec(probs, {"digit": t(k("digit_axis")), "prob": t(k("prob_axis")),
                                  "title": t(k("softmax_title"), label=int(y[index]))}), key=k("softmax_chart"))
    with right:
        st.image(digit_image(x[0, 0].numpy(), scale=4), caption=t(k("digit_caption"), label=int(y[index])))
        st.markdown(t(k("student_says"), pred=int(z_student.argmax()), teacher=int(z_teacher.argmax())))
    loss = float(distillation_loss(z_student[None], z_teacher[None], torch.tensor([int(y[index])]), T, alpha))
    with formula_box:
        p1 = probs[1.0]
        second = int(np.argsort(p1)[-2])
        st.latex(rf"p_k^{{T}} = \frac{{e^{{z_k/T}}}}{{\sum_j e^{{z_j/T}}}}:\quad p_{{{second}}}^{{1}} = {sci(p1[second])},"
                 rf"\quad p_{{{second}}}^{{{T:g}}} = {sci(probs[T][second])}")
        st.latex(rf"L = {alpha:g} \times {T:g}^2\,\mathrm{{KL}}(p_t^{{{T:g}}} \,\|\, p_s^{{{T:g}}}) + {1 - alpha:g}\,"
                 rf"\mathrm{{CE}} = {loss:.4f}\quad \text{{({t(k('this_digit'))})}}")


# ---------------------------------------------------------------------------------------------
# The page: lay out the four parts, then fill the play tabs (each a fragment)

page_header(KEY)
crisp_images()
section("play")
tabs = st.tabs([t(k("tab_quant")), t(k("tab_q4")), t(k("tab_prune")), t(k("tab_distill"))])

section("formula")
st.latex(r"S = \frac{\max |w|}{2^{b-1} - 1},\qquad q = \operatorname{clamp}\!\big(\operatorname{round}(w / S),"
         r"\ -(2^{b-1} - 1),\ 2^{b-1} - 1\big),\qquad \hat w = S\,q,\qquad |w - \hat w| \le \tfrac{S}{2}")
f_quant = st.container()
st.markdown(t(k("formula_q4")))
f_q4 = st.container()
st.markdown(t(k("formula_prune")))
f_prune = st.container()
st.latex(r"L = \alpha\,T^2\,\mathrm{KL}\big(p_{\text{teacher}}^{T} \,\|\, p_{\text{student}}^{T}\big)"
         r" + (1 - \alpha)\,\mathrm{CE}\big(z_{\text{student}},\, y\big)")
st.caption(t(k("formula_distill")))
f_distill = st.container()
show_code(quantize_tensor, magnitude_masks, distillation_loss, q4_1.decode_block)

with tabs[0]:
    quantization_part(f_quant)
with tabs[1]:
    q4_1_part(f_q4)
with tabs[2]:
    pruning_part(f_prune)
with tabs[3]:
    distillation_part(f_distill)

why_and_try(KEY)
