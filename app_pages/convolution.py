"""Convolution: slide a kernel over an image and see the arithmetic of any output pixel."""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from bigmodel_core.data import PHOTO_NAMES
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.conv import (KERNEL_PRESETS, conv2d_explained, kernel_preset,
                                    output_size, parse_kernel_grid)
from bigmodel_core.charts.windows import (TAP, Outline, cell_size, heatmap_spec, html_grid, render_map,
                                               to_rgb_uint8)
from app_pages._image_input import digit_picker, load_input
from app_pages._ui import (image_uploader, page_header, section, show_code, show_error, sync_url, t, url_state,
                           why_and_try)

KEY = "convolution"
SOURCES = ("photo", "mnist", "upload")
SIZES = (32, 64, 96, 128)
KERNELS = (*KERNEL_PRESETS, "custom3", "custom5")
SPEEDS = (1, 2, 4, 8)          # window steps per second when playing
SIZE_PX = 260                  # drawn size of the longer side of the padded input (whole px per cell)
SHOW_PX = 230                  # shown size: the input column is about 240 px wide at 1400 px, and the
                               # map beside it (same scale, plus its axis) must fit its column too

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


def _grid_frame(cells: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(cells, columns=[str(j) for j in range(len(cells))])


def _identity(k: int) -> torch.Tensor:
    kernel = torch.zeros(k, k)
    kernel[k // 2, k // 2] = 1.0
    return kernel


def _custom_seed(k: int) -> list[list[str]]:
    """The starting grid of the custom editor: the URL's cells (checked like typed ones, so a
    hand-edited link gets the same clear message), else the last preset, centred."""
    raw = st.session_state.get("conv.w", "")
    cells = [c.strip() for c in raw.split(",")] if raw else []
    if len(cells) == k * k:
        return [cells[r * k: (r + 1) * k] for r in range(k)]
    grid = torch.zeros(k, k)
    o = (k - 3) // 2
    grid[o: o + 3, o: o + 3] = kernel_preset(st.session_state.get("conv._last_preset", "sobel_x"))
    return [[f"{float(v):.4g}" for v in row] for row in grid]


# -- controls (left) and the picture (right) ----------------------------------------------------
controls, picture = st.columns([1, 3.2], gap="medium")
with controls:
    st.pills(t(f"{KEY}.source"), SOURCES, key="conv.source", required=True, wrap=True, width="stretch",
             format_func=lambda s: t(f"{KEY}.sources.{s}"))      # pills wrap: no word cut in a narrow column
    source = st.session_state["conv.source"]
    upload, upload_notes = None, None
    if source == "photo":
        st.selectbox(t("common.photo"), PHOTO_NAMES, key="conv.photo",
                     format_func=lambda p: t(f"{KEY}.photos.{p}"))
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
        seed = _custom_seed(k)
        edited = st.data_editor(_grid_frame(seed), key=f"conv.grid{k}", hide_index=True,
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
            kernel = last if last is not None and last.shape == (k, k) else _identity(k)
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
def _advance():
    """One Play step: the next output pixel in reading order (wrapping at the end)."""
    r, c = st.session_state["conv.row"], st.session_state["conv.col"] + 1
    if c >= W_out:
        r, c = (r + 1) % H_out, 0
    st.session_state["conv.row"], st.session_state["conv.col"] = r, c


def _toggle_play():
    st.session_state["conv.playing"] = not st.session_state.get("conv.playing", False)


def _window_view():
    # a click on the feature map picks the pixel (the chart's selection lives under its key)
    sel = (st.session_state.get("conv.map") or {}).get("selection", {}).get("px") or []
    if sel and sel[0] != st.session_state.get("conv._last_click"):
        st.session_state["conv._last_click"] = sel[0]
        st.session_state["conv.row"], st.session_state["conv.col"] = int(sel[0]["row"]), int(sel[0]["col"])
    if st.session_state.get("conv.playing"):
        _advance()
    st.session_state["conv.row"] = min(max(int(st.session_state.get("conv.row", H_out // 2)), 0), H_out - 1)
    st.session_state["conv.col"] = min(max(int(st.session_state.get("conv.col", W_out // 2)), 0), W_out - 1)
    row, col = st.session_state["conv.row"], st.session_state["conv.col"]
    win = res.window(row, col)

    c_in, c_out, c_pick = st.columns([1, 1.18, 0.72], gap="small")
    Hp, Wp = res.padded.shape[-2:]
    cell = cell_size(Hp, Wp, SIZE_PX)
    shown_cell = SHOW_PX / max(Hp, Wp)            # screen px per input pixel, for both pictures
    r0, c0, r1, c1 = win.extent
    outlines = [Outline(r0, c0, r1, c1, width=3)]
    if dilation > 1:
        outlines += [Outline(r, c, r + 1, c + 1, TAP, 2) for r, c in win.taps()]
    shown = res.padded if rgb else res.padded[0]
    with c_in:
        st.markdown(f"**{t(f'{KEY}.input_title', h=H, w=W, p=padding)}**")
        st.image(render_map(to_rgb_uint8(shown), cell=cell, padding=padding, outlines=outlines,
                            grid=cell >= 12), width=round(shown_cell * Wp))
        st.caption(t(f"{KEY}.input_caption"))
    with c_out:
        st.markdown(f"**{t(f'{KEY}.output_title', h=H_out, w=W_out)}**")
        out = res.output
        spec, frame = heatmap_spec(out, cell=shown_cell, select="px", box=(row, col),
                                   diverging=bool(out.min() < 0), value_title="y")
        st.vega_lite_chart(frame, spec, key="conv.map", on_select="rerun", width="content")
        st.caption(t(f"{KEY}.output_caption"))
    with c_pick:
        st.slider(t(f"{KEY}.row"), 0, H_out - 1, key="conv.row")
        st.slider(t(f"{KEY}.col"), 0, W_out - 1, key="conv.col")
        playing = st.session_state.get("conv.playing", False)
        if st.button(t(f"{KEY}.stop") if playing else t(f"{KEY}.play"), key="conv.play",
                     icon=":material/stop:" if playing else ":material/play_arrow:",
                     type="primary", width="stretch"):
            _toggle_play()
            st.rerun()
        st.select_slider(t(f"{KEY}.speed"), SPEEDS, key="conv.speed",
                         format_func=lambda s: t(f"{KEY}.per_second", n=s))
        st.metric(f"y({row}, {col})", f"{win.result:.3f}")
        st.markdown(t(f"{KEY}.sum_line", total=f"{win.total:.3f}", bias=f"{win.bias:+.2f}",
                      y=f"{win.result:.3f}", row=row, col=col))
    _arithmetic(win)
    _numbers(win)


def _numbers(win):
    """The formula with the selected pixel's numbers: (w)(x) for every tap, + b, = y.
    Inside the picker's fragment, so it follows the picker (a fragment rerun redraws only itself)."""
    tab = win.table()
    terms = [rf"({r.w:.3g})({r.x:.2f})" for r in tab.itertuples()]
    shown_terms = " + ".join(terms[:9]) + (r" + \cdots" if len(terms) > 9 else "")
    st.markdown(t(f"{KEY}.formula_numbers", row=win.row, col=win.col, n=len(terms)))
    st.latex(rf"y({win.row}, {win.col}) = {shown_terms} {win.bias:+.2f} = {win.total:.3f} {win.bias:+.2f}"
             rf" = {win.result:.3f}")


def _arithmetic(win):
    """The window's numbers side by side: x, w, their products; then the same as a table."""
    C, k_h, k_w = win.kernel.shape
    cell = 44 if max(k_h, k_w) <= 3 else 34
    grids, table = st.columns([2.2, 1], gap="medium")
    with grids:
        st.markdown(f"**{t(f'{KEY}.window_title', row=win.row, col=win.col)}**")
        for ch in range(C):
            if C > 1:
                st.caption(t(f"{KEY}.channel", name=t(f"{KEY}.channels.{ch}"),
                             total=f"{float(win.products[ch].sum()):.3f}"))
            g = st.columns([1, 0.2, 1, 0.2, 1], vertical_alignment="center")
            g[0].html(html_grid(win.patch[ch], title="x", cell=cell, domain=(0, 1)))
            g[1].markdown("### ×")
            g[2].html(html_grid(win.kernel[ch], title="w", cell=cell, diverging=True))
            g[3].markdown("### =")
            g[4].html(html_grid(win.products[ch], title="w·x", cell=cell, diverging=True))
    with table:
        tab = win.table()
        tab.insert(0, "(i, j)", [f"({i}, {j})" if C == 1 else f"{t(f'{KEY}.channels.{c}')[0]} ({i}, {j})"
                                 for c, i, j in zip(tab["channel"], tab["i"], tab["j"])])
        tab = tab.drop(columns=["channel", "i", "j"]).rename(columns={"w_x": "w·x"})
        # a plain HTML table: Streamlit's interactive st.dataframe costs about 70 ms a rerun here
        with st.container(height=min(36 * (len(tab) + 1) + 4, 330), border=False):
            st.table(tab.style.format({c: "{:.3f}" for c in ("x", "w", "w·x")}).hide(axis="index"))


run_every = 1.0 / st.session_state["conv.speed"] if st.session_state.get("conv.playing") else None
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
    st.fragment(_window_view, run_every=run_every)()


# -- the formula, with the selected pixel's numbers -------------------------------------------
section("formula")
st.latex(r"y(x, y) = \sum_{i=0}^{k_h-1} \sum_{j=0}^{k_w-1} w(i, j)\, x(x + i,\, y + j) + b")
st.markdown(t(f"{KEY}.formula_general"))
st.latex(r"y(r, c) = \sum_{ch} \sum_{i, j} w_{ch}(i, j)\, x_{ch}(r s + d i,\; c s + d j) + b, \qquad "
         r"H_{out} = \left\lfloor \frac{H + 2p - d(k_h - 1) - 1}{s} \right\rfloor + 1")
st.caption(t(f"{KEY}.formula_numbers_where"))
show_code(conv2d_explained, output_size)
why_and_try(KEY)
