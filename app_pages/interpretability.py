"""Interpretability: why did the CNN call this digit a 7? Saliency, IG, Occlusion and Grad-CAM (Captum),
then LIME and KernelSHAP over patches of the digit, with SHAP's additivity checked like IG's completeness."""
from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from bigmodel_core.charts.cnn import digit_image, overlay, signed_colorbar
from bigmodel_core.interpret import (BASELINES, MAX_STEPS, METHODS, PATCH_SIZES, SURROGATE_METHODS, additivity,
                                     all_attributions, attribute, make_baseline, superpixel_mask,
                                     surrogate_attribute)
from bigmodel_core.models.cnn import new_cnn
from app_pages._queue import heavy
from app_pages._digit_input import bundled_cnn, crisp_images, digit_input, show_prediction
from app_pages._ui import page_header, section, show_code, sync_url, t, url_state, why_and_try

KEY = "interpretability"
TARGETS = (-1,) + tuple(range(10))          # -1: the model's prediction
MODELS = ("trained", "random")             # "random": Adebayo et al.'s model-randomization sanity check
SIGNED = {"saliency": False, "integrated_gradients": True, "occlusion": True, "grad_cam": False}
SAMPLES = (50, 100, 200, 300, 500, 1000)   # LIME / KernelSHAP model evaluations

page_header(KEY)
crisp_images()


@st.cache_resource(show_spinner=False)
def random_cnn():
    """The same architecture with random (untrained) weights, for the sanity check; never modified."""
    return new_cnn(seed=0).eval()


def get_model(kind: str):
    return random_cnn() if kind == "random" else bundled_cnn()


@st.cache_data(max_entries=64, show_spinner=False)
def explain(model_kind: str, digit_key: str, x28: np.ndarray, target: int, baseline: str, n_steps: int) -> dict:
    """The four maps (numpy) and IG's completeness for one digit; keyed on plain values."""
    model = get_model(model_kind)
    x = torch.from_numpy(x28).view(1, 1, 28, 28)                           # (1, 1, 28, 28)
    out = all_attributions(model, x, target, baseline=baseline, n_steps=n_steps)
    out = {k: (v.numpy() if isinstance(v, torch.Tensor) else v) for k, v in out.items()}
    out["baseline_img"] = make_baseline(x, baseline)[0, 0].numpy()
    return out


@st.cache_data(max_entries=64, show_spinner=False)
def explain_surrogates(model_kind: str, digit_key: str, x28: np.ndarray, target: int, n_samples: int,
                       patch: int) -> dict:
    """LIME and KernelSHAP maps (numpy), their cost, and SHAP's additivity; keyed on plain values."""
    model = get_model(model_kind)
    x = torch.from_numpy(x28).view(1, 1, 28, 28)                           # (1, 1, 28, 28)
    out = {}
    for method in SURROGATE_METHODS:
        res = surrogate_attribute(model, x, target, method, n_samples=n_samples, patch=patch)
        out[method] = {"map": res["map"].numpy(), "coef": res["coef"].numpy(), "seconds": res["seconds"],
                       "n_features": res["n_features"]}
    out["additivity"] = additivity(model, x, target, torch.from_numpy(out["kernel_shap"]["coef"]))
    return out


def surrogates(digit, target: int, model_kind: str) -> None:
    """LIME and KernelSHAP beside the four maps above (called inside the attributions fragment)."""
    url_state(f"{KEY}.samples", 200, choices=SAMPLES)
    url_state(f"{KEY}.patch", 4, choices=PATCH_SIZES)
    st.markdown("#### " + t("interpretability.surrogate_title"))
    st.caption(t("interpretability.surrogate_intro"))
    c1, c2 = st.columns([1.4, 1])
    with c1:
        n_samples = st.select_slider(t("interpretability.surrogate_samples"), SAMPLES, key=f"{KEY}.samples")
    with c2:
        patch = st.segmented_control(
            t("interpretability.surrogate_patch"), PATCH_SIZES, key=f"{KEY}.patch", required=True,
            format_func=lambda p: t("interpretability.surrogate_patch_fmt", p=p, m=(28 // p) ** 2))
    sync_url(f"{KEY}.samples", f"{KEY}.patch")
    res = explain_surrogates(model_kind, digit.key, digit.x28, target, int(n_samples), int(patch))
    cols = st.columns(4)
    for col, method in zip(cols, SURROGATE_METHODS):
        r = res[method]
        with col:
            st.markdown(f"**{t(f'interpretability.m_{method}')}**")
            st.image(overlay(digit.x28, r["map"], scale=1, signed=True), width=224)
            st.caption(t(f"interpretability.c_{method}"))
            st.caption(t("interpretability.surrogate_cost", method=t(f"interpretability.m_{method}"),
                         m=r["n_features"], n=n_samples, batches=-(-n_samples // 64),
                         seconds=f"{r['seconds']:.2f}"))
    add = res["additivity"]
    with cols[2]:
        st.markdown(f"**{t('interpretability.shap_title')}**")
        st.metric(t("interpretability.shap_sum"), f"{add['sum_attr']:.4f}")
        st.metric(t("interpretability.shap_diff"), f"{add['difference']:.4f}",
                  help=t("interpretability.f_diff_help", fx=f"{add['f_x']:.3f}", fb=f"{add['f_baseline']:.3f}"))
    with cols[3]:
        st.metric(t("interpretability.shap_gap"), f"{add['gap']:.1e}")
        st.image(superpixel_image(patch), width=112)
    st.caption(t("interpretability.shap_caption", lime_sum=f"{float(res['lime']['coef'].sum()):.4f}"))


@st.cache_data(max_entries=4, show_spinner=False)
def superpixel_image(patch: int) -> np.ndarray:
    """The patches as a checkerboard of greys (what LIME and KernelSHAP switch on and off)."""
    m = superpixel_mask(patch)[0, 0].numpy()
    per_row = 28 // patch
    board = ((m // per_row + m % per_row) % 2) * 90 + 120
    return board.astype(np.uint8)


section("play")
col_in, col_seen, col_probs = st.columns([1.25, 0.8, 1.2], gap="medium")
with col_in:
    digit = digit_input(KEY)
    url_state(f"{KEY}.model", "trained", choices=MODELS)
    model_kind = st.segmented_control(t("interpretability.model"), MODELS, key=f"{KEY}.model", required=True,
                                      format_func=lambda m: t(f"interpretability.model_{m}"))
sync_url(f"{KEY}.source", f"{KEY}.index", f"{KEY}.model")
model = get_model(model_kind)
if digit.x28 is None:
    st.stop()

x = torch.from_numpy(digit.x28).view(1, 1, 28, 28).to(next(model.parameters()).device)
with torch.no_grad():
    probs = model(x).softmax(-1)[0].cpu().numpy()
pred = show_prediction(digit, probs, col_seen, col_probs, prefix=KEY)


@st.fragment
def attributions(digit, pred: int, model_kind: str):
    url_state(f"{KEY}.target", -1, choices=TARGETS)
    url_state(f"{KEY}.baseline", "black", choices=BASELINES)
    url_state(f"{KEY}.steps", 32, lo=4, hi=MAX_STEPS)
    c1, c2, c3 = st.columns([1.2, 1, 1.3])
    with c1:
        target = st.selectbox(t("interpretability.target"), TARGETS, key=f"{KEY}.target",
                              format_func=lambda c: t("interpretability.target_pred", pred=pred) if c < 0 else str(c))
    with c2:
        baseline = st.segmented_control(t("interpretability.baseline"), BASELINES, key=f"{KEY}.baseline",
                                        required=True, format_func=lambda b: t(f"interpretability.baseline_{b}"))
    with c3:
        n_steps = st.slider(t("interpretability.n_steps"), 4, MAX_STEPS, step=4, key=f"{KEY}.steps")
    sync_url(f"{KEY}.target", f"{KEY}.baseline", f"{KEY}.steps")
    target = pred if target < 0 else int(target)
    with heavy("attributions"):                                   # Captum's passes queue like training
        res = explain(model_kind, digit.key, digit.x28, target, baseline, n_steps)

    st.markdown("#### " + t("interpretability.maps_title", target=target))
    cols = st.columns(4)
    for col, method in zip(cols, METHODS):
        with col:
            st.markdown(f"**{t(f'interpretability.m_{method}')}**")
            st.image(overlay(digit.x28, res[method], scale=1, signed=SIGNED[method]), width=224)
            if SIGNED[method]:
                st.image(signed_colorbar(), width=224, caption=t("interpretability.colorbar_signed"))
            st.caption(t(f"interpretability.c_{method}"))

    comp = res["completeness"]
    st.markdown("#### " + t("interpretability.completeness_title"))
    m1, m2, m3, m4 = st.columns([1, 1, 1, 0.8])
    m1.metric(t("interpretability.sum_attr"), f"{comp['sum_attr']:.4f}")
    m2.metric(t("interpretability.f_diff"), f"{comp['difference']:.4f}",
              help=t("interpretability.f_diff_help", fx=f"{comp['f_x']:.3f}", fb=f"{comp['f_baseline']:.3f}"))
    m3.metric(t("interpretability.delta"), f"{comp['delta']:.2e}")
    with m4:
        st.image(digit_image(res["baseline_img"], scale=1), width=84, caption=t("interpretability.baseline_img"))
    st.caption(t("interpretability.completeness_caption", steps=n_steps))
    surrogates(digit, target, model_kind)
    return target, baseline, n_steps, comp


target, baseline, n_steps, comp = attributions(digit, pred, model_kind)

# ---------------------------------------------------------------------------------------------
# 2. The formula, with this digit's numbers

section("formula")
st.latex(r"\text{IG}_i(x) = (x_i - x'_i)\int_0^1 \frac{\partial F\big(x' + \alpha (x - x')\big)}{\partial x_i}\,d\alpha"
         r"\qquad\allowbreak \sum_i \text{IG}_i(x) = F(x) - F(x')")      # \allowbreak: wraps on a phone
st.latex(rf"\sum_i \text{{IG}}_i = {comp['sum_attr']:.4f}\;\approx\; F(x) - F(x') = {comp['f_x']:.4f} - "
         rf"({comp['f_baseline']:.4f}) = {comp['difference']:.4f},\quad \delta = {comp['delta']:.1e}")
st.latex(r"\text{Saliency}_i = \Big|\frac{\partial F}{\partial x_i}\Big| \qquad\allowbreak "
         r"\text{Grad-CAM} = \mathrm{ReLU}\Big(\sum_k \underbrace{\tfrac{1}{Z}\sum_{i,j}\tfrac{\partial F}{\partial A^k_{ij}}}_{\alpha_k} A^k\Big)")
st.caption(t("interpretability.formula_caption", target=target))
st.latex(r"\phi = \arg\min_{\phi_0, \phi} \sum_{s} \pi(z_s)\,\big(F(h(z_s)) - \phi_0 - z_s^\top \phi\big)^2"
         r"\qquad \pi_{\text{SHAP}}(z) = \frac{M - 1}{\binom{M}{|z|}\,|z|\,(M - |z|)}")
st.caption(t("interpretability.surrogate_formula"))
show_code(attribute, make_baseline, surrogate_attribute)

why_and_try(KEY)
