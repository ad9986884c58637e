"""Convolution: slide a kernel over an image and see the arithmetic of any output pixel."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from bigmodel_core.data import PHOTO_NAMES
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.conv import (KERNEL_PRESETS, conv2d_explained, custom_kernel_cells, identity_kernel,
                                    kernel_preset, output_size, parse_kernel_grid)
from app_pages._explorables import committed, conv_explorable
from app_pages._image_input import digit_picker, load_input
from app_pages._ui import (image_uploader, lang, page_header, section, show_code, show_error, sync_url, t,
                           url_state, why_and_try)

KEY = "convolution"
SOURCES = ("photo", "mnist", "upload")
SIZES = (32, 64, 96, 128)
KERNELS = (*KERNEL_PRESETS, "custom3", "custom5")

page_header(KEY)

# -- URL state: a link reproduces the demo -----------------------------------------------------
url_state("conv.source", "photo", choices=SOURCES)
url_state("conv.photo", "camera", choices=PHOTO_NAMES)
url_state("conv.digit", 0, lo=0, hi=999)
url_state("conv.rgb", False)
url_state("conv.size", 64, choices=SIZES)
url_state("conv.kernel", "sobel_x", choices=KERNELS)
url_state("conv.bias", 0.0, lo=-2.0, hi=2.0)
url_state("conv.stride", 1, lo=1, hi=4)
url_state("conv.padding", 0, lo=0, hi=3)
url_state("conv.dilation", 1, lo=1, hi=3)
url_state("conv.w", "", max_chars=400)      # a custom kernel, as comma-separated numbers
url_state("conv.row", -1, lo=-1, hi=999)    # the picked output pixel (-1: the centre); written
url_state("conv.col", -1, lo=-1, hi=999)    # into the URL when the explorable commits a pick


def _grid_frame(cells: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=[str(j) for j in range(len(cells))])


# -- controls (left) and the picture (right) ----------------------------------------------------
controls, picture = st.columns([1, 3.2], gap="medium")
with controls:
    st.pills(t(f"{KEY}.source"), SOURCES, key="conv.source", required=True, wrap=True, width="stretch",
             format_func=lambda s: t(f"{KEY}.sources.{s}"))      # pills wrap: no word cut in a narrow column
    source = st.session_state["conv.source"]
    upload, upload_notes = None, None
    if source == "photo":
        st.selectbox(t("common.photo"), PHOTO_NAMES, key="conv.photo",
                     format_func=lambda p: t(f"image_input.photos.{p}"))
    elif source == "mnist":
        digit_picker("conv")
    else:
        upload = image_uploader("conv.upload")
        upload_notes = st.container()                   # its message goes right under it
    st.toggle(t(f"{KEY}.rgb"), key="conv.rgb", help=t(f"{KEY}.rgb_help"))
    st.pills(t(f"{KEY}.size"), SIZES, key="conv.size", help=t(f"{KEY}.size_help"), required=True,
             wrap=True, width="stretch", format_func=lambda n: f"{n} px")

    st.pills(t(f"{KEY}.kernel"), KERNELS, key="conv.kernel", required=True, wrap=True, width="stretch",
             format_func=lambda k: t(f"{KEY}.kernels.{k}"))
    kernel_name = st.session_state["conv.kernel"]
    kernel_error = None
    if kernel_name in KERNEL_PRESETS:
        kernel = kernel_preset(kernel_name)
        st.session_state["conv._last_preset"] = kernel_name
    else:
        k = 3 if kernel_name == "custom3" else 5
        start = custom_kernel_cells(k, st.session_state.get("conv.w", ""),
                                   st.session_state.get("conv._last_preset", "sobel_x"))
        edited = st.data_editor(_grid_frame(start), key=f"conv.grid{k}", hide_index=True,
                                num_rows="fixed", width="stretch",
                                column_config={str(j): st.column_config.TextColumn(str(j), width=40 if k == 5 else 64)
                                               for j in range(k)})    # pixels: all k columns fit the narrow column
        st.caption(t(f"{KEY}.custom_help"))
        try:
            kernel = parse_kernel_grid(edited)
            st.session_state["conv._last_good"] = kernel
            st.session_state["conv.w"] = ",".join(f"{float(v):.4g}" for v in kernel.flatten())
        except UserInputError as e:
            kernel_error = e
            show_error(e)
            last = st.session_state.get("conv._last_good")
            kernel = last if last is not None and last.shape == (k, k) else identity_kernel(k)
            st.caption(t(f"{KEY}.last_good_kernel"))
    st.slider(t(f"{KEY}.bias"), -2.0, 2.0, step=0.1, key="conv.bias")
    st.slider(t(f"{KEY}.stride"), 1, 4, key="conv.stride")
    st.slider(t(f"{KEY}.padding"), 0, 3, key="conv.padding")
    st.slider(t(f"{KEY}.dilation"), 1, 3, key="conv.dilation")

sync_url("conv.source", "conv.photo", "conv.digit", "conv.rgb", "conv.size", "conv.kernel",
         "conv.bias", "conv.stride", "conv.padding", "conv.dilation")
if kernel_name.startswith("custom"):
    sync_url("conv.w")

# -- the input ---------------------------------------------------------------------------------
rgb, size = st.session_state["conv.rgb"], st.session_state["conv.size"]
with controls:
    x, resized, original = load_input("conv", source, upload, rgb=rgb, size=size, notes=upload_notes)
    H, W = x.shape[-2:]
    if resized:
        st.caption(t("common.resized", width=W, height=H) + " " +
                   t(f"{KEY}.original_size", width=original[0], height=original[1]))

bias = float(st.session_state["conv.bias"])
stride, padding, dilation = (int(st.session_state[k]) for k in ("conv.stride", "conv.padding", "conv.dilation"))
kh, kw = kernel.shape
try:
    res = conv2d_explained(x, kernel, bias=bias, stride=stride, padding=padding, dilation=dilation)
except UserInputError as e:
    with picture:
        show_error(e)
    st.stop()
H_out, W_out = res.output.shape


# -- the picture: input with the window, feature map, the window's arithmetic -------------------
# Drawn in the browser (app_pages/components/conv.js) from the arrays sent once: a click, the arrow
# keys, the row / column sliders and Play redraw there with no rerun. The picked pixel comes back
# only when it settles (a click, or a pause after the keys), to be written into the address bar.

def _pick() -> tuple[int, int]:
    """The committed output pixel, kept inside the map (-1 = the centre, the default)."""
    row, col = int(st.session_state["conv.row"]), int(st.session_state["conv.col"])
    return (H_out // 2 if row < 0 else min(row, H_out - 1), W_out // 2 if col < 0 else min(col, W_out - 1))


def _labels() -> dict:
    """The explorable's words in the learner's language."""
    names = ("input_caption", "output_caption", "row", "col", "play", "stop", "speed", "per_second",
             "channel", "sum_line", "window_title", "formula_numbers", "map_label")
    return {**{n: t(f"{KEY}.{n}") for n in names}, "channels": [t(f"{KEY}.channels.{c}") for c in range(3)],
            "input_title": t(f"{KEY}.input_title", h="{h}", w="{w}", p="{p}"),
            "output_title": t(f"{KEY}.output_title", h="{h}", w="{w}")}


def _window_view():
    """The explorable, in a fragment: a committed pick reruns only this (and goes into the URL)."""
    sent = committed("conv.window", "pick")
    if sent is not None and list(sent) != st.session_state.get("conv._sent"):
        st.session_state["conv._sent"] = list(sent)
        st.session_state["conv.row"], st.session_state["conv.col"] = (int(v) for v in sent)
        sync_url("conv.row", "conv.col")
    conv_explorable(res, pick=_pick(), labels=_labels(), lang=lang(), key="conv.window")


with picture:
    m1, m2 = st.columns([1, 3.5], vertical_alignment="center")
    m1.metric(t(f"{KEY}.output_size"), f"{H_out} × {W_out}")
    size_tex = (rf"\left\lfloor \frac{{{H} + 2\cdot{padding} - {dilation}\cdot({kh}-1) - 1}}{{{stride}}}"
                rf" \right\rfloor + 1 = {H_out}")
    if (H, kh) != (W, kw):
        size_tex = (r"H: " + size_tex + r"\quad W: " +
                    rf"\left\lfloor \frac{{{W} + 2\cdot{padding} - {dilation}\cdot({kw}-1) - 1}}{{{stride}}}"
                    rf" \right\rfloor + 1 = {W_out}")
    m2.latex(size_tex)
    st.fragment(_window_view)()


# -- the formula, with the selected pixel's numbers -------------------------------------------
section("formula")
st.latex(r"y(x, y) = \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} w(i, j)\, x(x + i,\, y + j) + b")
st.markdown(t(f"{KEY}.formula_general"))
st.latex(r"y(r, c) = \sum_{ch} \sum_{i, j} w_{ch}(i, j)\, x_{ch}(r s + d i,\; c s + d j) + b, \qquad "
         r"H_{out} = \left\lfloor \frac{H + 2p - d(k_h - 1) - 1}{s} \right\rfloor + 1")
st.caption(t(f"{KEY}.formula_numbers_where"))
show_code(conv2d_explained, output_size)
why_and_try(KEY)
