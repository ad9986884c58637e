"""Browser: click on the latent map and drive the coordinate pickers; the decoded image follows."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def _decoded_caption(page) -> str:
    return page.locator('[data-testid="stImageCaption"]', has_text="z = (").first.inner_text()


def test_click_the_map_and_move_the_sliders(app_url, page):
    page.goto(f"{app_url}/autoencoder")
    wait_idle(page, timeout=180_000)                         # first visit loads the digits and models
    assert_no_exception(page)
    before = _decoded_caption(page)
    picked = page.locator('[data-testid="stMarkdownContainer"]', has_text="Held-out digit #").first
    picked_before = picked.inner_text()
    screenshot(page, "autoencoder-start")

    # a click inside the map selects the nearest digit: both coordinates jump to its code
    chart = page.locator(".st-key-autoencoder-map canvas, .st-key-autoencoder-map svg").first
    chart.wait_for()
    box = chart.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.18, box["y"] + box["height"] * 0.25)
    page.wait_for_function(
        "(b) => [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')]"
        ".some(e => e.innerText.includes('z = (') && e.innerText !== b)", arg=before)
    wait_idle(page)
    after_click = _decoded_caption(page)
    assert after_click != before
    assert picked.inner_text() != picked_before             # a different digit is shown next to its decoding
    screenshot(page, "autoencoder-clicked")

    # the coordinate picker: two key presses move z1 by 0.2
    thumb = page.locator('.st-key-autoencoder-z1 input[type="range"]')
    thumb.focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "(b) => [...document.querySelectorAll('[data-testid=\"stImageCaption\"]')]"
        ".some(e => e.innerText.includes('z = (') && e.innerText !== b)", arg=after_click)
    wait_idle(page)
    assert_no_exception(page)
    assert _decoded_caption(page) != after_click
    # the formula section further down is written with the same z (it follows the fragment)
    z1, z2 = _decoded_caption(page).split("z = (")[1].split(")")[0].split(", ")
    katex = " ".join(page.evaluate("() => [...document.querySelectorAll('.katex-mathml annotation')]"
                                   ".map(e => e.textContent || '')")).replace(" ", "")
    assert f"\\begin{{bmatrix}}{z1}\\\\{z2}\\end{{bmatrix}}" in katex
    assert "autoencoder.z1=" in page.url


def test_other_tabs_render(app_url, page):
    page.goto(f"{app_url}/autoencoder?autoencoder.noise=0.5")
    wait_idle(page, timeout=180_000)
    for i, name in enumerate(["walk", "grid", "denoise"], start=1):
        page.get_by_role("tab").nth(i).click()
        wait_idle(page)
        assert_no_exception(page)
        screenshot(page, f"autoencoder-{name}")
