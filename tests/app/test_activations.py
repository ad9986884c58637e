"""The activations page under AppTest. The explorable renders nothing here, so these tests read what
the page would send it (its JSON data) and check it against the core."""
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.ops.activations import depth_gradients
from app_pages._explorables import valid_settings

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "activations.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in state.items():                       # start values, as a shared link would give
        at.session_state[f"activations.{k}"] = v
    return at.run()


def sent(at) -> dict:
    """The data the page hands the activation_curves explorable."""
    (el,) = [e for e in at.main if getattr(e.proto, "component_name", "") == "bigmodel_activation_curves"]
    return json.loads(el.proto.json)


def test_sends_the_settings_and_pytorchs_depth_experiment():
    at = run(depth=50, x0=4.0, focus="tanh")
    assert not at.exception
    data = sent(at)
    assert data["settings"] == {"focus": "tanh", "xmax": 6, "x0": 4.0, "threshold": 0.05, "compare": True, "depth": 50}
    assert data["depth"]["sigmoid"][50] < 1e-20                           # sigmoid's gradient has vanished
    for name in ("sigmoid", "relu"):
        assert np.allclose(data["depth"][name], depth_gradients(name, 50, "typical"), rtol=1e-12)
    assert data["labels"]["at_x0"].startswith("At x₀")


def test_init_and_slope_rerun_the_depth_experiment():
    at = run()
    at.radio(key="activations.init").set_value("xavier").run()
    data = sent(at)
    assert data["init"] == "xavier" and data["depth"]["relu"][50] < 1e-5   # ReLU + Xavier loses it
    at.slider(key="activations.slope").set_value(0.5).run()
    assert np.allclose(sent(at)["depth"]["leaky_relu"], depth_gradients("leaky_relu", 50, "xavier", negative_slope=0.5))
    assert not at.exception


def test_a_link_outside_the_range_is_clamped_and_commits_are_checked():
    at = run(xmax=3, x0=9.0)
    assert sent(at)["settings"]["x0"] == 3.0
    fields = {"focus": ["relu", "tanh"], "xmax": (1, 20), "x0": (-20.0, 20.0), "compare": bool}
    assert valid_settings({"focus": "tanh", "xmax": 7.0, "x0": -1e9, "compare": False}, fields) == \
        {"focus": "tanh", "xmax": 7, "x0": -20.0, "compare": False}
    assert valid_settings({"focus": "softmax", "xmax": float("nan"), "x0": "2", "compare": 1}, fields) == {}
    assert valid_settings(None, fields) == {}


def test_runs_in_chinese():
    at = run("zh")
    assert not at.exception
    assert at.title[0].value == "激活函数"
    data = sent(at)
    assert data["lang"] == "zh" and data["labels"]["depth_title"] == t("activations.depth_title", "zh")
