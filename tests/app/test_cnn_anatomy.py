"""AppTest of the CNN anatomy page: digit input, the layers' numbers, and the training button."""
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from bigmodel_core.data import load_mnist
from bigmodel_core.models.cnn import load_cnn

ROOT = Path(__file__).resolve().parents[2]


def run_page(lang="en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "cnn_anatomy.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def _predict(index: int) -> int:
    x = torch.from_numpy(load_mnist().x_test[index] / 255.0).float().view(1, 1, 28, 28)
    with torch.no_grad():
        return int(load_cnn(device=torch.device("cpu"))(x).argmax())


def metric(at, label):
    return next(m for m in at.metric if m.label == label)


def test_picking_a_digit_shows_the_models_prediction_and_the_parameter_count():
    at = run_page()
    assert not at.exception
    assert metric(at, "Total parameters").value == "421,642"
    assert metric(at, "Prediction").value == str(_predict(0))
    at.slider(key="cnn_anatomy.index").set_value(417).run()
    assert not at.exception
    assert metric(at, "Prediction").value == str(_predict(417))
    assert f"true label {int(load_mnist().y_test[417])}" in metric(at, "Prediction").proto.delta
    shapes = " ".join(m.value for m in at.markdown)
    assert "32×28×28" in shapes and "64×7×7" in shapes
    assert len(at.tabs) == 6 and at.tabs[0].label.startswith("conv1")


def test_random_button_moves_to_another_digit():
    at = run_page()
    at.button(key="cnn_anatomy.random").click().run()
    assert not at.exception
    assert 0 <= at.session_state["cnn_anatomy.index"] <= 999


def test_draw_mode_without_ink_asks_for_a_digit():
    at = AppTest.from_file(str(ROOT / "app_pages" / "cnn_anatomy.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state["cnn_anatomy.source"] = "draw"        # (a zh label can't be clicked from outside a run)
    at.run()
    assert not at.exception
    assert any("写一个数字" in i.value for i in at.info)


def test_training_button_with_a_tiny_budget_trains_and_switches_the_page_to_the_new_weights():
    at = run_page()
    at.slider(key="cnn_anatomy.epochs").set_value(1)
    at.select_slider(key="cnn_anatomy.batch").set_value(512)
    at.select_slider(key="cnn_anatomy.lr").set_value(3e-3)
    at.run()
    at.button(key="cnn_anatomy.train").click().run()
    assert not at.exception
    done = [s.value for s in at.success]
    assert done and "Training finished: 8 steps" in done[0]
    assert "Test accuracy" in done[0]
    model = at.session_state["cnn_anatomy.trained_model"]
    assert not torch.equal(model.conv1.weight.cpu(), load_cnn(device=torch.device("cpu")).conv1.weight)
    assert any("your trained weights" in m.value for m in at.markdown)
    specs = [c.proto.spec for c in at.get("vega_lite_chart")]
    assert sum('"count"' in s for s in specs) >= 1                     # the confusion matrix is drawn


def test_a_huge_learning_rate_shows_the_diverged_message():
    at = run_page()
    at.slider(key="cnn_anatomy.epochs").set_value(1)
    at.select_slider(key="cnn_anatomy.batch").set_value(128)
    at.select_slider(key="cnn_anatomy.lr").set_value(100.0)
    at.selectbox(key="cnn_anatomy.optimizer").set_value("sgd")
    at.run()
    at.button(key="cnn_anatomy.train").click().run()
    assert not at.exception
    assert at.error and "diverged at step" in at.error[0].value


# -- issue 19: runs that fail say so, Stop, no inf in the formula --------------------------------

import pytest  # noqa: E402

from bigmodel_core.i18n import t  # noqa: E402
from bigmodel_core.models.cnn import new_cnn  # noqa: E402


def train_with(lang: str, lr: float, optimizer: str, batch: int = 512) -> AppTest:
    at = run_page(lang)
    at.slider(key="cnn_anatomy.epochs").set_value(1)
    at.select_slider(key="cnn_anatomy.batch").set_value(batch)
    at.select_slider(key="cnn_anatomy.lr").set_value(lr)
    at.selectbox(key="cnn_anatomy.optimizer").set_value(optimizer)
    at.run()
    at.button(key="cnn_anatomy.train").click().run()
    assert not at.exception
    return at


def formulas(at: AppTest) -> str:
    return " ".join(x.value for x in at.latex)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lr_100_with_adam_is_reported_as_diverged_naming_the_learning_rate(lang):
    """Before: a green "Training finished ... Test accuracy: 10.0%" at loss ~1e13 and "Σ e^z = inf"."""
    at = train_with(lang, 100.0, "adam")
    assert not at.success
    assert at.error, [w.value for w in at.warning]
    msg = at.error[0].value
    assert t("train.diverged_exploded", lang, step=2, first="X", loss="Y", factor="1,000").split("X")[0] in msg
    assert f"**{t('common.learning_rate', lang)}**" in msg and "100" in msg
    text = formulas(at).lower()
    assert "inf" not in text.replace("\\infty", "") and "nan" not in text


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_run_no_better_than_guessing_says_so(lang):
    """Plain SGD at lr 0.0001 for 8 steps barely moves the weights: accuracy stays at chance."""
    at = train_with(lang, 1e-4, "sgd")
    assert not at.success and not at.error
    msg = next(w.value for w in at.warning if t("common.learning_rate", lang) in w.value)
    run = at.session_state["cnn_anatomy.run"]
    assert run["status"] == "chance" and run["test_acc"] < 0.13
    assert f"{run['test_acc']:.1%}" in msg and f"{run['chance']:.1%}" in msg


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_stop_keeps_the_weights_of_the_last_step_and_says_where(lang):
    """What the rerun after a Stop click shows (the browser test checks the click interrupts at once)."""
    at = run_page(lang)
    model = new_cnn(seed=0)
    at.session_state["cnn_anatomy.trained_model"] = model
    at.session_state["cnn_anatomy.run"] = {
        "status": "running", "step": 15, "total": 126, "loss_rows": [], "acc_rows": [],
        "filters": [(0, model.conv1.weight.detach().clone())], "cm": None, "diverged_at": None,
        "diverged_how": None, "first_loss": None, "diverged_loss": None, "diverge_factor": 1e3, "seconds": 0.0,
        "test_acc": float("nan"), "lr": 1e-3, "chance": 0.1, "steps_per_epoch": 63}
    at.button(key="cnn_anatomy.stop").click().run()
    assert not at.exception
    assert any(t("train.stopped", lang, step=15, total=126) in w.value for w in at.warning)
    assert any(t("cnn_anatomy.weights_trained", lang) in m.value for m in at.markdown)


def test_the_softmax_line_never_shows_inf_for_huge_logits():
    from bigmodel_core.charts.cnn import softmax_line_latex
    z = torch.tensor([1e13, 3.0, -2e12] + [0.0] * 7)
    line = softmax_line_latex(z.numpy(), 0)
    assert "inf" not in line and "nan" not in line and "e^{1.00\\times 10^{13}}" in line
    assert line.endswith("= 1.0000")
    z = torch.randn(10)                                          # ordinary logits: the plain numbers
    p = torch.softmax(z.double(), 0)
    line = softmax_line_latex(z.numpy(), 3)
    assert f"{torch.exp(z.double()).sum().item():.4g}" in line and line.endswith(f"{p[3].item():.4f}")
    assert softmax_line_latex(np.array([np.nan] + [0.0] * 9), 0) is None
