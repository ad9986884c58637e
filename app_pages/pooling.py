"""Pooling: shrink a map window by window, see which input wins, and what a small shift changes."""
from __future__ import annotations

import streamlit as st
import torch

from bigmodel_core.data import PHOTO_NAMES
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.conv import KERNEL_PRESETS, conv2d_explained, kernel_preset
from bigmodel_core.ops.pool import global_avg_pool, pool2d_explained, shift_image, translation_invariance
from bigmodel_core.charts.windows import (WINNER, Outline, cell_size, heatmap_spec, html_grid,
                                               render_map, to_rgb_uint8)
from app_pages._image_input import digit_picker, load_input
from app_pages._ui import (image_uploader, page_header, section, show_code, show_error, sync_url, t, url_state,
                           why_and_try)

KEY = "pooling"
SOURCES = ("photo", "mnist", "feature", "upload")
KINDS = ("max", "avg", "global")
SIZES = (16, 32, 64)
SIZE_PX = 260

page_header(KEY)

url_state("pool.source", "mnist", choices=SOURCES)
url_state("pool.photo", "camera", choices=PHOTO_NAMES)
url_state("pool.digit", 0, lo=0, hi=999)
url_state("pool.size", 32, choices=SIZES)
url_state("pool.kind", "max", choices=KINDS)
url_state("pool.window", 2, lo=2, hi=4)
url_state("pool.stride", 2, lo=1, hi=4)
url_state("pool.shift", 1, lo=0, hi=3)


def _conv_settings():
    """The convolution page's kernel and hyper-parameters (its defaults if it was not visited)."""
    name = st.session_state.get("conv.kernel", "sobel_x")
    kernel = (kernel_preset(name) if name in KERNEL_PRESETS
              else st.session_state.get("conv._last_good", kernel_preset("sobel_x")))
    return (name, kernel, float(st.session_state.get("conv.bias", 0.0)),
            *(int(st.session_state.get(k, d)) for k, d in
              (("conv.stride", 1), ("conv.padding", 0), ("conv.dilation", 1))))



controls, picture = st.columns([1, 3.2], gap="medium")
with controls:
    st.pills(t(f"{KEY}.source"), SOURCES, key="pool.source", required=True, wrap=True, width="stretch",
             format_func=lambda s: t(f"{KEY}.sources.{s}"))
    source = st.session_state["pool.source"]
    upload, upload_notes = None, None
    if source in ("photo", "feature"):
        st.selectbox(t("common.photo"), PHOTO_NAMES, key="pool.photo",
                     format_func=lambda p: t(f"convolution.photos.{p}"))
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
    if source == "feature":
        name, kernel, bias, c_stride, c_padding, c_dilation = _conv_settings()
        try:
            x = conv2d_explained(x, kernel, bias=bias, stride=c_stride, padding=c_padding,
                                 dilation=c_dilation).output
            st.caption(t(f"{KEY}.feature_note", kernel=t(f"convolution.kernels.{name}"), stride=c_stride,
                         padding=c_padding, dilation=c_dilation))
        except UserInputError as e:
            show_error(e)
    H, W = x.shape
    if resized:
        st.caption(t("common.resized", width=W, height=H))

k = int(st.session_state["pool.window"])
s = int(st.session_state["pool.stride"])
if kind == "global":
    k, s = min(H, W), 1            # drawn as one window; the value is the mean of the whole map
try:
    res = pool2d_explained(x, kind="max" if kind == "max" else "avg", size=k, stride=s)
except UserInputError as e:
    with picture:
        show_error(e)
    st.stop()
H_out, W_out = res.output.shape
if kind == "global":
    H_out = W_out = 1
    gap = float(global_avg_pool(x))


def _window_view(formula_slot):
    """The picked output cell: its window on the input, the map, the pickers, and the formula written
    out with its numbers (in the formula section further down, filled from here so it follows a pick)."""
    sel = (st.session_state.get("pool.map") or {}).get("selection", {}).get("px") or []
    if sel and sel[0] != st.session_state.get("pool._last_click"):
        st.session_state["pool._last_click"] = sel[0]
        st.session_state["pool.row"], st.session_state["pool.col"] = int(sel[0]["row"]), int(sel[0]["col"])
    st.session_state["pool.row"] = min(max(int(st.session_state.get("pool.row", H_out // 2)), 0), H_out - 1)
    st.session_state["pool.col"] = min(max(int(st.session_state.get("pool.col", W_out // 2)), 0), W_out - 1)
    row, col = st.session_state["pool.row"], st.session_state["pool.col"]

    c_in, c_out, c_pick = st.columns([1, 1.18, 0.72], gap="small")
    cell = cell_size(H, W, SIZE_PX)
    signed = bool(x.min() < 0)
    if kind == "global":
        outlines, values, result, winner = [Outline(0, 0, H, W)], None, gap, None
    else:
        win = res.window(row, col)
        r0, c0, r1, c1 = win.extent
        outlines = [Outline(r0, c0, r1, c1)]
        if win.winner is not None:
            outlines.append(Outline(win.winner[0], win.winner[1], win.winner[0] + 1, win.winner[1] + 1,
                                    WINNER, 3))
        values, result, winner = win.values, win.result, win.winner
    with c_in:
        st.markdown(f"**{t(f'{KEY}.input_title', h=H, w=W)}**")
        st.image(render_map(to_rgb_uint8(x, signed=signed), cell=cell, outlines=outlines,
                            grid=cell >= 12), width=cell * W)
        st.caption(t(f"{KEY}.input_caption"))
    with c_out:
        st.markdown(f"**{t(f'{KEY}.output_title', h=H_out, w=W_out)}**")
        out = torch.tensor([[gap]]) if kind == "global" else res.output
        out_cell = cell * k if kind == "global" else cell
        spec, frame = heatmap_spec(out, cell=out_cell, select="px", box=(row, col), diverging=signed,
                                   domain=None if signed else (0, 1), value_title="p")
        st.vega_lite_chart(frame, spec, key="pool.map", on_select="rerun", width="content")
        st.caption(t(f"{KEY}.output_caption"))
    with c_pick:
        if kind != "global":
            st.slider(t("convolution.row"), 0, H_out - 1, key="pool.row")
            st.slider(t("convolution.col"), 0, W_out - 1, key="pool.col")
            st.markdown(f"**{t(f'{KEY}.window_title', row=row, col=col)}**")
            cell_px = 44 if k <= 3 else 36
            marks = () if winner is None else ((winner[0] - win.top, winner[1] - win.left),)
            st.html(html_grid(values, cell=cell_px, diverging=signed, domain=None if signed else (0, 1),
                              marks=marks))
        st.metric(f"p({row}, {col})", f"{result:.3f}")
        st.markdown(t(f"{KEY}.result_{kind}", value=f"{result:.3f}", n=H * W))
    if kind != "global":
        with formula_slot:
            vals = ", ".join(f"{v:.2f}" for v in win.values.flatten().tolist())
            op = r"\max" if kind == "max" else r"\operatorname{mean}"
            st.markdown(t(f"{KEY}.formula_numbers", row=win.row, col=win.col))
            st.latex(rf"p({win.row}, {win.col}) = {op}\{{{vals}\}} = {win.result:.3f}")


with picture:
    m1, m2, m3 = st.columns([1, 1, 2.2], vertical_alignment="center")
    m1.metric(t(f"{KEY}.output_size"), f"{H_out} × {W_out}")
    discarded = 1 - (H_out * W_out) / (H * W)
    m2.metric(t(f"{KEY}.discarded"), f"{discarded:.0%}")
    if kind == "global":
        m3.latex(rf"\frac{{1}}{{{H}\cdot{W}}} \sum_{{x, y}} x(x, y) = {gap:.3f}")
    else:
        m3.latex(rf"\left\lfloor \frac{{{H} - {k}}}{{{s}}} \right\rfloor + 1 = {H_out}"
                 + ("" if H == W else rf"\quad \left\lfloor \frac{{{W} - {k}}}{{{s}}} \right\rfloor + 1 = {W_out}"))
    window_box = st.container()                   # filled after the formula section is laid out
    if kind == "max" and res.share_never_win is not None:
        st.caption(t(f"{KEY}.never_win", share=f"{res.share_never_win:.0%}"))

# -- translation invariance -------------------------------------------------------------------
st.subheader(t(f"{KEY}.shift_title"))
st.caption(t(f"{KEY}.shift_intro"))


@st.fragment
def _invariance():
    kind_ = "max" if kind == "global" else kind
    a, b = st.columns([1, 3], gap="medium")
    a.slider(t(f"{KEY}.shift"), 0, 3, key="pool.shift")
    shift = int(st.session_state["pool.shift"])
    if kind == "global":
        before, after = float(global_avg_pool(x)), float(global_avg_pool(shift_image(x, dx=shift)))
        a.metric(t(f"{KEY}.unchanged"), "100%" if abs(before - after) < 1e-6 else "0%")
        b.markdown(t(f"{KEY}.global_shift", before=f"{before:.4f}", after=f"{after:.4f}"))
        return
    inv = translation_invariance(x, shift, kind=kind_, size=k, stride=s)
    a.metric(t(f"{KEY}.unchanged"), f"{inv.share_unchanged:.0%}",
             delta=f"{inv.share_unchanged - inv.share_unchanged_raw:+.0%} " + t(f"{KEY}.vs_pixels"))
    a.caption(t(f"{KEY}.raw_unchanged", share=f"{inv.share_unchanged_raw:.0%}"))
    signed = bool(x.min() < 0)
    cell_in = cell_size(H, W, 200)
    cell_out = cell_size(H_out, W_out, 200)
    changed = [Outline(r, c, r + 1, c + 1, (255, 45, 85), 2)
               for r, c in (~inv.unchanged).nonzero().tolist()] if cell_out >= 6 else []
    with b:
        g = st.columns(3)
        g[0].markdown(f"**{t(f'{KEY}.shifted_input', shift=shift)}**")
        g[0].image(render_map(to_rgb_uint8(inv.shifted, signed=signed), cell=cell_in), width=cell_in * W)
        g[1].markdown(f"**{t(f'{KEY}.pooled_original')}**")
        g[1].image(render_map(to_rgb_uint8(inv.pooled, signed=signed), cell=cell_out), width=cell_out * W_out)
        g[2].markdown(f"**{t(f'{KEY}.pooled_shifted')}**")
        g[2].image(render_map(to_rgb_uint8(inv.pooled_shifted, signed=signed), cell=cell_out, outlines=changed),
                   width=cell_out * W_out)
        g[2].caption(t(f"{KEY}.changed_caption"))
    st.markdown(t(f"{KEY}.keeps_loses"))


_invariance()
sync_url("pool.shift")

# -- the formula ------------------------------------------------------------------------------
section("formula")
st.latex(r"p(x, y) = \max_{0 \le i, j < k} x(x\,s + i,\; y\,s + j) \qquad "
         r"p_{avg}(x, y) = \frac{1}{k^2} \sum_{i, j} x(x\,s + i,\; y\,s + j) \qquad "
         r"p_{global} = \frac{1}{HW} \sum_{x, y} x(x, y)")
st.latex(r"H_{out} = \left\lfloor \frac{H - k}{s} \right\rfloor + 1")
formula_slot = st.container()                     # the picked cell's numbers, from _window_view
with window_box:
    st.fragment(_window_view)(formula_slot)
show_code(pool2d_explained, translation_invariance)
why_and_try(KEY)
