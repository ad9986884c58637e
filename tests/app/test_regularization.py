"""AppTest of the regularization page: knobs, the Train button with a small budget, both languages."""
import base64
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.regularization import RegConfig, train_run, untrained_snapshot

ROOT = Path(__file__).resolve().parents[2]


def page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "regularization.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def sides(at: AppTest) -> list[dict]:
    """The two sides the replay explorable was sent (it draws nothing under AppTest)."""
    return at.session_state["regularization._replay"]["sides"]


def last(side: dict, name: str) -> float:
    return side["frames"][name][-1]


def zeros(side: dict) -> int:
    return int(last(side, "zeros"))


def test_page_opens_untrained_with_the_four_parts():
    at = page()
    assert not at.exception
    assert at.title[0].value == t("regularization.title", "en")
    assert any(t("regularization.press_train", "en")[:20] in i.value for i in at.info)
    assert [s.value for s in at.subheader] == [t("common.formula", "en"), t("common.why", "en"),
                                               t("common.try_this", "en")]
    a, b = sides(at)                                            # both: the untrained network, one frame
    snap0 = untrained_snapshot(RegConfig())
    for side in (a, b):
        assert side["frames"]["step"] == [0] and zeros(side) == 0
        assert last(side, "val_loss") == snap0.val_loss and side["n_weights"] == snap0.weights.size
        np.testing.assert_array_equal(floats(side["prediction"]), snap0.prediction.astype(np.float32))


def test_train_with_l1_gives_zeros_only_on_the_regularized_side():
    at = page()
    at.select_slider(key="regularization.steps").set_value(500)
    at.select_slider(key="regularization.l1").set_value(0.01)
    at.run()
    at.button(key="regularization.train").click().run()
    assert not at.exception
    left, right = sides(at)
    assert zeros(left) == 0 and zeros(right) > 1000
    want = train_run(RegConfig(steps=500, l1=0.01))                  # the same run, again: the replay's frames
    assert right["frames"]["step"] == [f.step for f in want.frames]
    assert right["frames"]["val_loss"] == [f.val_loss for f in want.frames]
    np.testing.assert_array_equal(floats(right["prediction"]).reshape(len(want.frames), -1),
                                  np.stack([f.prediction for f in want.frames]))
    np.testing.assert_array_equal(floats(right["hist"]).reshape(len(want.frames), -1),
                                  np.stack([f.hist_counts for f in want.frames]))
    assert right["curve"]["val"] == want.curve.val_loss.tolist()
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
    left, right = sides(at)
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
    for side in sides(at):
        assert all(math.isfinite(v) for name in ("train_loss", "val_loss", "sum_abs", "sum_sq")
                   for v in side["frames"][name])
        assert np.isfinite(floats(side["prediction"])).all()


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
    left, right = sides(at)                                            # both sides drawn whole
    stopped_side, other = (right, left) if side == "b" else (left, right)
    assert last(stopped_side, "val_loss") == cut.val_loss and last(stopped_side, "step") == cut.step
    assert stopped_side["curve"]["val"] == [r["val_loss"] for r in rows]
    assert full.final.val_loss not in stopped_side["frames"]["val_loss"]
    assert cut.val_loss not in other["frames"]["val_loss"]
    at.run()                                                           # the next rerun: the usual notice
    assert not any(w.value == said for w in at.warning)
