"""The losses page in a real browser.

- The explorable's JavaScript (app_pages/components/loss_curves.js) against ops/losses.py on random
  cases, run in Chromium: each regression loss and its autograd gradient, the curves, softmax,
  cross-entropy, MSE on the probabilities and both gradients, the true-logit sweep.
- In the app: the numbers the JS shows equal the core's; the arrow keys redraw with nothing sent to
  the server; the settings reach the URL once the moves stop; a link restores them; Chinese.
"""
import json

import numpy as np
import pytest

from bigmodel_core.i18n import t
from bigmodel_core.ops.losses import REGRESSION_LOSSES, classify, regression_curves, regression_point, true_logit_sweep
from app_pages._explorables import component_js
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_loss_js_equals_python_on_random_cases(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("loss_curves", "_plot")
                        + "\nwindow.__lc = {regressionPoint, regressionCurves, classify, trueLogitSweep, spreadLabels};", type="module")
    page.wait_for_function("() => window.__lc !== undefined")
    rng = np.random.default_rng(0)
    points = [(float(p), float(y), float(d)) for p, y, d in
              zip(rng.uniform(-5, 5, 60), rng.uniform(-3, 3, 60), rng.uniform(0.1, 3, 60))]
    points += [(1.0, 1.0, 1.0), (2.0, 1.0, 1.0), (0.0, 1.5, 1.5)]            # r = 0 and |r| = delta exactly
    grids = [(float(y), float(d)) for y, d in zip(rng.uniform(-3, 3, 4), rng.uniform(0.1, 3, 4))]
    logits = [[float(v) for v in rng.uniform(-6, 6, 3)] for _ in range(40)] + [[5.0, 0.0, -5.0], [30.0, -30.0, 0.0]]
    classes = [int(c) for c in rng.integers(0, 3, len(logits))]
    got = page.evaluate("""([points, grids, logits, classes]) => {
        const A = window.__lc, names = ["mse", "mae", "huber"];
        return {
          points: points.map(([p, y, d]) => names.map((n) => A.regressionPoint(n, p, y, d))),
          curves: grids.map(([y, d]) => { const c = A.regressionCurves(y, -5, 5, d, 241);
            return [Array.from(c.x), ...names.flatMap((n) => [Array.from(c[n].value), Array.from(c[n].grad)])]; }),
          cls: logits.map((z, i) => A.classify(z, classes[i])),
          sweep: logits.slice(0, 5).map((z, i) => { const s = A.trueLogitSweep(z, classes[i], -6, 6, 121);
            return [Array.from(s.cross_entropy.value), Array.from(s.cross_entropy.push),
                    Array.from(s.mse_probs.value), Array.from(s.mse_probs.push)]; }),
          labels: points.map(([p, y, d]) => { const v = Object.fromEntries(names.map((n) => [n, A.regressionPoint(n, p, y, d)[1]]));
            return [v, A.spreadLabels(v, 0.4)]; }),
        };
    }""", [points, grids, logits, classes])
    worst = 0.0
    for (p, y, d), js in zip(points, got["points"]):
        for name, (loss, grad) in zip(REGRESSION_LOSSES, js):
            want = regression_point(name, p, y, d)
            worst = max(worst, abs(loss - want.loss), abs(grad - want.grad))
    for (y, d), js in zip(grids, got["curves"]):
        frame = regression_curves(y, -5.0, 5.0, delta=d, n=241)
        assert np.array_equal(js[0], frame[frame["loss"] == "mse"]["prediction"].to_numpy())   # the same grid
        for i, name in enumerate(REGRESSION_LOSSES):
            sub = frame[frame["loss"] == name]
            worst = max(worst, np.abs(np.asarray(js[1 + 2 * i]) - sub["value"].to_numpy()).max(),
                        np.abs(np.asarray(js[2 + 2 * i]) - sub["grad"].to_numpy()).max())
    for z, k, js in zip(logits, classes, got["cls"]):
        want = classify(z, k)
        for key, attr in (("probs", "probs"), ("ceGrad", "ce_grad"), ("mseGrad", "mse_grad"), ("target", "target")):
            worst = max(worst, np.abs(np.asarray(js[key]) - getattr(want, attr)).max())
        worst = max(worst, abs(js["ce"] - want.ce), abs(js["mse"] - want.mse))
    for z, k, js in zip(logits, classes, got["sweep"]):
        frame = true_logit_sweep(z, k, -6.0, 6.0, n=121)
        for i, name in enumerate(("cross_entropy", "mse_probs")):
            sub = frame[frame["loss"] == name]
            worst = max(worst, np.abs(np.asarray(js[2 * i]) - sub["value"].to_numpy()).max(),
                        np.abs(np.asarray(js[2 * i + 1]) - sub["push"].to_numpy()).max())
    assert worst < 1e-12, worst
    for values, heights in got["labels"]:       # the value labels stay a text line apart, each under its point
        ys = sorted(heights.values())
        assert all(b - a >= 0.4 - 1e-12 for a, b in zip(ys, ys[1:])), (values, heights)
        assert all(heights[n] <= values[n] + 1e-12 for n in values)
    page.close()


def _root(page, part: str):
    return page.locator(f'.lc-root[data-part="{part}"]')


def test_keys_redraw_in_the_browser_commit_to_the_url_and_a_link_restores(app_url, page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(app_url)                       # the app first, so the page opens inside its navigation
    wait_idle(page)
    page.goto(f"{app_url}/losses")
    wait_idle(page)
    assert_no_exception(page)
    reg, cls = _root(page, "regression"), _root(page, "classification")
    reg.wait_for()
    assert reg.locator(".lc-metric-value").first.inner_text() == "4.000"          # MSE of 3.0 against 1.0

    before = len(sent)
    reg.locator('input[name="pred"]').focus()
    page.keyboard.press("Home")                                                     # prediction -5: MSE = 36
    cls.locator('input[name="z2"]').focus()                                         # raise the true class's logit
    page.keyboard.press("End")
    page.wait_for_timeout(150)
    assert len(sent) == before
    values = reg.locator(".lc-metric-value").all_inner_texts()
    assert values[:2] == ["36.000", "-12.000"]                                     # 2 (yhat - y)
    want = classify([3.0, 0.5, 6.0], 2)
    assert np.allclose(json.loads(cls.get_attribute("data-probs")), want.probs, atol=1e-12)
    assert float(cls.get_attribute("data-ce")) == pytest.approx(want.ce, abs=1e-12)
    assert cls.locator(".lc-metric-value").nth(1).inner_text() == f"{want.ce:.3f}"
    assert "p − y" in cls.locator(".lc-formula").inner_text()
    page.wait_for_url("**losses.z2=6.0**")                                          # committed after the moves
    page.wait_for_url("**losses.pred=-5.0**")
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "losses-moved")

    # a link restores both pictures (here in Chinese)
    page.goto(f"{app_url}/losses?losses.pred=-2.0&losses.delta=3.0&losses.z0=5.0&losses.z1=0.0&losses.z2=-5.0"
              "&losses.true_class=2&lang=zh")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "损失函数"
    reg, cls = _root(page, "regression"), _root(page, "classification")
    reg.wait_for()
    assert json.loads(reg.get_attribute("data-values"))[2] == [4.5, -3.0]          # |r| = 3 <= delta: quadratic
    m = cls.locator(".lc-metric-value").all_inner_texts()
    assert float(m[3].rstrip("×")) > 100                                            # confidently wrong: CE pushes
    assert cls.locator(".lc-metric-label").first.inner_text() == t("losses.metric_p", "zh", name="鸟")
    screenshot(page, "losses-zh")
