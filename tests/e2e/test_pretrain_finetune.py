"""Browser: the pre-training / fine-tuning page trains the digit classifiers and shows LoRA's arithmetic."""
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_digits_and_lora_arithmetic(app_url, page):
    page.goto(f"{app_url}/pretrain_finetune?pretrain_finetune.n=20")
    wait_idle(page, timeout=600_000)                          # first visit trains three small classifiers
    assert_no_exception(page)
    values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert len(values) == 3 and all(v.endswith("%") for v in values)
    screenshot(page, "pretrain_finetune")
    page.get_by_role("tab").nth(1).click()
    wait_idle(page)
    assert page.get_by_text("460,800").count() >= 1            # r = 8: trainable numbers in all 30 layers
    assert_no_exception(page)
    screenshot(page, "pretrain_finetune-llm")
