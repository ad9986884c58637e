"""AppTest drives the Next token page: greedy Sample and Generate equal the model's own greedy
continuation, chat mode wraps the message in the chat template, and bad input (empty, a 1 MB paste,
too many tokens, NUL, an out-of-range temperature in the link) gives a message, never a traceback.

The sampling explorable (a components v2 element) renders nothing under AppTest: these tests drive
the Python side, whose settings live in st.session_state (next_token.temp / top_k / top_p)."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.models.llm import load_llm

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", **state):
    at = AppTest.from_file(str(ROOT / "app_pages" / "next_token.py"), default_timeout=300)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[f"next_token.{k}"] = v
    return at.run()


def metric(at, key):
    return next(m.value for m in at.metric if m.label == t(key))


@pytest.fixture(scope="module")
def model():
    return load_llm()


def test_greedy_sample_then_generate_equal_the_model(model):
    at = run(temp=0.0, n=6)
    assert not at.exception, at.exception[0].message if at.exception else ""
    assert at.title[0].value == t("next_token.title")
    prompt = model.encode("The capital of France is")
    at.button(key="next_token.sample").click().run()
    gen = at.session_state["next_token.gen"]
    assert gen["ids"] == [model.encode(" Paris")[0]] and gen["probs"] == [1.0]   # T = 0: the argmax, p = 1
    assert metric(at, "next_token.new_tokens") == "1"
    at.button(key="next_token.generate").click().run()
    assert not at.exception
    gen = at.session_state["next_token.gen"]
    assert gen["ids"] == model.generate(prompt, 7, temperature=0)[len(prompt):]   # 1 sampled + 6 generated
    assert metric(at, "next_token.new_tokens") == "7"
    assert metric(at, "next_token.kv_cache") == f"{model.kv_cache_bytes(len(prompt) + 6) / 2**20:.2f} MB"
    at.button(key="next_token.back").click().run()
    assert len(at.session_state["next_token.gen"]["ids"]) == 6
    at.button(key="next_token.clear").click().run()
    assert at.session_state["next_token.gen"]["ids"] == []


def test_sampling_with_a_seed_is_reproducible_and_respects_top_k(model):
    first = run(temp=1.5, top_k=3, seed=7)
    first.button(key="next_token.sample").click().run()
    again = run(temp=1.5, top_k=3, seed=7)
    again.button(key="next_token.sample").click().run()
    a, b = first.session_state["next_token.gen"], again.session_state["next_token.gen"]
    assert a["ids"] == b["ids"]
    top3 = model.next_token_logits(model.encode("The capital of France is")).topk(3).indices.tolist()
    assert a["ids"][0] in top3 and 0 < a["probs"][0] <= 1


def test_chat_mode_uses_the_chat_template(model):
    at = run(mode="chat", prompt="What is the capital of France?", temp=0.0, n=8)
    assert not at.exception
    templated = model.chat_prompt([{"role": "user", "content": "What is the capital of France?"}])
    assert templated.startswith("<|im_start|>system") and templated.endswith("<|im_start|>assistant\n")
    assert any(c.value.strip() == templated.strip() for c in at.code)
    at.button(key="next_token.generate").click().run()
    ids = model.encode(templated)
    new = at.session_state["next_token.gen"]["ids"]
    assert new == model.generate(ids, 8, temperature=0)[len(ids):]
    assert "Paris" in model.decode(new)


def test_bad_prompts_give_a_message_and_the_page_recovers():
    at = run(prompt="")
    for text, key in [("", "next_token.errors.empty"),
                      ("\u200b \x00", "next_token.errors.empty"),
                      ("x" * 1_000_000, "next_token.errors.too_long_chars"),            # a 1 MB paste
                      ("一二三四五六七八九十" * 200, "next_token.errors.too_long")]:     # 2,000 chars, > 512 tokens
        at.text_area(key="next_token.prompt").set_value(text).run()
        assert not at.exception
        assert len(at.error) == 1 and at.error[0].value.split(" ")[:3] == t(key).split(" ")[:3], text[:10]
    assert "512" in at.error[0].value
    assert len(str(at.query_params.get("next_token.prompt", ""))) < 1000   # a paste stays out of the URL
    at.text_area(key="next_token.prompt").set_value("The sky is").run()
    assert not at.exception and not at.error


def test_nul_is_removed_and_link_values_out_of_range_are_reported():
    at = AppTest.from_file(str(ROOT / "app_pages" / "next_token.py"), default_timeout=300)
    at.query_params["next_token.temp"] = "9"
    at.query_params["next_token.top_p"] = "nan"
    at.query_params["next_token.prompt"] = "Hello\x00 world"
    at.run()
    assert not at.exception
    assert at.error[0].value == t("next_token.errors.bad_url", name="temperature", value="9", lo=0.0, hi=2.0,
                                  default=0.7)
    assert at.session_state["next_token.temp"] == 0.7 and at.session_state["next_token.top_p"] == 1.0
    assert any(w.value == t("next_token.removed_controls", n=1) for w in at.warning)


def test_chinese_page_runs():
    at = run("zh", prompt="中国的首都是")
    assert not at.exception
    assert at.title[0].value == t("next_token.title", "zh")
    assert any("为什么贪心" in m.value for m in at.markdown)
