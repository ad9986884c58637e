"""The convolution page under AppTest: size metric vs the formula, kernel grid errors, hostile uploads,
and what the page sends to its explorable (app_pages/components/conv.js renders nothing here)."""
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

import torch
import torch.nn.functional as F

from bigmodel_core.data import load_photo
from bigmodel_core.i18n import t
from bigmodel_core.ops.conv import conv2d_explained, image_to_tensor, kernel_preset, output_size
from tests.app._explorable import f32, sent

ROOT = Path(__file__).resolve().parents[2]


def _page(lang: str = "en", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "convolution.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k.replace("_", ".", 1)] = str(v)
    return at.run()


def _size(at: AppTest) -> str:
    return next(m.value for m in at.metric if m.label == t("convolution.output_size", "en"))


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_stride_padding_dilation_and_kernel_drive_the_size_metric():
    at = _page(conv_size=64)                                # cameraman, 64x64, Sobel x
    assert not at.exception
    assert _size(at) == "62 × 62"
    expected = {"conv.stride": (2, 31), "conv.padding": (1, 32), "conv.dilation": (2, 31)}
    for key, (value, side) in expected.items():
        at.slider(key=key).set_value(value).run()
        assert not at.exception
        assert _size(at) == f"{side} × {side}"
    # stride 2, padding 1, dilation 2 with a 5x5 kernel: floor((64 + 2 - 2*4 - 1) / 2) + 1 = 29
    at.pills(key="conv.kernel").set_value("custom5").run()
    assert not at.exception and _errors(at) == []
    assert _size(at) == f"{output_size(64, 5, stride=2, padding=1, dilation=2)} × 29" == "29 × 29"
    latex = " ".join(m.value for m in at.latex)
    assert r"\frac{64 + 2\cdot1 - 2\cdot(5-1) - 1}{2}" in latex      # the formula with the numbers
    at.pills(key="conv.kernel").set_value("gaussian_blur").run()
    assert _size(at) == "31 × 31"


def _window(at) -> dict:
    (data,) = sent(at, "conv")
    return data


def test_explorable_gets_the_cores_arrays_and_the_pick_from_the_link():
    at = _page(conv_size=32, conv_kernel="box_blur", conv_stride=2, conv_padding=1, conv_row=3, conv_col=7,
               conv_bias=0.5)
    assert not at.exception
    d = _window(at)
    x, _ = image_to_tensor(load_photo("camera"), max_side=32)                       # (32, 32)
    want = conv2d_explained(x, kernel_preset("box_blur"), bias=0.5, stride=2, padding=1)
    assert d["shape"] == [1, 32, 32] and d["out_shape"] == [16, 16] and d["kernel_shape"] == [3, 3]
    assert np.array_equal(f32(d["image"], d["shape"]), x[None].numpy())
    assert np.array_equal(f32(d["kernel"], (1, 3, 3)), want.kernel.numpy())
    assert np.array_equal(f32(d["output"], d["out_shape"]), want.output.numpy())
    assert (d["bias"], d["stride"], d["padding"], d["dilation"]) == (0.5, 2, 1, 1)
    assert d["pick"] == [3, 7]                                                     # the link restores the pick
    # the map the browser draws is the convolution of what it gets (an independent check: F.conv2d)
    y = F.conv2d(torch.from_numpy(f32(d["image"], d["shape"]))[None], torch.full((1, 1, 3, 3), 1 / 9),
                 stride=2, padding=1)[0, 0] + 0.5
    assert np.allclose(f32(d["output"], d["out_shape"]), y.numpy(), atol=1e-6)


def test_pick_defaults_to_the_centre_is_kept_inside_the_map_and_a_commit_reaches_the_url():
    at = _page(conv_size=32)
    assert _window(at)["pick"] == [15, 15]                                     # the centre of 30 x 30
    assert "conv.row" not in at.query_params                                   # nothing picked yet
    at = _page(conv_size=32, conv_row=500, conv_col=2)
    assert _window(at)["pick"] == [29, 2] and not at.exception                 # clamped to the 30 x 30 map
    at.slider(key="conv.stride").set_value(2).run()                            # 15 x 15: still inside
    assert _window(at)["pick"] == [14, 2]
    at.session_state["conv.window"] = {"pick": [4, 9]}                        # what the JS commits
    at.run()
    assert not at.exception
    assert at.session_state["conv.row"] == 4 and at.session_state["conv.col"] == 9
    assert at.query_params["conv.row"] in ("4", ["4"]) and at.query_params["conv.col"] in ("9", ["9"])
    assert _window(at)["labels"]["row"] == t("convolution.row", "en")


def test_mnist_and_rgb_modes():
    at = _page(conv_source="mnist", conv_digit=5)
    assert _size(at) == "26 × 26" and not at.exception
    at = _page(conv_rgb=1, conv_size=32, conv_photo="astronaut")
    assert not at.exception and _size(at) == "30 × 30"
    d = _window(at)
    assert d["shape"] == [3, 32, 32] and len(d["labels"]["channels"]) == 3   # one kernel slice per channel
    assert np.array_equal(f32(d["kernel"], (3, 3, 3)), kernel_preset("sobel_x").expand(3, 3, 3).numpy())


@pytest.mark.parametrize("cells,needle", [
    ("1,1,1,1,abc,1,1,1,1", "row 2, column 2"), ("1,1,1,1,1,1,1,1,", "row 3, column 3 is empty"),
    ("1,1,1e6,1,1,1,1,1,1", "between -100 and 100")])
def test_bad_kernel_cells_show_a_message_not_a_crash(cells, needle):
    at = _page(conv_kernel="custom3", conv_w=cells)
    assert not at.exception
    errors = _errors(at)
    assert len(errors) == 1 and needle in errors[0]
    assert _size(at) == "62 × 62"                                       # the picture still works


def test_a_good_custom_kernel_from_the_link():
    at = _page(conv_kernel="custom3", conv_w="0,0,0,0,1/2,0,0,0,0", conv_size=32)
    assert not at.exception and _errors(at) == []
    assert at.query_params["conv.w"] in ("0,0,0,0,0.5,0,0,0,0", ["0,0,0,0,0.5,0,0,0,0"])


# -- uploads: each hostile file gives a clear message in the page ----------------------------------

def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    data = bytearray(_png(Image.new("L", (8, 8))))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


def _gif() -> bytes:
    frames = [Image.new("P", (16, 16), i) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    return buf.getvalue()


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG")
    return buf.getvalue()


NOISE = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
HOSTILE = {
    "not_an_image.png": (b"hello, I am a text file", "errors.image.not_image", {}),
    "truncated.png": (_png(NOISE)[:300], "errors.image.corrupt", {}),
    "bomb.png": (_png_claiming(20000, 20000), "errors.image.too_many_pixels",
                 {"megapixels": "400", "max_mp": 16}),
    "animated.gif": (_gif(), "errors.image.not_image", {}),
    "animated.png": (_png(NOISE, save_all=True, append_images=[NOISE.rotate(90)]), "errors.image.animated", {}),
}


def _upload(name: str, data: bytes, lang: str = "en") -> AppTest:
    at = _page(lang, conv_source="upload", conv_size=64)
    at.get("file_uploader")[0].set_value((name, data, "application/octet-stream"))
    return at.run()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_uploads_give_a_clear_message(name):
    data, key, params = HOSTILE[name]
    for lang in ("en", "zh") if name == "bomb.png" else ("en",):
        at = _upload(name, data, lang)
        assert not at.exception
        assert _errors(at) == [t(key, lang, **params)]
        assert any(c.value == t("image_input.fallback_photo", lang) for c in at.caption)


def test_16_bit_png_and_cmyk_jpeg_are_accepted():
    a = np.linspace(0, 65535, 200 * 100).reshape(100, 200).astype(np.uint16)
    at = _upload("deep.png", _png(Image.fromarray(a)))
    assert not at.exception and _errors(at) == []
    assert _size(at) == "30 × 62"                                     # 200x100 shrunk to 64x32
    assert any("32×64" in c.value for c in at.caption)                # the page says to what size,
    assert _window(at)["shape"] == [1, 32, 64]                        # rows × columns like the title
    at = _upload("print.jpg", _jpeg(Image.new("CMYK", (40, 30), (0, 255, 255, 0))))
    assert not at.exception and _errors(at) == [] and _size(at) == "28 × 38"


def test_no_upload_yet_shows_a_hint():
    at = _page(conv_source="upload")
    assert not at.exception and at.info[0].value == t("image_input.upload_first", "en")


def _order(node) -> list:
    """The page's elements in the order they are drawn (depth first)."""
    out = []
    for child in getattr(node, "children", {}).values():
        out.append(child)
        out += _order(child)
    return out


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_upload_says_its_limits_and_its_message_sits_under_it(lang):
    """Before trying: the accepted types and the size limit (which the browser enforces with an
    English hover note) in the learner's words; after: the message right under the uploader, before
    the next control (it was below every slider, off the screen)."""
    at = _upload("notes.txt", b"just text", lang)
    assert not at.exception
    assert list(at.get("file_uploader")[0].proto.type) == []          # every file reaches our checks
    captions = [c.value for c in at.caption]
    assert t("ui.upload_refused", lang) in captions
    order = _order(at.columns[0])
    kinds = [getattr(e, "type", "") for e in order]
    i_up = kinds.index("file_uploader")
    i_err = next(i for i, e in enumerate(order) if getattr(e, "type", "") == "error" and getattr(e, "value", None)
                 == t("errors.image.not_image", lang))
    i_next = next(i for i, e in enumerate(order) if getattr(e, "type", "") == "toggle")   # the RGB switch
    assert i_up < i_err < i_next


@pytest.mark.parametrize("photo", ["coffee", "text"])
def test_resized_caption_and_title_agree_on_rows_by_columns(photo):
    at = _page(conv_photo=photo, conv_size=64)
    _, h, w = _window(at)["shape"]                                     # the JS titles "Input {h}×{w}"
    assert any(t("common.resized", "en", height=h, width=w) in c.value for c in at.caption)
