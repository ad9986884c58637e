"""Pre-training then fine-tuning (seed 004 §2; the fine-tuning listings of 001 §4.1.2 and 004 §4.3).

Two parts: digits (a classifier from N labels: from scratch vs a linear probe on the pre-trained
autoencoder's encoder vs fine-tuning it, trained live), and a real LLM (SmolLM2-135M-Instruct) fine-tuned
with LoRA on labelled Chinese reviews, against its zero-shot self and a from-scratch n-gram baseline.
"""
from __future__ import annotations

import threading
import time

import altair as alt
import pandas as pd
import streamlit as st
import torch

from bigmodel_core.errors import UserInputError
from bigmodel_core.data import ASSETS, load_record, mnist_tensors
from bigmodel_core.pretrain import METHODS, N_LABELS, LabelRunConfig, train_with_labels
from bigmodel_core.sentiment import MAX_CHARS, baseline_accuracy, clean_review, load_reviews, make_split
from app_pages._ui import altair, page_header, section, show_code, show_error, sync_url, t, url_state, why_and_try

KEY = "pretrain_finetune"
ASSET = ASSETS / "lora_sentiment"                 # .safetensors + .json, made by scripts/train_lora_sentiment.py
BASELINE_N = (10, 30, 100, 300, 1000, 3000, 10000)
LIVE_STEPS = (1, 2, 3, 5, 10)
METHOD_COLORS = {"scratch": "#9e9e9e", "probe": "#4c78a8", "finetune": "#f58518"}

page_header(KEY)


# ---------------------------------------------------------------------------------------------
# Cached data and models

@st.cache_resource(show_spinner=False)
def _digits():
    return mnist_tensors(flat=True)                               # X_train, y_train, X_test, y_test


@st.cache_data(max_entries=32, show_spinner=False)
def _digit_run(n: int, method: str) -> dict:
    """One classifier trained on n labels (fixed seed): held-out accuracy and its loss curve."""
    X_train, y_train, X_test, y_test = _digits()
    r = train_with_labels(LabelRunConfig(n_labels=n, method=method), X_train, y_train, X_test, y_test)
    return {k: r[k] for k in ("method", "n_labels", "test_acc", "train_acc", "losses", "trainable")}


@st.cache_resource(show_spinner=False)
def _reviews():
    reviews = load_reviews()
    return reviews, make_split(reviews)


@st.cache_data(max_entries=16, show_spinner=False)
def _baseline(n: int) -> float:
    reviews, split = _reviews()
    return baseline_accuracy(reviews, split, n)


@st.cache_data(show_spinner=False)
def _record() -> dict | None:
    path = ASSET.with_suffix(".json")
    return load_record(path) if path.exists() else None


@st.cache_resource(show_spinner=False)
def _llms():
    """(shared base model, our own copy with the shipped adapters, its lock). The copy is only changed
    under the lock (by the live LoRA run, which puts the shipped adapters back when it ends)."""
    from safetensors.torch import load_file
    from bigmodel_core.lora import LoRAConfig, add_lora, load_lora_state, prefix_cache, prompt_parts
    from bigmodel_core.models.llm import load_llm
    base = load_llm()
    tuned = load_llm.__wrapped__()
    rec = _record() or {"lora": {"r": 8, "alpha": 16.0}}
    add_lora(tuned.model, LoRAConfig(r=rec["lora"]["r"], alpha=rec["lora"]["alpha"]))
    if ASSET.with_suffix(".safetensors").exists():
        load_lora_state(tuned.model, load_file(str(ASSET.with_suffix(".safetensors"))))
    tuned.model.eval()
    prefix, _ = prompt_parts(base, "")
    caches = {"base": prefix_cache(base.model, prefix), "tuned": prefix_cache(tuned.model, prefix)}
    return base, tuned, caches, threading.Lock()


@st.cache_data(max_entries=256, show_spinner=False)
def _classify(text: str) -> dict:
    from bigmodel_core.lora import classify
    base, tuned, caches, lock = _llms()
    t0 = time.perf_counter()
    b = classify(base, base.model, caches["base"], text)
    with lock:
        f = classify(tuned, tuned.model, caches["tuned"], text)
    return {"base": b, "tuned": f, "ms": (time.perf_counter() - t0) * 1e3 / 2}


tab_digits, tab_llm, tab_live = st.tabs([t(f"{KEY}.tab_digits"), t(f"{KEY}.tab_llm"), t(f"{KEY}.tab_live")])

# -- 1. digits ----------------------------------------------------------------------------------
url_state(f"{KEY}.n", 100, choices=list(N_LABELS))


@st.fragment
def digits_tab() -> None:
    """A fragment: the n slider and the sweep rerun only this tab (runs cached per n and method)."""
    st.markdown(t(f"{KEY}.digits_intro"))
    c = st.columns([3, 1, 1])
    c[0].select_slider(t(f"{KEY}.n"), list(N_LABELS), key=f"{KEY}.n")
    sweep = c[1].button(t(f"{KEY}.sweep"), key=f"{KEY}.sweep")
    sync_url(f"{KEY}.n")
    n = st.session_state[f"{KEY}.n"]
    done = st.session_state.setdefault(f"{KEY}.done", {})      # n -> {method: result}, this session's runs
    todo = [m for m in N_LABELS if sweep or m == n]
    bar = None
    for i, m in enumerate(todo):
        if m in done:
            continue
        bar = bar or st.progress(0.0, text=t("common.training"))
        done[m] = {}
        for j, method in enumerate(METHODS):
            bar.progress((i * 3 + j) / (3 * len(todo)), text=t(f"{KEY}.training_one", n=m,
                                                                   method=t(f"{KEY}.m_{method}")))
            done[m][method] = _digit_run(m, method)
    if bar:
        bar.empty()
    now = done[n]
    cols = st.columns(3)
    for col, method in zip(cols, METHODS):
        r = now[method]
        col.metric(t(f"{KEY}.m_{method}"), f"{r['test_acc']:.1%}", help=t(f"{KEY}.h_{method}"))
        col.caption(t(f"{KEY}.trainable", n=f"{r['trainable']:,}"))
    rows = [{"n": m, "acc": r["test_acc"], "method": t(f"{KEY}.m_{k}")} for m, rs in sorted(done.items())
            for k, r in rs.items()]
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t(f'{KEY}.acc_vs_n')}**")
        altair(alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
            x=alt.X("n:Q", scale=alt.Scale(type="log"), title=t(f"{KEY}.n_axis")),
            y=alt.Y("acc:Q", scale=alt.Scale(domain=[0, 1]), title=t(f"{KEY}.acc_axis"), axis=alt.Axis(format="%")),
            color=alt.Color("method:N", scale=alt.Scale(domain=[t(f"{KEY}.m_{k}") for k in METHODS],
                                                        range=list(METHOD_COLORS.values())),
                            legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["method:N", "n:Q", alt.Tooltip("acc:Q", format=".1%")]).properties(width=380, height=260),
            key=f"{KEY}.acc_chart")
    with right:
        st.markdown(f"**{t(f'{KEY}.loss_curves', n=n)}**")
        curves = [{"step": s, "loss": l, "method": t(f"{KEY}.m_{k}")} for k, r in now.items()
                  for s, l in enumerate(r["losses"]) if s % 4 == 0]
        altair(alt.Chart(pd.DataFrame(curves)).mark_line().encode(
            x=alt.X("step:Q", title=t("common.step")), y=alt.Y("loss:Q", title=t(f"{KEY}.loss_axis")),
            color=alt.Color("method:N", scale=alt.Scale(domain=[t(f"{KEY}.m_{k}") for k in METHODS],
                                                        range=list(METHOD_COLORS.values())), legend=None)
        ).properties(width=380, height=260), key=f"{KEY}.loss_chart")
    st.caption(t(f"{KEY}.digits_caption"))


with tab_digits:
    digits_tab()

# -- 2. the LLM with LoRA ---------------------------------------------------------------------
record = _record()
reviews, split = _reviews()
examples = [reviews[i].text for i in split.held_out[:6]] + [reviews[i].text for i in split.held_out[-6:]]
url_state(f"{KEY}.example", 0, lo=0, hi=len(examples) - 1)
url_state(f"{KEY}.rank", 8, lo=1, hi=64)


@st.fragment
def ask_part(examples: list[str]) -> None:
    """A fragment: another example, a typed review or Ask reruns only this part (verdicts cached per text)."""
    c = st.columns([2, 3])
    c[0].selectbox(t(f"{KEY}.example"), range(len(examples)), key=f"{KEY}.example",
                   format_func=lambda i: examples[i][:30] + ("…" if len(examples[i]) > 30 else ""))
    typed = c[1].text_input(t(f"{KEY}.typed"), key=f"{KEY}.typed", max_chars=1_000_000)
    text = typed if typed else examples[st.session_state[f"{KEY}.example"]]   # "   " is a mistake, "" is no input
    sync_url(f"{KEY}.example")
    try:
        review = clean_review(text)
    except UserInputError as e:
        show_error(e)
        review = None
    if review is not None and not st.session_state.get(f"{KEY}.asked"):
        st.button(t(f"{KEY}.ask"), type="primary", key=f"{KEY}.ask",
                  on_click=lambda: st.session_state.update({f"{KEY}.asked": True}))
    if review is not None and st.session_state.get(f"{KEY}.asked"):      # the LLMs load on first use
        st.markdown(t(f"{KEY}.reads", text=review))
        out = _classify(review)
        cols = st.columns(2)
        for col, which in zip(cols, ("base", "tuned")):
            r = out[which]
            verdict = "好评" if r["p_positive"] > 0.5 else "差评"
            col.metric(t(f"{KEY}.model_{which}"), verdict, f"P(好评) = {r['p_positive']:.1%}", delta_color="off")
            col.progress(r["p_positive"], text=f"差评 {r['p_negative']:.1%} · 好评 {r['p_positive']:.1%}")
            col.caption(t(f"{KEY}.mass", mass=f"{r['mass']:.2%}"))
        st.caption(t(f"{KEY}.timing", ms=f"{out['ms']:.0f}"))


with tab_llm:
    st.markdown(t(f"{KEY}.llm_intro", chars=MAX_CHARS))
    ask_part(examples)
    st.markdown(f"#### {t(f'{KEY}.held_out_title')}")
    if record is None:
        st.warning(t(f"{KEY}.no_asset"))
    else:
        n_lora = record["steps_done"] * record["settings"]["batch"]
        n_eval = len(record["split"]["evaluated_held_out"])
        pts = [{"n": m, "acc": _baseline(m), "model": t(f"{KEY}.ngram")} for m in BASELINE_N]
        pts.append({"n": n_lora, "acc": _baseline(max(n_lora, 2)), "model": t(f"{KEY}.ngram")})
        llm_pts = [{"n": 1, "acc": record["base_held_out_accuracy"], "model": t(f"{KEY}.model_base")}]
        if record.get("finished"):
            llm_pts.append({"n": n_lora, "acc": record["held_out_accuracy"], "model": t(f"{KEY}.model_tuned")})
        base_chart = alt.Chart(pd.DataFrame(sorted(pts, key=lambda p: p["n"]))).mark_line(point=True, color="#9e9e9e")
        chart = alt.layer(
            base_chart.encode(x=alt.X("n:Q", scale=alt.Scale(type="log"), title=t(f"{KEY}.n_reviews_axis")),
                              y=alt.Y("acc:Q", scale=alt.Scale(domain=[0.3, 1]), title=t(f"{KEY}.acc_axis"),
                                      axis=alt.Axis(format="%")),
                              tooltip=["model:N", "n:Q", alt.Tooltip("acc:Q", format=".1%")]),
            alt.Chart(pd.DataFrame(llm_pts)).mark_point(size=160, filled=True, shape="diamond").encode(
                x="n:Q", y="acc:Q", color=alt.Color("model:N", legend=alt.Legend(orient="bottom", title=None)),
                tooltip=["model:N", "n:Q", alt.Tooltip("acc:Q", format=".1%")]),
        ).properties(width=520, height=280)
        left, right = st.columns([3, 2])
        with left:
            altair(chart, key=f"{KEY}.llm_chart")
        with right:
            st.markdown(t(f"{KEY}.held_out_text", n_eval=n_eval, base=f"{record['base_held_out_accuracy']:.1%}",
                          tuned=f"{record['held_out_accuracy']:.1%}" if record.get("finished") else "—",
                          steps=record["steps_done"], n=n_lora, ngram=f"{_baseline(max(n_lora, 2)):.1%}",
                          ngram_all=f"{_baseline(BASELINE_N[-1]):.1%}", minutes=f"{record['train_seconds'] / 60:.0f}"))
            st.caption(t(f"{KEY}.honest", steps=record["steps_done"], n_eval=n_eval, one=f"{100 / n_eval:.1f}"))
    st.markdown(f"#### {t(f'{KEY}.arith_title')}")
    st.latex(r"W' = W + \frac{\alpha}{r} B A,\qquad B \in \mathbb{R}^{d\times r},\ A \in \mathbb{R}^{r\times k}")
    st.slider(t(f"{KEY}.rank"), 1, 64, key=f"{KEY}.rank")
    sync_url(f"{KEY}.rank")
    from bigmodel_core.lora import lora_parameter_table
    table = lora_parameter_table(st.session_state[f"{KEY}.rank"])
    st.dataframe(pd.DataFrame([{t(f"{KEY}.col_matrix"): r["matrix"],
                                "d × k": f"{r['d']} × {r['k']}" if r["d"] else "",
                                t(f"{KEY}.col_frozen"): f"{r['frozen']:,}",
                                t(f"{KEY}.col_trainable"): f"{r['trainable']:,}",
                                t(f"{KEY}.col_share"): f"{r['share']:.3%}" if "share" in r else ""} for r in table]),
                 hide_index=True, width="content")
    st.caption(t(f"{KEY}.arith_caption", r=st.session_state[f"{KEY}.rank"], total=f"{table[-1]['trainable']:,}",
                 share=f"{table[-1]['share']:.3%}"))

# -- 3. a short live LoRA run -------------------------------------------------------------------
url_state(f"{KEY}.live_steps", 3, choices=list(LIVE_STEPS))


def _request_stop() -> None:
    st.session_state[f"{KEY}.stop_flag"] = True


with tab_live:
    st.markdown(t(f"{KEY}.live_intro"))
    c = st.columns([3, 1, 1])
    c[0].select_slider(t(f"{KEY}.live_steps"), list(LIVE_STEPS), key=f"{KEY}.live_steps")
    go = c[1].button(t("common.train"), type="primary", key=f"{KEY}.live_go")
    c[2].button(t("common.stop"), key=f"{KEY}.live_stop", on_click=_request_stop)
    sync_url(f"{KEY}.live_steps")
    if go:
        from bigmodel_core.lora import answer_loss, batch_tensors, fresh_adapters, lora_state, load_lora_state, prompt_parts
        st.session_state[f"{KEY}.stop_flag"] = False
        base, tuned, caches, lock = _llms()
        steps = st.session_state[f"{KEY}.live_steps"]
        pool = [i for i in split.train[:200]]
        bar = st.progress(0.0, text=t("common.training"))
        losses = []
        with lock:
            shipped = lora_state(tuned.model)
            try:
                fresh_adapters(tuned.model)
                params = [p for p in tuned.model.parameters() if p.requires_grad]
                opt = torch.optim.AdamW(params, lr=3e-3, weight_decay=0.0)
                prefix, _ = prompt_parts(tuned, "")
                for step in range(steps):
                    idx = pool[step * 2: step * 2 + 2]
                    ids, tgt = batch_tensors(tuned, [reviews[i].text[:MAX_CHARS] for i in idx],
                                             [reviews[i].label for i in idx])
                    loss = answer_loss(tuned.model, prefix, ids, tgt)
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    losses.append(loss.item())
                    bar.progress((step + 1) / steps, text=f"{t('common.step')} {step + 1}/{steps}: {losses[-1]:.3f}")
                    if st.session_state.get(f"{KEY}.stop_flag"):
                        break
            finally:
                load_lora_state(tuned.model, shipped)                     # the shipped adapters back
                tuned.model.zero_grad(set_to_none=True)
        bar.empty()
        st.session_state[f"{KEY}.live"] = losses
    losses = st.session_state.get(f"{KEY}.live")
    if losses:
        st.success(t(f"{KEY}.live_done", steps=len(losses), first=f"{losses[0]:.3f}", last=f"{losses[-1]:.3f}"))
        altair(alt.Chart(pd.DataFrame({"step": range(1, len(losses) + 1), "loss": losses})).mark_line(point=True)
               .encode(x=alt.X("step:Q", title=t("common.step")), y=alt.Y("loss:Q", title=t(f"{KEY}.loss_axis")))
               .properties(width=420, height=220), key=f"{KEY}.live_chart")
    if record and record.get("losses"):
        st.markdown(f"**{t(f'{KEY}.shipped_curve', steps=record['steps_done'])}**")
        altair(alt.Chart(pd.DataFrame({"step": range(1, len(record["losses"]) + 1), "loss": record["losses"]}))
               .mark_line().encode(x=alt.X("step:Q", title=t("common.step")),
                                   y=alt.Y("loss:Q", title=t(f"{KEY}.loss_axis")))
               .properties(width=420, height=200), key=f"{KEY}.shipped_chart")

# ---------------------------------------------------------------------------------------------
section("formula")
st.markdown(t(f"{KEY}.formula_pretrain"))
st.latex(r"\text{probe: } \hat y = \mathrm{softmax}\big(W_h\, \underbrace{\mathrm{ReLU}(W x + b)}_{z,\ W\ \text{frozen}} + b_h\big)"
         r"\qquad \text{fine-tune: } W \leftarrow W - \eta\,\partial L / \partial W")
st.markdown(t(f"{KEY}.formula_lora", r=st.session_state[f"{KEY}.rank"]))
st.latex(rf"h = W x + \frac{{\alpha}}{{r}} B A x,\qquad r = {st.session_state[f'{KEY}.rank']}:\ "
         rf"576 \times 576 = 331{{,}}776 \ \to\ {st.session_state[f'{KEY}.rank']} \cdot (576 + 576) = "
         rf"{st.session_state[f'{KEY}.rank'] * 1152:,}".replace(",", "{,}"))
from bigmodel_core.lora import LoRALinear, add_lora, answer_loss  # noqa: E402
from bigmodel_core.pretrain import build_classifier  # noqa: E402
show_code(build_classifier, LoRALinear, add_lora, answer_loss)

why_and_try(KEY)
