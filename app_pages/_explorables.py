"""Client-side explorables: pictures that only re-arrange data already sent, drawn in the browser.

Each explorable is one JS file + one CSS file in app_pages/components/, read once at import and
registered as a Streamlit components v2 component (inline HTML/CSS/JS: no iframe, no build step, no
CDN). Python sends the data once; the browser redraws on every slider move with no server rerun and
reports a value back (setStateValue) only when the learner commits it. Under AppTest a component
renders nothing, so every page keeps its settings in st.session_state as well.
"""
from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import streamlit as st

COMPONENTS_DIR = Path(__file__).parent / "components"


def component_js(name: str, *shared: str) -> str:
    """An explorable's JavaScript as the browser gets it: the shared helpers (_common.js, then any
    `shared` helper files such as "_maps"), then its own file. Browser tests load the same text to
    compare its exported arithmetic with the Python core."""
    files = ("_common", *shared, name)
    return "\n".join((COMPONENTS_DIR / f"{f}.js").read_text(encoding="utf-8") for f in files)


def _register(name: str, *shared: str):
    return st.components.v2.component(
        f"bigmodel_{name}",
        css=(COMPONENTS_DIR / f"{name}.css").read_text(encoding="utf-8"),
        js=component_js(name, *shared),
    )


_sampling = _register("sampling")
_conv = _register("conv", "_maps")
_pooling = _register("pooling", "_maps")


def float32_b64(values) -> str:
    """A vector as little-endian float32 bytes in base64: what the JS decodes into a Float32Array."""
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def sampling_explorable(*, logits, token_labels: list[tuple[int, str]], settings: dict, labels: dict,
                        lang: str, key: str):
    """Top-20 next-token bars with temperature / top-k / top-p sliders drawn in the browser.

    logits: (vocab,) next-token logits, sent once as float32. token_labels: [(id, display string)]
    for the likeliest ids. settings: {"temperature", "top_k", "top_p"}, the committed values (the
    sliders start there). Returns the learner's settings as last moved (None before any move); mount
    it inside an st.form so they reach Python only when the form is submitted.
    """
    result = _sampling(
        key=key,
        data={"logits": float32_b64(logits), "tokens": [[int(i), s] for i, s in token_labels],
              "settings": settings, "labels": labels, "lang": lang},
    )
    return (result or {}).get("settings") if hasattr(result, "get") else getattr(result, "settings", None)


def _result(result, name: str):
    """One value a component sent back with setStateValue (None before it sent any)."""
    return (result or {}).get(name) if hasattr(result, "get") else getattr(result, name, None)


def committed(key: str, name: str):
    """The value an explorable mounted under `key` last sent back as `name`, read before mounting it
    again, so the data it is sent already carries the learner's latest commit (None before any)."""
    return _result(st.session_state.get(key), name)


def conv_payload(res, *, pick: tuple[int, int], labels: dict, lang: str, speeds=(1, 2, 4, 8)) -> dict:
    """What the convolution explorable gets: a ConvExplained's input image (C, H, W), kernel
    (C, kh, kw) and feature map (H_out, W_out) as float32, its bias / stride / padding / dilation,
    and the picked output pixel (row, col)."""
    C, H, W = res.image.shape
    return {"image": float32_b64(res.image.reshape(-1)), "shape": [C, H, W],
            "kernel": float32_b64(res.kernel.reshape(-1)), "kernel_shape": list(res.kernel.shape[-2:]),
            "output": float32_b64(res.output.reshape(-1)), "out_shape": list(res.output.shape),
            "bias": float(res.bias), "stride": int(res.stride), "padding": int(res.padding),
            "dilation": int(res.dilation), "pick": [int(pick[0]), int(pick[1])],
            "speeds": list(speeds), "labels": labels, "lang": lang}


def conv_explorable(res, *, pick: tuple[int, int], labels: dict, lang: str, key: str):
    """The convolution's window view drawn in the browser: the padded input with the window (and
    dilated taps), the feature map to click or move through with the arrow keys, row / column
    sliders, Play, the window's x, w and w*x grids, the tap table and y = sum w x + b with its numbers.

    res: a bigmodel_core.ops.conv.ConvExplained, sent once (conv_payload). pick: the committed output
    pixel. Returns the pixel the learner settled on ([row, col], sent when a click lands or ~0.7 s
    after the last key), or None before any."""
    return _result(_conv(key=key, data=conv_payload(res, pick=pick, labels=labels, lang=lang)), "pick")


def pool_payload(x, *, part: str, kind: str, size: int, stride: int, value, labels: dict, lang: str,
                 output=None) -> dict:
    """What either part of the pooling explorable gets: the input map x (H, W) as float32, the kind
    ("max", "avg" or "global"), window and stride, and the committed value (the picked cell
    [row, col] for part "window", the shift in pixels for part "shift"); the window part also gets
    the pooled map the server computed (output, (H_out, W_out); [[mean]] for global pooling)."""
    x = np.asarray(x, dtype=np.float32)
    data = {"part": part, "x": float32_b64(x.reshape(-1)), "shape": list(x.shape), "kind": kind,
            "size": int(size), "stride": int(stride), "value": value, "labels": labels, "lang": lang}
    if output is not None:
        data["output"] = float32_b64(np.asarray(output, dtype=np.float32).reshape(-1))
    return data


def pool_window_explorable(x, output, *, kind: str, size: int, stride: int, pick: tuple[int, int],
                           labels: dict, lang: str, key: str):
    """Pooling's window view drawn in the browser: the input with the picked cell's window and its
    winner, the pooled map to click or move through with the arrow keys, row / column sliders, the
    window's numbers and p = max (or mean) {...} with its numbers.

    x: (H, W) input and output: (H_out, W_out) pooled map, sent once (pool_payload). Returns the cell
    the learner settled on ([row, col], sent on a click or ~0.7 s after the last key), or None."""
    return _result(_pooling(key=key, data=pool_payload(
        x, part="window", kind=kind, size=size, stride=stride, value=[int(pick[0]), int(pick[1])],
        labels=labels, lang=lang, output=output)), "pick")


def pool_shift_explorable(x, *, kind: str, size: int, stride: int, shift: int, labels: dict, lang: str,
                          key: str):
    """Translation invariance drawn in the browser: the shift slider, the input shifted right, both
    pooled maps with the changed cells outlined, and the share of pooled values unchanged (vs raw
    pixels). x: (H, W), sent once. Returns the shift the learner settled on (~0.7 s after the last
    move), or None."""
    return _result(_pooling(key=key, data=pool_payload(
        x, part="shift", kind=kind, size=size, stride=stride, value=int(shift), labels=labels,
        lang=lang)), "shift")


_landscape_map = _register("landscape_map")


def landscape_map_explorable(*, surface: dict, z, levels: list[float], paths: list[dict], start: tuple,
                             step: float, gd_lr: float | None, theory: dict | None, labels: dict, lang: str,
                             key: str, on_start) -> None:
    """The toy surface's map with the optimizer paths, the start point picked in the browser, GD's first
    step with its numbers and (on the quadratic bowl) Goh's theory panel, all written by the JS.

    surface: {name, kappa, angle, xlim, ylim, f_min, minima}: the JS evaluates f and its gradient in
    closed form (bigmodel_core.landscape.Surface.f / grad). z: (n, n) log10(f - f*) on the grid
    (float32, sent once per surface; row i at ys[i]), levels: the iso-line levels. paths: [{name,
    label, color, xy (float32 (end + 1, 2) clipped to the map), diverged, end}]. start: the committed
    start point; step: its grid. theory: {kappa, lr_gd, lr_momentum, beta, measured_gd,
    measured_momentum} on the bowl, else None. A click on the map, or Enter after the arrow keys,
    sends the new start ([x, y], a trigger) and calls on_start: the paths fragment reruns.
    """
    _landscape_map(
        key=key, on_start_change=on_start,
        data={"surface": surface, "z": float32_b64(z), "n": int(len(z)), "levels": [float(v) for v in levels],
              "paths": paths, "start": [float(start[0]), float(start[1])], "step": float(step),
              "gd_lr": gd_lr, "theory": theory, "labels": labels, "lang": lang},
    )


_regularization_replay = _register("regularization_replay")


def regularization_replay_explorable(data: dict, *, key: str) -> None:
    """The A/B panels of the regularization page replayed from training snapshots, in the browser.

    data (see app_pages/regularization.py replay_data): the task's drawing (kind, extent, grid, the
    curve's xs and truth, the training points as float32), per side the kept frames (steps, losses,
    sums, zeros, histogram edges as lists; histograms and predictions as float32, frames x values)
    and every evaluation's losses, the lambdas and labels. The "training step" slider picks a frame
    in the browser; nothing is sent back.
    """
    _regularization_replay(key=key, data=data)
