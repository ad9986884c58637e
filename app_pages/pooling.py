"""Pooling: shrink a map window by window, see which input wins, and what a small shift changes."""
from __future__ import annotations

import streamlit as st

from bigmodel_core.data import PHOTO_NAMES
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.conv import feature_map
from bigmodel_core.ops.pool import global_avg_pool, pool2d_explained, translation_invariance
from app_pages._explorables import committed, pool_shift_explorable, pool_window_explorable
from app_pages._image_input import digit_picker, load_input
from app_pages._ui import (image_uploader, lang, page_header, section, show_code, show_error, sync_url, t,
                           url_state, why_and_try)

KEY = "pooling"
SOURCES = ("photo", "mnist", "feature", "upload")
KINDS = ("max", "avg", "global")
SIZES = (16, 32, 64)

page_header(KEY)

url_state("pool.source", "mnist", choices=SOURCES)
url_state("pool.photo", "camera", choices=PHOTO_NAMES)
url_state("pool.digit", 0, lo=0, hi=999)
url_state("pool.size", 32, choices=SIZES)
url_state("pool.kind", "max", choices=KINDS)
url_state("pool.window", 2, lo=2, hi=4)
url_state("pool.stride", 2, lo=1, hi=4)
url_state("pool.shift", 1, lo=0, hi=3)
url_state("pool.row", -1, lo=-1, hi=999)    # the picked pooled cell (-1: the centre); written into
url_state("pool.col", -1, lo=-1, hi=999)    # the URL when the explorable commits a pick


controls, picture = st.columns([1, 3.2], gap="medium")
with controls:
    st.pills(t(f"{KEY}.source"), SOURCES, key="pool.source", required=True, wrap=True, width="stretch",
             format_func=lambda s: t(f"{KEY}.sources.{s}"))
    source = st.session_state["pool.source"]
    upload, upload_notes = None, None
    if source in ("photo", "feature"):
        st.selectbox(t("common.photo"), PHOTO_NAMES, key="pool.photo",
                     format_func=lambda p: t(f"image_input.photos.{p}"))
    if source == "mnist":
        digit_picker("pool")
    if source == "upload":
        upload = image_uploader("pool.upload")
        upload_notes = st.container()                   # its message goes right under it
    if source != "mnist":
        st.pills(t(f"{KEY}.size"), SIZES, key="pool.size", required=True, wrap=True, width="stretch",
                 help=t(f"{KEY}.size_help"), format_func=lambda n: f"{n} px")
    st.pills(t(f"{KEY}.kind"), KINDS, key="pool.kind", required=True, wrap=True, width="stretch",
             format_func=lambda k: t(f"{KEY}.kinds.{k}"))
    kind = st.session_state["pool.kind"]
    st.slider(t(f"{KEY}.window"), 2, 4, key="pool.window", disabled=kind == "global")
    st.slider(t(f"{KEY}.stride"), 1, 4, key="pool.stride", disabled=kind == "global")
sync_url("pool.source", "pool.photo", "pool.digit", "pool.size", "pool.kind", "pool.window",
         "pool.stride", "pool.shift")

# -- the input ---------------------------------------------------------------------------------
size = st.session_state["pool.size"]
with controls:
    x, resized, _ = load_input("pool", source, upload, rgb=False, size=size, notes=upload_notes)
    if resized:
        st.caption(t("common.resized", width=x.shape[1], height=x.shape[0]))
    if source == "feature":
        x = feature_map(x, "sobel_x")                       # the photo's vertical edges, (H - 2, W - 2)
        st.caption(t(f"{KEY}.feature_note"))
    H, W = x.shape

k = int(st.session_state["pool.window"])
s = int(st.session_state["pool.stride"])
if kind == "global":
    k, s = min(H, W), 1            # drawn as one window; the value is the mean of the whole map
    gap = float(global_avg_pool(x))
    res, output, H_out, W_out = None, [[gap]], 1, 1
else:
    try:
        res = pool2d_explained(x, kind=kind, size=k, stride=s)
    except UserInputError as e:
        with picture:
            show_error(e)
        st.stop()
    output = res.output
    H_out, W_out = output.shape


# -- the picked cell: drawn in the browser (app_pages/components/pooling.js) from the input sent once;
# a click, the arrow keys and the row / column sliders redraw there with no rerun. The pick comes
# back only when it settles, to be written into the address bar.

def _labels(*names: str, **params) -> dict:
    """The explorable's words in the learner's language; params keep {placeholders} for the JS."""
    return {**{n: t(f"{KEY}.{n}") for n in names},
            **{n: t(f"{KEY}.{n}", **{p: "{" + p + "}" for p in ps}) for n, ps in params.items()}}


def _pick() -> tuple[int, int]:
    """The committed pooled cell, kept inside the map (-1 = the centre, the default)."""
    row, col = int(st.session_state["pool.row"]), int(st.session_state["pool.col"])
    return (H_out // 2 if row < 0 else min(row, H_out - 1), W_out // 2 if col < 0 else min(col, W_out - 1))


def _window_view():
    """The window explorable, in a fragment: a committed pick reruns only this."""
    labels = _labels("input_caption", "output_caption", "row", "col", "map_label", "result_max", "result_avg",
                     "result_global", input_title=("h", "w"), output_title=("h", "w"),
                     window_title=("row", "col"), formula_numbers=("row", "col"))
    sent = committed("pool.window_view", "pick")
    if sent is not None and list(sent) != st.session_state.get("pool._sent"):
        st.session_state["pool._sent"] = list(sent)
        st.session_state["pool.row"], st.session_state["pool.col"] = (int(v) for v in sent)
        sync_url("pool.row", "pool.col")
    pool_window_explorable(x, output, kind=kind, size=k, stride=s, pick=_pick(), labels=labels, lang=lang(),
                           key="pool.window_view")


with picture:
    m1, m2, m3 = st.columns([1, 1, 2.2], vertical_alignment="center")
    m1.metric(t(f"{KEY}.output_size"), f"{H_out} × {W_out}")
    discarded = res.share_discarded if res is not None else 1 - 1 / (H * W)
    m2.metric(t(f"{KEY}.discarded"), f"{discarded:.0%}")
    if kind == "global":
        m3.latex(rf"\frac{{1}}{{{H}\cdot{W}}} \sum_{{x, y}} x(x, y) = {gap:.3f}")
    else:
        m3.latex(rf"\left\lfloor \frac{{{H} - {k}}}{{{s}}} \right\rfloor + 1 = {H_out}"
                 + ("" if H == W else rf"\quad \left\lfloor \frac{{{W} - {k}}}{{{s}}} \right\rfloor + 1 = {W_out}"))
    st.fragment(_window_view)()
    if kind == "max" and res.share_never_win is not None:
        st.caption(t(f"{KEY}.never_win", share=f"{res.share_never_win:.0%}"))

# -- translation invariance -------------------------------------------------------------------
st.subheader(t(f"{KEY}.shift_title"))
st.caption(t(f"{KEY}.shift_intro"))


@st.fragment
def _invariance():
    """The shift explorable, in a fragment: a committed shift reruns only this (for the address bar)."""
    labels = _labels("shift", "unchanged", "vs_pixels", "pooled_original", "pooled_shifted", "changed_caption",
                     raw_unchanged=("share",), global_shift=("before", "after"), shifted_input=("shift",))
    sent = committed("pool.shift_view", "shift")
    if sent is not None and sent != st.session_state.get("pool._sent_shift"):
        st.session_state["pool._sent_shift"] = st.session_state["pool.shift"] = int(sent)
        sync_url("pool.shift")
    pool_shift_explorable(x, kind=kind, size=k, stride=s, shift=int(st.session_state["pool.shift"]),
                          labels=labels, lang=lang(), key="pool.shift_view")


_invariance()
st.markdown(t(f"{KEY}.keeps_loses"))

# -- the formula ------------------------------------------------------------------------------
section("formula")
st.latex(r"p(x, y) = \max_{0 \le i, j < k} x(x\,s + i,\; y\,s + j) \qquad "
         r"p_{avg}(x, y) = \frac{1}{k^2} \sum_{i, j} x(x\,s + i,\; y\,s + j) \qquad "
         r"p_{global} = \frac{1}{HW} \sum_{x, y} x(x, y)")
st.latex(r"H_{out} = \left\lfloor \frac{H - k}{s} \right\rfloor + 1")
st.caption(t(f"{KEY}.formula_numbers_where"))
show_code(pool2d_explained, translation_invariance)
why_and_try(KEY)
