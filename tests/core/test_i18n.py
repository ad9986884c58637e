"""Both catalogs have the same keys, no empty values, and the same {placeholders}."""
import re

import pytest

from bigmodel_core.i18n import LANGS, catalog, t

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_catalogs_have_the_same_keys():
    en, zh = catalog("en"), catalog("zh")
    assert set(en) - set(zh) == set(), "keys missing in zh"
    assert set(zh) - set(en) == set(), "keys missing in en"


@pytest.mark.parametrize("lang", LANGS)
def test_no_empty_values(lang):
    empty = [k for k, v in catalog(lang).items() if not isinstance(v, str) or not v.strip()]
    assert empty == []


def test_placeholders_match_between_languages():
    en, zh = catalog("en"), catalog("zh")
    diff = {k: (PLACEHOLDER.findall(en[k]), PLACEHOLDER.findall(zh[k])) for k in en
            if sorted(PLACEHOLDER.findall(en[k])) != sorted(PLACEHOLDER.findall(zh[k]))}
    assert diff == {}


def test_zh_values_are_chinese_where_en_is_prose():
    # a copy-pasted English string in the Chinese catalog is a missed translation
    en, zh = catalog("en"), catalog("zh")
    untranslated = [k for k in en if len(en[k]) > 25 and en[k] == zh[k]]
    assert untranslated == []


def test_lookup_fills_parameters_and_falls_back():
    assert t("common.stopped", "en", step=7) == "Training stopped at step 7."
    assert "7" in t("common.stopped", "zh", step=7)
    assert t("no.such.key", "zh") == "no.such.key"
    assert t("app.title", "xx") == t("app.title", "en")


def test_duplicate_key_is_an_error(tmp_path, monkeypatch):
    import bigmodel_core.i18n as i18n
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.toml").write_text('[x]\ny = "1"\n')
    (tmp_path / "en" / "b.toml").write_text('x.y = "2"\n')
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(ValueError, match="defined twice"):
            i18n.catalog("en")
    finally:
        i18n.catalog.cache_clear()


COURSE_FILE_NAME = re.compile(r"\b[Ss]eeds?(?:'s|s'| 0\d\d)")     # "seed 001 §3.3.3", "the seeds' code"


@pytest.mark.parametrize("lang", LANGS)
def test_learners_read_course_text_not_seed(lang):
    """The course texts are files named seed*.txt here; a learner was never told so. (A random seed is fine.)"""
    assert {k: v for k, v in catalog(lang).items() if COURSE_FILE_NAME.search(v)} == {}


def test_the_code_learners_can_open_names_the_course_text():
    """The core functions behind "Show the code" say "course text", not the name of our source files."""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parents[2]
    shown = set()
    for page in (root / "app_pages").glob("*.py"):
        for node in ast.walk(ast.parse(page.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_code":
                shown |= {ast.unparse(a).split(".")[-1] for a in node.args}
    assert len(shown) > 40
    found = {}
    for path in (root / "bigmodel_core").rglob("*.py"):
        text = path.read_text()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in shown:
                if COURSE_FILE_NAME.search(ast.get_source_segment(text, node)):
                    found[f"{path.name}:{node.name}"] = node.lineno
    assert found == {}
