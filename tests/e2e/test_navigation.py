"""Visit every page through the sidebar in a real browser; switch to Chinese; share ?lang=zh links."""
from bigmodel_core.i18n import t
from pages._ui import available_pages
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_every_page_through_the_sidebar(app_url, page):
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
