"""AppTest of the interpretability page: four methods, IG completeness, target / baseline / model choice."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def run_page(lang="en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "interpretability.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def numbers(at):
    vals = {m.label: float(m.value) for m in at.metric if m.label != "Prediction"}
    return vals["Sum of attributions"], vals["F(x) − F(x′)"], vals["Convergence delta δ"]


def test_completeness_is_shown_and_holds():
    at = run_page()
    assert not at.exception
    s, diff, delta = numbers(at)
    assert abs(s - diff) <= abs(delta) + 2e-4                           # the shown numbers obey completeness
    pred = next(m for m in at.metric if m.label == "Prediction").value
    assert any(f"for class {pred}?" in m.value for m in at.markdown)
    assert len(at.image) >= 6                                          # digit, four overlays, baseline, bars


def test_target_baseline_and_steps_change_the_explanation():
    at = run_page()
    before = numbers(at)
    at.selectbox(key="interpretability.target").set_value(3)
    at.slider(key="interpretability.steps").set_value(8)
    at.run()
    next(b for b in at.get("button_group") if b.key == "interpretability.baseline").set_value("blurred").run()
    assert not at.exception
    assert any("for class 3?" in m.value for m in at.markdown)
    after = numbers(at)
    assert after != before
    assert abs(after[0] - after[1]) <= abs(after[2]) + 2e-4


def test_random_weights_sanity_check_and_chinese():
    at = AppTest.from_file(str(ROOT / "app_pages" / "interpretability.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state["interpretability.model"] = "random"
    at.run()
    assert not at.exception
    assert at.title[0].value == "可解释性"
    assert any("完备性" in s.value for s in at.subheader) or any("完备性" in m.value for m in at.markdown)
