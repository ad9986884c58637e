"""The pooling page under AppTest: size and discarded metrics, window pick, shift, feature-map source,
and what the page sends to its two explorables (app_pages/components/pooling.js renders nothing here)."""
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bigmodel_core.data import load_mnist, load_photo
from bigmodel_core.i18n import t
from bigmodel_core.ops.conv import feature_map, image_to_tensor
from bigmodel_core.ops.pool import pool2d_explained
from tests.app._explorable import f32, sent

ROOT = Path(__file__).resolve().parents[2]


def _page(lang: str = "en", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "pooling.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k.replace("_", ".", 1)] = str(v)
    return at.run()


def _metric(at: AppTest, key: str) -> str:
    return next(m.value for m in at.metric if m.label == t(f"pooling.{key}", "en"))


def test_window_and_stride_drive_size_and_discarded_share():
    at = _page(pool_source="mnist", pool_digit=7)
    assert not at.exception
    assert _metric(at, "output_size") == "14 × 14" and _metric(at, "discarded") == "75%"
    at.slider(key="pool.window").set_value(3).run()                # floor((28 - 3) / 2) + 1 = 13
    assert _metric(at, "output_size") == "13 × 13" and _metric(at, "discarded") == f"{1 - 169 / 784:.0%}"
    at.slider(key="pool.stride").set_value(1).run()                # 26 x 26
    assert _metric(at, "output_size") == "26 × 26"
    at.slider(key="pool.stride").set_value(4).run()                # floor(25 / 4) + 1 = 7
    assert _metric(at, "output_size") == "7 × 7" and not at.exception


def _views(at) -> tuple[dict, dict]:
    window, shift = sent(at, "pooling")
    assert (window["part"], shift["part"]) == ("window", "shift")
    return window, shift


def test_explorables_get_the_digit_the_pooled_map_and_the_pick_from_the_link():
    at = _page(pool_source="mnist", pool_digit=7, pool_window=3, pool_row=5, pool_col=6, pool_shift=2)
    assert not at.exception
    window, shift = _views(at)
    digit = load_mnist().x_test[7].astype(np.float32) / 255.0
    for d in (window, shift):
        assert d["shape"] == [28, 28] and np.array_equal(f32(d["x"], (28, 28)), digit)
        assert (d["kind"], d["size"], d["stride"]) == ("max", 3, 2)
    assert np.array_equal(f32(window["output"], (13, 13)), pool2d_explained(digit, size=3, stride=2).output.numpy())
    assert window["value"] == [5, 6] and shift["value"] == 2                    # the link restores both
    at.pills(key="pool.kind").set_value("avg").run()
    window, _ = _views(at)
    means = np.lib.stride_tricks.sliding_window_view(digit, (3, 3))[::2, ::2].mean(axis=(-2, -1))   # (13, 13)
    assert np.allclose(f32(window["output"], (13, 13)), means, atol=1e-6)


def test_commits_reach_the_url_and_the_pick_stays_inside_the_map():
    at = _page(pool_source="mnist", pool_digit=7)
    window, _ = _views(at)
    assert window["value"] == [7, 7] and "pool.row" not in at.query_params
    at.session_state["pool.window_view"] = {"pick": [2, 11]}                  # what the JS commits
    at.session_state["pool.shift_view"] = {"shift": 3}
    at.run()
    assert not at.exception
    assert at.query_params["pool.row"] in ("2", ["2"]) and at.query_params["pool.col"] in ("11", ["11"])
    assert at.query_params["pool.shift"] in ("3", ["3"])
    at.slider(key="pool.stride").set_value(4).run()                           # 7 x 7: the pick is kept inside
    window, shift = _views(at)
    assert window["value"] == [2, 6] and shift["value"] == 3


def test_global_average_and_shift():
    at = _page(pool_source="mnist", pool_digit=7, pool_kind="global")
    assert not at.exception and _metric(at, "output_size") == "1 × 1"
    window, shift = _views(at)
    digit = load_mnist().x_test[7].astype(np.float32) / 255.0
    assert window["kind"] == shift["kind"] == "global"
    assert abs(f32(window["output"], (1, 1))[0, 0] - digit.astype(np.float64).mean()) < 1e-6


def test_feature_map_is_the_pages_own_and_chinese():
    """The feature-map source is Sobel x over the photo, whatever the convolution page was set to."""
    at = AppTest.from_file(str(ROOT / "app_pages" / "pooling.py"), default_timeout=120)
    at.session_state["lang"] = "zh"
    at.session_state["conv.kernel"] = "box_blur"                              # another page's state: ignored
    at.session_state["conv.stride"] = 3
    for k, v in {"pool.source": "feature", "pool.size": 32}.items():
        at.query_params[k] = str(v)
    at.run()
    assert not at.exception
    assert at.title[0].value == t("pooling.title", "zh")
    assert any("Sobel x" in c.value for c in at.caption)
    sizes = [m.value for m in at.metric if m.label == t("pooling.output_size", "zh")]
    assert sizes == ["15 × 15"]                                    # 32 -> conv 30 -> pool 15
    x, _ = image_to_tensor(load_photo("camera"), max_side=32)
    window, _ = _views(at)
    assert np.array_equal(f32(window["x"], (30, 30)), feature_map(x).numpy())


def test_hostile_upload_is_a_message():
    at = _page(pool_source="upload")
    at.get("file_uploader")[0].set_value(("x.png", b"not an image", "image/png"))
    at.run()
    assert not at.exception and [e.value for e in at.error] == [t("errors.image.not_image", "en")]
