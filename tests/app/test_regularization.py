"""AppTest of the regularization page: knobs, the Train button with a small budget, both languages."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]


def page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "regularization.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def numbers(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if t("regularization.val_loss", "en") in m.value]


def zeros(line: str) -> int:
    return int(line.split("`")[-2].split("/")[0].replace(",", ""))


def test_page_opens_untrained_with_the_four_parts():
    at = page()
    assert not at.exception
    assert at.title[0].value == t("regularization.title", "en")
    assert any(t("regularization.press_train", "en")[:20] in i.value for i in at.info)
    assert [s.value for s in at.subheader] == [t("common.formula", "en"), t("common.why", "en"),
                                               t("common.try_this", "en")]
    assert len(at.get("vega_lite_chart")) >= 6                 # fit, loss, histogram on both sides
    assert len(numbers(at)) == 2 and all(zeros(n) == 0 for n in numbers(at))


def test_train_with_l1_gives_zeros_only_on_the_regularized_side():
    at = page()
    at.select_slider(key="regularization.steps").set_value(500)
    at.select_slider(key="regularization.l1").set_value(0.01)
    at.run()
    at.button(key="regularization.train").click().run()
    assert not at.exception
    left, right = numbers(at)
    assert zeros(left) == 0 and zeros(right) > 1000
    assert any("live updates" in c.value for c in at.caption)
    assert "L1 λ₁=0.01" in at.markdown[[m.value.startswith("####") for m in at.markdown].index(True) + 0].value \
        or any("L1 λ₁=0.01" in m.value for m in at.markdown)
    # the formula shows the current lambda and the current penalty value of the right-hand run
    latex = " ".join(x.value for x in at.latex)
    assert r"0.01 \times" in latex


def test_changing_a_knob_keeps_the_last_run_and_says_so():
    at = page()
    at.select_slider(key="regularization.steps").set_value(500)
    at.run()
    at.button(key="regularization.train").click().run()
    at.slider(key="regularization.dropout").set_value(0.3).run()
    assert not at.exception
    assert any(t("regularization.stale", "en", what="X").split("(")[0] in w.value for w in at.warning)


def test_no_regularization_means_both_sides_are_the_same_run():
    at = page()
    at.select_slider(key="regularization.l1").set_value(0.0)
    at.select_slider(key="regularization.steps").set_value(500)
    at.run()
    at.button(key="regularization.train").click().run()
    left, right = numbers(at)
    assert left == right
    assert any(t("regularization.same_run", "en")[:30] in c.value for c in at.caption)


def test_two_class_task_in_chinese_with_early_stopping():
    at = page("zh")
    at.segmented_control(key="regularization.task").set_value("moons")
    at.slider(key="regularization.n_train").set_value(30)
    at.slider(key="regularization.patience").set_value(5)
    at.select_slider(key="regularization.l1").set_value(0.0)
    at.select_slider(key="regularization.steps").set_value(500)
    at.run()
    at.button(key="regularization.train").click().run()
    assert not at.exception
    assert at.title[0].value == t("regularization.title", "zh")
    assert any("早停已触发" in i.value for i in at.info)
