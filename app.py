"""BigModel Lab: the picture frame. Page config, the sidebar (language, device, about), navigation.

    make run      # or: streamlit run app.py
"""
import gc
import os
import threading
from pathlib import Path

import streamlit as st

from bigmodel_core.i18n import LANG_NAMES, LANGS
from bigmodel_core.memory import configure_allocator
from app_pages import _hostile
from app_pages._ui import available_pages, lang, sync_url, t

_hostile.install()          # forged widget values (inf, NaN, out of range, wrong type) fall back to defaults, with a message

ICON = Path(__file__).parent / "assets" / "icon.png"     # local: a :material/…: icon is fetched online
st.set_page_config(page_title="BigModel Lab", page_icon=str(ICON), layout="wide")


@st.cache_resource
def _engine() -> dict:
    """Once per server process, in the background: import PyTorch (about 1.5 s, which the first
    page should not wait for), set its threads, name the device, then move the long-lived objects
    out of the garbage collector's view so Streamlit's per-rerun collection stays cheap.

    Pages wait for engine["torch"] before they run: PyTorch's import is not safe to run in several
    threads at once (with learners opening pages together on a fresh server, a second thread saw a
    half-imported torch: "partially initialized module 'torch' has no attribute 'types'")."""
    engine = {"device": None, "torch": threading.Event()}
    configure_allocator()       # large tensors go back to the OS when freed (see bigmodel_core/memory.py)

    def warm_up():
        try:
            from bigmodel_core.device import configure_threads, get_device
            configure_threads()
            engine["device"] = get_device()
        finally:
            engine["torch"].set()
        if os.environ.get("BIGMODEL_GC_FREEZE", "1") != "0":    # 0: only for bench/bench_gc.py
            gc.collect()
            gc.freeze()

    threading.Thread(target=warm_up, name="bigmodel-warm-up", daemon=True).start()
    return engine


def _device_caption(engine: dict) -> None:
    if engine["device"]:
        from bigmodel_core.device import describe_device     # torch is imported by now
        st.caption(f"{t('app.device')}: **{describe_device(engine['device'], lang())}**")
    else:                                   # still importing PyTorch: look again shortly
        st.fragment(_wait_for_device, run_every=0.5)(engine)


def _wait_for_device(engine: dict) -> None:
    if engine["device"]:
        st.rerun()                          # the whole app: draws the caption, drops this fragment
    st.caption(f"{t('app.device')}: …")


engine = _engine()

# Long display formulas wrap at their top-level = and + signs (and at \allowbreak), as inline
# formulas do, instead of running past the column: KaTeX splits a formula there, display mode only
# forbids the break (white-space: nowrap). What cannot break scrolls inside its own box. Metric
# labels and deltas and checkbox labels wrap instead of ending in "…" (Streamlit keeps them on one line).
st.html("<style>.katex-display > .katex {white-space: normal;} .katex-display {overflow-x: auto; "
        "overflow-y: hidden;} :is([data-testid='stMetricLabel'], [data-testid='stMetricDelta'], "
        "[data-testid='stCheckbox']) :is([data-testid='stMarkdownContainer'], p) {white-space: normal; "
        "overflow: visible; text-overflow: clip;}</style>")

# -- sidebar: language (kept in the URL so a teacher can share ?lang=zh), device, about ---------
if "_lang_from_url" not in st.session_state:        # a shared link opens in its language
    st.session_state["_lang_from_url"] = st.query_params.get("lang") if st.query_params.get("lang") in LANGS else "en"
with st.sidebar:
    st.segmented_control("Language · 语言", options=LANGS, format_func=LANG_NAMES.get, key="lang",
                         default=st.session_state["_lang_from_url"], required=True)
    _device_caption(engine)
    with st.expander(t("app.about")):
        st.write(t("app.about_text"))

# -- navigation: one group per section (PAGES is in learning order); a page shows once its file exists
sections: dict[str, list] = {}
for info in available_pages():
    label = "" if info.section == "start" else t(f"nav.section.{info.section}")
    home = info.key == "home"           # served at "/"; the default page still reserves a url_path,
    sections.setdefault(label, []).append(  # so it is "start", and a hidden twin answers "/home"
        st.Page(str(info.path), title=t(f"nav.page.{info.key}"), icon=info.icon,
                url_path="start" if home else info.key, default=home))
    if home:                            # (a /home?lang=zh link opened Streamlit's "Page not found")
        sections[label].append(st.Page(str(info.path), title=t("nav.page.home"), url_path="home",
                                       visibility="hidden"))
page = st.navigation(sections, expanded=True)   # every page listed (else "View 3 more" hides the last)
_hostile.notice_slot(st.empty())    # above the page: says so if a forged widget value is rejected
if page.url_path not in ("start", "home"):     # the home page needs no PyTorch: it never waits
    engine["torch"].wait(timeout=120)
try:
    page.run()
finally:
    _hostile.run_done()
sync_url("lang")            # after the page: navigation starts each page with a clean address bar
