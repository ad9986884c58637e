"""The digit input shared by the CNN anatomy and interpretability pages (UI layer).

A held-out MNIST digit (slider or random), a digit drawn with the mouse (streamlit-drawable-canvas),
or an uploaded photo; drawn and uploaded digits go through preprocess_digit (MNIST-like 28x28).
Widget keys are prefixed with the calling page's key, so each page keeps its own choice.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import streamlit as st

from bigmodel_core.data import load_image, load_mnist
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.cnn import load_cnn, preprocess_digit
from app_pages._ui import image_uploader, show_error, t, url_state, vega

SOURCES = ("heldout", "draw", "upload")


@dataclass
class Digit:
    x28: np.ndarray | None      # (28, 28) float32 in [0, 1], or None while there is nothing to show
    label: int | None           # the true label for a held-out digit
    key: str                    # a plain-value cache key: "heldout:17" or "draw:<hash>"


def crisp_images() -> None:
    """Let the browser upscale our small images with square pixels (CSS image-rendering: pixelated),
    so the server sends 28x28-sized PNGs instead of 8x larger ones."""
    st.html("<style>[data-testid='stImage'] img, [data-testid='stFullScreenFrame'] img "
            "{image-rendering: pixelated;}</style>")


@st.cache_resource(show_spinner=False)
def bundled_cnn():
    """The bundled trained CNN, loaded once per process, eval mode, never modified."""
    return load_cnn()


@st.cache_data(max_entries=64, show_spinner=False)
def _preprocess_bytes(kind: str, data: bytes, shape: tuple) -> np.ndarray:
    if kind == "upload":
        return preprocess_digit(load_image(data))
    return preprocess_digit(np.frombuffer(data, dtype=np.uint8).reshape(shape))


def _random_index(prefix: str) -> None:
    st.session_state[f"{prefix}.index"] = int(np.random.default_rng().integers(0, 1000))


def digit_input(prefix: str) -> Digit:
    """Draw the input widgets (in the current container) and return the chosen 28x28 digit."""
    url_state(f"{prefix}.source", "heldout", choices=SOURCES)
    url_state(f"{prefix}.index", 0, lo=0, hi=999)
    source = st.segmented_control(t("cnn_anatomy.source"), SOURCES, key=f"{prefix}.source",
                                  format_func=lambda s: t(f"cnn_anatomy.source_{s}"), required=True)
    split = load_mnist()
    if source == "draw":
        from streamlit_drawable_canvas import st_canvas
        result = st_canvas(stroke_width=20, stroke_color="#FFFFFF", background_color="#000000",
                           height=224, width=224, drawing_mode="freedraw", return_image_data=True,
                           key=f"{prefix}.canvas")
        st.caption(t("cnn_anatomy.draw_hint"))
        img = result.image_data
        if img is None or np.asarray(img)[..., :3].max() < 30:
            st.info(t("cnn_anatomy.draw_empty"), icon=":material/draw:")
            return Digit(None, None, "draw:empty")
        img = np.ascontiguousarray(np.asarray(img, dtype=np.uint8))
        digest = hashlib.sha1(img.tobytes()).hexdigest()[:16]
        try:
            return Digit(_preprocess_bytes("draw", img.tobytes(), img.shape), None, f"draw:{digest}")
        except UserInputError as e:
            show_error(e)
            return Digit(None, None, "draw:error")
    if source == "upload":
        up = image_uploader(f"{prefix}.upload")        # any file: ours says what is wrong with it
        if up is None:
            st.info(t("cnn_anatomy.upload_hint"), icon=":material/upload:")
            return Digit(None, None, "upload:none")
        data = up.getvalue()
        try:
            x = _preprocess_bytes("upload", data, ())
        except UserInputError as e:
            show_error(e)
            return Digit(None, None, "upload:error")
        return Digit(x, None, f"upload:{hashlib.sha1(data).hexdigest()[:16]}")
    c1, c2 = st.columns([2.6, 1.4], vertical_alignment="bottom")
    with c1:
        index = st.slider(t("common.digit_index"), 0, 999, key=f"{prefix}.index")
    with c2:
        st.button(t("common.random"), key=f"{prefix}.random", on_click=_random_index, args=(prefix,),
                  icon=":material/casino:")
    x = split.x_test[index].astype(np.float32) / 255.0
    return Digit(x, int(split.y_test[index]), f"heldout:{index}")


def show_prediction(digit: Digit, probs: np.ndarray, col_seen, col_probs, *, prefix: str,
                    note: str = "") -> int:
    """The 28x28 image the model sees with its prediction (and the true label when known), beside
    the bar chart of the ten class probabilities; returns the predicted digit."""
    from bigmodel_core.charts.cnn import digit_image, probability_chart
    pred = int(probs.argmax())
    with col_seen:
        st.markdown(f"**{t('cnn_anatomy.model_sees')}**")
        st.image(digit_image(digit.x28, scale=1), width=224)
        st.metric(t("cnn_anatomy.prediction"), pred,
                  delta=None if digit.label is None else t("cnn_anatomy.true_label", label=digit.label),
                  delta_color="normal" if digit.label == pred else "inverse", delta_arrow="off")
    with col_probs:
        st.markdown(f"**{t('cnn_anatomy.probabilities')}**" + (f" · {note}" if note else ""))
        vega(probability_chart(probs, predicted=pred, x_title=t("cnn_anatomy.digit"),
                               y_title=t("cnn_anatomy.probability")), key=f"{prefix}.probs_chart")
    return pred
