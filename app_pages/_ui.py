"""Streamlit helpers shared by every page: language, the page registry, URL state, the four parts.

This is the UI layer (it imports streamlit); the math lives in bigmodel_core. Every page also runs
on its own (AppTest runs page files directly), so shared values are read with defaults.
"""
from __future__ import annotations

import copy
import inspect
import math
import re
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import streamlit as st

from bigmodel_core.errors import UserInputError
from bigmodel_core.i18n import LANGS
from bigmodel_core.i18n import t as _t

PAGES_DIR = Path(__file__).parent


# ---------------------------------------------------------------------------------------------
# Language

def lang() -> str:
    """The learner's language: the sidebar switch, else ?lang= in the URL, else English."""
    value = st.session_state.get("lang") or st.query_params.get("lang", "en")   # page run alone
    return value if value in LANGS else "en"


def t(key: str, **params) -> str:
    """The string for `key` in the learner's language."""
    return _t(key, lang(), **params)


# ---------------------------------------------------------------------------------------------
# The page registry: every concept page, in learning order, grouped by section.
# A page appears in the app once its file exists, so page issues only add files.

@dataclass(frozen=True)
class PageInfo:
    key: str       # file stem in app_pages/, URL path, and i18n key nav.page.<key>
    section: str   # i18n key nav.section.<section>
    icon: str

    @property
    def path(self) -> Path:
        return PAGES_DIR / f"{self.key}.py"

    @property
    def exists(self) -> bool:
        return self.path.exists()


SECTIONS = ("start", "foundations", "vision", "sequences", "training", "representations", "llm", "trust")
PAGES = (
    PageInfo("home", "start", ":material/home:"),
    PageInfo("activations", "foundations", ":material/show_chart:"),
    PageInfo("losses", "foundations", ":material/target:"),
    PageInfo("convolution", "vision", ":material/grid_on:"),
    PageInfo("pooling", "vision", ":material/grid_view:"),
    PageInfo("cnn_anatomy", "vision", ":material/layers:"),
    PageInfo("rnn", "sequences", ":material/repeat:"),
    PageInfo("attention", "sequences", ":material/visibility:"),
    PageInfo("loss_landscape", "training", ":material/landscape:"),
    PageInfo("regularization", "training", ":material/tune:"),
    PageInfo("autoencoder", "representations", ":material/compress:"),
    PageInfo("next_token", "llm", ":material/edit_note:"),
    PageInfo("tokens", "llm", ":material/segment:"),
    PageInfo("llm_layers", "llm", ":material/stacks:"),
    PageInfo("scale", "llm", ":material/straighten:"),
    PageInfo("pretrain_finetune", "llm", ":material/school:"),
    PageInfo("compression", "llm", ":material/compress:"),
    PageInfo("interpretability", "trust", ":material/search_insights:"),
    PageInfo("robustness", "trust", ":material/shield:"),
)


def available_pages() -> list[PageInfo]:
    return [p for p in PAGES if p.exists]


# ---------------------------------------------------------------------------------------------
# URL state: a link reproduces a demo
#
#     url_state("conv.stride", 1, lo=1, hi=4)        # before the widget: seed it from ?conv.stride=
#     st.slider(t("conv.stride"), 1, 4, key="conv.stride")   # key only: no value=/index=
#     sync_url("conv.stride", "conv.kernel")         # after the widgets: write them to the URL
#
# (Streamlit's own bind="query-params" writes an option's *formatted* label into the URL, so a
# link made in Chinese would not open in English; this stores the option's value instead.)

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _parse(raw: str, default, *, choices, lo, hi, max_chars):
    """The value a URL text stands for, or ValueError: parsed like `default`, finite, in range."""
    if isinstance(default, bool):
        if raw.lower() not in _TRUE + _FALSE:
            raise ValueError(raw)
        parsed = raw.lower() in _TRUE
    elif default is None or isinstance(default, str):
        parsed = raw
        if max_chars is not None and len(parsed) > max_chars:
            raise ValueError(raw)
    else:
        parsed = type(default)(raw)                      # int("nan") raises; float("nan") does not
        if isinstance(parsed, float) and not math.isfinite(parsed):
            raise ValueError(raw)                        # nan < lo is False: check it by name
    if choices is not None and parsed not in choices:
        raise ValueError(raw)
    if (lo is not None and parsed < lo) or (hi is not None and parsed > hi):
        raise ValueError(raw)
    return parsed


def _url_note(key: str, raw: str, used) -> None:
    """Say, where the widget is, that a link's value was refused and which value stands in."""
    shown = raw if len(raw) <= 40 else raw[:40] + "…"
    shown = shown.replace("`", "'").replace("\n", " ")
    used = "—" if used == "" else used
    st.warning(t("ui.url_refused", name=key, raw=shown, used=used), icon=":material/link_off:")


def url_state(key: str, default, *, choices=None, lo=None, hi=None, max_chars=None) -> None:
    """Seed st.session_state[key] from ?key=... once, before the widget with that key is drawn.

    A value that does not parse, is not finite (nan, inf), is not among `choices`, falls outside
    [lo, hi] or is longer than `max_chars` gives `default`, and a note next to the widget says so
    (it stays until the learner changes that setting).
    """
    notes = st.session_state.setdefault("_url_notes", {})      # key -> (raw text, value used)
    if key in st.session_state:
        if key in notes:
            if st.session_state[key] == notes[key][1]:
                _url_note(key, *notes[key])
            else:
                del notes[key]                                  # the learner moved on
        return
    notes.pop(key, None)
    value = default
    raw = st.query_params.get(key)
    if raw is not None:
        try:
            value = _parse(raw, default, choices=choices, lo=lo, hi=hi, max_chars=max_chars)
        except (TypeError, ValueError, OverflowError):
            notes[key] = (raw, default)
            _url_note(key, raw, default)
    st.session_state[key] = value


def sync_url(*keys: str) -> None:
    """Write the current values of these session-state keys into the address bar."""
    for key in keys:
        value = st.session_state.get(key)
        if value is None:
            continue
        text = ("1" if value else "0") if isinstance(value, bool) else str(value)
        if st.query_params.get(key) != text:
            st.query_params[key] = text


# ---------------------------------------------------------------------------------------------
# The four parts of a page (CONCEPTS.md): play, formula, why, try this

def page_header(key: str) -> None:
    """Title and one-line intro from <key>.title and <key>.intro."""
    st.title(t(f"{key}.title"))
    st.caption(t(f"{key}.intro"))


def section(part: str) -> None:
    """A heading for one of the four parts: "formula", "why" or "try_this"."""
    st.subheader(t(f"common.{part}"))


def why_and_try(key: str) -> None:
    """The last two parts from <key>.why (a paragraph) and <key>.try (a list, one idea per line)."""
    section("why")
    st.markdown(t(f"{key}.why"))
    section("try_this")
    st.markdown("\n".join(f"- {line.strip()}" for line in t(f"{key}.try").strip().splitlines()
                          if line.strip()))


_LINES: dict[str, list[str]] = {}   # a module's file as lines, read once per process
_LINES_LOCK = threading.Lock()


def _file_lines(path: str) -> list[str]:
    with _LINES_LOCK:
        if path not in _LINES:
            _LINES[path] = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
        return _LINES[path]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def source_of(obj) -> str:
    """The source of a core function, method or class, sliced from its file's text.

    Not the inspect module's getsource: it tokenizes or parses on every call, and under 60
    concurrent sessions (CPython 3.11 threads) it raised SystemError. Here the file is read once and
    the block is cut by indentation: from the first decorator to the last line indented deeper than
    the `def`/`class` (a multi-line signature counts by its brackets). tests/app/test_ui.py checks
    the text equals the inspect module's for every object a page shows."""
    obj = inspect.unwrap(obj)
    lines = _file_lines(sys.modules[obj.__module__].__file__)
    if hasattr(obj, "__code__"):
        start = obj.__code__.co_firstlineno - 1                     # the first decorator's line
    else:                                                           # a class: its `class Name` line
        pattern = re.compile(rf"\s*class {re.escape(obj.__name__)}\b")
        start = next(i for i, line in enumerate(lines) if pattern.match(line))
        while start > 0 and lines[start - 1].lstrip().startswith("@"):
            start -= 1
    head = start
    while lines[head].lstrip().startswith("@"):
        head += 1
    depth, end = 0, head
    while True:                                                     # the header, to its closing ":"
        depth += sum(lines[end].count(c) for c in "([{") - sum(lines[end].count(c) for c in ")]}")
        end += 1
        if depth <= 0:
            break
    base = _indent(lines[head])
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
        end += 1
    while not lines[end - 1].strip():                               # no trailing blank lines
        end -= 1
    return "".join(lines[start:end])


def show_code(*functions) -> None:
    """An expander with the source of the core functions behind the picture."""
    with st.expander(t("common.show_code"), icon=":material/code:"):
        st.caption(t("common.show_code_caption"))
        for fn in functions:
            st.code(source_of(fn), language="python")


def _css_text(text: str) -> str:
    """A string as a CSS `content:` value."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def image_uploader(key: str):
    """st.file_uploader for one picture, with Streamlit's own words in the learner's language.

    No `type=`: every file reaches the app, so a GIF or a text file gets load_image's message in
    the learner's language instead of the browser's English hover note. Streamlit 1.67 has no
    setting for its uploader words ("Upload", "10MB per file • ..."): CSS draws ours in their place
    (the originals stay in the page for screen readers and come back if Streamlit renames its
    test ids). A file over the size limit never reaches the app (the browser refuses it, with an
    English hover note), so the caption below says what happens before the learner tries.
    """
    up = st.file_uploader(t("common.upload"), key=key)
    zone = f".st-key-{key.replace('.', '-')} [data-testid='stFileUploaderDropzone']"
    st.html(f"""<style>
    {zone} button [data-testid='stMarkdownContainer'] p {{font-size: 0;}}
    {zone} button [data-testid='stMarkdownContainer'] p::after {{content: {_css_text(t("ui.upload_button"))};
        font-size: 0.875rem;}}
    {zone} [data-testid='stFileUploaderDropzoneInstructions'] span {{font-size: 0;}}
    {zone} [data-testid='stFileUploaderDropzoneInstructions'] span::after {{
        content: {_css_text(t("ui.upload_instructions"))}; font-size: 0.875rem;}}
    </style>""")
    st.caption(t("ui.upload_refused"))
    return up


def text_limit(n: int, where=st) -> None:
    """Say under a text box how much it takes: the browser drops a longer paste without a word."""
    where.caption(t("ui.max_chars", n=n))


def show_error(err: UserInputError) -> None:
    """A learner's mistake, in their language, never a traceback."""
    st.error(err.message(lang()), icon=":material/error:")


def vega(spec: dict, *, datasets: dict | None = None, key: str | None = None, on_select="ignore",
         height: int | None = None, where=st):
    """A Vega-Lite dict at its own size: the fast path for charts redrawn on every key press.

    Inline rows (spec["data"]["values"]) and named data sets given as lists of rows go to the browser
    as Arrow bytes; `datasets` adds or replaces named data sets. The spec passed in is left as it is
    (Streamlit takes the data sets out of the dict it is given), so a cached spec can be reused.
    An Altair chart goes through charts.spec.to_spec first (no schema validation per rerun).
    charts.spec (Altair, pandas: 0.6 s) is imported on the first chart, not with the app: the home
    page draws none, and cold start is measured to it.
    height: as in `altair`; where: a container or placeholder (st.empty()) to draw into.
    """
    from bigmodel_core.charts.spec import arrow_bytes, to_spec
    if not isinstance(spec, dict):
        spec = to_spec(spec)
    values = spec["data"].get("values") if isinstance(spec.get("data"), dict) else None
    data = pa.Table.from_pylist(values) if isinstance(values, list) else None
    named = {**(spec.get("datasets") or {}), **(datasets or {})}
    spec = copy.deepcopy({k: v for k, v in spec.items() if k != "datasets" and not (k == "data" and data is not None)})
    if named:
        spec["datasets"] = {name: arrow_bytes(rows) if isinstance(rows, list) and rows else rows
                            for name, rows in named.items()}
    extra = {} if height is None else {"height": height}
    return where.vega_lite_chart(data, spec, width="content", key=key, on_select=on_select, **extra)


def altair(chart, *, key: str | None = None, on_select: str = "ignore", height: int | None = None, where=st):
    """st.altair_chart at the chart's own size (Streamlit would stretch it otherwise).

    Pass `height` (pixels, title and axes included) for charts whose spec has no fixed height:
    Streamlit 1.67 draws those about 50 px tall. where: a container or placeholder to draw into."""
    extra = {} if height is None else {"height": height}
    return where.altair_chart(chart, width="content", key=key, on_select=on_select, **extra)


def clicked(key: str, selection: str) -> list[dict]:
    """The points a chart's click selection holds: [{"row": .., "col": ..}, ...] ([] before a click).

    key: the chart's widget key (its event lives in st.session_state[key] once drawn with
    on_select="rerun"); selection: the name of the Vega-Lite selection parameter."""
    event = st.session_state.get(key) or {}
    points = (event.get("selection") or {}).get(selection) if hasattr(event, "get") else None
    return list(points) if isinstance(points, list) else []
