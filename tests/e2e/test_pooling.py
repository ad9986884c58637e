"""Browser: the pooling explorable (app_pages/components/pooling.js, window and shift parts).

- Its arithmetic equals the Python core (ops/pool.py) on random cases, run in Chromium itself:
  the window, its value and winner, the whole pooled map, global average pooling and the
  translation-invariance shares, over random sizes, kinds, windows and strides.
- In the app: the picked cell's numbers equal the core's; the arrow keys move the pick and the shift
  with no message to the server; both reach the URL once they settle; a link restores them.
"""
import numpy as np
import pytest
import torch

from bigmodel_core.data import load_mnist
from bigmodel_core.ops.pool import (global_avg_pool, pool2d_explained, pool_output_size, shift_image,
                                    translation_invariance)
from app_pages._explorables import component_js
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

WINDOW, SHIFT = ".pl-root:has(.pl-map)", ".pl-root:has(.pl-shift)"


def test_pool_js_equals_python_on_random_cases(browser):
    rng = np.random.default_rng(18)
    cases, want = [], []
    while len(cases) < 60:
        H, W = (int(v) for v in rng.integers(2, 22, size=2))
        k, s = int(rng.integers(2, 5)), int(rng.integers(1, 5))
        if pool_output_size(H, k, s) < 1 or pool_output_size(W, k, s) < 1:
            continue
        kind = str(rng.choice(["max", "avg"]))
        x = (np.round(rng.uniform(-1, 1, (H, W)) * 4) / 4).astype(np.float32)     # quarters: ties and zeros
        if len(cases) % 3 == 0:
            x = np.abs(x)                                                     # images: no negatives
        shift = int(rng.integers(0, 4))
        xt = torch.from_numpy(x)
        res, slow = pool2d_explained(xt, kind=kind, size=k, stride=s), pool2d_explained(xt, kind=kind, size=k, stride=s, fast=False)
        Ho, Wo = res.output.shape
        picks = [(int(rng.integers(0, Ho)), int(rng.integers(0, Wo))) for _ in range(3)]
        cases.append({"x": x.ravel().tolist(), "shape": [H, W], "kind": kind, "k": k, "s": s, "shift": min(shift, W - 1),
                      "picks": picks})
        want.append((res, slow, [res.window(r, c) for r, c in picks],
                     translation_invariance(xt, min(shift, W - 1), kind=kind, size=k, stride=s), xt))
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("pooling", "_maps") + "\nwindow.__pool = {poolWindow, poolMap, "
                        "globalAvgPool, shiftImage, translationInvariance, poolOutputSize};", type="module")
    page.wait_for_function("() => window.__pool !== undefined")
    got = page.evaluate("""(cases) => cases.map((c) => {
        const P = window.__pool, x = Float32Array.from(c.x);
        const map = P.poolMap(x, c.shape, c.kind, c.k, c.s);
        const inv = P.translationInvariance(x, c.shape, c.shift, c.kind, c.k, c.s);
        return {size: [P.poolOutputSize(c.shape[0], c.k, c.s), P.poolOutputSize(c.shape[1], c.k, c.s)],
                out: Array.from(map.out), argmax: map.argmax && Array.from(map.argmax), gap: P.globalAvgPool(x),
                shifted: Array.from(P.shiftImage(x, c.shape, c.shift)),
                wins: c.picks.map(([r, col]) => { const w = P.poolWindow(x, c.shape, c.kind, c.k, c.s, r, col);
                  return {values: Array.from(w.values), result: w.result, winner: w.winner, top: w.top, left: w.left}; }),
                inv: {share: inv.share, shareRaw: inv.shareRaw, unchanged: Array.from(inv.unchanged),
                      pooledShifted: Array.from(inv.pooledShifted)}};
    })""", cases)
    page.close()
    err = 0.0
    for c, (res, slow, wins, inv, xt), g in zip(cases, want, got):
        assert tuple(g["size"]) == tuple(res.output.shape)
        out = np.asarray(g["out"]).reshape(res.output.shape)
        err = max(err, float(np.abs(out - res.output.numpy()).max()), float(np.abs(out - slow.output.numpy()).max()),
                  abs(g["gap"] - float(global_avg_pool(xt))),
                  float(np.abs(np.asarray(g["inv"]["pooledShifted"]) - inv.pooled_shifted.numpy().ravel()).max()))
        if c["kind"] == "max":                                      # the first maximum in reading order wins
            assert np.array_equal(np.asarray(g["argmax"]).reshape(*res.output.shape, 2), slow.argmax.numpy())
        assert np.array_equal(np.asarray(g["shifted"], dtype=np.float32), shift_image(xt, dx=c["shift"]).numpy().ravel())
        for win, gw in zip(wins, g["wins"]):
            assert (gw["top"], gw["left"], gw["top"] + c["k"], gw["left"] + c["k"]) == win.extent   # the box it draws
            assert np.array_equal(np.asarray(gw["values"], dtype=np.float32), win.values.numpy().ravel())
            err = max(err, abs(gw["result"] - win.result))
            assert (None if gw["winner"] is None else tuple(gw["winner"])) == win.winner
        assert np.array_equal(np.asarray(g["inv"]["unchanged"], dtype=bool), inv.unchanged.numpy().ravel())
        assert g["inv"]["share"] == pytest.approx(inv.share_unchanged, abs=1e-6)    # torch: a float32 mean
        assert g["inv"]["shareRaw"] == pytest.approx(inv.share_unchanged_raw, abs=1e-6)
    assert err < 1e-6, err


def _open(page, app_url, query: str) -> None:
    page.goto(app_url)                 # the app's frame first (see tests/e2e/test_convolution.py)
    wait_idle(page)
    page.goto(f"{app_url}/pooling?{query}")
    wait_idle(page)
    page.locator(WINDOW).wait_for()


def _metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def _drawn(page, sel: str) -> dict:
    return page.locator(sel).evaluate("e => ({...e.dataset})")


def test_pick_and_shift_in_the_browser_then_the_url(app_url, page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    _open(page, app_url, "pool.source=mnist&pool.digit=3&pool.kind=max&pool.window=2&pool.stride=2"
                         "&pool.row=5&pool.col=6&pool.shift=0")
    assert_no_exception(page)
    assert _metric(page, "Output size") == "14 × 14" and _metric(page, "Activations discarded") == "75%"
    digit = torch.from_numpy(load_mnist().x_test[3].astype(np.float32) / 255.0)
    res = pool2d_explained(digit, size=2, stride=2)
    d = _drawn(page, WINDOW)
    assert (d["row"], d["col"]) == ("5", "6")                               # the link restores the pick
    assert float(d["result"]) == pytest.approx(res.window(5, 6).result, abs=1e-6)
    assert _drawn(page, SHIFT)["share"] == "1"                              # shift 0: all unchanged

    before = len(sent)
    page.locator(".pl-map").focus()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowLeft")
    page.locator('.pl-slider input[name="shift"]').focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(200)
    assert len(sent) == before                                              # redrawn in the browser only
    d = _drawn(page, WINDOW)
    win = res.window(4, 5)
    assert (d["row"], d["col"]) == ("4", "5") and float(d["result"]) == pytest.approx(win.result, abs=1e-6)
    assert d["winner"] == ",".join(map(str, win.winner))
    assert page.get_by_text(f"Window of p(4, 5)").count() == 1
    inv = translation_invariance(digit, 1, kind="max", size=2, stride=2)
    sh = _drawn(page, SHIFT)
    assert sh["shift"] == "1" and float(sh["share"]) == pytest.approx(inv.share_unchanged, abs=1e-6)    # torch: a float32 mean
    assert page.locator(".pl-shift .pl-metric-value").inner_text() == f"{inv.share_unchanged:.0%}"
    # both settle: their commits reach the address bar
    page.wait_for_url(lambda u: "pool.row=4&" in u and "pool.col=5&" in u and "pool.shift=1&" in u, timeout=10_000)
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "pooling_click")
