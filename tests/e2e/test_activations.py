"""The activations page in a real browser.

- The explorable's JavaScript (app_pages/components/activation_curves.js) against ops/activations.py
  on random cases, run in Chromium: f, f' (autograd), the saturated intervals, the init std, the
  ratio formatting.
- In the app: what the JS shows equals the core (x0's value and slope, the depth ratio PyTorch
  computed); the arrow keys redraw with nothing sent to the server; the settings reach the URL once
  the moves stop; a link restores them; the page in Chinese.
"""
import json

import numpy as np
import pytest
import torch

from bigmodel_core.i18n import t
from bigmodel_core.ops.activations import ACTIVATIONS, curves, depth_gradients, derivative, init_std
from app_pages._explorables import component_js
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_activation_js_equals_python_on_random_cases(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("activation_curves", "_plot")
                        + "\nwindow.__ac = {activation, curves, initStd, gfmt, erf};", type="module")
    page.wait_for_function("() => window.__ac !== undefined")
    rng = np.random.default_rng(0)
    xs = np.concatenate([rng.normal(0, 3, 120), rng.uniform(-20, 20, 60), [0.0, -0.0, 1e-9, -1e-9, 2.5, 3.0, -3.0, 8.0]])
    grids = [(float(-r), float(r), float(th), float(a)) for r, th, a in
             zip(rng.integers(1, 21, 12), rng.uniform(0.01, 0.25, 12), rng.uniform(0.01, 0.5, 12))]
    ratios = np.concatenate([10.0 ** rng.uniform(-35, 3, 40), [1.0, 0.5, 123.456, 1e-5, 9.99e-5]])
    slopes = rng.uniform(0.01, 0.5, len(xs))
    got = page.evaluate("""([xs, slopes, grids, ratios]) => {
        const A = window.__ac, names = ["sigmoid", "tanh", "relu", "leaky_relu", "gelu", "silu"];
        const point = {}, sat = {}, std = {};
        for (const n of names) {
          point[n] = xs.map((x, i) => A.activation(n, x, slopes[i]));
          sat[n] = grids.map(([lo, hi, th, a]) => A.curves(n, lo, hi, 241, th, a).saturated);
          std[n] = ["xavier", "he", "typical"].map((init) => A.initStd(init, 128, 128, n, 0.2,
            {sigmoid: "xavier", tanh: "xavier", relu: "he", leaky_relu: "he", gelu: "he", silu: "he"}));
        }
        return {point, sat, std, g3: ratios.map((r) => A.gfmt(r, 3)), g2: ratios.map((r) => A.gfmt(r, 2))};
    }""", [xs.tolist(), slopes.tolist(), grids, ratios.tolist()])
    worst = 0.0
    for name in ACTIVATIONS:
        js = np.asarray(got["point"][name])                                    # (N, 2): f, f'
        for i, (x, a) in enumerate(zip(xs, slopes)):                           # autograd, float64, per slope
            y, dy = derivative(name, torch.tensor([x], dtype=torch.float64), float(a))
            worst = max(worst, abs(js[i, 0] - y.item()), abs(js[i, 1] - dy.item()))
        for (lo, hi, th, a), regions in zip(grids, got["sat"][name]):
            want = curves(name, lo, hi, n=241, threshold=th, negative_slope=a).saturated
            assert len(regions) == len(want), (name, lo, th, a)
            assert np.allclose(np.asarray(regions).reshape(-1), np.asarray(want).reshape(-1), atol=1e-12)
        for init, v in zip(("xavier", "he", "typical"), got["std"][name]):
            assert v == pytest.approx(init_std(init, 128, 128, name, 0.2), rel=1e-12)
    assert worst < 1e-12, worst
    assert got["g3"] == [f"{r:.3g}" for r in ratios]
    assert got["g2"] == [f"{r:.2g}" for r in ratios]
    page.close()


def _data(page) -> dict:
    """The numbers the explorable wrote on its root (data-* attributes, inside the shadow root)."""
    root = page.locator(".ac-root")
    return {k: root.get_attribute(f"data-{k}") for k in ("focus", "x0", "y0", "d0", "depth", "ratio", "regions")}


def test_keys_redraw_in_the_browser_then_commit_to_the_url(app_url, page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(app_url)                       # the app first, so the page opens inside its navigation
    wait_idle(page)
    page.goto(f"{app_url}/activations")
    wait_idle(page)
    assert_no_exception(page)
    page.locator(".ac-root").wait_for()
    d = _data(page)
    y, dy = derivative("sigmoid", torch.tensor([2.0], dtype=torch.float64))
    assert (d["focus"], float(d["x0"])) == ("sigmoid", 2.0)
    assert abs(float(d["y0"]) - y.item()) < 1e-12 and abs(float(d["d0"]) - dy.item()) < 1e-12
    assert float(d["ratio"]) == pytest.approx(depth_gradients("sigmoid", 20)[20], rel=1e-9)

    # x0 and N with the keyboard: redrawn at once, nothing sent to the server
    before = len(sent)
    x0 = page.locator('.ac-slider input[name="x0"]')
    x0.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")                       # 2.00 -> 2.15
    page.locator('.ac-slider input[name="depth"]').focus()
    page.keyboard.press("End")                                  # N = 50
    page.wait_for_timeout(150)
    assert len(sent) == before
    d = _data(page)
    y, dy = derivative("sigmoid", torch.tensor([2.15], dtype=torch.float64))
    assert float(d["x0"]) == pytest.approx(2.15) and abs(float(d["d0"]) - dy.item()) < 1e-12
    assert float(d["ratio"]) == pytest.approx(depth_gradients("sigmoid", 50)[50], rel=1e-9) and float(d["ratio"]) < 1e-20
    assert page.locator(".ac-eq-numbers").first.inner_text().startswith("σ(2.15) = ")
    # the settings reach the URL 0.6 s after the last key, in one message
    page.wait_for_url("**activations.depth=50**")
    assert "activations.x0=2.15" in page.url
    wait_idle(page)
    assert_no_exception(page)

    # ReLU (a radio in the browser): the gradient survives 50 layers with He weights
    page.locator(".ac-radio", has_text="ReLU").first.click()
    page.wait_for_url("**activations.focus=relu**")
    d = _data(page)
    assert d["focus"] == "relu" and 0.1 < float(d["ratio"]) < 10
    assert float(d["ratio"]) == pytest.approx(depth_gradients("relu", 50, "he")[50], rel=1e-9)
    screenshot(page, "activations-relu")


def test_a_link_restores_the_settings_and_chinese(app_url, page):
    page.goto(f"{app_url}/activations?activations.focus=relu&activations.x0=-1.5&activations.xmax=6"
              "&activations.depth=7&lang=zh")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "激活函数"
    page.locator(".ac-root").wait_for()
    d = _data(page)
    assert (d["focus"], float(d["x0"]), int(d["depth"]), float(d["d0"])) == ("relu", -1.5, 7, 0.0)
    regions = json.loads(d["regions"])
    assert regions[0][0] == -6 and abs(regions[0][1]) < 0.05    # the whole negative side, up to 0
    assert page.locator(".ac-h").inner_text() == t("activations.depth_title", "zh")
    screenshot(page, "activations-zh")
