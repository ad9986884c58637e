"""AppTest of the CNN anatomy page: digit input, the layers' numbers, and the training button."""
from pathlib import Path

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
    assert not torch.equal(model.conv1.weight, load_cnn(device=torch.device("cpu")).conv1.weight)
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
