"""The activations page under AppTest: move the sliders, read the numbers it shows."""
import json
import math
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "activations.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in state.items():                       # start values, as a shared link would give
        at.session_state[f"activations.{k}"] = v
    return at.run()


def sigmoid(x):
    return 1 / (1 + math.exp(-x))


def test_x0_slider_updates_the_values_and_the_formula():
    at = run()
    assert not at.exception
    at.slider(key="activations.x0").set_value(4.0).run()
    s = sigmoid(4.0)
    text = " ".join(m.value for m in at.markdown)
    assert f"{s:.4f}" in text and f"{s * (1 - s):.4f}" in text
    latex = " ".join(l.value for l in at.latex)
    assert f"{s * (1 - s):.4f}" in latex
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 3                                        # f, f', depth


def test_focus_relu_on_negative_side_has_zero_slope_and_shaded_half():
    at = run(focus="relu")
    at.slider(key="activations.x0").set_value(-1.5).run()
    text = " ".join(m.value for m in at.markdown)
    assert "slope f′(x₀) = **0.0000**" in text
    edge = float(text.split("[-6.00, ", 1)[1].split("]", 1)[0])
    assert abs(edge) < 0.05                                       # the whole negative side, up to 0


def test_depth_slider_and_init_change_the_gradient_metric():
    at = run(depth=50)
    sigmoid_50 = float(at.metric[0].value)
    assert sigmoid_50 < 1e-20                                   # sigmoid's gradient has vanished
    at.radio(key="activations.focus").set_value("relu").run()
    assert 0.1 < float(at.metric[0].value) < 10                  # ReLU + He keeps it
    at.radio(key="activations.init").set_value("xavier").run()
    assert float(at.metric[0].value) < 1e-5                      # ReLU + Xavier loses it
    assert not at.exception


def test_runs_in_chinese():
    at = run("zh")
    assert not at.exception
    assert at.title[0].value == "激活函数"
