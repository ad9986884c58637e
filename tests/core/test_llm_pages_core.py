"""The LLM pages' core helpers: text checks, token spans, the two tokenizers side by side, the answer
by layer, the parameter formulas and the charts (llm_text, llm_inspect, charts.llm)."""
import pytest
import torch

from bigmodel_core import llm_text
from bigmodel_core.charts import llm as llm_charts
from bigmodel_core.errors import UserInputError
from bigmodel_core.llm_inspect import answer_by_layer, parameter_formulas
from bigmodel_core.models import llm as L


@pytest.fixture(scope="module")
def model():
    return L.load_llm()


@pytest.fixture(scope="module")
def wordpiece():
    from tokenizers import Tokenizer
    from bigmodel_core.models.bert import minilm_dir
    tok = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    return tok


# --- llm_text ------------------------------------------------------------------------------------

def test_check_text_refuses_empty_and_long_and_cleans_controls():
    for bad in ("", "   \n", "\u200b\u200b", "\x00\x00"):
        with pytest.raises(UserInputError) as e:
            llm_text.check_text(bad, 100, key="next_token")
        assert e.value.key == "next_token.errors.empty"
    with pytest.raises(UserInputError) as e:
        llm_text.check_text("x" * 1_000_001, 4000, key="tokens")
    assert e.value.key == "tokens.errors.too_long_chars" and "1,000,001" in str(e.value)
    c = llm_text.check_text("a\x00b\u200bc\n😀\t🚀", 100)
    assert c.text == "ab\u200bc\n😀\t🚀"                # NUL removed, newline/tab/zero-width kept
    assert (c.removed_controls, c.zero_width, c.emoji) == (1, 1, 2)


def test_token_spans_join_the_bytes_of_one_character():
    pieces = ["猫".encode()[:2], "猫".encode()[2:], b" cat", "🚀".encode()[:1], "🚀".encode()[1:]]
    spans = llm_text.token_spans(pieces)
    assert spans == [("猫", [0, 1]), (" cat", [2]), ("🚀", [3, 4])]
    assert llm_text.token_spans([b"\xe7\x8c"]) == [("\ufffd", [0])]          # cut mid-character


def test_repeated_ngram_share():
    assert llm_text.repeated_ngram_share([1, 2, 3, 4, 5, 6], 2) == 0.0
    # 1 2 1 2 1 2: bigrams 12 21 12 21 12 -> the last three repeat earlier ones
    assert llm_text.repeated_ngram_share([1, 2, 1, 2, 1, 2], 2) == pytest.approx(3 / 5)
    assert llm_text.repeated_ngram_share([1, 2], 4) == 0.0
    assert llm_text.visible(" a\nb\t") == "␣a↵b⇥"


def test_tokenizations_match_the_tokenizers_and_chinese_costs_more(model, wordpiece):
    en, zh = "The weather is nice today.", "今天天气很好。"
    b_en, b_zh = llm_text.bpe_tokenization(model, en), llm_text.bpe_tokenization(model, zh)
    assert b_en.ids == model.encode(en) and model.decode(b_zh.ids) == zh
    assert "".join(b_en.pieces) == en                                      # whole-character pieces concatenate
    assert b_zh.n_bytes == len(zh.encode()) == 3 * len(zh)
    assert b_zh.tokens_per_char > 2 * b_en.tokens_per_char
    w = llm_text.wordpiece_tokenization(wordpiece, "unbelievable 猫 🚀")
    assert w.ids == wordpiece.encode("unbelievable 猫 🚀", add_special_tokens=False).ids
    assert w.n_unk == w.pieces.count("[UNK]") >= 1                          # the emoji is unknown to WordPiece
    assert llm_text.bpe_tokenization(model, "🚀").n_unk == 0               # bytes: never unknown


# --- llm_inspect ---------------------------------------------------------------------------------

def test_parameter_formulas_equal_the_loaded_weights(model):
    formulas = parameter_formulas(model.cfg)
    counted = model.parameter_breakdown()
    assert {k: n for k, (n, _) in formulas.items()} == counted
    assert formulas["total"][0] == 134_515_008
    assert formulas["embedding"][1] == "49,152 × 576"


def test_answer_by_layer_ends_at_the_model_output(model):
    ids = model.encode("The capital of France is")
    lens = model.logit_lens(ids)
    final = int(model.logits(ids)[-1].argmax())
    probs, ranks = answer_by_layer(lens.layer_logits_last, final)
    assert probs.shape == (model.cfg.n_layer,) and ranks.shape == (model.cfg.n_layer,)
    out = model.logits(ids)[-1].softmax(-1)[final]
    assert float(probs[-1]) == pytest.approx(float(out), abs=1e-4)         # last layer = the model's answer
    assert int(ranks[-1]) == 0 and int(lens.top_ids[-1, -1]) == final
    assert int(ranks[0]) > 0                                               # the embedding layer does not know yet


def test_answer_by_layer_rank_on_a_toy():
    logits = torch.tensor([[3.0, 1.0, 2.0], [0.0, 5.0, 1.0]])
    probs, ranks = answer_by_layer(logits, 2)
    assert ranks.tolist() == [1, 1]
    assert probs.tolist() == pytest.approx(logits.softmax(-1)[:, 2].tolist())


# --- charts.llm ----------------------------------------------------------------------------------

def test_lens_spec_has_one_cell_per_layer_and_position():
    probs = torch.rand(30, 4)
    tokens = [[f"tok{l}_{t}" for t in range(4)] for l in range(30)]
    spec = llm_charts.lens_spec(tokens, probs, col_labels=["a", "b", "c", "d"], layer_title="layer",
                                position_title="pos", prob_title="p")
    rows = spec["data"]["values"]
    assert len(rows) == 120 and spec["width"] == 4 * 64 and spec["height"] == 30 * 19
    cell = next(r for r in rows if r["layer"] == 7 and r["pos"] == 2)
    assert cell["full"] == "tok6_2" and cell["p"] == pytest.approx(float(probs[6, 2]), abs=1e-4)
    assert cell["token"] == "tok6_2"
    long = llm_charts.lens_spec([["a_long_token"]], [[0.5]], col_labels=["x"], layer_title="", position_title="",
                                prob_title="")
    assert long["data"]["values"][0]["token"] == "a_long_…"


def test_norms_and_params_specs():
    norms = torch.arange(1, 7, dtype=torch.float32).reshape(3, 2)
    spec = llm_charts.norms_spec(norms, tokens=["a", "b"], layer_title="l", norm_title="n", mean_label="mean")
    means = [r["norm"] for r in spec["data"]["values"] if r["series"] == "mean"]
    assert means == [1.5, 3.5, 5.5]
    p = llm_charts.params_spec({"embedding": 10, "mlp": 30, "total": 40}, {"embedding": "E", "mlp": "M"},
                               count_title="n")
    assert [r["n"] for r in p["data"]["values"]] == [10, 30]


def test_short_label_counts_wide_characters_twice():
    assert llm_text.short_label("Hello", 24) == "Hello"
    assert llm_text.short_label("a" * 30, 24) == "a" * 24 + "…"
    cut = llm_text.short_label("大语言模型把文字切成词元，再为每个词元预测", 24)
    assert cut == "大语言模型把文字切成词元…"                       # 12 wide characters = 24 cells


def test_heads_grid_outline_is_a_swapped_data_set_equal_to_the_model_views_own():
    """The grid's spec does not depend on the chosen head; its "sel" rows draw the same outline as
    attention's model view drawn with that head selected."""
    import json
    from bigmodel_core.charts.attention import model_view_spec
    att = torch.softmax(torch.randn(4, 3, 5, 5, generator=torch.Generator().manual_seed(0)), -1)
    spec = llm_charts.heads_grid_spec(att, head_px=12)
    again = llm_charts.heads_grid_spec(att, head_px=12)
    assert json.dumps(spec, sort_keys=True) == json.dumps(again, sort_keys=True)
    for layer, head in ((1, 1), (4, 3), (2, 2)):
        ref = model_view_spec(att, selected=(layer, head), head_px=12)
        assert ref["layer"][:2] == spec["layer"][:2]                              # picture + click squares
        outline = {k: v for k, v in spec["layer"][2].items() if k != "data"}
        assert outline == {k: v for k, v in ref["layer"][2].items() if k != "data"}
        assert llm_charts.selected_head_rows(layer, head) == ref["layer"][2]["data"]["values"]
