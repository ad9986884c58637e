"""Browser: the "How big is big" page: pick a preset, change a shape, see the count; the loss map draws."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def _total(page) -> str:
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def test_preset_shape_and_scaling_laws(app_url, page):
    page.goto(f"{app_url}/scale?scale.preset=SmolLM2-135M")
    wait_idle(page, timeout=180_000)
    assert_no_exception(page)
    assert _total(page) == "134,515,008"
    screenshot(page, "scale")
    page.get_by_text("Shape (change anything)").click()
    box = page.locator(".st-key-scale-n_layer input")
    box.fill("31")
    box.press("Enter")
    expected = f"{134_515_008 + 3_540_096:,}"                         # one more SmolLM2 block
    # (the forged-value guard once took the browser's int_value for a wrong type and kept 30 layers)
    page.wait_for_function("(want) => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')]"
                           ".some(e => e.innerText === want)", arg=expected, timeout=60_000)
    wait_idle(page)
    assert _total(page) == expected
    assert "scale.n_layer=31" in page.url
    page.get_by_role("tab").nth(3).click()
    wait_idle(page)
    page.locator('[data-testid="stVegaLiteChart"] canvas:visible').first.wait_for(timeout=120_000)
    assert page.get_by_text("the best split between parameters").count() >= 1
    # the budget slider reruns only its tab (a fragment): the budget and the URL follow, the shape stays
    budget_slider = page.locator('.st-key-scale-log_c input[type="range"]')
    log_c = float(budget_slider.evaluate("e => e.value")) + 0.25
    budget_slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("(v) => location.search.includes('scale.log_c=' + v)", arg=str(log_c), timeout=60_000)
    wait_idle(page)
    budget = page.locator('[data-testid="stMarkdownContainer"]', has_text="the best split between parameters")
    assert f"C = {10 ** log_c:.3g} FLOPs" in budget.first.inner_text(), budget.first.inner_text()
    assert "scale.n_layer=31" in page.url and _total(page) == expected
    assert_no_exception(page)
    screenshot(page, "scale-laws")
