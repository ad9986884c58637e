"""The loss-landscape page in a real browser: the map explorable's arithmetic equals the core's, its arrow
keys send nothing, Enter and a click move the start, the lr slider reruns the paths, the network draws."""
import math
import re

import numpy as np
import pytest
import torch

from app_pages._explorables import component_js
from bigmodel_core import landscape as L
from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def open_page(page, app_url, query=""):
    page.goto(app_url)                       # the app frame first (sidebar, language), then the page
    wait_idle(page)
    page.goto(f"{app_url}/loss_landscape{query}")
    wait_idle(page, timeout=180_000)
    assert_no_exception(page)


def test_landscape_map_js_equals_python_on_random_cases(browser):
    """The map's arithmetic (landscape_map.js) against bigmodel_core.landscape: f and its gradient on
    every surface, the start point's snapping, GD's first step against torch.optim's, Goh's theory."""
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("landscape_map") + "\nwindow.__lm = {surfaceF, surfaceGrad, snapStart, "
                        "firstStep, quadraticTheory, gdRate, stepsTo};", type="module")
    page.wait_for_function("() => window.__lm !== undefined")
    rng = np.random.default_rng(0)
    cases = []
    for name in L.SURFACE_NAMES:
        for _ in range(30):
            surf = L.get_surface(name, float(rng.uniform(1, 100)), float(rng.uniform(0, 90)))
            x, y = rng.uniform(surf.xlim[0] - 1, surf.xlim[1] + 1), rng.uniform(surf.ylim[0] - 1, surf.ylim[1] + 1)
            lr = float(10 ** rng.uniform(-4, 0.3))
            cases.append(({"name": name, "kappa": surf.kappa, "angle": surf.angle, "xlim": list(surf.xlim),
                           "ylim": list(surf.ylim)}, float(x), float(y), lr, surf))
    kappas = [float(v) for v in rng.uniform(1, 100, 40)]
    lrs = [float(v) for v in 10 ** rng.uniform(-3, 0.5, 40)]
    got = page.evaluate("""([cases, kappas, lrs]) => ({
        points: cases.map(([s, x, y, lr]) => [window.__lm.surfaceF(s, x, y), ...window.__lm.surfaceGrad(s, x, y),
                                              ...window.__lm.snapStart(s, x, y, 0.05), window.__lm.firstStep(s, x, y, lr)]),
        theory: kappas.map((k, i) => { const th = window.__lm.quadraticTheory(k);
                                       const r = window.__lm.gdRate(th, lrs[i]);
                                       return [th, r, window.__lm.stepsTo(r), window.__lm.stepsTo(th.gd_best_rate)]; }),
    })""", [[c[:4] for c in cases], kappas, lrs])
    worst = 0.0
    for (s, x, y, lr, surf), (f, gx, gy, sx, sy, step) in zip(cases, got["points"]):
        X, Y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        want_g = [float(v) for v in surf.grad(X, Y)]
        for a, b in ((f, float(surf.f(X, Y))), (gx, want_g[0]), (gy, want_g[1])):
            worst = max(worst, abs(a - b) / max(1.0, abs(b)))
        assert (sx, sy) == pytest.approx(L.snap_start(surf, x, y), abs=1e-12)
        path = L.optimizer_path(surf, "gd", (x, y), lr, 1)                       # torch.optim.SGD's first step
        assert [step["x1"], step["y1"]] == pytest.approx(path.points[1].tolist(), rel=1e-12, abs=1e-12)
        assert step["f1"] == pytest.approx(float(path.losses[1]), rel=1e-12, abs=1e-12)
    assert worst < 1e-12
    for kappa, lr, (th, rate, steps, best_steps) in zip(kappas, lrs, got["theory"]):
        want = L.quadratic_theory(kappa)
        for field in ("lambda_min", "lambda_max", "gd_max_lr", "gd_best_lr", "gd_best_rate", "momentum_best_lr",
                      "momentum_best_beta", "momentum_best_rate"):
            assert th[field] == pytest.approx(getattr(want, field), rel=1e-12)
        assert rate == pytest.approx(want.gd_rate(lr), rel=1e-12)
        want_steps = want.steps_to(want.gd_rate(lr))
        assert (steps is None and math.isinf(want_steps)) or steps == pytest.approx(want_steps, rel=1e-12)
        assert best_steps == pytest.approx(want.steps_to(want.gd_best_rate), rel=1e-12)
    page.close()


def map_state(page) -> dict:
    root = page.locator(".lm-root")
    return {name: root.get_attribute(f"data-{name}") for name in ("x", "y", "f0", "gx", "gy", "x1", "y1", "pending",
                                                                   "gd-rate", "gd-max-lr")}


def test_map_keys_click_and_learning_rate(app_url, page):
    """A link restores the start; the arrow keys move it in the browser with nothing sent to the server
    and the numbers equal the core's; Enter commits it (URL), a click moves it, the lr slider reruns
    the paths fragment and the theory panel says GD diverges past 2 / lambda_max."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    open_page(page, app_url, "?loss_landscape.x0=-2&loss_landscape.y0=1.5")
    page.locator(".lm-root").wait_for()
    page.wait_for_function("() => true")
    bowl = L.get_surface("quadratic", 10, 30)
    s = map_state(page)
    assert (float(s["x"]), float(s["y"])) == (-2.0, 1.5) and s["pending"] == "0"     # the link's start
    assert float(s["gd-max-lr"]) == pytest.approx(2.0)
    assert "converges" in page.locator(".lm-your").first.inner_text()

    canvas = page.locator(".lm-canvas")
    canvas.focus()
    before = len(sent)
    for key in ("ArrowRight", "ArrowRight", "ArrowRight", "ArrowUp", "ArrowUp"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert len(sent) == before                                       # drawn in the browser only
    s = map_state(page)
    assert (float(s["x"]), float(s["y"])) == (-1.85, 1.6) and s["pending"] == "1"
    first = L.optimizer_path(bowl, "gd", (-1.85, 1.6), 1.0, 1)       # lr 1: the bowl's default
    g = [float(v) for v in bowl.grad(torch.tensor(-1.85, dtype=torch.float64), torch.tensor(1.6, dtype=torch.float64))]
    assert [float(s["gx"]), float(s["gy"])] == pytest.approx(g, rel=1e-12)
    assert [float(s["x1"]), float(s["y1"])] == pytest.approx(first.points[1].tolist(), rel=1e-12)
    page.keyboard.press("Enter")                                     # the commit
    page.wait_for_url("**loss_landscape.x0=-1.85**")
    wait_idle(page)
    assert "loss_landscape.y0=1.6" in page.url and len(sent) > before
    assert map_state(page)["pending"] == "0"
    assert_no_exception(page)
    screenshot(page, "loss_landscape-toy")

    box = canvas.bounding_box()                                      # a click: lower left of the plot
    canvas.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.7})
    page.wait_for_url(lambda url: "loss_landscape.x0=-1.85" not in url)
    wait_idle(page)
    assert float(map_state(page)["x"]) < -0.5 and float(map_state(page)["y"]) < 0

    thumb = page.locator('.st-key-loss_landscape-lr-gd input[type="range"]')   # Streamlit 1.67: a range input
    for _ in range(7):                                   # 1 -> 2.239: just over 2 / lambda_max
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    assert thumb.get_attribute("aria-valuetext") == "2.24"
    page.locator(".lm-your", has_text="2.24").wait_for()
    assert "diverges" in page.locator(".lm-your").first.inner_text()
    assert float(map_state(page)["gd-rate"]) == pytest.approx(L.quadratic_theory(10).gd_rate(2.239), rel=1e-9)
    assert page.get_by_text(re.compile("diverged at step")).count() >= 1
    assert_no_exception(page)
    screenshot(page, "loss_landscape-diverged")


def test_real_network_surface_and_chinese(app_url, page):
    open_page(page, app_url, "?lang=zh&loss_landscape.view=network&loss_landscape.grid=11"
                             "&loss_landscape.plane=pca")
    assert page.locator("h1").first.inner_text() == t("loss_landscape.title", "zh")
    page.get_by_text(re.compile("11 × 11")).first.wait_for()
    page.wait_for_function(                                  # the surface and the 1-D line are drawn
        "() => Array.from(document.querySelectorAll('[data-testid=stVegaLiteChart]'))"
        ".filter(c => c.querySelector('canvas, svg')).length >= 2")
    assert_no_exception(page)
    screenshot(page, "loss_landscape-network-zh")
