"""AppTest of LIME and KernelSHAP on the interpretability page: the additivity numbers hold, the
settings change the explanation, both languages."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "interpretability.py")


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[f"interpretability.{key}"] = value
    return at.run()


def shap_numbers(at):
    vals = {m.label: m.value for m in at.metric}
    return float(vals["Sum of SHAP values"]), float(vals["F(x) − F(black)"]), float(vals["Gap"])


def test_kernel_shap_additivity_is_shown_and_holds():
    at = run(samples=100, patch=7)
    assert not at.exception
    s, diff, gap = shap_numbers(at)
    assert abs(s - diff) <= 1e-3 * max(1.0, abs(diff)) and gap <= 1e-3 * max(1.0, abs(diff))
    body = "\n".join(m.value for m in at.markdown) + "\n".join(c.value for c in at.caption)
    for name in ("LIME", "KernelSHAP"):
        assert f"**{name}**" in body
    assert "16 features, 100 samples (2 batches" in body               # the cost, with the settings
    assert "LIME's coefficients sum to" in body


def test_samples_and_patches_change_the_explanation():
    at = run(samples=100, patch=7)
    before = shap_numbers(at)[0]
    at.select_slider(key="interpretability.samples").set_value(50)
    next(b for b in at.get("button_group") if b.key == "interpretability.patch").set_value(4)
    at.run()
    assert not at.exception
    assert "49 features, 50 samples (1 batches" in "\n".join(c.value for c in at.caption)
    s, diff, gap = shap_numbers(at)
    assert abs(s - diff) <= 1e-3 * max(1.0, abs(diff))
    assert s == pytest.approx(before, abs=2e-3 * max(1.0, abs(diff)))  # 16 or 49 patches: the same total
    assert at.query_params["interpretability.patch"] in ("4", ["4"])


def test_chinese_additivity_check():
    at = run("zh", samples=50, patch=7)
    assert not at.exception
    assert any("可加性" in m.value for m in at.markdown)
