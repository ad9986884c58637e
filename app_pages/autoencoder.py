"""Autoencoder: the seeds' 784 -> latent -> 784 model on MNIST (seed 000 §3.3, §4.3).

Play: the 2-D latent map (click or pick coordinates to decode), a walk between two digits,
reconstructions and error vs latent size, denoising, and training one yourself.
"""
import copy

import numpy as np
import pandas as pd
import streamlit as st
import torch

from bigmodel_core.charts.autoencoder import (PICK, error_by_latent, latent_map, latent_map_data,
                                             latent_map_spec, upscale)
from bigmodel_core.charts.images import tile_images
from bigmodel_core.charts.spec import line_chart
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.autoencoder import (LATENT_SIZES, AETrainSettings, Autoencoder, AutoencoderConfig,
                                              add_noise, decode_point, encode_digits, latent_walk,
                                              load_autoencoder, load_record, mean_digit_error,
                                              per_digit_error, pixel_blend, reconstruct, train_autoencoder)
from bigmodel_core.data import mnist_tensors
from app_pages._queue import heavy
from app_pages._ui import altair, page_header, vega, section, show_code, show_error, sync_url, t, url_state, why_and_try

KEY = "autoencoder"
MAP_STEP = 0.1          # slider resolution of the coordinate pickers
MANIFOLD_N = 12         # decoded grid of the map: 12 x 12 codes


# ---------------------------------------------------------------------------------------------
# Cached data and models (read-only)

@st.cache_resource
def _data():
    return mnist_tensors(flat=True)                          # X_train, y_train, X_test, y_test


@st.cache_resource
def _model(latent: int) -> Autoencoder:
    return load_autoencoder(latent)


@st.cache_resource
def _codes2() -> np.ndarray:
    return encode_digits(_model(2), _data()[2])             # (1000, 2)


@st.cache_data(max_entries=4)
def _records() -> dict[int, float]:
    return {d: load_record(d)["test_bce"] for d in LATENT_SIZES}


@st.cache_data(max_entries=1)
def _baseline() -> float:
    X_train, _, X_test, _ = _data()
    return mean_digit_error(X_train, X_test)


@st.cache_data(max_entries=64)
def _decode(latent: int, z: tuple[float, ...]) -> np.ndarray:
    return decode_point(_model(latent), z)


@st.cache_data(max_entries=4)
def _manifold(n: int, z1_hi: float, z2_hi: float) -> np.ndarray:
    """Decoded images of an n x n grid of codes, z2 high at the top (like the map)."""
    z1 = np.linspace(0, z1_hi, n)
    z2 = np.linspace(z2_hi, 0, n)
    grid = np.stack(np.meshgrid(z1, z2), -1).reshape(-1, 2).astype(np.float32)   # (n*n, 2)
    model = _model(2)
    with torch.no_grad():
        imgs = model.decode(torch.as_tensor(grid, device=next(model.parameters()).device))
    return imgs.reshape(-1, 28, 28).cpu().numpy()


@st.cache_data(max_entries=4)
def _map_spec(domain: tuple[float, float, float, float], width: int, height: int) -> dict:
    return latent_map_spec(domain, marker=True, width=width, height=height)


@st.cache_resource
def _map_digits():
    """The 1,000 held-out codes as the map's "digits" data, built once."""
    return latent_map_data(_codes2(), _data()[3].numpy())["digits"]


def _first_of_each_digit(labels: np.ndarray, shift: int = 0) -> np.ndarray:
    """Held-out indices: the (shift)-th example of each class 0..9."""
    return np.array([np.flatnonzero(labels == d)[shift % int((labels == d).sum())] for d in range(10)])


def _map_domain() -> tuple[float, float]:
    codes = _codes2()
    hi = codes.max(0) * 1.08
    return float(np.ceil(hi[0])), float(np.ceil(hi[1]))


def _digit_image(x: torch.Tensor) -> np.ndarray:
    return x.reshape(28, 28).cpu().numpy()


# ---------------------------------------------------------------------------------------------
# Page

page_header(KEY)
X_train, y_train, X_test, y_test = _data()
labels = y_test.numpy()
codes = _codes2()
z1_hi, z2_hi = _map_domain()

# start at the first held-out digit whose code is off both axes (ReLU puts many exactly on an axis)
st.session_state.setdefault(f"{KEY}.picked", int(np.flatnonzero((codes > 0.5).all(1))[0]))
_start = codes[st.session_state[f"{KEY}.picked"]]
url_state(f"{KEY}.z1", round(float(_start[0]), 1), lo=0.0, hi=z1_hi)
url_state(f"{KEY}.z2", round(float(_start[1]), 1), lo=0.0, hi=z2_hi)


def _on_map_click() -> None:
    """A click on the map moves both coordinate sliders to the clicked digit's code."""
    event = st.session_state.get(f"{KEY}.map")
    points = (event or {}).get("selection", {}).get(PICK) or []
    if points and "idx" in points[0]:
        idx = int(points[0]["idx"])
        st.session_state[f"{KEY}.picked"] = idx
        st.session_state[f"{KEY}.z1"] = float(np.clip(round(float(codes[idx, 0]), 1), 0, z1_hi))
        st.session_state[f"{KEY}.z2"] = float(np.clip(round(float(codes[idx, 1]), 1), 0, z2_hi))


tab_map, tab_walk, tab_grid, tab_denoise, tab_train = st.tabs(
    [t(f"{KEY}.tab_map"), t(f"{KEY}.tab_walk"), t(f"{KEY}.tab_grid"), t(f"{KEY}.tab_denoise"),
     t(f"{KEY}.tab_train")])


@st.fragment
def latent_map_part(formula_slot) -> None:
    """Pickers, decoded image, the map and the formula's numbers: all that follows z and the pick."""
    left, right = st.columns([3, 2], gap="medium")
    with right:                                               # sliders first: the map shows their values
        st.slider(t(f"{KEY}.z1"), 0.0, z1_hi, step=MAP_STEP, key=f"{KEY}.z1")
        st.slider(t(f"{KEY}.z2"), 0.0, z2_hi, step=MAP_STEP, key=f"{KEY}.z2")
        z = (round(st.session_state[f"{KEY}.z1"], 2), round(st.session_state[f"{KEY}.z2"], 2))
        decoded = _decode(2, z)
        idx = st.session_state[f"{KEY}.picked"]
        c1, c2 = st.columns(2)
        c1.image(upscale(_digit_image(X_test[idx]), 7), caption=t(f"{KEY}.original"), clamp=True)
        c2.image(upscale(decoded, 7), caption=t(f"{KEY}.decoded", z1=f"{z[0]:.1f}", z2=f"{z[1]:.1f}"),
                 clamp=True)
        st.markdown(t(f"{KEY}.picked", idx=idx, label=int(labels[idx])))
    with left:
        st.caption(t(f"{KEY}.map_caption", n=len(codes)))
        # a fixed spec with named data: moving the marker only swaps its one row into the live chart
        vega(_map_spec((0.0, z1_hi, 0.0, z2_hi), 460, 400), key=f"{KEY}.map", on_select=_on_map_click,
             datasets={"digits": _map_digits(), "marker": pd.DataFrame({"z1": [z[0]], "z2": [z[1]]})})
    with formula_slot:                                        # the formula section further down the page
        _formula_numbers(idx, z)
    sync_url(f"{KEY}.z1", f"{KEY}.z2")


def _formula_numbers(idx: int, z: tuple[float, float]) -> None:
    """The formula with the learner's numbers: the picked digit's code and error, the decoded point."""
    st.markdown(t(f"{KEY}.formula_now", idx=idx, label=int(labels[idx]), z1=f"{codes[idx, 0]:.2f}",
                  z2=f"{codes[idx, 1]:.2f}", latent=2, bce=f"{_bce(idx):.4f}"))
    st.latex(rf"\hat{{x}} = \mathrm{{sigmoid}}\Big(W'_{{784\times 2}} \begin{{bmatrix}} {z[0]:.1f} \\ {z[1]:.1f} "
             rf"\end{{bmatrix}} + b'\Big)")


@st.cache_data(max_entries=64)
def _bce(idx: int) -> float:
    return float(per_digit_error(_model(2), X_test[idx:idx + 1])[0])


with tab_map:
    map_slot = st.container()                                 # filled by latent_map_part() below
    with st.expander(t(f"{KEY}.manifold")):
        st.caption(t(f"{KEY}.manifold_caption", n=MANIFOLD_N))
        st.image(upscale(tile_images(_manifold(MANIFOLD_N, z1_hi, z2_hi), ncols=MANIFOLD_N, pad=2,
                                     normalize="all"), 2), clamp=True)
    st.caption(t(f"{KEY}.relu_note"))


# -- walk between two digits ------------------------------------------------------------------
url_state(f"{KEY}.walk_from", 1, choices=list(range(10)))
url_state(f"{KEY}.walk_to", 7, choices=list(range(10)))
url_state(f"{KEY}.walk_latent", 32, choices=list(LATENT_SIZES))
url_state(f"{KEY}.alpha", 0.5, lo=0.0, hi=1.0)


@st.fragment
def walk_part() -> None:
    c = st.columns(4)
    c[0].selectbox(t(f"{KEY}.walk_from"), list(range(10)), key=f"{KEY}.walk_from")
    c[1].selectbox(t(f"{KEY}.walk_to"), list(range(10)), key=f"{KEY}.walk_to")
    c[2].segmented_control(t(f"{KEY}.latent_size"), list(LATENT_SIZES), key=f"{KEY}.walk_latent",
                           required=True)
    c[3].slider(t(f"{KEY}.alpha"), 0.0, 1.0, step=0.05, key=f"{KEY}.alpha")
    latent = st.session_state[f"{KEY}.walk_latent"]
    alpha = float(st.session_state[f"{KEY}.alpha"])
    ia = int(np.flatnonzero(labels == st.session_state[f"{KEY}.walk_from"])[0])
    ib = int(np.flatnonzero(labels == st.session_state[f"{KEY}.walk_to"])[0])
    alphas = np.linspace(0, 1, 11)
    _, walk = latent_walk(_model(latent), X_test[ia], X_test[ib], alphas)
    blend = pixel_blend(X_test[ia], X_test[ib], alphas)
    _, now = latent_walk(_model(latent), X_test[ia], X_test[ib], [alpha])
    now_blend = pixel_blend(X_test[ia], X_test[ib], [alpha])
    left, right = st.columns([3, 1])
    with left:
        st.markdown(f"**{t(f'{KEY}.walk_latent')}**")
        st.image(upscale(tile_images(walk, ncols=11, pad=2, normalize="all"), 3), clamp=True)
        st.markdown(f"**{t(f'{KEY}.walk_pixels')}**")
        st.image(upscale(tile_images(blend, ncols=11, pad=2, normalize="all"), 3), clamp=True)
        st.caption(t(f"{KEY}.walk_caption"))
    with right:
        st.markdown(f"**{t(f'{KEY}.walk_now', alpha=f'{alpha:.2f}')}**")
        st.image(upscale(tile_images(np.stack([now[0], now_blend[0]]), ncols=2, pad=2, normalize="all"), 5),
                 clamp=True)
        if latent == 2:
            path, _ = latent_walk(_model(2), X_test[ia], X_test[ib], alphas)
            st.caption(t(f"{KEY}.walk_path"))
            altair(latent_map(codes, labels, path=path, marker=tuple(path[int(round(alpha * 10))]),
                              domain=(0.0, z1_hi, 0.0, z2_hi), width=260, height=220, font_size=9), key=f"{KEY}.walk_map")
    sync_url(f"{KEY}.walk_from", f"{KEY}.walk_to", f"{KEY}.walk_latent", f"{KEY}.alpha")


with tab_walk:
    walk_part()


# -- originals vs reconstructions, error vs latent size ---------------------------------------
url_state(f"{KEY}.grid_latent", 2, choices=list(LATENT_SIZES))
url_state(f"{KEY}.grid_shift", 0, lo=0, hi=99)

with tab_grid:
    left, right = st.columns([3, 2], gap="medium")
    with left:
        c = st.columns(2)
        c[0].segmented_control(t(f"{KEY}.latent_size"), list(LATENT_SIZES), key=f"{KEY}.grid_latent",
                               required=True)
        c[1].number_input(t(f"{KEY}.grid_example"), 0, 99, step=1, key=f"{KEY}.grid_shift")
        latent = st.session_state[f"{KEY}.grid_latent"]
        idx = _first_of_each_digit(labels, st.session_state[f"{KEY}.grid_shift"])
        originals = X_test[idx].reshape(-1, 28, 28).numpy()
        recons = reconstruct(_model(latent), X_test[idx])
        st.image(upscale(tile_images(np.concatenate([originals, recons]), ncols=10, pad=2, normalize="all"), 3),
                 clamp=True)
        errs = per_digit_error(_model(latent), X_test[idx])
        st.dataframe(pd.DataFrame([errs.round(3)], columns=[str(d) for d in range(10)],
                                  index=[f"BCE (z={latent})"]), width="stretch")
        st.caption(t(f"{KEY}.grid_caption", latent=latent))
    with right:
        st.markdown(f"**{t(f'{KEY}.error_chart')}**")
        trained = st.session_state.get(f"{KEY}.trained")
        extra = {"yours": (trained["latent"], trained["test_bce"])} if trained else None
        altair(error_by_latent(_records(), baseline=_baseline(), highlight=latent, extra=extra,
                               y_title=t(f"{KEY}.y_error"), x_title=t(f"{KEY}.x_latent"),
                               baseline_label=t(f"{KEY}.baseline"),
                               series_labels=(t(f"{KEY}.shipped"), t(f"{KEY}.yours"))), key=f"{KEY}.error")
        st.caption(t(f"{KEY}.error_caption"))
    sync_url(f"{KEY}.grid_latent", f"{KEY}.grid_shift")


# -- denoising --------------------------------------------------------------------------------
url_state(f"{KEY}.noise", 0.3, lo=0.0, hi=1.0)
url_state(f"{KEY}.noise_digit", 4, choices=list(range(10)))


@st.fragment
def denoise_part() -> None:
    c = st.columns([1, 2])
    c[0].selectbox(t(f"{KEY}.denoise_digit"), list(range(10)), key=f"{KEY}.noise_digit")
    c[1].slider(t(f"{KEY}.noise"), 0.0, 1.0, step=0.05, key=f"{KEY}.noise")
    i = int(np.flatnonzero(labels == st.session_state[f"{KEY}.noise_digit"])[0])
    clean = X_test[i:i + 1]                                  # (1, 784)
    try:
        noisy = add_noise(clean, float(st.session_state[f"{KEY}.noise"]), seed=i)
    except UserInputError as e:
        show_error(e)
        return
    outs = [reconstruct(_model(d), noisy)[0] for d in LATENT_SIZES]
    pictures = [clean.reshape(28, 28).numpy(), noisy.reshape(28, 28).numpy(), *outs]
    captions = [t(f"{KEY}.clean"), t(f"{KEY}.noisy"), *[t(f"{KEY}.denoised", latent=d) for d in LATENT_SIZES]]
    cols = st.columns(len(pictures))
    for col, img, cap in zip(cols, pictures, captions):
        mse = float(((img - pictures[0]) ** 2).mean())
        col.image(upscale(img, 6), caption=cap, clamp=True)
        if cap != captions[0]:
            col.markdown(f"**{t(f'{KEY}.mse', value=f'{mse:.4f}')}**")
    st.caption(t(f"{KEY}.denoise_caption"))
    sync_url(f"{KEY}.noise", f"{KEY}.noise_digit")


with tab_denoise:
    denoise_part()


# -- train it yourself ------------------------------------------------------------------------
url_state(f"{KEY}.train_latent", 2, choices=[2, 4, 8, 16, 32])
url_state(f"{KEY}.epochs", 5, lo=1, hi=20)
url_state(f"{KEY}.lr", 1e-3, choices=[1e-4, 3e-4, 1e-3, 3e-3, 1e-2])


def _request_stop() -> None:
    st.session_state[f"{KEY}.stop_flag"] = True


def _show_trained(trained: dict) -> None:
    reason = t(f"{KEY}.reason_{trained['reason']}")
    st.success(t(f"{KEY}.train_done", latent=trained["latent"], bce=f"{trained['test_bce']:.4f}",
                 steps=trained["steps"], reason=reason))
    if trained["reason"] == "diverged":
        st.warning(t("common.diverged", step=trained["diverged_at"]))
    model = Autoencoder(AutoencoderConfig(latent_dim=trained["latent"]))
    model.load_state_dict(trained["state"])
    model.eval()
    c1, c2 = st.columns(2)
    with c1:
        st.markdown(f"**{t(f'{KEY}.train_curve')}**")
        altair(line_chart(pd.DataFrame(trained["curve"]), series="series", x_title=t("common.step"),
                          y_title="BCE", width=380, height=220), key=f"{KEY}.train_chart")
    with c2:
        st.markdown(f"**{t(f'{KEY}.train_recon')}**")
        idx = _first_of_each_digit(labels)
        grid = np.concatenate([X_test[idx].reshape(-1, 28, 28).numpy(), reconstruct(model, X_test[idx])])
        st.image(upscale(tile_images(grid, ncols=10, pad=2, normalize="all"), 2), clamp=True)
    if trained["latent"] == 2:
        yours = encode_digits(model, X_test)
        st.markdown(f"**{t(f'{KEY}.train_map')}**")
        altair(latent_map(yours, labels, width=420, height=320, font_size=11), key=f"{KEY}.train_map")


with tab_train:
    st.markdown(t(f"{KEY}.train_intro"))
    c = st.columns([2, 2, 2, 1, 1])
    c[0].segmented_control(t(f"{KEY}.train_latent"), [2, 4, 8, 16, 32], key=f"{KEY}.train_latent", required=True)
    c[1].slider(t("common.epochs"), 1, 20, key=f"{KEY}.epochs")
    c[2].select_slider(t("common.learning_rate"), [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], key=f"{KEY}.lr",
                       format_func=lambda v: f"{v:g}")
    go = c[3].button(t("common.train"), type="primary", key=f"{KEY}.train")
    c[4].button(t("common.stop"), key=f"{KEY}.stop", on_click=_request_stop)
    sync_url(f"{KEY}.train_latent", f"{KEY}.epochs", f"{KEY}.lr")
    if go:
        st.session_state[f"{KEY}.stop_flag"] = False
        latent = st.session_state[f"{KEY}.train_latent"]
        bar = st.progress(0.0, text=t("common.training"))
        curve: list[dict] = []
        live = {"latent": latent, "curve": curve, "reason": "stopped", "steps": 0, "diverged_at": None}

        def on_progress(ev) -> None:
            curve.append({"step": ev.step, "value": ev.train_loss, "series": t(f"{KEY}.train_series_train")})
            if ev.metrics:
                curve.append({"step": ev.step, "value": ev.metrics["test_bce"],
                              "series": t(f"{KEY}.train_series_test")})
                live.update(test_bce=ev.metrics["test_bce"], steps=ev.step)
            bar.progress(ev.fraction, text=f"{t('common.training')} {t('common.step')} {ev.step}/{ev.total_steps}")

        settings = AETrainSettings(epochs=st.session_state[f"{KEY}.epochs"], lr=st.session_state[f"{KEY}.lr"],
                                   batch_size=64, seed=0)
        with heavy("autoencoder_train"):                          # one training at a time per process
            model, hist = train_autoencoder(latent, settings, X_train=X_train, X_test=X_test,
                                            on_progress=on_progress, eval_every=21,
                                            should_stop=lambda: st.session_state.get(f"{KEY}.stop_flag", False))
        bar.empty()
        final = hist.evals[-1]["test_bce"] if hist.evals else float("nan")
        st.session_state[f"{KEY}.trained"] = {
            "latent": latent, "state": copy.deepcopy({k: v.cpu() for k, v in model.state_dict().items()}),
            "curve": curve, "reason": hist.reason, "steps": hist.steps[-1] if hist.steps else 0,
            "diverged_at": hist.diverged_at, "test_bce": final}
    trained = st.session_state.get(f"{KEY}.trained")
    if trained:
        _show_trained(trained)
    else:
        st.info(t(f"{KEY}.train_none"))


# ---------------------------------------------------------------------------------------------
# The formula, with the learner's numbers

section("formula")
st.caption(t(f"{KEY}.formula_intro"))
st.latex(r"z = f(Wx + b),\quad f = \mathrm{ReLU} \qquad\qquad \hat{x} = g(W'z + b'),\quad g = \mathrm{sigmoid}")
formula_slot = st.container()                                 # the numbers: filled by latent_map_part()
st.markdown(t(f"{KEY}.formula_loss"))
st.latex(r"\mathrm{BCE}(x, \hat{x}) = -\frac{1}{784}\sum_{i=1}^{784}\big[x_i \log \hat{x}_i + (1 - x_i)\log(1 - \hat{x}_i)\big]")
with map_slot:                                                # called last: it also fills formula_slot
    latent_map_part(formula_slot)
show_code(Autoencoder, latent_walk)

why_and_try(KEY)
