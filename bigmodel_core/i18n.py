"""Two languages, one lookup: t(key, lang) over the catalogs in bigmodel_core/locales/.

Each language is a folder of TOML files (`locales/en/*.toml`, `locales/zh/*.toml`), one file per page
or topic, so pages add strings without touching each other's files. Tables become dotted keys:

    [conv]                      ->  "conv.title"
    title = "Convolution"

A key defined twice in one language is an error; tests check both languages have the same keys
and that no value is empty.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

LANGS = ("en", "zh")                                  # English, 简体中文
LANG_NAMES = {"en": "English", "zh": "简体中文"}
LOCALES_DIR = Path(__file__).parent / "locales"


def _flatten(table: dict, prefix: str = "") -> dict[str, str]:
    flat = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            flat.update(_flatten(v, key + "."))
        else:
            flat[key] = v
    return flat


@lru_cache(maxsize=None)
def catalog(lang: str) -> dict[str, str]:
    """All strings of one language, merged from its TOML files (raises on a duplicated key)."""
    if lang not in LANGS:
        raise KeyError(f"unknown language {lang!r}; expected one of {LANGS}")
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.toml")):
        with open(path, "rb") as f:
            for key, value in _flatten(tomllib.load(f)).items():
                if key in merged:
                    raise ValueError(f"{path.name}: key {key!r} is defined twice in {lang}")
                merged[key] = value
    return merged


def t(key: str, lang: str = "en", **params) -> str:
    """The string for `key` in `lang`, with {params} filled in; the key itself if it is missing."""
    text = catalog(lang if lang in LANGS else "en").get(key)
    if text is None:
        text = catalog("en").get(key, key)
    return text.format(**params) if params else text
