"""The compression page in Chromium: move the bits slider by keyboard, open the Q4_1, pruning and
distillation tabs, refuse 100 % sparsity, and the Chinese page from a link."""
import math

import numpy as np
import pytest
import torch

from app_pages._explorables import component_js
from bigmodel_core.charts.compression import histogram_rows
from bigmodel_core.compress import quantization_error, quantize_tensor
from bigmodel_core.compress_results import load_results
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

RESULTS = load_results()


def metric_value(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def test_bits_js_equals_python_on_random_cases(browser):
    """compression_bits.js's quantize / quantError / histogram against quantize_tensor,
    quantization_error and histogram_rows: random weight vectors, bits 2..8, per tensor and per
    channel, plus exact ties (round half to even), in one page."""
    rng = np.random.default_rng(15)
    cases = []
    for i in range(42):
        rows, cols = int(rng.integers(1, 9)), int(rng.integers(1, 40))
        w = (rng.standard_t(3, size=(rows, cols)) * rng.uniform(0.01, 1)).astype(np.float32)
        w[rng.random(w.shape) < 0.1] = 0.0
        cases.append((w, 2 + i % 7, bool(i % 2)))
    cases.append((np.array([[6, 1, 3, 5, -3, -5, -1, 0]], dtype=np.float32), 3, False))   # S = 2: ties at .5
    cases.append((np.zeros((2, 3), dtype=np.float32), 4, True))                           # S = 0
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("compression_bits") +
                        "\nwindow.__cq = {quantize, quantError, histogram};", type="module")
    page.wait_for_function("() => window.__cq !== undefined")
    got = page.evaluate("""(cases) => cases.map((c) => {
        const w = Float32Array.from(c.w);
        const r = window.__cq.quantize(w, c.rows, c.bits, c.pc);
        let a = 0;
        for (const v of w) a = Math.max(a, Math.abs(v));
        return {q: Array.from(r.q), scale: Array.from(r.scale), wHat: Array.from(r.wHat),
                err: window.__cq.quantError(w, r.q, r.scale, r.wHat),
                hist: Array.from(window.__cq.histogram(r.wHat, a || 1).counts)};
    })""", [{"w": w.ravel().tolist(), "rows": w.shape[0], "bits": b, "pc": pc} for w, b, pc in cases])
    page.close()
    err = 0.0
    for (w, bits, pc), g in zip(cases, got):
        q, scale, w_hat = quantize_tensor(torch.from_numpy(w), bits, pc)
        assert g["q"] == q.flatten().tolist()                            # rounding and clamp, exactly
        assert np.array_equal(np.float32(g["scale"]), scale.flatten().numpy())
        assert np.array_equal(np.float32(g["wHat"]), w_hat.flatten().numpy())
        ref = quantization_error(torch.from_numpy(w), q, scale, w_hat)
        e = g["err"]
        assert (e["levels_used"], e["zero_fraction"]) == (ref.levels_used, pytest.approx(ref.zero_fraction))
        err = max(err, abs(e["max_abs"] - ref.max_abs), abs(e["rms"] - ref.rms), abs(e["scale_max"] - ref.scale_max))
        if math.isfinite(ref.sqnr_db):
            assert e["sqnr_db"] == pytest.approx(ref.sqnr_db, abs=1e-4)
        rows = histogram_rows(w, w_hat.numpy(), ("w", "w_hat"))      # bin i of row r: (x0 - lo) / width
        assert {i: c for i, c in enumerate(g["hist"]) if c} == \
            {round((r["x0"] + (np.abs(w).max() or 1.0) * 1.0001) / ((r["x1"] - r["x0"]) or 1)): r["count"]
             for r in rows if r["series"] == "w_hat"}
    assert got[-2]["q"] == [3, 0, 2, 2, -2, -2, -0, 0]                  # 0.5 -> 0, 1.5 -> 2, 2.5 -> 2
    print(f"compression_bits.js vs core: q, S and w_hat identical; max error-number diff {err:.1e}")
    assert err < 1e-6, err


def test_bits_slider_tabs_and_refusals(app_url, page):
    frames = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(payload)))
    page.goto(app_url)                                         # the app frame first (st.navigation)
    wait_idle(page)
    page.goto(f"{app_url}/compression?compression.bits=8&compression.layer=fc1")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == t("compression.title", "en")
    whole = {(r["bits"], r["per_channel"]): r for r in RESULTS["quantization"]["whole"]}
    root = page.locator(".cq-root")
    root.wait_for()
    drawn = root.evaluate("e => ({...e.dataset})")
    assert drawn["bits"] == "8" and float(drawn["accuracy"]) == whole[(8, False)]["accuracy"]   # the link restores
    w = load_cnn().fc1.weight.detach().cpu()
    _, scale, _ = quantize_tensor(w, 8)
    assert float(drawn["scale"]) == pytest.approx(float(scale), rel=1e-6)
    before = len(frames)
    thumb = page.locator('.cq-root input[name="bits"]')
    thumb.focus()
    for _ in range(6):                                         # 8 -> 2 bits, in the browser
        page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(200)
    assert len(frames) == before                               # nothing sent to the server
    drawn = root.evaluate("e => ({...e.dataset})")
    assert drawn["bits"] == "2" and float(drawn["accuracy"]) == whole[(2, False)]["accuracy"]
    assert int(drawn["bytes"]) == whole[(2, False)]["bytes"]
    _, scale, w_hat = quantize_tensor(w, 2)
    assert float(drawn["maxabs"]) == pytest.approx(float((w - w_hat).abs().max()), abs=1e-6)
    page.wait_for_url("**compression.bits=2*", timeout=10_000)  # the commit reaches the address bar
    wait_idle(page)
    assert_no_exception(page)
    assert root.evaluate("e => e.dataset.bits") == "2"
    screenshot(page, "compression-quantize-en")

    page.get_by_role("tab", name=t("compression.tab_q4", "en")).click()
    wait_idle(page)
    assert page.get_by_text("largest difference 0").first.is_visible()

    page.get_by_role("tab", name=t("compression.tab_prune", "en")).click()
    wait_idle(page)
    thumb = page.locator('.st-key-compression-sparsity input[type="range"]')
    thumb.focus()
    for _ in range(8):                                         # 50 % -> 60 ... 90, 95, 99, 100 %
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    page.wait_for_url("**compression.sparsity=100*")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlertContentError"]', has_text="below 100 %").first.is_visible()
    page.keyboard.press("ArrowLeft")                           # 99 %: the recorded point
    page.wait_for_url("**compression.sparsity=99*")
    wait_idle(page)
    row = next(r for r in RESULTS["pruning"] if r["scope"] == "global" and r["fraction"] == 0.99)
    assert metric_value(page, "right after pruning") == pct(row["accuracy"])
    screenshot(page, "compression-prune-en")


def test_distillation_in_chinese(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/compression?lang=zh&compression.T=8.0&compression.alpha=0.9")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == t("compression.title", "zh")
    page.get_by_role("tab", name=t("compression.tab_distill", "zh")).click()
    wait_idle(page)
    students = {s["key"]: s for s in RESULTS["distillation"]["students"]}
    assert metric_value(page, t("compression.soft_student", "zh", T="8", alpha="0.9")) == pct(students["T8_a0.9"]["accuracy"])
    screenshot(page, "compression-distill-zh")
