"""The regularization page in a real browser: train the A/B, see L1's zeros, switch to the 2-D task."""
import re

from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def numbers(page, nth: int) -> str:
    """The line of numbers above one side of the A/B (0 = without, 1 = with regularization)."""
    line = page.locator('[data-testid="stMarkdownContainer"]', has_text=t("regularization.val_loss", "en"))
    return line.nth(nth).inner_text()


def zeros(text: str) -> int:
    return int(re.search(r"([\d,]+) / [\d,]+", text).group(1).replace(",", ""))


def test_train_ab_shows_l1_zeros_and_the_gap(app_url, page):
    page.goto(app_url)                  # open the app frame first: a cold deep link skips app.py
    wait_idle(page)
    page.goto(f"{app_url}/regularization?regularization.steps=500&regularization.l1=0.01")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == t("regularization.title", "en")
    assert zeros(numbers(page, 1)) == 0                               # untrained: no zeros yet
    page.locator(".st-key-regularization-train button").click()
    page.wait_for_selector("text=live updates",
                           timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert_no_exception(page)
    assert zeros(numbers(page, 0)) == 0                               # without: no exact zeros
    assert zeros(numbers(page, 1)) > 1000                             # L1 0.01, proximal: thousands
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 6   # fit, loss, histogram x 2
    screenshot(page, "regularization-ab-en")


def test_moons_task_in_chinese(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/regularization?lang=zh&regularization.task=moons&regularization.steps=500"
              "&regularization.l1=0&regularization.l2=0.01")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == t("regularization.title", "zh")
    page.locator(".st-key-regularization-train button").click()
    page.wait_for_selector("text=实时更新", timeout=120_000)
    wait_idle(page, timeout=120_000)
    assert_no_exception(page)
    assert "L2 λ₂=0.01" in page.locator("h5").nth(1).inner_text()
    screenshot(page, "regularization-moons-zh")


def test_stop_draws_the_run_where_it_stopped(app_url, page):
    """Issue 19: Stop left half-drawn panels and then the untrained network, with no word of it."""
    import math
    import time
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/regularization?regularization.steps=3000&regularization.dropout=0.3")
    wait_idle(page)
    page.locator(".st-key-regularization-train button").click()
    page.wait_for_timeout(3000)                                             # training, drawn live
    clicked = time.monotonic()
    page.locator(".st-key-regularization-stop button").click()
    page.locator('[data-testid="stAlert"]', has_text="Training stopped at step").first.wait_for(timeout=30_000)
    wait_idle(page)
    took = time.monotonic() - clicked
    assert_no_exception(page)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 6      # both sides drawn whole
    for side in (0, 1):
        values = re.findall(r"[-+]?\d+\.\d+|[-+]?inf|nan", numbers(page, side))
        assert values and all(math.isfinite(float(v)) for v in values)
    print(f"Stop -> message in {took:.1f} s")
    screenshot(page, "regularization-stopped")
