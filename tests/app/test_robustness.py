"""AppTest of the robustness and privacy page: the attack and its numbers, bad input from a link or the
session, FedAvg trained from the page, both languages."""
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from bigmodel_core.data import load_mnist
from bigmodel_core.i18n import t
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.robustness import fgsm, input_gradient
from tests.app._explorable import f32, sent

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "robustness.py")


def make(lang="en", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[f"robustness.{key}"] = value
    return at


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [w.value for w in at.warning] + [i.value for i in at.info]
                     + [e.value for e in at.error] + [s.value for s in at.success] + [c.value for c in at.caption])


def test_fgsm_the_page_sends_the_models_own_answer_at_every_eps():
    """FGSM is an explorable: the page sends the digit, sign(grad) and the probabilities on the eps grid;
    each must be what the core's fgsm and the model give for this held-out digit."""
    at = make(index=3, eps=0.25).run()
    assert not at.exception
    data, = sent(at, "robustness_eps")
    assert data["eps"] == 0.25 and data["target"] is None and data["step"] == 0.01
    split = load_mnist()
    x = torch.from_numpy(split.x_test[3] / 255.0).float().view(1, 1, 28, 28)
    y = torch.tensor([int(split.y_test[3])])
    model = load_cnn(device=torch.device("cpu"))
    probs = f32(data["probs"], (51, 10))
    assert np.array_equal(f32(data["x"], (28, 28)), x[0, 0].numpy())
    assert np.array_equal(f32(data["direction"], (28, 28)), input_gradient(model, x, y)[0, 0].sign().numpy())
    with torch.no_grad():
        for k in (0, 10, 25, 50):
            p = model(fgsm(model, x, y, k / 100)).softmax(-1)[0].numpy()
            assert np.allclose(probs[k], p, atol=1e-5)           # the bars and the prediction at eps = k / 100
    loss = f32(data["loss"], (51,))
    assert loss[25] > loss[0]                                    # FGSM raised the loss
    assert [c["name"] for c in data["curves"]][:2] == ["standard CNN · FGSM", "adversarially trained · FGSM"]
    assert data["curves"][0]["rows"][0]["eps"] == 0.0 and data["curves"][0]["rows"][0]["flipped"] == 0
    assert len(at.dataframe) == 1                                        # the defence's numbers
    assert at.dataframe[0].value.shape[0] == 2


def test_pgd_keeps_the_server_side_numbers():
    at = make(index=3, eps=0.25, attack="pgd", pgd_steps=5).run()
    assert not at.exception
    assert not sent(at, "robustness_eps")
    body = texts(at)
    counts = re.search(r"For this digit: (\d+) pixels moved up by the full ε, (\d+) down by the full ε, (\d+) less",
                       body)
    assert counts and sum(int(c) for c in counts.groups()) == 784
    loss = re.search(r"L\(f\(x\), y\) went from ([\d.]+) to ([\d]+\.[\d]+)", body)
    assert loss and float(loss.group(2)) > float(loss.group(1))          # PGD raised the loss


def test_targeted_and_pgd_attacks_run():
    at = make(attack="targeted", target=3, eps=0.3).run()
    assert not at.exception
    data, = sent(at, "robustness_eps")
    probs = f32(data["probs"], (51, 10))
    assert data["target"] == 3 and probs[30, 3] > probs[0, 3]           # stepping down class 3's loss
    at.session_state["robustness.attack"] = "pgd"
    at.run()
    assert not at.exception
    assert at.slider(key="robustness.pgd_steps").value == 10


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_eps_10_is_reported_not_a_crash(lang):
    at = make(lang, eps=10.0).run()
    assert not at.exception
    assert at.error and at.error[0].value.startswith(t("robustness.errors.eps", lang, eps=10.0, max_eps=0.5)[:12])
    assert sent(at, "robustness_eps")[0]["eps"] == pytest.approx(0.1)    # back to the default, still working


def test_fedavg_trains_from_the_page_and_no_digit_leaves_a_client():
    at = make(topic="federated", clients=5, rounds=2, fraction=0.2, split="two_classes").run()
    assert not at.exception
    assert "Press **Train with FedAvg**" in texts(at)
    at.button(key="robustness.train").click().run()
    assert not at.exception
    done = next(s.value for s in at.success)
    assert done.startswith("After 2 rounds: FedAvg")
    table = at.dataframe[0].value
    assert len(table) == 5
    assert table["rounds taken part"].sum() == 2                        # m = max(1, round(0.2 * 5)) = 1 a round
    assert (table["digits sent"] == 0).all()
    assert all(len(c.split()) == 2 for c in table["classes"])          # two classes per client
    # the same run with privacy noise: the page shows what the noise cost against the run above
    plain_acc = float(re.search(r"FedAvg ([\d.]+)%", done).group(1))
    at.session_state["robustness.clip"] = 1.0
    at.session_state["robustness.noise"] = 0.1
    at.run()
    at.button(key="robustness.train").click().run()
    assert not at.exception
    noisy = next(s.value for s in at.success)
    m = re.search(r"FedAvg ([\d.]+)%.*Without the privacy noise the same run reached ([\d.]+)%: the noise cost "
                  r"([+-][\d.]+) points", noisy)
    assert m, noisy
    assert float(m.group(2)) == plain_acc
    assert float(m.group(3)) == pytest.approx(plain_acc - float(m.group(1)), abs=0.11)


@pytest.mark.parametrize("key,lang,needle", [("clients", "en", "0 clients is not possible"),
                                             ("rounds", "zh", "0 轮不可行")])
def test_zero_clients_or_rounds_are_clear_messages(key, lang, needle):
    at = make(lang, topic="federated", **{key: 0}).run()
    assert not at.exception
    assert any(needle in e.value for e in at.error)


def test_chinese_adversarial_page():
    at = make("zh").run()
    assert not at.exception
    assert at.title[0].value == "鲁棒性与隐私"
    assert any("对抗训练" in m.value for m in at.markdown)


def test_a_diverging_learning_rate_is_reported_never_drawn_as_nan():
    at = make(topic="federated", clients=5, rounds=2, fraction=0.2, lr=10.0).run()
    at.button(key="robustness.train").click().run()
    assert not at.exception
    assert any("FedAvg diverged in round 1" in e.value for e in at.error)
    spec = at.get("vega_lite_chart")[0].proto.spec
    assert "NaN" not in spec and "Infinity" not in spec
