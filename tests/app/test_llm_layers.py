"""AppTest drives the Inside the LLM page: the lens's answer is the model's, the parameter table sums
to 134,515,008, the head sliders choose the enlarged head, and too long or empty prompts give a message."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.models.llm import load_llm

ROOT = Path(__file__).resolve().parents[2]
PROMPT = "The capital of France is Paris. The capital of Germany is"


def run(lang="en", prompt=PROMPT):
    at = AppTest.from_file(str(ROOT / "app_pages" / "llm_layers.py"), default_timeout=300)
    at.session_state["lang"] = lang
    at.session_state["llm_layers.prompt"] = prompt
    return at.run()


@pytest.fixture(scope="module")
def at():
    at = run()
    assert not at.exception, at.exception[0].message if at.exception else ""
    return at


def test_lens_answer_and_parameters(at):
    model = load_llm()
    ids = model.encode(PROMPT)
    final = int(model.logits(ids)[-1].argmax())
    answer = next(m for m in at.metric if m.label == t("llm_layers.final_answer"))
    assert answer.value == f"“{model.token_strings([final])[0].replace(' ', '␣')}”" == "“␣Berlin”"
    table = at.table[0].value
    counts = [int(v.replace(",", "")) for v in table[t("llm_layers.col_count")]]
    assert counts[-1] == 134_515_008 == sum(counts[:-1])
    assert any(t("llm_layers.answer_text", token="␣Berlin", layer=0, n=30).split("**")[0] in m.value
               for m in at.markdown)


def test_sliders_pick_the_enlarged_head(at):
    at.slider(key="llm_layers.layer").set_value(30)
    at.slider(key="llm_layers.head").set_value(9).run()
    assert not at.exception
    assert any(t("llm_layers.head_title", layer=30, head=9, kv=3) in m.value for m in at.markdown)


def test_bad_prompts_then_recovery(at):
    at.text_input(key="llm_layers.prompt").set_value(" ").run()
    assert at.error[0].value == t("llm_layers.errors.empty")
    long = "one two three " * 20                                        # 60 tokens > the page's cap of 48
    at.text_input(key="llm_layers.prompt").set_value(long).run()
    assert not at.exception
    assert at.error[0].value == t("llm_layers.errors.too_long", n_tokens=len(load_llm().encode(long)), max_tokens=48)
    at.text_input(key="llm_layers.prompt").set_value("Hello world").run()
    assert not at.exception and not at.error


def test_chinese_page_runs():
    at = run("zh", "北京是中国的首都。东京是日本的")
    assert not at.exception
    assert at.title[0].value == t("llm_layers.title", "zh")
