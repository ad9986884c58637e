"""The self-attention page in a real browser: a d_k key press and a click on the heat map change the
numbers; in the real model a Chinese example shows the [UNK] message and a click enlarges a head."""
from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_by_hand_slider_and_click_then_model_view(app_url, page):
    page.goto(app_url)                          # through the app frame (wide layout, navigation)
    wait_idle(page, timeout=180_000)
    page.goto(f"{app_url}/attention")
    wait_idle(page, timeout=180_000)
    assert_no_exception(page)
    assert page.get_by_text(t("attention.row_title", token="the", i=0)).count() == 1
    assert page.get_by_text(t("attention.q_title", d_k=8)).count() == 1

    # Known Streamlit race (about 1 first visit in 10 on a fresh server here): the selection charts
    # report their empty selection while the slow first run is still going, the queued full rerun
    # then leaves this fragment's sliders and toggles drawn at their minimum while the page computes
    # with the seeded values. A reload draws them right; the test asserts that it does.
    dk = page.locator('.st-key-attention-dk input[type="range"]')
    if dk.input_value() != "8":
        page.reload()
        wait_idle(page)
    assert dk.input_value() == "8"
    dk.focus()
    page.keyboard.press("ArrowRight")
    page.get_by_text(t("attention.q_title", d_k=9)).wait_for()
    wait_idle(page)

    # click row 3 ("on") of the weight matrix: cells are drawn in row-major order, 10 tokens a row
    cells = page.locator(".st-key-attention-weights_click .mark-rect path")
    cells.nth(3 * 10 + 2).click(position={"x": 4, "y": 4})
    page.get_by_text(t("attention.row_title", token="on", i=3)).wait_for()
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "attention-by-hand")

    page.get_by_role("tab").nth(1).click()
    page.locator(".st-key-attention-example button", has_text="注意力机制").click()
    page.get_by_text("are [UNK]").first.wait_for()
    wait_idle(page)
    heads = page.locator(".st-key-attention-model_click .mark-symbol path")
    heads.nth(2 * 12 + 4).click()                                       # layer 3, head 5
    page.get_by_text(t("attention.head_view", layer=3, head=5)).wait_for()
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "attention-model")
