"""AppTest of the loss-landscape page: theory numbers, divergence, best settings, surfaces, the network."""
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from bigmodel_core import landscape as L
from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "loss_landscape.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[f"loss_landscape.{key}"] = value
    return at.run()


def text(at) -> str:
    return "\n".join(m.value for m in at.markdown)


def metric(at, label_key: str) -> str:
    return next(m.value for m in at.metric if m.label == t(f"loss_landscape.{label_key}", "en"))


def test_quadratic_theory_and_divergence_just_over_two_over_lambda_max():
    at = run()
    assert not at.exception
    assert at.title[0].value == t("loss_landscape.title", "en")
    assert metric(at, "gd_max_lr") == "2"                      # lambda_max = 1
    assert metric(at, "gd_best") == f"{2 / 1.1:.3g}"            # kappa = 10: 2 / (0.1 + 1)
    assert "→ converges" in text(at) and "diverged at step" not in text(at)
    at.select_slider(key="loss_landscape.lr.gd").set_value(1.995).run()
    assert "→ converges" in text(at)
    at.select_slider(key="loss_landscape.lr.gd").set_value(2.239).run()
    assert "→ diverges" in text(at) and "diverged at step" in text(at)
    assert not at.exception


def test_best_settings_button_sets_gohs_values():
    at = run()
    at.slider(key="loss_landscape.kappa").set_value(100).run()
    at.button(key="loss_landscape.use_best").click().run()
    th = L.quadratic_theory(100)
    assert at.select_slider(key="loss_landscape.lr.gd").value == pytest.approx(th.gd_best_lr, rel=0.07)
    assert at.select_slider(key="loss_landscape.lr.momentum").value == pytest.approx(th.momentum_best_lr, rel=0.07)
    assert at.slider(key="loss_landscape.beta.momentum").value == pytest.approx(th.momentum_best_beta, abs=0.01)
    assert metric(at, "gd_best") == "1.98" and metric(at, "momentum_best") == "3.31, β = 0.67"
    deltas = " ".join(m.proto.delta for m in at.metric)
    assert "0.980" in deltas and "0.818" in deltas              # (k-1)/(k+1) and (sqrt k-1)/(sqrt k+1)


def test_changing_surface_resets_start_and_rates():
    at = run()
    at.selectbox(key="loss_landscape.surface").set_value("rosenbrock").run()
    assert not at.exception
    assert (at.slider(key="loss_landscape.x0").value, at.slider(key="loss_landscape.y0").value) == (-1.5, 2.5)
    assert at.select_slider(key="loss_landscape.lr.gd").value == pytest.approx(1e-3, rel=0.01)
    assert not [m for m in at.metric if m.label == t("loss_landscape.gd_max_lr", "en")]   # bowl only
    at.pills(key="loss_landscape.optimizers").set_value(["adam"]).run()
    table = next(m.value for m in at.markdown if t("loss_landscape.col_status", "en") in m.value)
    assert "Adam" in table and "Momentum" not in table


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
