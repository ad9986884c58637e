"""Next token: a real LLM (SmolLM2-135M-Instruct, our own from-scratch forward pass over its GGUF) picks
the next token. Temperature, top-k and top-p reshape the bars in the browser (a client-side explorable
over logits sent once); "Sample" and "Generate" draw from that distribution on the server."""
from __future__ import annotations

import html
import time
from contextlib import closing

import numpy as np
import streamlit as st
import torch

from bigmodel_core import llm_text
from bigmodel_core.errors import UserInputError
from bigmodel_core.models import llm as L
from bigmodel_core.ops import sampling as S
from bigmodel_core.tex import tex_text
from app_pages._explorables import sampling_explorable
from app_pages._queue import heavy
from app_pages._ui import lang, page_header, section, show_code, show_error, sync_url, t, url_state, why_and_try

KEY = "next_token"
EXAMPLES = {
    "complete": [
        "The capital of France is",
        "Once upon a time, there was a little robot who",
        "def fibonacci(n):",
        "The three primary colors are red,",
        "中国的首都是",
        "人工智能是",
    ],
    "chat": [
        "What is the capital of France?",
        "Write a haiku about the sea.",
        "Explain what a neural network is in one sentence.",
        "你好！请介绍一下你自己。",
    ],
}
MAX_PROMPT_TOKENS = 512     # the page's context cap for a prompt (prompt + continuation stay within L.CONTEXT_CAP)
MAX_CHARS = 4_000           # characters a prompt may have (a 1 MB paste is refused before tokenizing)
MAX_NEW = 100               # tokens one "Generate" may write
T_RANGE, K_RANGE, P_RANGE = (0.0, 2.0), (0, 100), (0.05, 1.0)   # the sliders (the JS uses the same)
N_SENT_LABELS = 60          # display strings sent with the logits (the likeliest ids)
PROB_COLOURS = ((0.9, "#dbe9f6"), (0.5, "#a6cbe8"), (0.2, "#fdd49e"), (0.05, "#fc8d59"), (0.0, "#e34a33"))


@st.cache_resource(show_spinner=False)
def llm() -> L.SmolLM:
    return L.load_llm()


@st.cache_data(max_entries=64, show_spinner=False)
def next_logits(ids: tuple[int, ...]) -> np.ndarray:
    """(vocab,) float32 logits after the last token (cached per context: Sample appends, Back returns)."""
    return llm().next_token_logits(list(ids)).numpy()


# --- settings: the URL, the explorable (when the learner commits) and the server agree -------------

SETTINGS = {"temp": ("temperature", 0.7, T_RANGE, float), "top_k": ("top_k", 0, K_RANGE, int),
            "top_p": ("top_p", 1.0, P_RANGE, float)}


def settings_from_url() -> UserInputError | None:
    """Seed temperature / top-k / top-p from ?next_token.temp=... once; say so when a link's value is
    out of range (the default is used) instead of silently replacing it."""
    problem = None
    for short, (name, default, (lo, hi), kind) in SETTINGS.items():
        key = f"{KEY}.{short}"
        raw = st.query_params.get(key)
        if key not in st.session_state and raw is not None:
            try:
                value = kind(float(raw)) if kind is int and float(raw).is_integer() else kind(raw)
                ok = lo <= value <= hi
            except (TypeError, ValueError):
                ok = False
            if not ok:
                problem = problem or UserInputError(f"{KEY}.errors.bad_url", name=name, value=raw[:20],
                                                    lo=lo, hi=hi, default=default)
                st.session_state[key] = default
        url_state(key, default, lo=lo, hi=hi)
    return problem


def current_settings() -> dict:
    return {name: st.session_state[f"{KEY}.{short}"] for short, (name, *_) in SETTINGS.items()}


def commit_settings(sent: dict | None) -> UserInputError | None:
    """The explorable's settings, checked (they come from the browser) and stored as the page's."""
    if not isinstance(sent, dict):
        return None
    try:
        values = {name: kind(sent[name]) for _, (name, _, _, kind) in SETTINGS.items()}
        S.check_sampling(values["temperature"], values["top_k"], values["top_p"])
        for short, (name, _, (lo, hi), _) in SETTINGS.items():
            if not lo <= values[name] <= hi:
                raise UserInputError(f"{KEY}.errors.bad_setting", name=name, value=values[name], lo=lo, hi=hi)
    except UserInputError as e:
        return e
    except (KeyError, TypeError, ValueError):
        return UserInputError(f"{KEY}.errors.bad_setting", name="?", value="?", lo="", hi="")
    for short, (name, *_) in SETTINGS.items():
        st.session_state[f"{KEY}.{short}"] = values[name]
    return None


# --- the prompt -----------------------------------------------------------------------------------

def _fill_example() -> None:
    choice = st.session_state.get(f"{KEY}.example")
    examples = EXAMPLES[st.session_state[f"{KEY}.mode"]]
    if choice is not None and choice < len(examples):
        st.session_state[f"{KEY}.prompt"] = examples[choice]


def _reset_example() -> None:
    st.session_state[f"{KEY}.example"] = None
    st.session_state[f"{KEY}.prompt"] = EXAMPLES[st.session_state[f"{KEY}.mode"]][0]


def prompt_ids(model: L.SmolLM) -> tuple[list[int], str]:
    """The ids the model reads (in chat mode: the message inside the model's chat template)."""
    checked = llm_text.check_text(st.session_state[f"{KEY}.prompt"], MAX_CHARS, key=KEY)
    if checked.removed_controls:
        st.warning(t(f"{KEY}.removed_controls", n=checked.removed_controls), icon=":material/cleaning_services:")
    if checked.zero_width:
        st.info(t(f"{KEY}.zero_width", n=checked.zero_width), icon=":material/visibility_off:")
    text = checked.text
    if st.session_state[f"{KEY}.mode"] == "chat":
        text = model.chat_prompt([{"role": "user", "content": checked.text}])
    ids = model.encode(text)
    if len(ids) > MAX_PROMPT_TOKENS:
        raise UserInputError(f"{KEY}.errors.too_long", n_tokens=len(ids), max_tokens=MAX_PROMPT_TOKENS)
    return ids, text


def generation() -> dict:
    """This session's continuation of the current prompt: ids, the probability each had, cache bytes."""
    return st.session_state.setdefault(f"{KEY}.gen", {"base": None, "ids": [], "probs": [], "cache": 0,
                                                      "status": None, "seconds": 0.0})


def colour(p: float) -> str:
    return next(c for lo, c in PROB_COLOURS if p >= lo)


def continuation_html(model: L.SmolLM, prompt_text: str, gen: dict) -> str:
    """The prompt, then each new token on a background coloured by the probability it had."""
    ids, probs = gen["ids"], gen["probs"]
    pieces = [model.vocab[i].encode() if i in model.special_ids else L._token_bytes(model.vocab[i]) for i in ids]
    spans = []
    for text, idx in llm_text.token_spans(pieces):
        p = min(probs[i] for i in idx)
        tip = " · ".join(f"{html.escape(model.token_strings([ids[i]])[0])} p={probs[i]:.3f}" for i in idx)
        spans.append(f'<span class="nt-gen" style="background:{colour(p)}" title="{tip}">{html.escape(text)}</span>')
    style = ("<style>.nt-text{font-size:1.05rem;line-height:1.8;white-space:pre-wrap;word-break:break-word;"
             "padding:.6rem .8rem;border:1px solid #e6e6e6;border-radius:.5rem}.nt-prompt{color:#555}"
             ".nt-gen{border-radius:3px;padding:1px 0}.nt-legend span{white-space:nowrap;padding:0 .5rem;margin-right:.3rem;"
             "border-radius:3px;font-size:.85rem}</style>")
    legend = "".join(f'<span style="background:{c}">p ≥ {lo:g}</span>' for lo, c in PROB_COLOURS[:-1])
    legend += f'<span style="background:{PROB_COLOURS[-1][1]};color:white">p &lt; {PROB_COLOURS[-2][0]:g}</span>'
    shown_prompt = prompt_text if len(prompt_text) <= 1500 else "…" + prompt_text[-1500:]
    return (f'{style}<div class="nt-text"><span class="nt-prompt">{html.escape(shown_prompt)}</span>'
            f'{"".join(spans)}</div><div class="nt-legend">{t(f"{KEY}.legend")} {legend}</div>')


def explorable_labels() -> dict:
    names = ("temperature", "top_k", "top_p", "bars_label", "greedy", "all", "cut", "formula_numbers",
             "formula_greedy", "kept", "entropy")
    return {n: t(f"{KEY}.js.{n}") for n in names}


# --- page -----------------------------------------------------------------------------------------

page_header(KEY)
model = llm()
url_problem = settings_from_url()
url_state(f"{KEY}.mode", "complete", choices=("complete", "chat"))
url_state(f"{KEY}.prompt", EXAMPLES["complete"][0])
url_state(f"{KEY}.seed", 0, lo=0, hi=10_000)
url_state(f"{KEY}.n", 30, lo=1, hi=MAX_NEW)
if url_problem:
    show_error(url_problem)

c_mode, c_examples = st.columns([1, 3], vertical_alignment="bottom")
c_mode.segmented_control(t(f"{KEY}.mode"), ("complete", "chat"), key=f"{KEY}.mode", required=True,
                         format_func=lambda m: t(f"{KEY}.mode_{m}"), on_change=_reset_example)
mode = st.session_state[f"{KEY}.mode"]
c_examples.pills(t(f"{KEY}.examples"), list(range(len(EXAMPLES[mode]))), key=f"{KEY}.example", wrap=True,
                 on_change=_fill_example, format_func=lambda k: EXAMPLES[mode][k][:28] + ("…" if len(EXAMPLES[mode][k]) > 28 else ""))
st.text_area(t(f"{KEY}.prompt_{mode}"), key=f"{KEY}.prompt", height=90)

try:
    ids, model_text = prompt_ids(model)
except UserInputError as e:
    show_error(e)
    st.stop()
prompt_value = st.session_state[f"{KEY}.prompt"]
sync_url(f"{KEY}.mode", f"{KEY}.temp", f"{KEY}.top_k", f"{KEY}.top_p", f"{KEY}.seed", f"{KEY}.n")
if len(prompt_value) <= 500:                 # a long paste stays out of the address bar
    sync_url(f"{KEY}.prompt")

gen = generation()
if gen["base"] != (mode, tuple(ids)):        # a new prompt: start a new continuation
    gen.update(base=(mode, tuple(ids)), ids=[], probs=[], cache=0, status=None, seconds=0.0)
if mode == "chat":
    with st.expander(t(f"{KEY}.template_title", n=len(ids))):
        st.code(model_text, language=None, wrap_lines=True)
        st.caption(t(f"{KEY}.template_caption"))

context = ids + gen["ids"]
if len(context) >= MAX_PROMPT_TOKENS + MAX_NEW:
    show_error(UserInputError(f"{KEY}.errors.too_long", n_tokens=len(context), max_tokens=MAX_PROMPT_TOKENS + MAX_NEW))
    st.stop()
logits = next_logits(tuple(context))
order = np.argsort(-logits, kind="stable")[:N_SENT_LABELS]
names = [llm_text.visible(s) for s in model.token_strings([int(i) for i in order])]

play, text_col = st.columns([1.15, 1], gap="large")
with play:
    st.markdown(f"**{t(f'{KEY}.bars_title', n=len(context))}**")
    with st.form(f"{KEY}.form", border=False, enter_to_submit=False):
        sent = sampling_explorable(logits=logits, token_labels=list(zip(order.tolist(), names)),
                                   settings=current_settings(), labels=explorable_labels(), lang=lang(),
                                   key=f"{KEY}.sampler")
        c_seed, c_n = st.columns(2)
        c_seed.number_input(t(f"{KEY}.seed"), 0, 10_000, step=1, key=f"{KEY}.seed", help=t(f"{KEY}.seed_help"))
        c_n.slider(t(f"{KEY}.n"), 1, MAX_NEW, key=f"{KEY}.n")
        b1, b2 = st.columns(2)
        do_sample = b1.form_submit_button(t(f"{KEY}.sample"), key=f"{KEY}.sample", icon=":material/casino:", width="stretch")
        do_generate = b2.form_submit_button(t(f"{KEY}.generate"), key=f"{KEY}.generate", icon=":material/play_arrow:", type="primary",
                                            width="stretch")
    if do_sample or do_generate:
        problem = commit_settings(sent)
        if problem:
            show_error(problem)
            do_sample = do_generate = False
        sync_url(f"{KEY}.temp", f"{KEY}.top_k", f"{KEY}.top_p", f"{KEY}.seed", f"{KEY}.n")
    st.caption(t(f"{KEY}.bars_caption"))

with text_col:
    st.markdown(f"**{t(f'{KEY}.text_title')}**")
    c_back, c_clear, c_stop = st.columns(3)
    back = c_back.button(t(f"{KEY}.back"), key=f"{KEY}.back", icon=":material/undo:", disabled=not gen["ids"],
                         width="stretch")
    clear = c_clear.button(t(f"{KEY}.clear"), key=f"{KEY}.clear", icon=":material/delete:", disabled=not gen["ids"],
                           width="stretch")
    c_stop.button(t(f"{KEY}.stop"), key=f"{KEY}.stop", icon=":material/stop:", width="stretch",
                  help=t(f"{KEY}.stop_help"))
    text_box, progress_box, stats_box = st.empty(), st.empty(), st.empty()

if gen["status"] == "running":               # the Stop button (or any other control) interrupted it
    gen["status"] = "stopped"
if back and gen["ids"]:
    del gen["ids"][-1], gen["probs"][-1]
    st.rerun()
if clear:
    gen.update(ids=[], probs=[], cache=0, status=None)
    st.rerun()

cfg = current_settings()
if do_sample:
    probs = S.sampling_distribution(torch.from_numpy(logits), cfg["temperature"], cfg["top_k"], cfg["top_p"])
    g = torch.Generator().manual_seed(st.session_state[f"{KEY}.seed"] * 100_003 + len(gen["ids"]))
    nxt = S.sample(probs, g)
    gen["ids"].append(nxt)
    gen["probs"].append(float(probs[nxt]))
    gen["cache"] = model.kv_cache_bytes(len(context) + 1)
    gen["status"] = "sampled"
    st.rerun()                                # the bars move on to the token after it
if do_generate:
    n = min(st.session_state[f"{KEY}.n"], MAX_PROMPT_TOKENS + MAX_NEW - len(context))
    gen["status"], start = "running", time.perf_counter()
    bar = progress_box.progress(0.0, text=t(f"{KEY}.generating", done=0, total=n))
    stream = model.stream(context, n, cfg["temperature"], cfg["top_k"], cfg["top_p"],
                          seed=st.session_state[f"{KEY}.seed"] + len(gen["ids"]))
    # one generation at a time per process (the queue); closing() frees the decoded weights on Stop too
    with heavy("llm_generate"), closing(stream):
        for k, step in enumerate(stream, start=1):
            gen["ids"].append(step.token_id)
            gen["probs"].append(step.prob)
            gen["cache"] = step.cache_bytes
            gen["seconds"] = time.perf_counter() - start
            text_box.html(continuation_html(model, model_text, gen))      # a rerun (Stop) interrupts here
            bar.progress(k / n, text=t(f"{KEY}.generating", done=k, total=n))
    gen["status"] = "eos" if gen["ids"] and gen["ids"][-1] == model.cfg.eos_id else "finished"
    st.rerun()                                # the bars move on to the end of the new text

text_box.html(continuation_html(model, model_text, gen))
if gen["ids"]:
    new = len(gen["ids"])
    with stats_box.container():
        c1, c2, c3 = st.columns(3)
        c1.metric(t(f"{KEY}.new_tokens"), new)
        c2.metric(t(f"{KEY}.kv_cache"), f"{gen['cache'] / 2**20:.2f} MB",
                  help=t(f"{KEY}.kv_cache_help", n=len(context)))
        c3.metric(t(f"{KEY}.repeats"), f"{llm_text.repeated_ngram_share(gen['ids'], 4):.0%}",
                  help=t(f"{KEY}.repeats_help"))
        if gen["status"] == "stopped":
            st.warning(t(f"{KEY}.stopped", n=new), icon=":material/stop_circle:")
        elif gen["status"] == "eos":
            st.info(t(f"{KEY}.eos"), icon=":material/flag:")
        elif gen["status"] == "finished" and gen["seconds"] > 0:
            st.caption(t(f"{KEY}.speed", n=new, seconds=f"{gen['seconds']:.1f}",
                         rate=f"{new / gen['seconds']:.1f}"))

# --- the formula, with the numbers of the committed settings -------------------------------------
section("formula")
T, k, p = cfg["temperature"], cfg["top_k"], cfg["top_p"]
probs = S.sampling_distribution(torch.from_numpy(logits), T, k, p)
top = int(order[0])
z = torch.from_numpy(logits).double()
st.latex(r"p_i = \frac{\exp(z_i / T)}{\sum_{j=1}^{V} \exp(z_j / T)},\qquad V = "
         + f"{model.cfg.vocab_size:,}".replace(",", r"{,}"))
if T > 0:
    lse = float(torch.logsumexp(z / T, 0))
    st.latex(rf"p({tex_text(names[0][:20] or '?')}) = \frac{{e^{{{float(z[top]):.2f} / {T:.2f}}}}}"
             rf"{{\sum_j e^{{z_j / {T:.2f}}}}} = \frac{{e^{{{float(z[top]) / T:.2f}}}}}{{e^{{{lse:.2f}}}}}"
             rf" = {float(torch.exp(z[top] / T - lse)):.4f}")
st.latex(r"H = -\sum_i p_i \log_2 p_i = " + f"{float(-(probs[probs > 0] * probs[probs > 0].log2()).sum()):.2f}"
         + r"\ \text{bits}")
st.markdown(t(f"{KEY}.formula_text", T=f"{T:.2f}", k=k if k else t(f"{KEY}.js.all"), p=f"{p:.2f}",
              kept=int((probs > 0).sum())))
st.latex(r"\text{KV cache} = 2 \times n_{layer} \times n_{kv} \times d_{head} \times T \times 4\,\text{B} = "
         rf"2 \times {model.cfg.n_layer} \times {model.cfg.n_kv_head} \times {model.cfg.head_dim} \times {len(context)}"
         rf" \times 4\,\text{{B}} = {model.kv_cache_bytes(len(context)) / 2**20:.2f}\ \text{{MB}}")
st.markdown(f"#### {t(f'{KEY}.greedy_title')}")
st.markdown(t(f"{KEY}.greedy_text"))
why_and_try(KEY)
show_code(S.sampling_distribution, L.SmolLM.stream)
