"""Every page file runs on its own under AppTest, in both languages, without an exception."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from app_pages._ui import SECTIONS, available_pages

PAGES = available_pages()
ROOT = Path(__file__).resolve().parents[2]


def run_page(key: str, lang: str = "en", timeout: float = 120) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{key}.py"), default_timeout=timeout)
    at.session_state["lang"] = lang
    return at.run()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("info", PAGES, ids=[p.key for p in PAGES])
def test_page_runs_in_both_languages(info, lang):
    at = run_page(info.key, lang)
    assert not at.exception, at.exception[0].message if at.exception else ""
    assert len(at.title) >= 1
    if info.key != "home":
        assert at.title[0].value == t(f"{info.key}.title", lang)


def test_home_counts_and_links_the_existing_pages():
    at = run_page("home")
    concept_pages = [p for p in PAGES if p.key != "home"]
    assert at.metric[0].value == str(len(concept_pages))
    assert at.title[0].value == "BigModel Lab"
    assert run_page("home", "zh").title[0].value == "大模型实验室"
    # the map: every section that has pages, numbered in learning order, each with its pages' links
    text = "\n".join(m.value for m in at.markdown)
    sections = [s for s in SECTIONS[1:] if any(p.section == s for p in concept_pages)]
    heads = [text.index(f"{n} {t(f'nav.section.{s}', 'en')}") for n, s in zip("①②③④⑤⑥", sections)]
    assert heads == sorted(heads)
    for p in concept_pages:   # AppTest runs the page alone: links fall back to markdown links
        assert f"[{t(f'nav.page.{p.key}', 'en')}](./{p.key})" in text


def test_app_frame_runs_with_the_language_switch():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert not at.exception
    assert at.title[0].value == "BigModel Lab"
    at.session_state["lang"] = "zh"
    at.run()
    assert at.title[0].value == "大模型实验室"


def test_no_page_has_a_bare_value_that_magic_would_draw():
    """Streamlit's magic st.write()s every expression statement that is not a call: a conditional
    `f(x) if a else g(x)` on its own line draws the literal `None` (it did on the loss landscape)."""
    import ast
    drawn = []
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            for stmt in body if isinstance(body, list) else []:
                if (isinstance(stmt, ast.Expr) and not isinstance(stmt.value, (ast.Call, ast.Await, ast.Yield))
                        and not (isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str))):
                    drawn.append(f"{path.name}:{stmt.lineno}")
    assert not drawn, drawn
