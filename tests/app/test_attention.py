"""AppTest drives the self-attention page: by-hand controls change the numbers, the real model's
half reports [UNK]s for Chinese, and Integrated Gradients shows its completeness gap."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en"):
    at = AppTest.from_file(str(ROOT / "app_pages" / "attention.py"), default_timeout=180)
    at.session_state["lang"] = lang
    return at.run()


def markdown(at):
    return [m.value for m in at.markdown]


def metric(at, label_key):
    return next(m.value for m in at.metric if m.label == t(label_key))


@pytest.fixture(scope="module")
def at():
    at = run()
    assert not at.exception, at.exception[0].message if at.exception else ""
    return at


def test_by_hand_controls_change_the_numbers(at):
    assert at.title[0].value == t("attention.title")
    assert any("d_k = 8" in m for m in markdown(at))
    before = metric(at, "attention.max_weight")
    at.slider(key="attention.dk").set_value(64)
    at.toggle(key="attention.scale").set_value(False).run()
    assert not at.exception
    assert any("d_k = 64" in m for m in markdown(at))
    assert float(metric(at, "attention.max_weight")) > float(before)      # unscaled softmax sharpens
    at.toggle(key="attention.causal").set_value(True)
    at.select_slider(key="attention.query").set_value(0).run()
    assert metric(at, "attention.max_weight") == "1.00"                  # row 0 can only see itself
    assert any(t("attention.row_title", token="the", i=0) in m for m in markdown(at))


def test_query_row_heads_and_bad_sentence(at):
    at.toggle(key="attention.causal").set_value(False)
    at.toggle(key="attention.scale").set_value(True)
    at.slider(key="attention.heads").set_value(3).run()
    assert at.radio(key="attention.head").options == ["1", "2", "3"]
    at.select_slider(key="attention.query").set_value(3).run()
    assert any(t("attention.row_title", token="on", i=3) in m for m in markdown(at))
    latex = [l.value for l in at.latex]
    assert any(r"c_{3}" in l for l in latex) and any(r"\sqrt{64}" in l for l in latex)
    at.text_input(key="attention.sentence").set_value(" ").run()
    assert not at.exception
    assert at.error[0].value == t("attention.errors.empty")


def test_model_half_counts_unk_for_chinese_and_ig_shows_delta(at):
    at.text_input(key="attention.sentence").set_value("The cat sat on the mat").run()
    assert not at.warning                                               # English: no [UNK] message
    at.text_input(key="attention.text").set_value("猫坐在垫子上，因为它累了。").run()
    assert not at.exception
    assert any(w.value.startswith(t("attention.unk", n=9, total=15)) for w in at.warning)
    at.slider(key="attention.layer").set_value(4)
    at.slider(key="attention.mhead").set_value(7).run()
    assert any(t("attention.head_view", layer=4, head=7) in m for m in markdown(at))
    assert float(metric(at, "attention.cosine")) > 0.4                  # guitar on the street ~ music outside
    at.button(key="attention.ig").click().run()
    assert not at.exception
    assert any("δ" in m and "0.4" in m for m in markdown(at))


def test_chinese_page_runs():
    at = run("zh")
    assert not at.exception
    assert at.title[0].value == t("attention.title", "zh")
    assert any("为什么要除以" in m for m in markdown(at))


def _warnings_for(lang, **texts):
    """A fresh run with these texts (AppTest formats a Chinese page's radio values in English on a
    rerun, so each case is its own first run)."""
    at = AppTest.from_file(str(ROOT / "app_pages" / "attention.py"), default_timeout=180)
    at.session_state["lang"] = lang
    for key, text in texts.items():
        at.session_state[f"attention.{key}"] = text
    at.run()
    assert not at.exception
    return [w.value for w in at.warning]


def _reason(key, lang):
    return t(key, lang, pieces="").split("（")[0].split("(")[0]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unk_is_explained_per_case_on_both_tabs(lang):
    """Chinese and emoji become [UNK] for different reasons: each warning names the learner's own
    characters and the reason for their kind only (no talk of Chinese for an emoji)."""
    [w] = _warnings_for(lang, sentence="good 👍 job")                    # the by-hand tab
    assert w.startswith(t("attention.unk", lang, n=1, total=3))
    assert t("attention.unk_emoji", lang, pieces="👍") in w and _reason("attention.unk_cjk", lang) not in w
    [w] = _warnings_for(lang, sentence="我爱你 cat")
    assert t("attention.unk_cjk", lang, pieces="爱 你") in w and _reason("attention.unk_emoji", lang) not in w
    [w] = _warnings_for(lang, text="nice 🎉 party")                      # the real model's tab
    assert w.startswith(t("attention.unk", lang, n=1, total=5))
    assert t("attention.unk_emoji", lang, pieces="🎉") in w and _reason("attention.unk_cjk", lang) not in w
