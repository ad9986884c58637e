"""Every page at a projector's 1400x1000 and a phone's 390x844, in both languages: no text is cut by
its box (a clipped button word, an ellipsis, a formula running past its column), and a screenshot
of each goes to build/screenshots/layout-<page>-<lang>-<size>.png for the review."""
import pytest

from app_pages._ui import available_pages
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle

SIZES = ((1400, 1000), (390, 844))
PAGES = [p.key for p in available_pages()]

# Text whose box is narrower than the text and that box hides the rest (overflow hidden/clip/auto/
# scroll or an ellipsis), or a display formula wider than its column. Charts, tables and code
# scroll on purpose; KaTeX's MathML copy is hidden by design.
CUT_TEXT = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const cut = [];
  for (const el of main.querySelectorAll('*')) {
    if (!el.offsetParent || el.closest('.vega-embed, [data-testid=stDataFrame], [data-testid=stCode], '
        + '.katex-mathml, [data-testid=stTable]')) continue;
    const cs = getComputedStyle(el);
    const clips = ['hidden', 'clip', 'auto', 'scroll'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis'
                  || el.classList.contains('katex-display');
    if (!clips || el.scrollWidth <= el.clientWidth + 1) continue;
    const text = (el.innerText || '').trim().replace(/\\s+/g, ' ');
    if (text) cut.push(`${el.getAttribute('data-testid') || el.className}: ${el.scrollWidth}>${el.clientWidth} px: `
                       + text.slice(0, 60));
  }
  return cut;
}"""


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("key", PAGES)
def test_no_text_is_cut_at_either_size(browser, app_url, key, lang):
    for width, height in SIZES:
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.set_default_timeout(90_000)
        try:
            page.goto(f"{app_url}/{'' if key == 'home' else key}?lang={lang}")
            wait_idle(page)
            page.wait_for_timeout(500)                  # charts and formulas settle their widths
            assert_no_exception(page)
            screenshot(page, f"layout-{key}-{lang}-{width}x{height}")
            cut = page.evaluate(CUT_TEXT)
            assert cut == [], f"{key} {lang} {width}x{height}: " + " | ".join(cut[:6])
        finally:
            context.close()
