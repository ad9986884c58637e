"""The activations page in a real browser: move x0 and the depth with the keyboard, switch activation."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def open_page(page, app_url, query=""):
    page.goto(app_url)                       # the app first, so the page opens inside its navigation
    wait_idle(page)
    page.goto(f"{app_url}/activations{query}")
    wait_idle(page)
    assert_no_exception(page)


def metric(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def test_x0_and_depth_sliders_redraw(app_url, page):
    open_page(page, app_url)
    main = page.locator('[data-testid="stMain"]')
    assert "At x₀ = 2.00" in main.inner_text()
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 3
    page.locator('.st-key-activations-x0 input[type="range"]').focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').innerText.includes('At x₀ = 2.05')")
    wait_idle(page)
    before = metric(page)
    page.locator('.st-key-activations-depth input[type="range"]').focus()
    page.keyboard.press("End")                                   # N = 50
    page.wait_for_function(f"() => document.querySelector('[data-testid=\"stMetricValue\"]').innerText !== {before!r}")
    wait_idle(page)
    assert float(metric(page)) < 1e-20                           # sigmoid after 50 layers
    assert "activations.depth=50" in page.url
    assert_no_exception(page)
    screenshot(page, "activations-depth50")


def test_switch_to_relu_and_open_in_chinese(app_url, page):
    open_page(page, app_url, "?activations.depth=50")
    page.locator('.st-key-activations-focus label', has_text="ReLU").first.click()
    page.wait_for_function("() => document.querySelector('[data-testid=\"stMain\"]').innerText.includes('ReLU(x₀)')")
    wait_idle(page)
    assert 0.1 < float(metric(page)) < 10                        # ReLU + He keeps the gradient
    screenshot(page, "activations-relu")
    page.goto(f"{app_url}/activations?lang=zh")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "激活函数"
    screenshot(page, "activations-zh")
