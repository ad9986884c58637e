"""Visit every page through the sidebar in a real browser; switch to Chinese; share ?lang=zh links."""
from bigmodel_core.i18n import t
from app_pages._ui import available_pages
from tests.e2e.test_layout import cut_text_at_both_sizes
from tests.e2e.conftest import (assert_no_exception, free_port, screenshot, start_server, stop_server,
                               wait_healthy, wait_idle)


def test_every_page_through_the_sidebar(app_url, page):
    """...and nothing leaves the machine: no request goes anywhere but the app's own server."""
    outside = []
    page.on("request", lambda r: None if r.url.startswith((app_url, "data:", "blob:")) else outside.append(r.url))
    page.goto(app_url)
    wait_idle(page)
    assert page.locator("h1").first.inner_text() == t("app.title", "en")
    pages = available_pages()
    for info in pages if len(pages) > 1 else []:         # Streamlit hides the nav of a one-page app
        link = page.locator('[data-testid="stSidebarNav"] a', has_text=t(f"nav.page.{info.key}", "en"))
        link.first.click()
        page.wait_for_url(f"**/{'' if info.key == 'home' else info.key}*")
        wait_idle(page)
        assert_no_exception(page)
        assert page.locator("h1").count() >= 1, f"{info.key} shows no title"
        screenshot(page, f"{info.key}-en")
    assert outside == [], f"requests off the machine: {sorted(set(outside))[:5]}"


def test_switch_to_chinese_changes_title_and_url(app_url, page):
    page.goto(app_url)
    wait_idle(page)
    page.locator('[data-testid="stSidebar"] button', has_text="简体中文").click()
    page.wait_for_function(f"() => document.querySelector('h1')?.innerText === {t('app.title', 'zh')!r}")
    wait_idle(page)
    assert "lang=zh" in page.url
    if len(available_pages()) > 1:
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert t("nav.page.home", "zh") in nav
    page.wait_for_function("() => document.querySelector('[data-testid=\"stSidebar\"]').innerText"
                           f".includes({t('app.cpu_threads', 'zh', n=1).split('1')[0]!r})")   # "CPU（"
    screenshot(page, "home-zh")


def test_lang_link_opens_every_page_in_chinese(app_url, page):
    for info in available_pages():
        page.goto(f"{app_url}/{'' if info.key == 'home' else info.key}?lang=zh")
        wait_idle(page)
        assert_no_exception(page)
        if len(available_pages()) > 1:
            assert t(f"nav.page.{info.key}", "zh") in page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert "lang=zh" in page.url
        screenshot(page, f"{info.key}-zh")
        cut = cut_text_at_both_sizes(page, info.key, "zh")      # no text cut at 1400x1000 or 390x844
        assert cut == [], f"{info.key} zh: " + " | ".join(cut[:6])


def test_shared_link_is_the_first_visit_of_a_fresh_server(browser):
    """A teacher's link opened before anyone visited the home page still runs app.py first:
    the app's own navigation (translated), the wide layout, the page in the link's language."""
    port = free_port()
    proc = start_server(port)
    try:
        wait_healthy(port, proc)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{port}/convolution?lang=zh")
        wait_idle(page, timeout=120_000)
        assert_no_exception(page)
        nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
        assert [t(f"nav.page.{i.key}", "zh") in nav for i in available_pages()] == [True] * len(available_pages())
        assert "ui" not in nav.split()                         # no helper modules listed as pages
        assert page.locator("h1").first.inner_text() == t("convolution.title", "zh")
        assert page.locator('[data-testid="stMainBlockContainer"]').bounding_box()["width"] > 1000   # layout="wide"
        page.close()
    finally:
        stop_server(proc)
