"""The picture the convolution and pooling pages slide their window over (UI layer).

A bundled photo, a held-out MNIST digit or an uploaded image, as a float tensor in [0, 1]:
(H, W) in grey, (3, H, W) in colour, its longer side at most `size` pixels (digits stay 28x28).
Widget keys are prefixed with the calling page's prefix ("conv", "pool"), so each page keeps its own.
"""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st
import torch

from bigmodel_core.data import load_image, load_mnist, load_photo
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.conv import image_to_tensor
from app_pages._ui import show_error, t


@st.cache_data(max_entries=64, show_spinner=False)
def builtin_image(source: str, photo: str, digit: int, rgb: bool, size: int):
    """(x, resized, (width, height) before resizing) of a bundled photo or held-out digit."""
    if source == "mnist":
        x = torch.from_numpy(load_mnist().x_test[digit].astype(np.float32) / 255.0)   # (28, 28)
        return (x.expand(3, -1, -1).clone() if rgb else x), False, (28, 28)
    img = load_photo(photo)
    x, resized = image_to_tensor(img, rgb=rgb, max_side=size)
    return x, resized, img.size


@st.cache_data(max_entries=16, show_spinner=False)
def uploaded_image(digest: str, data: bytes, rgb: bool, size: int):
    """The same for an upload (digest: its hash, the cache key); raises ImageError with a clear message."""
    img = load_image(data)
    x, resized = image_to_tensor(img, rgb=rgb, max_side=size)
    return x, resized, img.size


def random_digit(key: str) -> None:
    st.session_state[key] = int(np.random.default_rng().integers(0, 1000))


def digit_picker(prefix: str) -> None:
    """Held-out digit number and a "random" button: session keys <prefix>.digit and <prefix>.random."""
    c1, c2 = st.columns([1.2, 1], vertical_alignment="bottom")      # room for the button's word
    c1.number_input(t("common.digit_index"), 0, 999, step=1, key=f"{prefix}.digit")
    c2.button(t("common.random"), on_click=random_digit, args=(f"{prefix}.digit",), key=f"{prefix}.random")


def load_input(prefix: str, source: str, upload, *, rgb: bool, size: int, notes=None):
    """The chosen picture: (x, resized, (width, height) before resizing).

    source "mnist" is the held-out digit <prefix>.digit, "upload" the uploaded file, anything else
    the photo <prefix>.photo. Without an upload, or with one that cannot be read (its message is
    shown), the photo stands in, and the page says so, in `notes` (a container right under the
    uploader, so the message is where the learner looks) or here.
    """
    if source == "upload":
        with notes if notes is not None else st.container():
            if upload is None:
                st.info(t("image_input.upload_first"), icon=":material/upload:")
            else:
                data = upload.getvalue()
                try:
                    return uploaded_image(hashlib.sha256(data).hexdigest(), data, rgb, size)
                except UserInputError as e:
                    show_error(e)
            st.caption(t("image_input.fallback_photo"))
    return builtin_image("mnist" if source == "mnist" else "photo", st.session_state[f"{prefix}.photo"],
                         int(st.session_state[f"{prefix}.digit"]), rgb, size)
