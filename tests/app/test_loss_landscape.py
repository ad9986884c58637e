"""AppTest of the loss-landscape page: theory numbers, divergence, best settings, surfaces, the network."""
import base64
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from bigmodel_core import landscape as L
from bigmodel_core.i18n import t
from bigmodel_core.charts.landscape import map_background

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "loss_landscape.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[f"loss_landscape.{key}"] = value
    return at.run()


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def sent(at) -> dict:
    """What the map explorable was sent (it draws nothing under AppTest)."""
    return at.session_state["loss_landscape._map_sent"]


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def table(at) -> str:
    return next(m.value for m in at.markdown if t("loss_landscape.col_status", "en") in m.value)


def test_quadratic_theory_and_divergence_just_over_two_over_lambda_max():
    at = run()
    assert not at.exception
    assert at.title[0].value == t("loss_landscape.title", "en")
    data, bowl = sent(at), L.get_surface("quadratic", 10, 30)
    assert data["theory"]["kappa"] == 10 and data["theory"]["lr_gd"] == 1.0 and data["start"] == bowl.start
    gd = L.optimizer_path(bowl, "gd", bowl.start, 1.0, 200)
    assert data["theory"]["measured_gd"] == pytest.approx(L.measured_rate(gd))
    z, levels = map_background(bowl, 61)                                    # the map's colours, sent once
    np.testing.assert_array_equal(data["z"], z)
    assert data["levels"] == levels
    first = next(p for p in data["paths"] if p["name"] == "gd")             # the paths as torch.optim took them
    end, pts = L.drawn_points(gd, bowl)
    assert first["end"] == end and not first["diverged"]
    np.testing.assert_array_equal(floats(first["xy"]), pts.astype(np.float32).ravel())
    assert "diverged at step" not in table(at)
    at.select_slider(key="loss_landscape.lr.gd").set_value(1.995).run()
    assert not sent(at)["theory"]["gd_diverged"]
    at.select_slider(key="loss_landscape.lr.gd").set_value(2.239).run()
    assert sent(at)["theory"]["gd_diverged"] and sent(at)["theory"]["lr_gd"] == 2.239
    assert "diverged at step" in table(at)
    assert not at.exception


def test_best_settings_button_sets_gohs_values():
    at = run()
    at.slider(key="loss_landscape.kappa").set_value(100).run()
    at.button(key="loss_landscape.use_best").click().run()
    th = L.quadratic_theory(100)
    assert at.select_slider(key="loss_landscape.lr.gd").value == pytest.approx(th.gd_best_lr, rel=0.07)
    assert at.select_slider(key="loss_landscape.lr.momentum").value == pytest.approx(th.momentum_best_lr, rel=0.07)
    assert at.slider(key="loss_landscape.beta.momentum").value == pytest.approx(th.momentum_best_beta, abs=0.01)
    theory = sent(at)["theory"]                                              # the panel's inputs (the JS draws it)
    assert theory["kappa"] == 100 and theory["lr_momentum"] == at.select_slider(key="loss_landscape.lr.momentum").value
    assert theory["beta"] == pytest.approx(0.67)


def test_changing_surface_resets_start_and_rates():
    at = run()
    at.selectbox(key="loss_landscape.surface").set_value("rosenbrock").run()
    assert not at.exception
    assert (at.session_state["loss_landscape.x0"], at.session_state["loss_landscape.y0"]) == (-1.5, 2.5)
    assert sent(at)["start"] == (-1.5, 2.5) and sent(at)["surface"]["name"] == "rosenbrock"
    assert at.select_slider(key="loss_landscape.lr.gd").value == pytest.approx(1e-3, rel=0.01)
    assert sent(at)["theory"] is None                                       # the bowl only
    at.pills(key="loss_landscape.optimizers").set_value(["adam"]).run()
    assert "Adam" in table(at) and "Momentum" not in table(at)
    assert [p["name"] for p in sent(at)["paths"]] == ["adam"]


def test_chinese_and_the_real_network():
    at = run("zh", view="network", grid=11)
    assert not at.exception
    assert at.title[0].value == t("loss_landscape.title", "zh")
    caption = next(c.value for c in at.caption if "11 × 11" in c.value)
    net = L.load_landscape_mlp()
    X, y = L.mnist_tensors("train", 256)
    with torch.no_grad():
        loss = F.cross_entropy(net.model(X), y).item()
    assert f"{loss:.4f}" in caption                             # the centre is the trained network
    # (AppTest re-formats option labels in English on a rerun, so the rerun runs in English)
    at = run("en", view="network", grid=11, plane="pca")
    assert at.radio(key="loss_landscape.plane").value == "pca"
    assert not at.exception and len(at.get("vega_lite_chart")) >= 2


@pytest.mark.parametrize("view", ["toy", "network"])
def test_no_stray_none_under_the_code(view):
    """A bare expression on its own line is drawn by Streamlit's magic: a conditional call drew `None`."""
    at = run(view=view)
    assert not at.exception
    assert all(m.value.strip("`") != "None" for m in at.markdown), [m.value for m in at.markdown][-5:]
