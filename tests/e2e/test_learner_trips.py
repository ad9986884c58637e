"""What a learner trips over, in a real browser (issue 19): hand-edited links with nan, learner text
with LaTeX's special characters in formulas, upload messages where the uploader is, Streamlit's own
uploader words in Chinese, and a /home link."""
from __future__ import annotations

import io
from urllib.parse import quote

import pytest
from PIL import Image

from bigmodel_core.i18n import t
from tests.e2e.conftest import assert_no_exception, wait_idle


def _open(page, url: str) -> list[str]:
    """Open a page; return the browser's errors (console errors, uncaught exceptions, Vega warnings
    about NaN such as "domain": [NaN, NaN]) seen while it loads."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text[:300]}")
            if m.type == "error" and "404" not in m.text or "NaN" in m.text else None)
    page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    page.goto(url)
    wait_idle(page, timeout=240_000)                  # a first visit to the RNN page trains its cells
    page.wait_for_timeout(800)                        # charts draw after the script finishes
    return problems


def _alerts(page) -> str:
    return "\n".join(page.locator('[data-testid="stAlert"]').all_inner_texts())


# one language each (the note's wording in both languages is checked for every key by tests/app/test_links.py)
@pytest.mark.parametrize("path,key,lang", [
    ("rnn?rnn.source=sine&rnn.freq=nan", "rnn.freq", "en"),
    ("loss_landscape?loss_landscape.view=network&loss_landscape.span=nan", "loss_landscape.span", "zh"),
    ("attention?attention.temp=-inf", "attention.temp", "en"),
    ("activations?activations.x0=inf", "activations.x0", "zh"),
])
def test_nan_in_a_link_draws_no_nan_and_says_so(page, app_url, path, key, lang):
    problems = _open(page, f"{app_url}/{path}&lang={lang}")
    assert_no_exception(page)
    assert problems == [], problems[:3]
    notes = _alerts(page)
    said = t("ui.url_refused", lang, name="§", raw="§", used="§").split("§")[2].strip("`* ")   # between raw and used
    assert key in notes and said in notes, notes
    assert page.locator(".katex-error").count() == 0


SPECIALS = r"%{}_\#&$^~"                # LaTeX's ten special characters


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_learner_text_with_latex_specials_keeps_the_formulas_whole(page, app_url, lang):
    """Step the RNN through a text holding all ten of LaTeX's specials: each step's formula (written by
    the step-through explorable) shows the typed character; then attention's row formula on the same
    text names its tokens, and no KaTeX formula on either page breaks.
    (Chinese: the first steps only, for the labels; the characters are the same.)"""
    page.set_default_timeout(240_000)                    # first visit: the cells are trained on the text
    problems = _open(page, f"{app_url}/rnn?rnn.text={quote(SPECIALS)}&rnn.t=1&lang={lang}")
    thumb = page.locator('.rs-slider input[name="step"]')
    for step, char in enumerate(SPECIALS if lang == "en" else SPECIALS[:3], start=1):
        if step > 1:
            thumb.focus()
            page.keyboard.press("ArrowRight")
        assert page.locator(".rs-root:not(.rs-compare)").get_attribute("data-step") == str(step)
        shown = page.locator(".rs-eq", has_text="one-hot").first.inner_text()
        assert f"one-hot('{char}')" in shown, (char, shown)
        assert page.locator(".katex-error").count() == 0, char
    assert_no_exception(page)
    for q in (0, 5, 10) if lang == "en" else ():         # attention's row formula names a token per query
        problems += _open(page, f"{app_url}/attention?attention.sentence={quote(SPECIALS)}"
                                f"&attention.query={q}&lang={lang}")
        assert_no_exception(page)
        root = page.locator(".ar-root")
        assert root.get_attribute("data-query") == str(min(q, 9))  # 10 tokens: query 10 is pulled back
        token = page.locator(".ar-slider-value").first.inner_text().split(": ", 1)[1]
        assert token and token in SPECIALS, token                 # one of the typed characters, as typed ...
        assert t("attention.row_title", token=token, i=min(q, 9)) == page.locator(".ar-title").nth(1).inner_text()   # ... in the row
        assert page.locator(".katex-error").count() == 0, q
    assert problems == [], problems[:3]


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (28, 28), 255).save(buf, format="GIF")
    return buf.getvalue()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_message_is_next_to_the_uploader_and_in_the_learners_words(page, app_url, lang):
    _open(page, f"{app_url}/convolution?conv.source=upload&lang={lang}")
    uploader = page.locator('[data-testid="stFileUploader"]')
    # Streamlit's own words, drawn in the learner's language; the size limit said before trying
    button = uploader.locator("button p").first
    assert button.evaluate("e => getComputedStyle(e, '::after').content") == f'"{t("ui.upload_button", lang)}"'
    assert any(t("ui.upload_refused", lang) in c for c in page.locator('[data-testid="stCaptionContainer"]').all_inner_texts())
    uploader.locator('input[type="file"]').set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}])
    error = page.locator('[data-testid="stAlert"]', has_text=t("errors.image.not_image", lang))
    error.wait_for()
    up_box, err_box = uploader.bounding_box(), error.bounding_box()
    assert 0 <= err_box["y"] - (up_box["y"] + up_box["height"]) < 200, (up_box, err_box)   # right under it
    assert err_box["y"] + err_box["height"] < 1000                                         # above the fold

    _open(page, f"{app_url}/cnn_anatomy?cnn_anatomy.source=upload&lang={lang}")   # a GIF: refused by us
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(
        files=[{"name": "digit.gif", "mimeType": "image/gif", "buffer": _gif()}])
    page.locator('[data-testid="stAlert"]', has_text=t("errors.image.not_image", lang)).wait_for()
    assert_no_exception(page)


def test_home_link_opens_home_in_chinese(page, app_url):
    problems = _open(page, f"{app_url}/home?lang=zh")
    assert page.locator("h1").first.inner_text() == t("app.title", "zh")
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator('[role="dialog"]').count() == 0
    assert problems == [], problems[:3]
