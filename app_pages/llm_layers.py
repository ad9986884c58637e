"""Inside the LLM: what each of SmolLM2's 30 layers "thinks" (the logit lens), the attention of any of its
30 x 9 heads, the residual stream's size, and where its 134,515,008 parameters are."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from bigmodel_core.charts import llm as C
from bigmodel_core.charts.spec import matrix_spec
from bigmodel_core import llm_text
from bigmodel_core.errors import UserInputError
from bigmodel_core.llm_inspect import answer_by_layer, parameter_formulas
from bigmodel_core.models import llm as L
from bigmodel_core.tex import tex_text
from app_pages._ui import (clicked, lang, page_header, section, show_code, show_error, sync_url, t, url_state, vega,
                           why_and_try)

KEY = "llm_layers"
EXAMPLES = [
    "The capital of France is Paris. The capital of Germany is",
    "One, two, three, four, five,",
    "The Eiffel Tower is in the city of",
    "北京是中国的首都。东京是日本的",
    "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n",
]
MAX_TOKENS = 48        # the page's context cap: 30 x 9 heads of T x T weights, a 30 x T lens grid
MAX_COLS = 16          # positions drawn in the lens grid (the last ones: where the answer forms)
MAX_CHARS = 2_000


@st.cache_resource(show_spinner=False)
def llm() -> L.SmolLM:
    return L.load_llm()


@st.cache_data(max_entries=16, show_spinner=False)
def inspect(ids: tuple[int, ...]):
    """Everything the page draws for one prompt, computed once (a click or a slider only re-draws)."""
    model = llm()
    lens = model.logit_lens(list(ids))
    att = model.attention(list(ids)).numpy()                  # (30, 9, T, T)
    norms = model.residual_norms(list(ids)).numpy()           # (31, T)
    final = int(lens.top_ids[-1, -1])                          # the last layer's lens is the model's output
    probs, ranks = answer_by_layer(lens.layer_logits_last, final)
    top_tokens = [[llm_text.visible(s) for s in model.token_strings(row)] for row in lens.top_ids.tolist()]
    return {"top_tokens": top_tokens, "top_probs": lens.top_probs.numpy(), "att": att, "norms": norms,
            "final": final, "answer_p": probs.numpy(), "answer_rank": ranks.numpy()}


def _fill_example() -> None:
    choice = st.session_state.get(f"{KEY}.example")
    if choice is not None:
        st.session_state[f"{KEY}.prompt"] = EXAMPLES[choice]


def _on_head_click() -> None:
    points = clicked(f"{KEY}.heads_click", "head")
    if points:
        st.session_state[f"{KEY}.layer"] = int(points[0]["layer"])
        st.session_state[f"{KEY}.head"] = int(points[0]["head"])


# --- page -----------------------------------------------------------------------------------------

page_header(KEY)
model = llm()
cfg = model.cfg
url_state(f"{KEY}.prompt", EXAMPLES[0])
url_state(f"{KEY}.layer", 15, lo=1, hi=cfg.n_layer)
url_state(f"{KEY}.head", 1, lo=1, hi=cfg.n_head)
st.pills(t(f"{KEY}.examples"), list(range(len(EXAMPLES))), key=f"{KEY}.example", on_change=_fill_example, wrap=True,
         format_func=lambda k: EXAMPLES[k].replace("\n", " ")[:26] + "…")
st.text_input(t(f"{KEY}.prompt", max=MAX_TOKENS), key=f"{KEY}.prompt")
try:
    checked = llm_text.check_text(st.session_state[f"{KEY}.prompt"], MAX_CHARS, key=KEY)
    ids = model.encode(checked.text)
    if len(ids) > MAX_TOKENS:
        raise UserInputError(f"{KEY}.errors.too_long", n_tokens=len(ids), max_tokens=MAX_TOKENS)
except UserInputError as e:
    show_error(e)
    st.stop()
if len(st.session_state[f"{KEY}.prompt"]) <= 500:
    sync_url(f"{KEY}.prompt")
if checked.removed_controls:
    st.warning(t(f"{KEY}.removed_controls", n=checked.removed_controls), icon=":material/cleaning_services:")

res = inspect(tuple(ids))
tokens = [llm_text.visible(s) for s in model.token_strings(ids)]
T = len(ids)
final_tok = llm_text.visible(model.token_strings([res["final"]])[0])

# --- 1. the logit lens -------------------------------------------------------------------------------
st.markdown(f"#### {t(f'{KEY}.lens_title')}")
first = max(0, T - MAX_COLS)
cols = [f"{t_}: {tokens[t_]}" for t_ in range(first, T)]
lens_grid, answer = st.columns([1.6, 1], gap="medium")
with lens_grid:
    vega(C.lens_spec([row[first:] for row in res["top_tokens"]], res["top_probs"][:, first:], col_labels=cols,
                     layer_title=t(f"{KEY}.layer_axis"), position_title=t(f"{KEY}.position_axis"),
                     prob_title=t(f"{KEY}.prob")))
    st.caption(t(f"{KEY}.lens_caption") + (" " + t(f"{KEY}.lens_cut", n=MAX_COLS, total=T) if first else ""))
with answer:
    first_layer = int(np.argmax(res["answer_rank"] == 0)) + 1 if (res["answer_rank"] == 0).any() else None
    st.metric(t(f"{KEY}.final_answer"), f"“{final_tok}”", f"{res['answer_p'][-1]:.1%}", delta_color="off")
    vega(C.answer_spec(res["answer_p"], res["answer_rank"], token=final_tok, layer_title=t(f"{KEY}.layer_axis"),
                       prob_title=t(f"{KEY}.prob"), title=t(f"{KEY}.answer_title", token=final_tok)))
    if first_layer:
        st.markdown(t(f"{KEY}.answer_text", token=final_tok, layer=first_layer, n=cfg.n_layer))

# --- 2. attention: 30 x 9 heads in one picture, click to enlarge ---------------------------------------
@st.cache_data(max_entries=16, show_spinner=False)
def heads_spec(ids: tuple[int, ...], lang_: str) -> dict:
    """The 270 heads as one PNG with a clickable square each, built once per prompt: the chosen head's
    outline is the data set "sel", swapped per pick (the picture is not sent or rebuilt again)."""
    return C.heads_grid_spec(inspect(ids)["att"], head_px=20, layer_title=t(f"{KEY}.layer_axis"),
                             head_title=t(f"{KEY}.head_axis"))


@st.fragment
def attention_section(ids: tuple[int, ...], tokens: list[str]) -> None:
    """A fragment: the layer / head sliders and a click on a head rerun only this part."""
    att = inspect(ids)["att"]
    T = len(tokens)
    st.markdown(f"#### {t(f'{KEY}.att_title')}")
    s1, s2 = st.columns(2)
    s1.slider(t(f"{KEY}.layer"), 1, cfg.n_layer, key=f"{KEY}.layer")
    s2.slider(t(f"{KEY}.head"), 1, cfg.n_head, key=f"{KEY}.head")
    sync_url(f"{KEY}.layer", f"{KEY}.head")
    layer, head = st.session_state[f"{KEY}.layer"], st.session_state[f"{KEY}.head"]
    grid, big = st.columns([1, 1.5], gap="medium")
    with grid:
        vega(heads_spec(ids, lang()), datasets={"sel": C.selected_head_rows(layer, head)},
             key=f"{KEY}.heads_click", on_select=_on_head_click)
        st.caption(t(f"{KEY}.att_grid_caption", heads=cfg.n_layer * cfg.n_head, kv=cfg.n_kv_head))
    with big:
        kv = (head - 1) // (cfg.n_head // cfg.n_kv_head) + 1
        st.markdown(f"**{t(f'{KEY}.head_title', layer=layer, head=head, kv=kv)}**")
        cell = max(9.0, min(34.0, 460 / T))
        vega(matrix_spec(att[layer - 1, head - 1], row_labels=tokens, col_labels=tokens, kind="weights",
                         cell_px=cell, numbers=cell >= 30, value_title="a_ij", legend=False,
                         x_title=t(f"{KEY}.keys"), y_title=t(f"{KEY}.queries")))
        st.caption(t(f"{KEY}.head_caption"))


attention_section(tuple(ids), tokens)

# --- 3. the residual stream, 4. the parameters --------------------------------------------------------
c_norm, c_params = st.columns([1.2, 1], gap="large")
with c_norm:
    st.markdown(f"#### {t(f'{KEY}.norms_title')}")
    vega(C.norms_spec(res["norms"][:, first:], tokens=tokens[first:], layer_title=t(f"{KEY}.layer_axis0"),
                      norm_title=t(f"{KEY}.norm_axis"), mean_label=t(f"{KEY}.mean")))
    st.caption(t(f"{KEY}.norms_caption", first=f"{res['norms'][-1, 0]:.0f}",
                 rest=f"{np.median(res['norms'][-1, 1:]) if T > 1 else res['norms'][-1, 0]:.0f}"))
with c_params:
    st.markdown(f"#### {t(f'{KEY}.params_title')}")
    parts = model.parameter_breakdown()
    names = {k: t(f"{KEY}.part_{k}") for k in ("embedding", "attention", "mlp", "norms", "total")}
    vega(C.params_spec(parts, names, count_title=t(f"{KEY}.count")))
    formulas = parameter_formulas(cfg)
    st.table(pd.DataFrame([{t(f"{KEY}.col_part"): names[k], t(f"{KEY}.col_count"): f"{parts[k]:,}",
                            t(f"{KEY}.col_formula"): formulas[k][1]} for k in names]).set_index(t(f"{KEY}.col_part")))

section("formula")
st.latex(r"x_0 = E[\text{token}],\qquad x_\ell = x_{\ell-1} + \mathrm{Attn}_\ell(\mathrm{RMSNorm}(x_{\ell-1}))"
         r" + \mathrm{MLP}_\ell(\cdots),\qquad \ell = 1,\dots," + str(cfg.n_layer))
st.latex(r"\text{logit lens:}\quad p_\ell = \mathrm{softmax}\big(E\,\mathrm{RMSNorm}(x_\ell)\big)")
st.latex(rf"p_{{{cfg.n_layer}}}({tex_text('“' + final_tok[:16] + '”')}) = {res['answer_p'][-1]:.3f}")
st.latex(r"a^{(h)}_{ij} = \mathrm{softmax}_j\!\left(\frac{q^{(h)}_i \cdot k^{(g(h))}_j}{\sqrt{d_{head}}}\right),"
         rf"\quad j \le i,\quad d_{{head}} = {cfg.head_dim},\quad g(h) = \lceil h / {cfg.n_head // cfg.n_kv_head} \rceil")
st.markdown(t(f"{KEY}.formula_text", total=f"{parts['total']:,}"))
why_and_try(KEY)
show_code(L.SmolLM.logit_lens, L.Llama.forward)
