"""AppTest drives the Tokens page: the counts are the two tokenizers' own, Chinese costs more BPE tokens
per character than English, emoji are [UNK] to WordPiece, the merges rebuild the chosen token, and
bad input gives a message."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.models.llm import load_llm

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", text=None):
    at = AppTest.from_file(str(ROOT / "app_pages" / "tokens.py"), default_timeout=300)
    at.session_state["lang"] = lang
    if text is not None:
        at.session_state["tokens.text"] = text
    return at.run()


def metrics(at, key):
    return [m.value for m in at.metric if m.label == t(key)]


@pytest.fixture(scope="module")
def model():
    return load_llm()


def test_counts_merges_and_chinese(model):
    at = run(text="unbelievably good")
    assert not at.exception, at.exception[0].message if at.exception else ""
    bpe_ids = model.encode("unbelievably good")
    bpe_n, wp_n = metrics(at, "tokens.n_tokens")
    assert bpe_n == str(len(bpe_ids))
    # the selectbox starts on the token that the most merges built, and the merges rebuild it
    k = at.selectbox(key="tokens.piece").value
    steps = model.merge_steps(bpe_ids[k])
    assert len(steps) == max(len(model.merge_steps(i)) for i in bpe_ids)
    table = at.table[-1].value
    assert len(table) == len(steps)
    assert table.iloc[-1, 0].endswith("→ " + model.token_strings([bpe_ids[k]])[0].replace(" ", "␣"))

    at.text_area(key="tokens.text").set_value("大语言模型 🚀").run()
    assert not at.exception
    bpe_n, wp_n = metrics(at, "tokens.n_tokens")
    ids = model.encode("大语言模型 🚀")
    assert bpe_n == str(len(ids)) and float(metrics(at, "tokens.per_char")[0]) == pytest.approx(len(ids) / 7, abs=0.01)
    from tokenizers import Tokenizer
    from bigmodel_core.models.bert import minilm_dir
    wp = Tokenizer.from_file(str(minilm_dir() / "tokenizer.json"))
    wp.no_padding()                                          # the file pads to 128 unless told not to
    wp = wp.encode("大语言模型 🚀", add_special_tokens=False)
    assert wp_n == str(len(wp.ids))
    assert any(w.value == t("tokens.unk", n=wp.tokens.count("[UNK]"), total=len(wp.ids)) for w in at.warning)
    assert any(i.value == t("tokens.emoji", n=1) for i in at.info)
    cost = at.table[0].value                                 # English vs Chinese vs emoji vs yours
    col = t("tokens.col_bpe_per_char")
    assert float(cost[col].iloc[1]) > 2 * float(cost[col].iloc[0])
    k = model.token_strings(ids).index("<0x20><0xF0><0x9F>")              # " " + the rocket's first 2 bytes
    at.selectbox(key="tokens.piece").set_value(k).run()
    merges = at.table[-1].value
    assert len(merges) == len(model.merge_steps(ids[k])) == 2
    assert merges.iloc[0, 0] == "<0xF0> + <0x9F> → <0xF0><0x9F>"          # bytes first, then the space


def test_bad_input_and_zero_width():
    at = run(text="")
    assert not at.exception and at.error[0].value == t("tokens.errors.empty")
    at.text_area(key="tokens.text").set_value("y" * 1_000_000).run()
    assert not at.exception and at.error[0].value == t("tokens.errors.too_long_chars", n_chars="1,000,000",
                                                       max_chars="20,000")
    at.text_area(key="tokens.text").set_value("a\u200bb\x00c").run()
    assert not at.exception and not at.error
    assert any(i.value == t("tokens.zero_width", n=1) for i in at.info)
    assert any(w.value == t("tokens.removed_controls", n=1) for w in at.warning)


def test_chinese_page_runs():
    at = run("zh")
    assert not at.exception
    assert at.title[0].value == t("tokens.title", "zh")
