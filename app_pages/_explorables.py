"""Client-side explorables: pictures that only re-arrange data already sent, drawn in the browser.

Each explorable is one JS file + one CSS file in app_pages/components/, read once at import and
registered as a Streamlit components v2 component (inline HTML/CSS/JS: no iframe, no build step, no
CDN). Python sends the data once; the browser redraws on every slider move with no server rerun and
reports a value back (setStateValue) only when the learner commits it. Under AppTest a component
renders nothing, so every page keeps its settings in st.session_state as well.
"""
from __future__ import annotations

import base64
import math
from pathlib import Path

import numpy as np
import streamlit as st

COMPONENTS_DIR = Path(__file__).parent / "components"


def component_js(name: str, *shared: str) -> str:
    """An explorable's JavaScript as the browser gets it: the shared helpers (_common.js, then any
    `shared` helper files such as "_maps" or "_heatmap"), then its own file. Browser tests load the same
    text to compare its exported arithmetic with the Python core."""
    files = ("_common", *shared, name)
    return "\n".join((COMPONENTS_DIR / f"{f}.js").read_text(encoding="utf-8") for f in files)


def _register(name: str, *shared: str):
    css = [COMPONENTS_DIR / f"{f}.css" for f in (*shared, name)]      # a shared helper's CSS, if it has one
    return st.components.v2.component(
        f"bigmodel_{name}",
        css="\n".join(f.read_text(encoding="utf-8") for f in css if f.exists()),
        js=component_js(name, *shared),
    )


_sampling = _register("sampling")
_conv = _register("conv", "_maps")
_pooling = _register("pooling", "_maps")
_activation_curves = _register("activation_curves", "_plot")
_loss_curves = _register("loss_curves", "_plot")
_latent_decoder = _register("latent_decoder", "_plot")
_rnn_step = _register("rnn_step", "_heatmap")
_attention_row = _register("attention_row", "_heatmap")


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
    return _result(result, "settings")


def rnn_step_explorable(*, arrays: dict, x_labels: list[str], vocab: list[str], seq_kind: str, step: int,
                        labels: dict, lang: str, key: str, on_commit=None):
    """Step through a trained recurrent cell: hidden-state heat map with step t outlined, the gates
    (LSTM: i, f, o, c; GRU: r, z), the state update with step t's numbers and y_t, drawn in the browser.

    arrays: bigmodel_core.models.rnn.step_arrays(model, seq) (the cell's W, U, b_ih, b_hh, the inputs x
    and the output layer V, c), sent once as float32; the JS runs the cell over the sequence itself.
    step: the committed time step (1..T), where the slider starts. Returns the step the learner
    committed (0.8 s after the last move, or on stop), None before any.
    """
    T, I = arrays["x"].shape
    result = _rnn_step(
        key=key, on_step_change=on_commit or (lambda: None),
        data={"kind": arrays["kind"], "seq_kind": seq_kind, "T": int(T), "I": int(I), "H": int(arrays["U"].shape[1]),
              "O": int(arrays["V"].shape[0]), "step": int(step), "x_labels": list(x_labels), "vocab": list(vocab),
              **{name: float32_b64(arrays[name]) for name in ("x", "W", "U", "b_ih", "b_hh", "V", "c")},
              "labels": labels, "lang": lang},
    )
    return _result(result, "step")


def rnn_gates_explorable(*, cells: dict[str, dict], names: dict[str, str], step: int, labels: dict, lang: str,
                         key: str) -> None:
    """RNN, LSTM and GRU side by side: each trained cell's hidden state and gates over time (units x
    time), one time step outlined in all three, moved by its own slider in the browser (no commit).

    cells: kind -> bigmodel_core.models.rnn.step_arrays(model, seq), sent once as float32 (the same
    cell equations as rnn_step_explorable run in the browser). names: kind -> the cell's display name.
    """
    _rnn_step(key=key, data={"compare": [
        {"kind": kind, "name": names[kind], "T": int(a["x"].shape[0]), "I": int(a["x"].shape[1]),
         "H": int(a["U"].shape[1]), **{n: float32_b64(a[n]) for n in ("x", "W", "U", "b_ih", "b_hh")}}
        for kind, a in cells.items()], "step": int(step), "labels": labels, "lang": lang})


def attention_row_explorable(*, tokens: list[str], Q, K, V, settings: dict, labels: dict, lang: str, key: str,
                             on_commit=None):
    """Self-attention by hand for one query row: the weight matrix (click / arrow keys pick the row), the
    score and softmax rows, the weighted sum of V, the formula with live numbers, and the Q, K, V, score
    and output matrices, all drawn in the browser.

    Q, K, V: (heads, T, d_k) from bigmodel_core.ops.attention.by_hand_attention, sent once as float32.
    settings: {"query", "head", "temperature", "scale", "causal"}, the committed values; the JS applies
    them with the arithmetic of scaled_dot_product_attention_explained. Returns the settings the learner
    committed (0.8 s after the last change), None before any.
    """
    heads, T, d_k = Q.shape
    result = _attention_row(
        key=key, on_settings_change=on_commit or (lambda: None),
        data={"tokens": list(tokens), "heads": int(heads), "T": int(T), "d_k": int(d_k),
              "Q": float32_b64(Q), "K": float32_b64(K), "V": float32_b64(V),
              "settings": settings, "labels": labels, "lang": lang},
    )
    return _result(result, "settings")


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


def valid_settings(sent, fields: dict) -> dict:
    """The settings an explorable sent back (setStateValue), checked: {name: value} for each field
    whose value is valid, the rest dropped (a forged message cannot put NaN or 1e9 into a page).

    fields: {name: rule}, a rule being bool (a true/false switch), a list of the allowed values, or a
    (lo, hi) pair of numbers: the value is clamped to [lo, hi] and takes lo's type (int or float).
    """
    out = {}
    if not isinstance(sent, dict):
        return out
    for name, rule in fields.items():
        value = sent.get(name)
        if rule is bool:
            if isinstance(value, bool):
                out[name] = value
        elif isinstance(rule, list):
            if value in rule and not isinstance(value, bool):
                out[name] = value
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            lo, hi = rule
            out[name] = type(lo)(min(hi, max(lo, value)))
    return out


def activation_curves_explorable(*, settings: dict, depth: dict[str, list[float]], slope: float, init: str,
                                 width: int, typical: dict[str, str], names: dict[str, str],
                                 colors: dict[str, str], labels: dict, lang: str, key: str, on_commit):
    """f, f' and the depth chart of the six activations, drawn in the browser.

    settings: {"focus", "xmax", "x0", "threshold", "compare", "depth"}, the committed values (the
    controls start there). depth: {activation: [ratio after 0..50 layers]} from PyTorch's depth
    experiment (ops.activations.depth_table) for this init and slope, sent as JSON once per setting.
    The JS computes f and f' itself (closed form). The learner's settings come back 0.6 s after the
    last move (on_commit runs first, as a widget callback would).
    """
    return _activation_curves(
        key=key,
        data={"settings": settings, "depth": depth, "slope": slope, "init": init, "width": width,
              "typical": typical, "names": names, "colors": colors, "labels": labels, "lang": lang},
        on_settings_change=on_commit,
    )


def loss_curves_explorable(*, part: str, settings: dict, labels: dict, names: dict[str, str],
                           colors: dict[str, str], lang: str, key: str, on_commit, **ranges):
    """One of the losses page's two pictures, drawn in the browser (every loss there is closed-form).

    part="regression": settings {"pred", "target", "delta"}, ranges pred_range=(lo, hi); the loss and
    gradient curves, the metrics and the formulas with the learner's numbers.
    part="classification": settings {"z0", "z1", "z2", "true_class"}, ranges logit_range=(lo, hi) and
    classes=[three names]; the softmax / gradient bars, the push sweep, the metrics and the formulas.
    Nothing but these settings and the words is sent. The learner's settings come back 0.6 s after
    the last move (on_commit runs first, as a widget callback would).
    """
    return _loss_curves(
        key=key,
        data={"part": part, "settings": settings, "labels": labels, "names": names, "colors": colors,
              "lang": lang, **ranges},
        on_settings_change=on_commit,
    )


def latent_decoder_explorable(*, decoder: tuple, codes, digits, sheet: str, sheet_cols: int, errors,
                              domain: tuple[float, float], step: float, settings: dict, colors: list[str],
                              labels: dict, lang: str, key: str, on_commit):
    """The latent-2 autoencoder's map, decoded in the browser.

    decoder: (W' (784, 2), b' (784,)) of the latent-2 model, float32, sent once: the JS computes
    x_hat = sigmoid(W' z + b') for every point the learner picks. codes (N, 2), digits (N,) labels,
    errors (N,) each digit's BCE, sheet: the N digits' pixels as one PNG (charts.autoencoder.digit_sheet,
    sheet_cols digits a row): the map, the picked original and its numbers. domain: the map's
    (z1_hi, z2_hi); step: the sliders' step. settings {"z1", "z2", "picked"} come back 0.6 s after
    the last move (on_commit runs first, as a widget callback would).
    """
    W, b = decoder
    return _latent_decoder(
        key=key,
        data={"W": float32_b64(W), "b": float32_b64(b), "codes": float32_b64(codes),
              "digits": [int(d) for d in digits], "sheet": sheet, "sheet_cols": sheet_cols,
              "bce": float32_b64(errors), "domain": list(domain), "step": step, "settings": settings,
              "colors": colors, "labels": labels, "lang": lang},
        on_settings_change=on_commit,
    )


_robustness_eps = _register("robustness_eps")


def robustness_eps_explorable(*, x28, sweep: dict, eps: float, step: float, max_eps: float, curves: list[dict],
                              target: int | None, labels: dict, lang: str, key: str, on_commit=None):
    """FGSM's budget eps, drawn in the browser: the clean digit, the noise clamp(x + eps d) - x, the
    attacked digit, both predictions, the ten probabilities (clean vs attacked), the accuracy curve's
    rule at eps and the formula's numbers.

    x28: (28, 28) in [0, 1]. sweep: bigmodel_core.robustness.fgsm_sweep over the slider's grid
    (direction (28, 28), probs (E, 10), loss (E,)), sent once as float32; the JS perturbs the digit
    itself and looks the probabilities up. curves: [{"name", "rows": [{"eps", "accuracy"}]}].
    target: the class targeted FGSM aims at (None for FGSM). Returns the eps the learner committed
    (0.6 s after the last move), None before any.
    """
    result = _robustness_eps(
        key=key, on_eps_change=on_commit or (lambda: None),
        data={"x": float32_b64(np.asarray(x28).reshape(-1)), "direction": float32_b64(np.asarray(sweep["direction"]).reshape(-1)),
              "probs": float32_b64(np.asarray(sweep["probs"]).reshape(-1)), "loss": float32_b64(np.asarray(sweep["loss"])),
              "eps": float(eps), "step": float(step), "max_eps": float(max_eps), "curves": curves,
              "target": None if target is None else int(target), "labels": labels, "lang": lang},
    )
    return _result(result, "eps")


_compression_bits = _register("compression_bits")


def compression_bits_explorable(*, w, per_channel: bool, bits: int, title: str, layer: str, whole: list[dict],
                                float_: dict, alone: list[dict], outlier: dict, labels: dict, lang: str, key: str,
                                on_commit=None):
    """Quantize one layer in the browser: the bits slider, the histograms of w and w_hat, S, the error,
    SQNR, the share rounded to 0, the formula with the first weight's numbers (quantize_tensor's rule,
    mirrored in compression_bits.js), and the looked-up whole-CNN accuracy and size per bit width.

    w: the layer's weight (C, ...), sent once as float32 (the JS takes C rows for per-channel S).
    whole: [{"bits", "per_channel", "accuracy", "bytes"}] (the compression record); float_: {"accuracy",
    "bytes"}; alone: [{"bits", "accuracy"}] this layer alone; outlier: {bits: OutlierDemo as a dict}.
    Returns the bit width the learner committed (0.6 s after the last move), None before any.
    """
    w = np.asarray(w, dtype=np.float32)
    result = _compression_bits(
        key=key, on_bits_change=on_commit or (lambda: None),
        data={"w": float32_b64(w.reshape(-1)), "rows": int(w.shape[0]), "per_channel": bool(per_channel),
              "bits": int(bits), "title": title, "layer": layer, "whole": whole, "float": float_, "alone": alone,
              "outlier": outlier, "labels": labels, "lang": lang},
    )
    return _result(result, "bits")
