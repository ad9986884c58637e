"""Browser: click a pooled cell and see its window; shift the input and see the share unchanged."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def _open(page, app_url, query: str) -> None:
    page.goto(app_url)                 # the app's frame first (see tests/e2e/test_convolution.py)
    wait_idle(page)
    page.goto(f"{app_url}/pooling?{query}")
    wait_idle(page)


def _metric(page, label: str) -> str:
    m = page.locator('[data-testid="stMetric"]', has_text=label).first
    return m.locator('[data-testid="stMetricValue"]').inner_text()


def test_click_pooled_cell_shows_its_window(app_url, page):
    _open(page, app_url, "pool.source=mnist&pool.digit=3&pool.kind=max&pool.window=2&pool.stride=2")
    assert_no_exception(page)
    assert _metric(page, "Output size") == "14 × 14"
    assert _metric(page, "Activations discarded") == "75%"
    title = page.get_by_text("Window of p(7, 7)")
    assert title.count() == 1
    chart = page.locator(".st-key-pool-map .marks").first
    box = chart.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.2)   # inside the plot
    page.wait_for_function("() => !document.body.innerText.includes('Window of p(7, 7)')")
    wait_idle(page)
    assert page.get_by_text("Window of p(").count() == 1
    # the formula written out with numbers, further down the page, follows the click
    picked = page.get_by_text("Window of p(").inner_text().split("Window of ")[1].split(")")[0] + ")"
    katex = " ".join(page.evaluate("() => [...document.querySelectorAll('.katex-mathml annotation')]"
                                   ".map(e => e.textContent || '')")).replace(" ", "")
    assert f"{picked.replace(' ', '')}=\\max" in katex and "p(7,7)" not in katex
    assert_no_exception(page)
    screenshot(page, "pooling_click")


def test_shift_changes_the_share_unchanged(app_url, page):
    _open(page, app_url, "pool.source=mnist&pool.digit=3&pool.shift=0")
    assert _metric(page, "Pooled values unchanged") == "100%"
    thumb = page.locator('.st-key-pool-shift input[type="range"]')
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => !document.body.innerText.includes('Input shifted by 0 px')")
    wait_idle(page)
    share = _metric(page, "Pooled values unchanged")
    assert share.endswith("%") and int(share[:-1]) < 100
    assert_no_exception(page)
    screenshot(page, "pooling_shift")
