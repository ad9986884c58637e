"""Self-attention: softmax(QK^T / sqrt(d_k)) V by hand on the learner's sentence, then every head of
a real pretrained transformer (all-MiniLM-L6-v2, run by our own from-scratch encoder)."""
from __future__ import annotations

import threading

import streamlit as st
import torch

from bigmodel_core.charts import attention as C
from bigmodel_core.errors import UserInputError
from bigmodel_core.models import bert
from bigmodel_core.ops import attention as A
from app_pages._explorables import attention_row_explorable, committed
from app_pages._ui import (altair, clicked, lang, page_header, section, show_code, show_error, sync_url, t, text_limit,
                           url_state, vega, why_and_try)

KEY = "attention"
EXAMPLES = [
    "The animal didn't cross the street because it was too tired to walk.",
    "The trophy doesn't fit into the brown suitcase because it is much too large.",
    "I went to the bank to deposit money, then we sat on the river bank.",
    "Attention lets every word in a sentence look at every other word at the same time.",
    "She gave him the book that she had bought in Paris last summer.",
    "注意力机制让每个词都能看到句子中的其他词。",
]
MAX_SHOWN = 48          # tokens drawn in the model's token-level charts (the model itself reads up to 256)


# --- shared, read-only resources -----------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def minilm() -> bert.MiniLM:
    return bert.load_minilm()


@st.cache_resource(show_spinner=False)
def pca_projection():
    return A.pretrained_projection(minilm())


@st.cache_resource
def captum_lock() -> threading.Lock:
    return threading.Lock()             # Captum hooks the shared model: one attribution at a time


@st.cache_data(max_entries=4, show_spinner=False)
def saturation():
    return A.softmax_saturation()


@st.cache_data(max_entries=8, show_spinner=False)
def saturation_spec(scaled: str, unscaled: str, y_title: str) -> dict:
    """The same spec for every d_k and setting: the learner's point is the named dataset "saturation_now"."""
    return C.saturation_chart(saturation(), scaled_label=scaled, unscaled_label=unscaled, x_title="d_k",
                              y_title=y_title).to_dict()


@st.cache_data(max_entries=16, show_spinner=False)
def positional(n_positions: int, d_model: int):
    pe = A.sinusoidal_positional_encoding(n_positions, d_model)
    return pe.numpy(), A.position_similarity(pe).numpy()


@st.cache_data(max_entries=32, show_spinner=False)
def attributions(text_a: str, text_b: str, n_steps: int) -> bert.SimilarityAttribution:
    with captum_lock():
        return bert.similarity_attributions(minilm(), text_a, text_b, n_steps=n_steps)


def _pick(chart_key: str, selection: str, targets: dict[str, str], offset: int = 0) -> None:
    """A click on a chart sets the widgets it stands for (runs before the rerun, so widgets may change)."""
    points = clicked(chart_key, selection)
    if points:
        for field, widget in targets.items():
            if field in points[0]:
                st.session_state[widget] = int(points[0][field]) + offset


# --- page ----------------------------------------------------------------------------------------

page_header(KEY)
minilm()    # ~0.05 s; no st.spinner: it made a fresh server's first visit draw sliders at their minimum
tab_hand, tab_model = st.tabs([t("attention.tab_hand"), t("attention.tab_model")])


ROW_SETTINGS = {"query": "attention.query", "head": "attention.head", "temperature": "attention.temp",
                "scale": "attention.scale", "causal": "attention.causal"}    # explorable name -> page key


def _commit_row() -> None:
    """The query row, head, temperature, scaling and mask the learner settled on in the browser become
    the page's (and the URL's); values outside their ranges are ignored."""
    sent = committed("attention.row", "settings")
    if not isinstance(sent, dict):
        return
    try:
        values = {"query": int(sent["query"]), "head": int(sent["head"]), "temperature": float(sent["temperature"]),
                  "scale": bool(sent["scale"]), "causal": bool(sent["causal"])}
    except (KeyError, TypeError, ValueError):
        return
    if (0 <= values["query"] < A.MAX_TOKENS and 1 <= values["head"] <= A.HEADS_RANGE[1]
            and 0.1 <= values["temperature"] <= 5.0):
        for name, key in ROW_SETTINGS.items():
            st.session_state[key] = values[name]


def row_labels() -> dict:
    """The explorable's words in the learner's language."""
    names = ("query", "temp", "head", "scale", "causal", "weights_title", "keys", "queries", "click_row", "row_title",
             "max_weight", "max_weight_help", "matrices_title", "q_title", "k_title", "v_title", "scores_title", "output_title")
    return {n: t(f"attention.{n}") for n in names}


@st.fragment
def by_hand() -> None:
    """The sentence and the settings that need new projections (server-side); d_k lives in
    by_hand_view, a fragment of its own, with the explorable that draws everything a query row,
    the temperature, the scaling and the mask change."""
    url_state("attention.sentence", "The cat sat on the mat because it was tired", max_chars=160)
    url_state("attention.source", "pretrained", choices=("pretrained", "random"))
    url_state("attention.heads", 1, lo=A.HEADS_RANGE[0], hi=A.HEADS_RANGE[1])
    url_state("attention.pe", True)

    r1 = st.columns([2.2, 1.3, 1.0], gap="medium")
    r1[0].text_input(t("attention.sentence"), key="attention.sentence", max_chars=160)
    text_limit(160, r1[0])
    r1[1].radio(t("attention.source"), ("pretrained", "random"), key="attention.source",
                format_func=lambda s: t(f"attention.source_{s}"))
    with r1[2]:
        st.toggle(t("attention.pe"), key="attention.pe")
        st.slider(t("attention.heads"), A.HEADS_RANGE[0], A.HEADS_RANGE[1], key="attention.heads")
    sync_url("attention.sentence", "attention.source", "attention.heads", "attention.pe")

    text = st.session_state["attention.sentence"]
    try:
        sentence = A.sentence_pieces(minilm(), text)
    except UserInputError as e:
        show_error(e)
        return
    if sentence.n_unk:
        unk_warning(text, sentence.n_unk, len(sentence.tokens))
    source = st.session_state["attention.source"]
    X = A.sentence_embeddings(minilm(), sentence, source=source,
                              projection=pca_projection() if source == "pretrained" else None)
    by_hand_view(sentence.tokens, X)
    st.caption(t(f"attention.source_note_{source}", d_model=A.D_MODEL))


@st.fragment
def by_hand_view(tokens: list[str], X) -> None:
    """d_k (server-side: new projections), the explorable with everything that only re-arranges Q, K
    and V, and the saturation chart (its diamond: the committed settings)."""
    url_state("attention.dk", 8, lo=A.D_K_RANGE[0], hi=A.D_K_RANGE[1])
    url_state("attention.query", 0, lo=0, hi=A.MAX_TOKENS - 1)
    url_state("attention.head", 1, lo=1, hi=A.HEADS_RANGE[1])
    url_state("attention.scale", True)
    url_state("attention.causal", False)
    url_state("attention.temp", 1.0, lo=0.1, hi=5.0)
    T = len(tokens)
    n_heads = st.session_state["attention.heads"]
    # keep the query token and head inside the sentence / head count
    st.session_state["attention.query"] = min(st.session_state["attention.query"], T - 1)
    st.session_state["attention.head"] = min(st.session_state["attention.head"], n_heads)
    st.slider(t("attention.dk"), A.D_K_RANGE[0], A.D_K_RANGE[1], key="attention.dk")
    bh = A.by_hand_attention(tokens, X, d_k=st.session_state["attention.dk"], n_heads=n_heads,
                             causal=st.session_state["attention.causal"], scale=st.session_state["attention.scale"],
                             temperature=st.session_state["attention.temp"], positional=st.session_state["attention.pe"])
    attention_row_explorable(tokens=tokens, Q=bh.Q, K=bh.K, V=bh.V,
                             settings={name: st.session_state[key] for name, key in ROW_SETTINGS.items()},
                             labels=row_labels(), lang=lang(), key="attention.row", on_commit=_commit_row)
    sync_url("attention.dk", *ROW_SETTINGS.values())
    d_k = bh.Q.size(-1)
    st.markdown(f"#### {t('attention.saturation_title')}")
    cchart, ctext = st.columns([1.2, 1])
    with cchart:
        vega(saturation_spec(t("attention.scaled"), t("attention.unscaled"), t("attention.max_weight_short")),
             key="attention.saturation", datasets={"saturation_now": [{"d_k": d_k, "max_weight": round(bh.mean_max_weight, 3)}]})
    with ctext:
        at = A.saturation_at(saturation(), d_k)
        st.markdown(t("attention.saturation_text", d_k=d_k, std_scaled=f"{at['std_scaled']:.1f}",
                      std_unscaled=f"{at['std_unscaled']:.1f}", w_scaled=f"{at['w_scaled']:.2f}",
                      w_unscaled=f"{at['w_unscaled']:.2f}"))
        st.caption(t("attention.saturation_caption"))


@st.fragment
def positional_encoding() -> None:
    st.markdown(f"#### {t('attention.pe_title')}")
    url_state("attention.pe_dim", 64, choices=(16, 32, 64, 128))
    st.select_slider(t("attention.pe_dim"), options=[16, 32, 64, 128], key="attention.pe_dim")
    sync_url("attention.pe_dim")
    d = st.session_state["attention.pe_dim"]
    pe, sim = positional(36, d)
    c1, c2 = st.columns(2, gap="medium")
    with c1:
        vega(C.matrix_spec(pe, kind="diverging", cell_px=300 / d, cell_h=7, numbers=False,
                              domain=(-1, 1), x_title=t("attention.pe_dims"), y_title=t("attention.pe_positions"),
                              value_title="PE", title=t("attention.pe_heat", d=d)))
    with c2:
        vega(C.matrix_spec(sim, kind="sequential", cell_px=7, numbers=False, x_title=t("attention.pe_positions"),
                              y_title=t("attention.pe_positions"), value_title="PE·PE", title=t("attention.pe_sim")))
    st.caption(t("attention.pe_caption"))
    show_code(A.sinusoidal_positional_encoding)


def _fill_example() -> None:
    choice = st.session_state.get("attention.example")
    if choice is not None:
        st.session_state["attention.text"] = EXAMPLES[choice]


def unk_warning(text: str, n: int, total: int) -> None:
    """How many tokens are [UNK] and, per case (Chinese, emoji, other), which of the learner's
    characters caused them and why."""
    lines = [t("attention.unk", n=n, total=total)]
    for kind, pieces in bert.unknown_pieces(minilm().tokenizer, text).items():
        shown = " ".join(pieces[:8]) + ("…" if len(pieces) > 8 else "")
        lines.append(f"- {t(f'attention.unk_{kind}', pieces=shown)}")
    st.warning("\n".join(lines), icon=":material/translate:")


@st.fragment
def inside_model() -> None:
    url_state("attention.text", EXAMPLES[0], max_chars=2000)
    url_state("attention.layer", 1, lo=1, hi=6)
    url_state("attention.mhead", 1, lo=1, hi=12)
    url_state("attention.token", 0, lo=0, hi=255)
    st.text_input(t("attention.text"), key="attention.text", max_chars=2000)
    text_limit(2000)
    st.pills(t("attention.examples"), list(range(len(EXAMPLES))), key="attention.example",
             on_change=_fill_example, format_func=lambda k: EXAMPLES[k][:26] + "…")
    text = st.session_state["attention.text"]
    if not text.strip():
        show_error(UserInputError("attention.errors.empty"))
        return
    model = minilm()
    enc = model.encode([text])                      # not cached: this is the work the learner waits for
    tokens = enc.tokens[0]
    T = len(tokens)
    if enc.truncated[0]:
        st.info(t("attention.truncated", max=model.cfg.max_tokens), icon=":material/content_cut:")
    if enc.n_unk[0]:
        unk_warning(text, enc.n_unk[0], T)
    shown = min(T, MAX_SHOWN)
    if T > MAX_SHOWN:
        st.caption(t("attention.shown", shown=MAX_SHOWN, total=T))
    att = enc.attn_weights[0]                         # (6, 12, T, T)
    if st.session_state["attention.token"] > shown - 1:
        st.session_state["attention.token"] = shown - 1

    s1, s2, s3 = st.columns([1, 1, 2], gap="medium")
    s1.slider(t("attention.layer"), 1, 6, key="attention.layer")
    s2.slider(t("attention.mhead"), 1, 12, key="attention.mhead")
    s3.select_slider(t("attention.token"), options=list(range(shown)), key="attention.token",
                     format_func=lambda j: f"{j}: {tokens[j]}")
    sync_url("attention.text", "attention.layer", "attention.mhead", "attention.token")
    layer, head, tok = (st.session_state["attention.layer"], st.session_state["attention.mhead"],
                        st.session_state["attention.token"])

    st.markdown(f"**{t('attention.model_view')}**")
    vega(C.model_view_spec(att[:, :, :shown, :shown], selected=(layer, head), head_px=50,
                           layer_title=t("attention.layer"), head_title=t("attention.mhead")),
           key="attention.model_click", on_select=lambda: _pick(
               "attention.model_click", "head", {"layer": "attention.layer", "head": "attention.mhead"}))
    st.caption(t("attention.model_view_caption"))

    head_view, across = st.columns(2, gap="medium")
    with head_view:
        st.markdown(f"**{t('attention.head_view', layer=layer, head=head)}**")
        cell = max(7.0, min(30.0, 350 / shown))
        vega(C.matrix_spec(att[layer - 1, head - 1, :shown, :shown], row_labels=tokens[:shown],
                              col_labels=tokens[:shown], kind="weights", cell_px=cell, numbers=False,
                              select="cell", row=tok, value_title="a_ij", legend=False),
               key="attention.head_click", on_select=lambda: _pick(
                   "attention.head_click", "cell", {"row": "attention.token"}))
    with across:
        st.markdown(f"**{t('attention.token_heads', token=tokens[tok], layer=layer)}**")
        cell = max(7.0, min(34.0, 380 / shown))
        vega(C.matrix_spec(att[layer - 1, :, tok, :shown], row_labels=[f"{t('attention.h')}{k}" for k in range(1, 13)],
                              col_labels=tokens[:shown], kind="weights", cell_px=cell, cell_h=24,
                              numbers=cell >= 28, value_title="a_ij", row=head - 1, legend=False))
        st.caption(t("attention.token_heads_caption"))

    st.markdown(f"#### {t('attention.summary_title')}")
    summary = A.head_summaries(att, enc.mask[0])
    c1, c2 = st.columns(2)
    with c1:
        vega(C.summary_spec(summary, "entropy", title=t("attention.entropy_title"), fmt=".1f",
                              layer_title=t("attention.layer"), head_title=t("attention.mhead")))
    with c2:
        vega(C.summary_spec(summary, "distance", title=t("attention.distance_title"), fmt=".1f",
                              layer_title=t("attention.layer"), head_title=t("attention.mhead")))
    ends = A.head_extremes(summary)
    (l1, h1, e1), (l2, h2, e2), (dmin, dmax) = ends["sharp"], ends["flat"], ends["distance"]
    st.markdown(t("attention.summary_text", l1=l1, h1=h1, e1=f"{e1:.2f}", l2=l2, h2=h2, e2=f"{e2:.2f}",
                  dmax=f"{dmax:.1f}", dmin=f"{dmin:.1f}"))


@st.fragment
def similarity() -> None:
    st.markdown(f"#### {t('attention.sim_title')}")
    url_state("attention.sim_a", "A man is playing a guitar on the street.", max_chars=500)
    url_state("attention.sim_b", "Someone is making music outside.", max_chars=500)
    ca, cb = st.columns(2)
    ca.text_input(t("attention.sim_a"), key="attention.sim_a", max_chars=500)
    cb.text_input(t("attention.sim_b"), key="attention.sim_b", max_chars=500)
    text_limit(500, ca)
    text_limit(500, cb)
    sync_url("attention.sim_a", "attention.sim_b")
    a, b = st.session_state["attention.sim_a"], st.session_state["attention.sim_b"]
    if not a.strip() or not b.strip():
        show_error(UserInputError("attention.errors.empty"))
        return
    enc = minilm().encode([a, b])
    cos = float(enc.embeddings[0] @ enc.embeddings[1])
    m1, m2 = st.columns([1, 2])
    m1.metric(t("attention.cosine"), f"{cos:.3f}")
    with m2:
        st.caption(t("attention.cosine_caption"))
        for k, n in enumerate(enc.n_unk):
            if n:
                unk_warning((a, b)[k], n, len(enc.tokens[k]))
    run = st.button(t("attention.ig_button"), key="attention.ig", icon=":material/insights:")
    done = st.session_state.get("attention.ig_done")
    if run or done == (a, b):
        with st.spinner(t("attention.ig_running")):
            res = attributions(a, b, 32)
        st.session_state["attention.ig_done"] = (a, b)
        c1, c2 = st.columns([1.2, 1])
        with c1:
            altair(C.attribution_chart(res.tokens, res.attributions, title=t("attention.ig_title"),
                                       value_title=t("attention.ig_value")))
        with c2:
            total = float(res.attributions.sum())
            st.markdown(t("attention.ig_text", total=f"{total:.4f}", sim=f"{res.similarity:.4f}",
                          base=f"{res.baseline_similarity:.4f}", diff=f"{res.similarity - res.baseline_similarity:.4f}",
                          delta=f"{res.delta:.1e}", steps=res.n_steps))
        show_code(bert.similarity_attributions)


with tab_hand:
    by_hand()
    show_code(A.scaled_dot_product_attention_explained, A.by_hand_attention)   # outside: no control changes it
    positional_encoding()
with tab_model:
    inside_model()
    show_code(bert.SelfAttention, bert.Block, bert.MiniLM.pool)      # outside: no control changes it
    similarity()

section("formula")
st.latex(r"\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\!\left(\frac{QK^{T}}{\sqrt{d_k}}\right)V,"
         r"\qquad Q = XW_Q,\; K = XW_K,\; V = XW_V")
st.markdown(t("attention.formula_seed"))
st.latex(r"a_{ij} = \frac{\exp(u_i^{T} v_j + b_a)}{\sum_{k=1}^{T}\exp(u_i^{T} v_k + b_a)}"
         r"= \frac{\exp(u_i^{T} v_j)}{\sum_{k=1}^{T}\exp(u_i^{T} v_k)}, \qquad c_i = \sum_{j=1}^{T} a_{ij} v_j")
st.markdown(t("attention.formula_scale"))
st.latex(r"\operatorname{Var}(q\cdot k) = \sum_{m=1}^{d_k}\operatorname{Var}(q_m k_m) = d_k"
         r"\;\Rightarrow\; \operatorname{Var}\!\left(\frac{q\cdot k}{\sqrt{d_k}}\right) = 1")
st.markdown(t("attention.formula_pe"))
st.latex(r"PE_{(pos,\,2i)} = \sin\!\left(\frac{pos}{10000^{2i/d_{model}}}\right),\qquad "
         r"PE_{(pos,\,2i+1)} = \cos\!\left(\frac{pos}{10000^{2i/d_{model}}}\right)")
st.markdown(t("attention.formula_model"))
st.latex(r"e = \frac{\frac{1}{T}\sum_t h_t}{\left\lVert \frac{1}{T}\sum_t h_t \right\rVert},\qquad "
         r"\cos(a, b) = e_a \cdot e_b,\qquad \sum_t A_t = F(x) - F(x') + \delta")
why_and_try(KEY)
