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


# -- issue 19: divergence words, Stop ------------------------------------------------------------

import math  # noqa: E402
from dataclasses import replace  # noqa: E402

import pytest  # noqa: E402

from bigmodel_core.regularization import RegConfig, train_run  # noqa: E402

CFG = RegConfig(dropout=0.2, steps=500)             # the page's settings after the knobs below


def set_knobs(at: AppTest) -> AppTest:
    at.slider(key="regularization.dropout").set_value(CFG.dropout)
    at.select_slider(key="regularization.steps").set_value(CFG.steps)
    return at.run()


def drawn_numbers(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [x.value for x in at.latex])


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_diverged_run_names_the_pages_controls_and_draws_no_inf(lang):
    """The clip keeps every slider setting finite; the same run without it (grad_clip=0) diverged
    at ordinary settings: shown on the page, it names controls the page has and draws finite numbers."""
    diverged = train_run(replace(CFG, grad_clip=0.0))
    assert diverged.history.diverged
    at = set_knobs(page(lang))
    at.session_state["regularization.runs"] = {(CFG.baseline(), True): train_run(CFG.baseline()),
                                               (CFG, True): diverged}
    at.run()
    assert not at.exception
    note = next(w.value for w in at.warning if t("regularization.dropout", lang) in w.value)
    assert str(diverged.history.diverged_at) in note and t("regularization.noise", lang) in note
    assert t("common.learning_rate", lang) not in note                 # the page has no such control
    text = drawn_numbers(at).lower()
    assert "inf" not in text.replace("\\infty", "") and "nan" not in text
    lines = [m.value for m in at.markdown if m.value.startswith(f"**{t('regularization.train_loss', lang)}**")]
    assert len(lines) == 2 and all(math.isfinite(float(v)) for v in lines[1].split("`")[1:-1:2][:3])


@pytest.mark.parametrize("lang,side", [("en", "b"), ("zh", "b"), ("en", "a")])
def test_stop_draws_where_training_got_to_and_says_so(lang, side):
    """A click on Stop reruns the page mid-training (the run is interrupted at its next redraw); the
    rerun finds the run's last snapshot and draws it whole, with the step it stopped at. Side "a":
    stopped while the left (unregularized) side trained; "b": while the right side trained."""
    snaps = []
    full = train_run(CFG if side == "b" else CFG.baseline(), on_snapshot=snaps.append)
    cut = next(s for s in snaps if s.step >= 200)
    rows = [{"step": s.step, "train_loss": s.train_loss, "val_loss": s.val_loss} for s in snaps if s.step <= cut.step]
    at = set_knobs(page(lang))
    if side == "b":
        at.session_state["regularization.runs"] = {(CFG.baseline(), True): train_run(CFG.baseline())}
    at.session_state["regularization.live"] = {"key": (CFG, True), "side": side, "rows": rows, "snap": cut}
    at.button(key="regularization.stop").click().run()
    assert not at.exception
    said = t("regularization.stopped", lang, step=cut.step, total=CFG.steps)
    assert [w.value for w in at.warning].count(said) == 2              # at the top and on the side
    assert len(at.get("vega_lite_chart")) >= 6                         # both sides drawn whole
    left, right = [m.value for m in at.markdown if m.value.startswith(f"**{t('regularization.train_loss', lang)}**")]
    stopped_side, other = (right, left) if side == "b" else (left, right)
    assert f"`{cut.val_loss:.4f}`" in stopped_side and f"`{full.final.val_loss:.4f}`" not in stopped_side
    assert f"`{cut.val_loss:.4f}`" not in other
    at.run()                                                           # the next rerun: the usual notice
    assert not any(w.value == said for w in at.warning)
