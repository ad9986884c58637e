"""The compression page in Chromium: move the bits slider by keyboard, open the Q4_1, pruning and
distillation tabs, refuse 100 % sparsity, and the Chinese page from a link."""
from bigmodel_core.compress_results import load_results
from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

RESULTS = load_results()


def metric_value(page, label: str) -> str:
    box = page.locator('[data-testid="stMetric"]', has_text=label).first
    return box.locator('[data-testid="stMetricValue"]').inner_text()


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def test_bits_slider_tabs_and_refusals(app_url, page):
    page.goto(app_url)                                         # the app frame first (st.navigation)
    wait_idle(page)
    page.goto(f"{app_url}/compression?compression.bits=8&compression.layer=fc1")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == t("compression.title", "en")
    whole = {(r["bits"], r["per_channel"]): r["accuracy"] for r in RESULTS["quantization"]["whole"]}
    assert metric_value(page, "Whole CNN at 8 bits") == pct(whole[(8, False)])
    thumb = page.locator('.st-key-compression-bits input[type="range"]')
    thumb.focus()
    for _ in range(6):                                         # 8 -> 2 bits
        page.keyboard.press("ArrowLeft")
        wait_idle(page)
    page.wait_for_url("**compression.bits=2*")
    wait_idle(page)
    assert metric_value(page, "Whole CNN at 2 bits") == pct(whole[(2, False)])
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 2
    screenshot(page, "compression-quantize-en")

    page.get_by_role("tab", name=t("compression.tab_q4", "en")).click()
    wait_idle(page)
    assert page.get_by_text("largest difference 0").first.is_visible()

    page.get_by_role("tab", name=t("compression.tab_prune", "en")).click()
    wait_idle(page)
    thumb = page.locator('.st-key-compression-sparsity input[type="range"]')
    thumb.focus()
    for _ in range(8):                                         # 50 % -> 60 ... 90, 95, 99, 100 %
        page.keyboard.press("ArrowRight")
        wait_idle(page)
    page.wait_for_url("**compression.sparsity=100*")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator('[data-testid="stAlertContentError"]', has_text="below 100 %").first.is_visible()
    page.keyboard.press("ArrowLeft")                           # 99 %: the recorded point
    page.wait_for_url("**compression.sparsity=99*")
    wait_idle(page)
    row = next(r for r in RESULTS["pruning"] if r["scope"] == "global" and r["fraction"] == 0.99)
    assert metric_value(page, "right after pruning") == pct(row["accuracy"])
    screenshot(page, "compression-prune-en")


def test_distillation_in_chinese(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.goto(f"{app_url}/compression?lang=zh&compression.T=8.0&compression.alpha=0.9")
    wait_idle(page)
    assert_no_exception(page)
    assert page.locator("h1").first.inner_text() == t("compression.title", "zh")
    page.get_by_role("tab", name=t("compression.tab_distill", "zh")).click()
    wait_idle(page)
    students = {s["key"]: s for s in RESULTS["distillation"]["students"]}
    assert metric_value(page, t("compression.soft_student", "zh", T="8", alpha="0.9")) == pct(students["T8_a0.9"]["accuracy"])
    screenshot(page, "compression-distill-zh")
