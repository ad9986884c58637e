"""Every page at a projector's 1400x1000 and a phone's 390x844, in both languages: no text is cut by
its box (a clipped button word, an ellipsis, a formula running past its column), and a screenshot
of each, the whole page tall, goes to build/screenshots/layout-<page>-<lang>-<size>.png for review.

One load per page and language: the phone size is the same page with the window narrowed (Streamlit
lays out for the width with CSS alone, no rerun). The Chinese pages are checked where
test_navigation already opens each of them."""
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
        + '.katex-mathml, [data-testid=stTable], [role=tablist]')) continue;   // tab bars scroll by design
    const cs = getComputedStyle(el);
    const clips = ['hidden', 'clip', 'auto', 'scroll'].includes(cs.overflowX) || cs.textOverflow === 'ellipsis'
                  || el.classList.contains('katex-display');
    if (!clips || el.scrollWidth <= el.clientWidth + 4) continue;   // KaTeX's struts: 2-3 px
    const text = (el.innerText || '').trim().replace(/\\s+/g, ' ');
    if (text) cut.push(`${el.getAttribute('data-testid') || el.className}: ${el.scrollWidth}>${el.clientWidth} px: `
                       + text.slice(0, 60));
  }
  return cut;
}"""


def _tall_screenshot(page, name: str, width: int, height: int) -> None:
    """The whole page: the window made as tall as the page's scrolling content, then put back."""
    tall = page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                         "[data-testid=stAppViewContainer]')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": width, "height": min(max(height, tall), 16_000)})
    page.wait_for_timeout(300)
    screenshot(page, name)
    page.set_viewport_size({"width": width, "height": height})


def cut_text_at_both_sizes(page, key: str, lang: str) -> list[str]:
    """On a loaded page: the cut texts at each size (and a screenshot of each), the window put back."""
    cut = []
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(600)                      # charts and formulas settle their widths
        cut += [f"{width}x{height} {c}" for c in page.evaluate(CUT_TEXT)]
        _tall_screenshot(page, f"layout-{key}-{lang}-{width}x{height}", width, height)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
    return cut


@pytest.mark.parametrize("key", PAGES)
def test_no_text_is_cut_at_either_size(page, app_url, key):
    """English here; Chinese in test_navigation's visit of every page by a ?lang=zh link (same check,
    no second load of each page)."""
    page.set_default_timeout(90_000)
    page.goto(f"{app_url}/{'' if key == 'home' else key}?lang=en")
    wait_idle(page, timeout=240_000)                    # a first visit to the RNN page trains its cells
    assert_no_exception(page)
    cut = cut_text_at_both_sizes(page, key, "en")
    assert cut == [], f"{key} en: " + " | ".join(cut[:6])
