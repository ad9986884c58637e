"""Autoencoder: the course text's 784 -> latent -> 784 model on MNIST (course text 1, §3.3, §4.3).

Play: the 2-D latent map (click or pick coordinates to decode), a walk between two digits,
reconstructions and error vs latent size, denoising, and training one yourself. The latent map is
decoded in the browser (app_pages/components/latent_decoder.js): the page sends the latent-2 decoder's
weights once, and picking a point redraws the decoding, the picked digit and the numbers at once.
"""
import copy

import numpy as np
import pandas as pd
import streamlit as st

from bigmodel_core.charts.autoencoder import DIGIT_COLORS, digit_sheet, error_by_latent, latent_map, upscale
from bigmodel_core.charts.images import tile_images
from bigmodel_core.charts.spec import line_chart
from bigmodel_core.data import mnist_tensors
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.autoencoder import (LATENT_SIZES, AETrainSettings, Autoencoder, denoise,
                                              autoencoder_from_state, decode_grid, decoder_weights, encode_digits,
                                              first_of_each_digit, first_off_axis, latent_walk, load_autoencoder,
                                              load_record, map_domain, mean_digit_error,
                                              per_digit_error, pixel_blend, reconstruct, train_autoencoder)
from app_pages._explorables import latent_decoder_explorable, valid_settings
from app_pages._queue import heavy
from app_pages._ui import altair, lang, page_header, section, show_code, show_error, sync_url, t, url_state, why_and_try

KEY = "autoencoder"
MAP_STEP = 0.1          # slider resolution of the coordinate pickers
MANIFOLD_N = 12         # decoded grid of the map: 12 x 12 codes
SHEET_COLS = 40         # the held-out digits sent as one PNG, 40 a row
JS_LABELS = ("map_caption", "map_label", "z1", "z2", "decoded", "picked", "original", "formula_now", "formula_pixel")


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


@st.cache_resource
def _errors2() -> np.ndarray:
    return per_digit_error(_model(2), _data()[2])           # (1000,) BCE of each held-out digit


@st.cache_resource
def _sheet() -> str:
    return digit_sheet(_data()[2].numpy(), SHEET_COLS)       # the held-out digits as one PNG


@st.cache_data(max_entries=4)
def _records() -> dict[int, float]:
    return {d: load_record(d)["test_bce"] for d in LATENT_SIZES}


@st.cache_data(max_entries=1)
def _baseline() -> float:
    X_train, _, X_test, _ = _data()
    return mean_digit_error(X_train, X_test)


@st.cache_data(max_entries=4)
def _manifold(n: int, z1_hi: float, z2_hi: float) -> np.ndarray:
    return decode_grid(_model(2), n, z1_hi, z2_hi)


def _digit_image(x) -> np.ndarray:
    return x.reshape(28, 28).cpu().numpy()


# ---------------------------------------------------------------------------------------------
# Page

page_header(KEY)
X_train, y_train, X_test, y_test = _data()
labels = y_test.numpy()
codes = _codes2()
z1_hi, z2_hi = map_domain(codes)
MAP_FIELDS = {"z1": (0.0, z1_hi), "z2": (0.0, z2_hi), "picked": (0, len(codes) - 1)}

# start at the first held-out digit whose code is off both axes (ReLU puts many exactly on an axis)
url_state(f"{KEY}.picked", first_off_axis(codes), lo=0, hi=len(codes) - 1)
_start = codes[st.session_state[f"{KEY}.picked"]]
url_state(f"{KEY}.z1", round(float(_start[0]), 1), lo=0.0, hi=z1_hi)
url_state(f"{KEY}.z2", round(float(_start[1]), 1), lo=0.0, hi=z2_hi)


def _on_map_commit() -> None:
    """The browser committed the point and the picked digit (0.6 s after the last move): keep them."""
    sent = (st.session_state.get(f"{KEY}.map") or {}).get("settings")
    for name, value in valid_settings(sent, MAP_FIELDS).items():
        st.session_state[f"{KEY}.{name}"] = value


tab_map, tab_walk, tab_grid, tab_denoise, tab_train = st.tabs(
    [t(f"{KEY}.tab_map"), t(f"{KEY}.tab_walk"), t(f"{KEY}.tab_grid"), t(f"{KEY}.tab_denoise"),
     t(f"{KEY}.tab_train")])


@st.fragment
def latent_map_part() -> None:
    """The map, the pickers, the picked digit, its decoding and the numbers: one explorable. A commit
    reruns only this fragment (it writes the URL)."""
    latent_decoder_explorable(
        decoder=decoder_weights(_model(2)), codes=codes, digits=labels, sheet=_sheet(), sheet_cols=SHEET_COLS,
        errors=_errors2(),
        domain=(z1_hi, z2_hi), step=MAP_STEP, settings={n: st.session_state[f"{KEY}.{n}"] for n in MAP_FIELDS},
        colors=DIGIT_COLORS, labels={k: t(f"{KEY}.{k}") for k in JS_LABELS}, lang=lang(), key=f"{KEY}.map",
        on_commit=_on_map_commit)
    sync_url(f"{KEY}.z1", f"{KEY}.z2", f"{KEY}.picked")


with tab_map:
    latent_map_part()
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
    first = first_of_each_digit(labels)
    ia, ib = int(first[st.session_state[f"{KEY}.walk_from"]]), int(first[st.session_state[f"{KEY}.walk_to"]])
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
        idx = first_of_each_digit(labels, st.session_state[f"{KEY}.grid_shift"])
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
    i = int(first_of_each_digit(labels)[st.session_state[f"{KEY}.noise_digit"]])
    try:
        d = denoise([_model(n) for n in LATENT_SIZES], X_test[i], float(st.session_state[f"{KEY}.noise"]), seed=i)
    except UserInputError as e:
        show_error(e)
        return
    pictures = [d.clean, d.noisy, *d.outputs]
    captions = [t(f"{KEY}.clean"), t(f"{KEY}.noisy"), *[t(f"{KEY}.denoised", latent=n) for n in LATENT_SIZES]]
    cols = st.columns(len(pictures))
    for j, (col, img, cap) in enumerate(zip(cols, pictures, captions)):
        col.image(upscale(img, 6), caption=cap, clamp=True)
        if j:
            col.markdown(f"**{t(f'{KEY}.mse', value=f'{d.mse[j - 1]:.4f}')}**")
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
    model = autoencoder_from_state(trained["latent"], trained["state"])
    c1, c2 = st.columns(2)
    with c1:
        st.markdown(f"**{t(f'{KEY}.train_curve')}**")
        altair(line_chart(pd.DataFrame(trained["curve"]), series="series", x_title=t("common.step"),
                          y_title="BCE", width=380, height=220), key=f"{KEY}.train_chart")
    with c2:
        st.markdown(f"**{t(f'{KEY}.train_recon')}**")
        idx = first_of_each_digit(labels)
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

        def on_progress(ev) -> None:
            curve.append({"step": ev.step, "value": ev.train_loss, "series": t(f"{KEY}.train_series_train")})
            if ev.metrics:
                curve.append({"step": ev.step, "value": ev.metrics["test_bce"],
                              "series": t(f"{KEY}.train_series_test")})
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
st.caption(t(f"{KEY}.formula_where"))
st.markdown(t(f"{KEY}.formula_loss"))
st.latex(r"\mathrm{BCE}(x, \hat{x}) = -\frac{1}{784}\sum_{i=1}^{784}\big[x_i \log \hat{x}_i + (1 - x_i)\log(1 - \hat{x}_i)\big]")
show_code(Autoencoder, latent_walk)

why_and_try(KEY)
