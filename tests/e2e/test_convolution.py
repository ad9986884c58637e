"""Browser: click an output pixel on the feature map and see the window's arithmetic change."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

SUM = '[data-testid="stMarkdownContainer"]:has-text("Σ w·x")'


def _open(page, app_url, query: str) -> None:
    page.goto(app_url)                 # the app's frame first (a fresh server's first visit to a
    wait_idle(page)                    # deep link runs the page file alone, see the report)
    page.goto(f"{app_url}/convolution?{query}")
    wait_idle(page)


def _sum_text(page) -> str:
    return page.locator(SUM).first.inner_text()


def test_click_output_pixel_updates_the_window_table(app_url, page):
    _open(page, app_url, "conv.photo=camera&conv.kernel=sobel_x&conv.size=32")
    assert_no_exception(page)
    before = _sum_text(page)
    assert "y(15, 15)" in before                                  # the centre pixel of 30x30
    chart = page.locator(".st-key-conv-map .marks").first
    box = chart.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.12, box["y"] + box["height"] * 0.2)
    page.wait_for_function("(b) => ![...document.querySelectorAll('[data-testid=\"stMarkdownContainer\"]')]"
                           ".some(e => e.innerText === b)", arg=before)
    wait_idle(page)
    after = _sum_text(page)
    assert after != before and "y(15, 15)" not in after
    # the formula written out with the numbers follows the click (it is inside the same fragment)
    picked = after[after.index("y("):].split(")")[0] + ")"              # e.g. "y(5, 3)"
    katex = " ".join(page.evaluate("() => [...document.querySelectorAll('.katex-mathml annotation')]"
                                   ".map(e => e.textContent || '')"))
    assert f"{picked.replace(' ', '')}=" in katex.replace(" ", "") and "y(15,15)" not in katex.replace(" ", "")
    assert_no_exception(page)
    screenshot(page, "convolution_click")


def test_stride_slider_shrinks_the_map_and_rgb_mode_shows_three_slices(app_url, page):
    _open(page, app_url, "conv.size=64&conv.stride=2&conv.rgb=1&conv.photo=astronaut"
                         "&conv.kernel=sharpen&conv.padding=1")
    assert_no_exception(page)
    assert page.get_by_text("Feature map 32×32").count() == 1     # floor((64 + 2 - 2 - 1) / 2) + 1
    assert page.get_by_text("Channel B", exact=False).count() == 1
    screenshot(page, "convolution_rgb")
