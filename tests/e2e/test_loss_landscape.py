"""The loss-landscape page in a real browser: a learning-rate key press redraws the paths and the
theory, a click on the map moves the start point, the real network's surface draws, Chinese works."""
import re

from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def open_page(page, app_url, query=""):
    page.goto(app_url)                       # the app frame first (sidebar, language), then the page
    wait_idle(page)
    page.goto(f"{app_url}/loss_landscape{query}")
    wait_idle(page, timeout=180_000)
    assert_no_exception(page)


def test_learning_rate_and_click_drive_the_paths(app_url, page):
    open_page(page, app_url)
    assert page.locator("h1").first.inner_text() == t("loss_landscape.title", "en")
    assert page.locator(".st-key-loss_landscape-contours canvas, .st-key-loss_landscape-contours svg").count() >= 1
    theory = page.get_by_text(re.compile(r"Your GD.*lr 1\)"))
    assert "converges" in theory.inner_text()

    x0 = page.locator(".st-key-loss_landscape-x0")
    before = x0.inner_text()
    chart = page.locator(".st-key-loss_landscape-contours canvas").first
    page.wait_for_timeout(500)                             # vega-embed attaches its listeners
    box = chart.bounding_box()
    chart.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.7})   # inside the plot
    page.wait_for_function(f"() => document.querySelector('.st-key-loss_landscape-x0').innerText !== {before!r}",
                           timeout=60_000)
    wait_idle(page)
    assert x0.inner_text() != before                       # the start moved to the lower left
    assert float(x0.locator('input[type="range"]').get_attribute("aria-valuetext")) < -0.5
    assert_no_exception(page)
    screenshot(page, "loss_landscape-toy")

    thumb = page.locator('.st-key-loss_landscape-lr-gd input[type="range"]')   # Streamlit 1.67: a range input
    for _ in range(7):                                   # 1 -> 2.239: just over 2 / lambda_max
        thumb.focus()
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    assert thumb.get_attribute("aria-valuetext") == "2.24"
    page.get_by_text(re.compile(r"Your GD.*lr 2\.24\)")).wait_for()
    assert "diverges" in page.get_by_text(re.compile(r"Your GD.*lr 2\.24\)")).inner_text()
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
