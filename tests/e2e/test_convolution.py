"""Browser: the convolution explorable (app_pages/components/conv.js).

- Its arithmetic (convWindow, convOutputSize) equals the Python core (ops/conv.py) on random cases,
  run in Chromium itself: random sizes, channels, kernels, stride, padding, dilation, bias.
- In the app: the window's numbers equal the core's; a click and the arrow keys move the output
  pixel with no message to the server; the pick reaches the URL once it settles; a link restores it.
"""
import numpy as np
import pytest
import torch

from bigmodel_core.data import load_photo
from bigmodel_core.ops.conv import conv2d_explained, image_to_tensor, kernel_preset, output_size
from app_pages._explorables import component_js
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

ROOT_SEL = ".cv-root"


def test_conv_js_equals_python_on_random_cases(browser):
    rng = np.random.default_rng(15)
    cases, want = [], []
    while len(cases) < 60:
        C = int(rng.choice([1, 3]))
        H, W = (int(v) for v in rng.integers(3, 24, size=2))
        kh, kw = (int(v) for v in rng.choice([1, 2, 3, 5], size=2))
        s, p, d = int(rng.integers(1, 5)), int(rng.integers(0, 4)), int(rng.integers(1, 4))
        if output_size(H, kh, stride=s, padding=p, dilation=d) < 1 or output_size(W, kw, stride=s, padding=p, dilation=d) < 1:
            continue
        x = rng.uniform(-1, 1, (C, H, W)).astype(np.float32)
        w = rng.normal(size=(C, kh, kw)).astype(np.float32)
        b = float(np.float32(rng.uniform(-2, 2)))
        res = conv2d_explained(torch.from_numpy(x), torch.from_numpy(w), bias=b, stride=s, padding=p, dilation=d)
        Ho, Wo = res.output.shape
        picks = [(int(rng.integers(0, Ho)), int(rng.integers(0, Wo))) for _ in range(4)] + [(Ho - 1, Wo - 1)]
        cases.append({"x": x.ravel().tolist(), "shape": [C, H, W], "w": w.ravel().tolist(), "k": [kh, kw],
                      "hyper": {"bias": b, "stride": s, "padding": p, "dilation": d}, "picks": picks})
        want.append((res, [res.window(r, c) for r, c in picks], (Ho, Wo)))
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("conv", "_maps") +
                        "\nwindow.__conv = {convWindow, convOutputSize, windowExtent, windowTaps};", type="module")
    page.wait_for_function("() => window.__conv !== undefined")
    got = page.evaluate("""(cases) => cases.map((c) => {
        const x = Float32Array.from(c.x), w = Float32Array.from(c.w);
        return {size: [window.__conv.convOutputSize(c.shape[1], c.k[0], c.hyper.stride, c.hyper.padding, c.hyper.dilation),
                       window.__conv.convOutputSize(c.shape[2], c.k[1], c.hyper.stride, c.hyper.padding, c.hyper.dilation)],
                wins: c.picks.map(([r, col]) => {
                  const v = window.__conv.convWindow(x, c.shape, w, c.k, c.hyper, r, col);
                  return {top: v.top, left: v.left, patch: Array.from(v.patch), products: Array.from(v.products),
                          total: v.total, result: v.result, extent: window.__conv.windowExtent(v, c.k, c.hyper.dilation),
                          taps: window.__conv.windowTaps(v, c.k, c.hyper.dilation)};
                })};
    })""", cases)
    page.close()
    err = 0.0
    for (res, wins, size), g in zip(want, got):
        assert tuple(g["size"]) == size
        for win, gw in zip(wins, g["wins"]):
            assert (gw["top"], gw["left"]) == (win.top, win.left)
            assert tuple(gw["extent"]) == win.extent and [tuple(t) for t in gw["taps"]] == win.taps()   # what it outlines
            assert np.array_equal(np.asarray(gw["patch"], dtype=np.float32), win.patch.numpy().ravel())
            err = max(err, abs(gw["total"] - win.total), abs(gw["result"] - win.result),
                      float(np.abs(np.asarray(gw["products"]) - win.products.numpy().ravel()).max()),
                      abs(gw["result"] - float(res.output[win.row, win.col])))
    assert err < 1e-4, err                   # float64 in JS vs float32 in torch


def _open(page, app_url, query: str) -> None:
    page.goto(app_url)                 # the app's frame first (a fresh server's first visit to a
    wait_idle(page)                    # deep link runs the page file alone, see the report)
    page.goto(f"{app_url}/convolution?{query}")
    wait_idle(page)
    page.locator(ROOT_SEL).wait_for()


def _drawn(page) -> dict:
    return page.locator(ROOT_SEL).evaluate("e => ({...e.dataset})")


def test_pick_with_click_and_keys_no_server_round_trip_then_url(app_url, page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    _open(page, app_url, "conv.photo=camera&conv.kernel=sobel_x&conv.size=32&conv.row=3&conv.col=4&conv.bias=0.5")
    assert_no_exception(page)
    x, _ = image_to_tensor(load_photo("camera"), max_side=32)
    res = conv2d_explained(x, kernel_preset("sobel_x"), bias=0.5)
    d = _drawn(page)
    assert (d["row"], d["col"]) == ("3", "4")                             # the link restores the pick
    assert float(d["result"]) == pytest.approx(res.window(3, 4).result, abs=1e-4)
    assert page.get_by_text("y(3, 4) = (-1)(").count() == 1              # the formula with its numbers

    # arrow keys on the feature map: redrawn in the browser, nothing sent to the server
    before = len(sent)
    page.locator(".cv-map").focus()
    for key in ("ArrowDown", "ArrowDown", "ArrowRight"):
        page.keyboard.press(key)
    page.wait_for_timeout(200)
    assert len(sent) == before
    d = _drawn(page)
    assert (d["row"], d["col"]) == ("5", "5")
    win = res.window(5, 5)
    assert float(d["total"]) == pytest.approx(win.total, abs=1e-4)
    assert float(d["map"]) == pytest.approx(win.result, abs=1e-5)        # the map the server sent agrees
    assert page.locator(".cv-metric-value").inner_text() == f"{win.result:.3f}"
    # the pick settles: one commit, into the address bar
    page.wait_for_url(lambda u: "conv.row=5&" in u and "conv.col=5&" in u, timeout=10_000)
    assert len(sent) > before
    wait_idle(page)

    # a click on the map picks that pixel at once
    box = page.locator(".cv-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * (20.5 / 30), box["y"] + box["height"] * (10.5 / 30))
    d = _drawn(page)
    assert (d["row"], d["col"]) == ("10", "20")
    page.wait_for_url(lambda u: "conv.row=10&" in u and "conv.col=20&" in u, timeout=10_000)
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "convolution_click")


def test_stride_slider_shrinks_the_map_and_rgb_mode_shows_three_slices(app_url, page):
    _open(page, app_url, "conv.size=64&conv.stride=2&conv.rgb=1&conv.photo=astronaut"
                         "&conv.kernel=sharpen&conv.padding=1&conv.dilation=2")
    assert_no_exception(page)
    assert page.get_by_text("Feature map 31×31").count() == 1     # floor((64 + 2 - 4 - 1) / 2) + 1
    assert page.get_by_text("Channel B", exact=False).count() == 1
    assert page.locator(".cv-taps tr").count() == 1 + 27           # header + 3 channels x 9 taps
    # Play walks the window in reading order, in the browser
    start = _drawn(page)
    page.locator(".cv-speed").select_option("8")
    page.locator(".cv-play").click()
    page.wait_for_timeout(700)                                      # about 5 steps at 8 per second
    page.locator(".cv-play").click()
    after = _drawn(page)
    assert (int(after["row"]), int(after["col"])) > (int(start["row"]), int(start["col"]))
    screenshot(page, "convolution_rgb")
