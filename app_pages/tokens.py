"""Tokens: any text split by the LLM's byte-level BPE (SmolLM2, 49,152 tokens) and by MiniLM's WordPiece
(30,522 tokens, English) side by side; what Chinese and emoji cost; the merges that built a token."""
from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from bigmodel_core import llm_text
from bigmodel_core.errors import UserInputError
from bigmodel_core.models import bert
from bigmodel_core.models import llm as L
from app_pages._ui import page_header, section, show_code, show_error, sync_url, t, url_state, why_and_try

KEY = "tokens"
EXAMPLES = [
    "Tokenization splits text into pieces the model has a number for.",
    "大语言模型把文字切成词元，再为每个词元预测下一个。",
    "I ❤️ LLMs 🚀🤖 (and emoji cost bytes)",
    "unbelievably antidisestablishmentarianism",
    "def add(a, b):\n    return a + b",
    "Hello 世界! 3.14159 + 2 = 5.14159",
]
COST_EXAMPLES = {      # the same sentence in both languages, and a line of emoji
    "en": "The weather is nice today, so let's take a walk in the park.",
    "zh": "今天天气很好，我们去公园散步吧。",
    "emoji": "🙂🚀🌍👍🎉",
}
MAX_CHARS = L.MAX_TEXT_CHARS     # a 1 MB paste is refused before it is tokenized
MAX_CHIPS = 300                  # tokens drawn as chips (counts always cover the whole text)
CHIP_COLOURS = ("#dbe9f6", "#fde0c5", "#d9f0d3", "#eadcf2", "#fbe3e8")


@st.cache_resource(show_spinner=False)
def llm() -> L.SmolLM:
    return L.load_llm()


@st.cache_resource(show_spinner=False)
def wordpiece():
    """MiniLM's WordPiece tokenizer alone (the encoder's weights are not needed here)."""
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(bert.minilm_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


def chips(tok: llm_text.Tokenization, unk_label: str) -> str:
    """Each token as a coloured chip with its id underneath (HTML, escaped)."""
    out = []
    for k, (piece, i) in enumerate(zip(tok.pieces[:MAX_CHIPS], tok.ids[:MAX_CHIPS])):
        unk = piece == "[UNK]"
        bg = "#e34a33" if unk else CHIP_COLOURS[k % len(CHIP_COLOURS)]
        fg = "white" if unk else "#222"
        out.append(f'<span class="tk-chip" style="background:{bg};color:{fg}" title="{unk_label if unk else ""}">'
                   f'<span class="tk-piece">{html.escape(llm_text.visible(piece))}</span>'
                   f'<span class="tk-id">{i}</span></span>')
    style = ("<style>.tk-wrap{line-height:2.6;font-size:1rem}.tk-chip{display:inline-flex;flex-direction:column;"
             "align-items:center;margin:0 3px 6px 0;padding:1px 5px;border-radius:4px;vertical-align:top}"
             ".tk-piece{font-family:'Source Code Pro',monospace;white-space:pre;line-height:1.5}"
             ".tk-id{font-size:.7rem;color:inherit;opacity:.7;line-height:1.1}</style>")
    return f'{style}<div class="tk-wrap">{"".join(out)}</div>'


def stats(col, tok: llm_text.Tokenization, context: int, name: str) -> None:
    a, b, c = col.columns(3)
    a.metric(t(f"{KEY}.n_tokens"), f"{tok.n_tokens:,}")
    b.metric(t(f"{KEY}.per_char"), f"{tok.tokens_per_char:.2f}", help=t(f"{KEY}.per_char_help"))
    c.metric(t(f"{KEY}.context_used", n=f"{context:,}"), f"{tok.n_tokens / context:.1%}",
             help=t(f"{KEY}.context_help", name=name, n=f"{context:,}"))


def _fill_example() -> None:
    choice = st.session_state.get(f"{KEY}.example")
    if choice is not None:
        st.session_state[f"{KEY}.text"] = EXAMPLES[choice]


# --- page -----------------------------------------------------------------------------------------

page_header(KEY)
model, wp = llm(), wordpiece()
url_state(f"{KEY}.text", EXAMPLES[0])
url_state(f"{KEY}.piece", -1, lo=-1, hi=MAX_CHIPS)
st.pills(t(f"{KEY}.examples"), list(range(len(EXAMPLES))), key=f"{KEY}.example", on_change=_fill_example, wrap=True,
         format_func=lambda k: llm_text.short_label(EXAMPLES[k].replace("\n", " "), 24))
st.text_area(t(f"{KEY}.text"), key=f"{KEY}.text", height=90)
try:
    checked = llm_text.check_text(st.session_state[f"{KEY}.text"], MAX_CHARS, key=KEY)
except UserInputError as e:
    show_error(e)
    st.stop()
if len(st.session_state[f"{KEY}.text"]) <= 500:
    sync_url(f"{KEY}.text")
text = checked.text
if checked.removed_controls:
    st.warning(t(f"{KEY}.removed_controls", n=checked.removed_controls), icon=":material/cleaning_services:")

bpe = llm_text.bpe_tokenization(model, text)
wpt = llm_text.wordpiece_tokenization(wp, text)
st.caption(t(f"{KEY}.text_stats", chars=f"{bpe.n_chars:,}", bytes=f"{bpe.n_bytes:,}"))
if checked.zero_width:
    st.info(t(f"{KEY}.zero_width", n=checked.zero_width), icon=":material/visibility_off:")
if checked.emoji:
    st.info(t(f"{KEY}.emoji", n=checked.emoji), icon=":material/mood:")

left, right = st.columns(2, gap="large")
with left:
    st.markdown(f"#### {t(f'{KEY}.bpe_title')}")
    st.caption(t(f"{KEY}.bpe_caption"))
    stats(left, bpe, model.cfg.context_length, "SmolLM2")
    st.html(chips(bpe, ""))
with right:
    st.markdown(f"#### {t(f'{KEY}.wp_title')}")
    st.caption(t(f"{KEY}.wp_caption"))
    stats(right, wpt, bert.BertConfig().max_tokens, "MiniLM")
    if wpt.n_unk:
        st.warning(t(f"{KEY}.unk", n=wpt.n_unk, total=wpt.n_tokens), icon=":material/help:")
    st.html(chips(wpt, t(f"{KEY}.unk_title")))
if max(bpe.n_tokens, wpt.n_tokens) > MAX_CHIPS:
    st.caption(t(f"{KEY}.chips_cut", n=MAX_CHIPS))

# --- what a language costs -------------------------------------------------------------------------
st.markdown(f"#### {t(f'{KEY}.cost_title')}")
rows = []
for name, sample in [*COST_EXAMPLES.items(), ("yours", text)]:
    b, w = llm_text.bpe_tokenization(model, sample), llm_text.wordpiece_tokenization(wp, sample)
    rows.append({t(f"{KEY}.col_text"): t(f"{KEY}.cost_{name}") + ": " + (sample if len(sample) <= 40 else sample[:40] + "…"),
                 t(f"{KEY}.col_chars"): b.n_chars, t(f"{KEY}.col_bytes"): b.n_bytes,
                 t(f"{KEY}.col_bpe"): b.n_tokens, t(f"{KEY}.col_bpe_per_char"): f"{b.tokens_per_char:.2f}",
                 t(f"{KEY}.col_wp"): w.n_tokens, t(f"{KEY}.col_unk"): w.n_unk})
st.table(pd.DataFrame(rows).set_index(t(f"{KEY}.col_text")))
en, zh = (llm_text.bpe_tokenization(model, COST_EXAMPLES[k]) for k in ("en", "zh"))
st.markdown(t(f"{KEY}.cost_text", en=en.n_tokens, zh=zh.n_tokens, en_c=en.n_chars, zh_c=zh.n_chars,
              en_r=f"{en.tokens_per_char:.2f}", zh_r=f"{zh.tokens_per_char:.2f}"))

# --- the merges that built one token ---------------------------------------------------------------
# A fragment: picking another token reruns only this part (the text's tokens are passed in).

@st.fragment
def merges_section(bpe: llm_text.Tokenization, text: str) -> None:
    st.markdown(f"#### {t(f'{KEY}.merges_title')}")
    shown = min(bpe.n_tokens, MAX_CHIPS)
    if st.session_state.get(f"{KEY}.last_text") not in (None, text):   # a new text: pick its longest token again
        st.session_state[f"{KEY}.piece"] = -1
    st.session_state[f"{KEY}.last_text"] = text
    longest = max(range(shown), key=lambda k: (len(model.merge_steps(bpe.ids[k])), -k))
    if not -1 <= st.session_state[f"{KEY}.piece"] < shown:
        st.session_state[f"{KEY}.piece"] = -1
    if st.session_state[f"{KEY}.piece"] == -1:       # default: the token built by the most merges
        st.session_state[f"{KEY}.piece"] = longest
    st.selectbox(t(f"{KEY}.piece"), list(range(shown)), key=f"{KEY}.piece",
                 format_func=lambda k: f"{k}: {llm_text.visible(bpe.pieces[k])}  (id {bpe.ids[k]})")
    sync_url(f"{KEY}.piece")
    k = st.session_state[f"{KEY}.piece"]
    steps = model.merge_steps(bpe.ids[k])
    symbol = model.vocab[bpe.ids[k]]
    if not steps:
        st.info(t(f"{KEY}.no_merges", piece=llm_text.visible(bpe.pieces[k])), icon=":material/info:")
    else:
        def shown_piece(sym: str) -> str:
            raw = L._token_bytes(sym)
            try:
                return llm_text.visible(raw.decode("utf-8"))
            except UnicodeDecodeError:
                return "".join(f"<0x{b:02X}>" for b in raw)

        start = [shown_piece(c) for c in symbol]
        st.markdown(t(f"{KEY}.merges_start", n=len(symbol), pieces=" · ".join(f"`{p}`" for p in start)))
        st.table(pd.DataFrame([{t(f"{KEY}.col_step"): s + 1,
                                t(f"{KEY}.col_merge"): f"{shown_piece(m.left)} + {shown_piece(m.right)} → {shown_piece(m.result)}",
                                t(f"{KEY}.col_rank"): f"{m.rank:,}",
                                t(f"{KEY}.col_pieces"): " · ".join(shown_piece(p) for p in m.pieces)}
                               for s, m in enumerate(steps)]).set_index(t(f"{KEY}.col_step")))
        st.caption(t(f"{KEY}.merges_caption", n=len(steps), merges=f"{len(model._merges):,}"))


merges_section(bpe, text)

section("formula")
st.latex(r"\text{BPE: repeat}\quad (a, b)^{*} = \arg\min_{(a,b)\ \text{adjacent}} \operatorname{rank}(a, b),"
         r"\quad a\,b \to ab \quad \text{until no learned merge applies}")
st.latex(r"\text{tokens per character} = \frac{n_\text{tokens}}{n_\text{chars}} = "
         rf"\frac{{{bpe.n_tokens}}}{{{bpe.n_chars}}} = {bpe.tokens_per_char:.2f}\ \text{{(BPE)}},\qquad "
         rf"\frac{{{wpt.n_tokens}}}{{{wpt.n_chars}}} = {wpt.tokens_per_char:.2f}\ \text{{(WordPiece)}}")
st.markdown(t(f"{KEY}.formula_text"))
why_and_try(KEY)
show_code(L.SmolLM.merge_steps, llm_text.bpe_tokenization, llm_text.wordpiece_tokenization)
