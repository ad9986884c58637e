"""The losses page in a real browser: drag the prediction and a logit, watch the numbers change."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def metrics(page) -> list[str]:
    return page.locator('[data-testid="stMetricValue"]').all_inner_texts()


def test_prediction_and_logit_sliders_redraw(app_url, page):
    page.goto(app_url)                       # the app first, so the page opens inside its navigation
    wait_idle(page)
    page.goto(f"{app_url}/losses")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 4
    assert metrics(page)[0] == "4.000"                            # MSE of 3.0 against 1.0
    page.locator('.st-key-losses-pred input[type="range"]').focus()
    page.keyboard.press("Home")                                   # prediction -5: MSE = 36
    page.wait_for_function("() => document.querySelector('[data-testid=\"stMetricValue\"]').innerText === '36.000'")
    wait_idle(page)
    assert metrics(page)[1] == "-12.000"                          # 2 (yhat - y)
    ce_before = metrics(page)[7]
    page.locator('.st-key-losses-z2 input[type="range"]').focus()     # raise the true class's logit
    page.keyboard.press("End")
    page.wait_for_function(f"() => document.querySelectorAll('[data-testid=\"stMetricValue\"]')[7].innerText !== {ce_before!r}")
    wait_idle(page)
    assert float(metrics(page)[7]) < float(ce_before)             # less wrong: smaller cross-entropy
    assert "losses.z2=6.0" in page.url
    assert_no_exception(page)
    screenshot(page, "losses-moved")
    page.goto(f"{app_url}/losses?lang=zh")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "损失函数"
    screenshot(page, "losses-zh")
