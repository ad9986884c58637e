"""The autoencoder page in a real browser.

- The explorable's decoder (app_pages/components/latent_decoder.js) against the PyTorch decoder of
  the shipped latent-2 model on random latent points, in Chromium: equal to 1e-5.
- In the app: the decoded image and the picked original equal the model's and the data's; the
  sliders, the arrow keys on the map and a click on it redraw with nothing sent to the server; the
  point reaches the URL once the moves stop, and a link restores it; the other tabs still render.
"""
import json

import numpy as np
import torch

from bigmodel_core.data import mnist_tensors
from bigmodel_core.models.autoencoder import decode_point, decoder_weights, encode_digits, load_autoencoder
from app_pages._explorables import component_js, float32_b64
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_decoder_js_equals_pytorch_on_random_points(browser):
    model = load_autoencoder(2)
    W, b = decoder_weights(model)
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("latent_decoder", "_plot") + "\nwindow.__ld = {decode, decodeFloat32};", type="module")
    page.wait_for_function("() => window.__ld !== undefined")
    z = np.concatenate([np.random.default_rng(0).uniform(0, 8, (200, 2)), [[0, 0], [0, 5], [12, 0]]]).astype(np.float32)
    got = np.asarray(page.evaluate("""([W, b, zs]) => { const A = window.__ld, w = A.decodeFloat32(W), bb = A.decodeFloat32(b);
        return zs.map((z) => Array.from(A.decode(w, bb, z))); }""", [float32_b64(W), float32_b64(b), z.tolist()]))
    with torch.no_grad():
        want = model.decode(torch.from_numpy(z).to(next(model.parameters()).device)).cpu().numpy()   # float32 PyTorch
    assert got.shape == (len(z), 784)
    assert np.abs(got - want).max() < 1e-5
    page.close()


def _root(page):
    return page.locator(".ld-root")


def _original_pixels(page) -> np.ndarray:
    return np.asarray(page.locator(".ld-original").evaluate(
        "(c) => Array.from(c.getContext('2d').getImageData(0, 0, 28, 28).data).filter((_, i) => i % 4 === 0)"))


def test_pick_decode_and_commit_in_the_browser(app_url, page):
    model = load_autoencoder(2)
    X_test = mnist_tensors(flat=True)[2]
    codes = encode_digits(model, X_test)
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{app_url}/autoencoder")
    wait_idle(page, timeout=180_000)                         # first visit loads the digits and models
    assert_no_exception(page)
    root = _root(page)
    root.wait_for()
    z1, z2, picked = float(root.get_attribute("data-z1")), float(root.get_attribute("data-z2")), int(root.get_attribute("data-picked"))
    assert np.abs(np.asarray(json.loads(root.get_attribute("data-decoded"))) - decode_point(model, (z1, z2)).ravel()).max() < 1e-5
    page.wait_for_function("() => true")
    assert np.array_equal(_original_pixels(page), np.rint(X_test[picked].numpy() * 255))
    screenshot(page, "autoencoder-start")

    before = len(sent)
    page.locator('.ld-slider input[name="z1"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")                        # z1 + 0.2
    page.locator(".ld-map").focus()
    page.keyboard.press("ArrowUp")                           # z2 + 0.1, the arrow keys on the map
    page.wait_for_timeout(150)
    assert len(sent) == before
    assert float(root.get_attribute("data-z1")) == round(z1 + 0.2, 1)
    assert float(root.get_attribute("data-z2")) == round(z2 + 0.1, 1)
    assert root.locator(".ld-decoded + figcaption").inner_text().endswith(f"({z1 + 0.2:.1f}, {z2 + 0.1:.1f})")

    # a click picks the nearest held-out digit: the cross jumps to its code, the original follows
    box = page.locator(".ld-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3)
    page.wait_for_timeout(150)
    assert len(sent) == before
    i = int(root.get_attribute("data-picked"))
    assert i != picked
    assert float(root.get_attribute("data-z1")) == round(float(codes[i, 0]), 1)
    assert np.array_equal(_original_pixels(page), np.rint(X_test[i].numpy() * 255))
    want = decode_point(model, (float(root.get_attribute("data-z1")), float(root.get_attribute("data-z2"))))
    assert np.abs(np.asarray(json.loads(root.get_attribute("data-decoded"))) - want.ravel()).max() < 1e-5
    assert f"#{i}" in root.locator(".ld-formula").inner_text()
    page.wait_for_url(f"**autoencoder.picked={i}**")          # committed once the moves stop
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "autoencoder-clicked")

    # the link restores the point and the digit
    page.goto(f"{app_url}/autoencoder?autoencoder.z1=1.5&autoencoder.z2=2.5&autoencoder.picked=7&lang=zh")
    wait_idle(page)
    root.wait_for()
    assert (root.get_attribute("data-z1"), root.get_attribute("data-z2"), root.get_attribute("data-picked")) == ("1.5", "2.5", "7")
    screenshot(page, "autoencoder-zh")


def test_other_tabs_render(app_url, page):
    page.goto(f"{app_url}/autoencoder?autoencoder.noise=0.5")
    wait_idle(page, timeout=180_000)
    for i, name in enumerate(["walk", "grid", "denoise"], start=1):
        page.get_by_role("tab").nth(i).click()
        wait_idle(page)
        assert_no_exception(page)
        screenshot(page, f"autoencoder-{name}")
