"""Browser tests of the robustness and privacy page (attack, eps slider, a bad link, FedAvg from the page)
and of LIME / KernelSHAP on the interpretability page; screenshots."""
import numpy as np
import pytest
import torch

from bigmodel_core.data import load_mnist
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.robustness import eps_grid, fgsm, perturb, perturbation_numbers
from app_pages._explorables import component_js
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


def test_eps_js_equals_python_on_random_cases(browser):
    """robustness_eps.js's perturb / perturbationNumbers / argmaxRow / epsIndex against the core, many
    random digits, directions and grid eps in one page."""
    rng = np.random.default_rng(18)
    cases, want = [], []
    grid = eps_grid()
    for _ in range(40):
        x = rng.uniform(0, 1, 784).astype(np.float32)
        x[rng.random(784) < 0.3] = 0.0                                  # background pixels: the clip at 0
        x[rng.random(784) < 0.1] = 1.0                                  # ink: the clip at 1
        d = rng.integers(-1, 2, 784).astype(np.float32)
        k = int(rng.integers(0, len(grid)))
        probs = rng.dirichlet(np.ones(10), size=51).astype(np.float32)
        xt = torch.from_numpy(x)
        x_adv = perturb(xt, torch.from_numpy(d), grid[k])
        cases.append({"x": x.tolist(), "d": d.tolist(), "eps": grid[k], "probs": probs.ravel().tolist(), "k": k})
        want.append((x_adv.numpy(), perturbation_numbers(xt, x_adv, grid[k]), int(probs[k].argmax()), k))
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("robustness_eps") +
                        "\nwindow.__re = {perturb, perturbationNumbers, argmaxRow, epsIndex};", type="module")
    page.wait_for_function("() => window.__re !== undefined")
    got = page.evaluate("""(cases) => cases.map((c) => {
        const x = Float32Array.from(c.x), d = Float32Array.from(c.d), p = Float32Array.from(c.probs);
        const xAdv = window.__re.perturb(x, d, c.eps);
        return {xAdv: Array.from(xAdv), nums: window.__re.perturbationNumbers(x, xAdv, c.eps),
                k: window.__re.epsIndex(c.eps, 0.01, 51), pred: window.__re.argmaxRow(p, c.k)};
    })""", cases)
    page.close()
    err = 0.0
    for (x_adv, nums, pred, k), g in zip(want, got):
        err = max(err, float(np.abs(np.asarray(g["xAdv"]) - x_adv).max()))
        assert (g["nums"]["plus"], g["nums"]["minus"], g["nums"]["clipped"]) == (nums["plus"], nums["minus"], nums["clipped"])
        assert g["nums"]["linf"] == pytest.approx(nums["linf"], abs=1e-6)
        assert g["nums"]["l2"] == pytest.approx(nums["l2"], abs=1e-5)
        assert (g["k"], g["pred"]) == (k, pred)
    print(f"robustness_eps.js perturb vs core: max |diff| {err:.1e}")
    assert err < 1e-6, err                              # float32 in both: in practice 0


def test_attack_a_digit_and_move_eps(app_url, page):
    frames = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(payload)))
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/robustness?robustness.index=3&robustness.eps=0.25")
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "Robustness & privacy"
    root = page.locator(".re-root")
    root.wait_for()
    drawn = root.evaluate("e => ({...e.dataset})")
    assert drawn["eps"] == "0.25"                                   # the link restores eps
    assert (drawn["clean"], drawn["pred"]) == _predictions(3, 0.25)
    screenshot(page, "robustness-fgsm")
    before = len(frames)
    thumb = page.locator('.re-root input[name="eps"]')
    thumb.focus()
    for key in ("ArrowRight", "ArrowRight", "ArrowLeft"):           # 0.25 -> 0.26: redrawn in the browser
        page.keyboard.press(key)
    page.wait_for_timeout(200)
    assert len(frames) == before                                    # nothing sent to the server
    drawn = root.evaluate("e => ({...e.dataset})")
    assert drawn["eps"] == "0.26"
    assert (drawn["clean"], drawn["pred"]) == _predictions(3, 0.26)
    page.wait_for_url("**robustness.eps=0.26*", timeout=10_000)     # the commit reaches the address bar
    wait_idle(page, timeout=SLOW)
    assert_no_exception(page)
    assert root.evaluate("e => e.dataset.eps") == "0.26"            # the rerun kept the learner's eps


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
