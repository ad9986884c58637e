"""AppTest drives the self-attention page: by-hand controls change the numbers, the real model's
half reports [UNK]s for Chinese, and Integrated Gradients shows its completeness gap."""
from pathlib import Path

import pyarrow as pa
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


def saturation_diamond(at) -> float:
    """The saturation chart's diamond: the mean largest weight per row at the committed settings."""
    for chart in at.get("vega_lite_chart"):
        if '"diamond"' in chart.proto.spec:
            tables = [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in chart.proto.datasets]
            [diamond] = [df for df in tables if list(df.columns) == ["d_k", "max_weight"]]
            return float(diamond.max_weight.iloc[0])
    raise AssertionError("no saturation chart")


def test_by_hand_settings_are_the_pages_and_reach_the_url(at):
    """The explorable renders nothing under AppTest: its committed settings live in session state,
    restore from the URL, and the server side (d_k, the saturation diamond) follows them."""
    assert at.title[0].value == t("attention.title")
    assert at.query_params["attention.dk"] == "8" and at.query_params["attention.query"] == "0"
    before = saturation_diamond(at)
    at.session_state["attention.scale"] = False                            # as the explorable commits it
    at.slider(key="attention.dk").set_value(64).run()
    assert not at.exception
    assert at.query_params["attention.scale"] == "0" and at.query_params["attention.dk"] == "64"
    assert saturation_diamond(at) > before                                 # unscaled softmax sharpens
    at.session_state["attention.query"] = 20                               # beyond this 10-token sentence
    at.session_state["attention.scale"] = True
    at.run()
    assert at.session_state["attention.query"] == 9 and at.query_params["attention.query"] == "9"


def test_heads_and_bad_sentence(at):
    at.session_state["attention.head"] = 4
    at.slider(key="attention.heads").set_value(3).run()
    assert not at.exception
    assert at.session_state["attention.head"] == 3                          # kept inside the head count
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
