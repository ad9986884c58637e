"""Browser tests of the robustness and privacy page (attack, eps slider, a bad link, FedAvg from the page)
and of LIME / KernelSHAP on the interpretability page; screenshots."""
import torch

from bigmodel_core.data import load_mnist
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.robustness import fgsm
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

SLOW = 300_000      # the first visit computes both models' FGSM curves over 500 digits


def _predictions(index: int, eps: float) -> tuple[str, str]:
    split = load_mnist()
    x = torch.from_numpy(split.x_test[index] / 255.0).float().view(1, 1, 28, 28)
    y = torch.tensor([int(split.y_test[index])])
    model = load_cnn(device=torch.device("cpu"))
    with torch.no_grad():
        return str(int(model(x).argmax())), str(int(model(fgsm(model, x, y, eps)).argmax()))


def _metric_values(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def test_attack_a_digit_and_move_eps(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/robustness?robustness.index=3&robustness.eps=0.25")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "Robustness & privacy"
    assert _metric_values(page)[:2] == list(_predictions(3, 0.25))
    screenshot(page, "robustness-fgsm")
    thumb = page.locator('.st-key-robustness-eps input[type="range"]')
    thumb.focus()
    page.keyboard.press("ArrowRight")                           # 0.25 -> 0.26: the fragment reruns
    page.wait_for_url("**robustness.eps=0.26*")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert _metric_values(page)[:2] == list(_predictions(3, 0.26))


def test_a_bad_link_says_what_is_wrong(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/robustness?robustness.eps=10")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert page.get_by_text("ε = 10.0 is not allowed").count() == 1
    page.goto(f"{app_url}/robustness?robustness.topic=federated&robustness.clients=0")
    wait_idle(page, timeout=SLOW)
    assert page.get_by_text("0 clients is not possible").count() == 1


def test_fedavg_from_the_page(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/robustness?robustness.topic=federated&robustness.clients=5&robustness.rounds=2"
              f"&robustness.fraction=0.2&robustness.split=two_classes")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    page.get_by_role("button", name="Train with FedAvg").click()
    page.get_by_text("After 2 rounds: FedAvg").wait_for(timeout=SLOW)
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 1
    screenshot(page, "robustness-fedavg")


def test_lime_and_kernel_shap_on_the_interpretability_page(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/interpretability?interpretability.index=7&interpretability.samples=50"
              f"&interpretability.patch=7")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    for name in ("LIME", "KernelSHAP", "KernelSHAP's additivity check"):
        assert page.get_by_text(name, exact=True).count() >= 1
    page.locator(".st-key-interpretability-patch button", has_text="4×4 (49)").click()
    page.wait_for_url("**interpretability.patch=4*")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert page.get_by_text("KernelSHAP: 49 features, 50 samples", exact=False).count() == 1
    screenshot(page, "interpretability-lime-shap")
