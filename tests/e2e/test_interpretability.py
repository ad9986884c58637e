"""Browser test of the interpretability page: four overlays, then another target class; screenshots."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_four_methods_and_target_change(app_url, page):
    page.goto(app_url)                                        # the app frame first (st.navigation)
    wait_idle(page)
    page.goto(f"{app_url}/interpretability?interpretability.index=7")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == "Interpretability"
    for name in ("Saliency", "Integrated Gradients", "Occlusion", "Grad-CAM (conv2)"):
        assert page.get_by_text(name, exact=True).count() >= 1
    heading = page.locator("h4", has_text="Which pixels matter").inner_text()
    screenshot(page, "interpretability-en")
    page.locator(".st-key-interpretability-target").click()
    page.get_by_role("option", name="3", exact=True).click()
    page.locator("h4", has_text="Which pixels matter for class 3?").wait_for()   # the fragment's rerun
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h4", has_text="Which pixels matter").inner_text() != heading
    assert "interpretability.target=3" in page.url
    screenshot(page, "interpretability-target3")
