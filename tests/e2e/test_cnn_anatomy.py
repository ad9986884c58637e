"""Browser test of the CNN anatomy page: move the digit slider, draw a digit on the canvas, screenshot."""
import torch

from bigmodel_core.data import load_mnist
from bigmodel_core.models.cnn import load_cnn
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def _expected(index: int) -> str:
    x = torch.from_numpy(load_mnist().x_test[index] / 255.0).float().view(1, 1, 28, 28)
    with torch.no_grad():
        return str(int(load_cnn(device=torch.device("cpu"))(x).argmax()))


def _prediction(page) -> str:
    return page.locator('[data-testid="stMetric"]').first.locator('[data-testid="stMetricValue"]').inner_text()


def test_digit_slider_and_drawing(app_url, page):
    page.goto(app_url)                                        # the app frame first (st.navigation)
    wait_idle(page)
    page.goto(f"{app_url}/cnn_anatomy?cnn_anatomy.index=0")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "CNN anatomy"
    screenshot(page, "cnn_anatomy-digit0")
    assert _prediction(page) == _expected(0)
    thumb = page.locator('.st-key-cnn_anatomy-index input[type="range"]')
    thumb.focus()
    for _ in range(3):                                        # index 0 -> 3: another digit class
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    # wait_idle can return before the last press's rerun has started: wait for the URL the rerun writes
    page.wait_for_url("**cnn_anatomy.index=3*")
    wait_idle(page)
    assert thumb.input_value() == "3"
    assert _prediction(page) == _expected(3)
    # draw a "1" with the mouse on the canvas
    page.locator(".st-key-cnn_anatomy-source button", has_text="Draw").click()
    wait_idle(page)
    canvas = page.locator(".st-key-cnn_anatomy-canvas canvas").last
    canvas.wait_for()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.15
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 21):
        page.mouse.move(x0, y0 + i * box["height"] * 0.035)
    page.mouse.up()
    page.wait_for_timeout(500)
    wait_idle(page)
    assert_no_exception(page)
    assert _prediction(page) == "1"
    screenshot(page, "cnn_anatomy-drawn")


def test_stop_interrupts_training_at_once(app_url, page):
    """Issue 19: Stop inside the training fragment was queued until training ended (Streamlit does not
    let a fragment's click interrupt a run); the progress bar froze and the page kept the old weights."""
    import re
    import time
    from bigmodel_core.i18n import t
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/cnn_anatomy?cnn_anatomy.epochs=10&cnn_anatomy.batch=32")     # 1,250 steps
    wait_idle(page)
    assert t("cnn_anatomy.weights_bundled", "en") in page.locator("body").inner_text()
    page.locator(".st-key-cnn_anatomy-train button").click()
    page.wait_for_selector("text=/Step \\d+ \\/ 1250/", timeout=120_000)
    clicked = time.monotonic()
    page.locator(".st-key-cnn_anatomy-stop button").click()                 # one click
    warning = page.locator('[data-testid="stAlert"]', has_text="Training stopped at step")
    warning.wait_for(timeout=30_000)
    wait_idle(page)
    took = time.monotonic() - clicked
    assert_no_exception(page)
    step, total = map(int, re.search(r"step (\d+) of (\d+)", warning.inner_text()).groups())
    assert total == 1250 and 0 < step < 1250
    body = page.locator("body").inner_text()
    assert f"Stopped at step {step} / 1250" in body                          # the bar says so too
    assert t("cnn_anatomy.weights_trained", "en") in body                   # the layers use the new weights
    assert t("cnn_anatomy.weights_bundled", "en") not in body
    print(f"Stop -> message in {took:.1f} s at step {step}")
    screenshot(page, "cnn_anatomy-stopped")
