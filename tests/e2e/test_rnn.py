"""The RNN page in a real browser: step through time with the slider and the play button."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def metric_value(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]', has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_rnn_page_steps_through_time(app_url, page):
    page.goto(f"{app_url}/rnn?lang=en&rnn.text=hello%20hello")
    wait_idle(page, timeout=240_000)          # first visit: three small cells are trained on the text
    assert_no_exception(page)
    assert page.get_by_text("RNN hidden state").first.is_visible()
    assert metric_value(page, "Input x") == "h"
    thumb = page.locator('.st-key-rnn-t input[type="range"]')
    thumb.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    page.wait_for_url("**rnn.t=5*")       # wait_idle can return before the last press's rerun starts
    wait_idle(page)
    assert metric_value(page, "Input x") == "o"
    assert page.locator(".katex").count() >= 2                  # the formula with numbers is drawn
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 4
    screenshot(page, "rnn_step")

    page.locator(".st-key-rnn-play button").click()             # play: the step advances by itself
    page.wait_for_function(
        """() => [...document.querySelectorAll('[data-testid="stMetric"]')].some(m =>
               m.innerText.startsWith('Input x') && m.innerText.trim().endsWith('l'))""", timeout=30_000)
    page.locator(".st-key-rnn-play button").click()             # stop
    wait_idle(page)
    assert_no_exception(page)


def test_rnn_page_chinese_sine(app_url, page):
    page.goto(f"{app_url}/rnn?lang=zh&rnn.source=sine&rnn.scale=3.0&rnn.t=12")
    wait_idle(page, timeout=240_000)
    assert_no_exception(page)
    assert page.get_by_text("RNN 隐藏状态").first.is_visible()
    screenshot(page, "rnn_sine_zh")
