"""The losses page under AppTest: drag the prediction and the logits, read the losses it shows."""
import math
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "losses.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in state.items():                       # start values, as a shared link would give
        at.session_state[f"losses.{k}"] = v
    return at.run()


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def test_prediction_slider_moves_mse_mae_huber_and_their_gradients():
    at = run(target=1.0)
    assert not at.exception
    at.slider(key="losses.pred").set_value(-2.0).run()
    m = metrics(at)
    assert m["MSE"] == "9.000" and m["∂MSE/∂ŷ"] == "-6.000"
    assert m["MAE"] == "3.000" and m["∂MAE/∂ŷ"] == "-1.000"
    assert m["Huber"] == "2.500" and m["∂Huber/∂ŷ"] == "-1.000"
    at.slider(key="losses.delta").set_value(3.0).run()          # |r| = 3 <= delta: quadratic part
    assert metrics(at)["Huber"] == "4.500"


def test_logits_give_softmax_cross_entropy_and_the_push_ratio():
    at = run(z0=5.0, z1=0.0, true_class=2)
    at.slider(key="losses.z2").set_value(-5.0).run()
    zs = (5.0, 0.0, -5.0)
    lse = math.log(sum(math.exp(z) for z in zs))
    p_true = math.exp(-5.0 - lse)
    m = metrics(at)
    assert m["Cross-entropy"] == f"{lse + 5.0:.3f}"
    assert m['p(“bird”)'] == f"{p_true:.3f}"
    assert float(m["CE push ÷ MSE push (true class)"].rstrip("×")) > 100   # confidently wrong
    at.radio(key="losses.true_class").set_value(0).run()                  # now confidently right
    assert float(metrics(at)["Cross-entropy"]) < 0.01
    latex = " ".join(l.value for l in at.latex)
    assert "p - y" in latex
    assert not at.exception


def test_runs_in_chinese():
    at = run("zh")
    assert not at.exception and at.title[0].value == "损失函数"
