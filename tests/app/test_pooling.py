"""The pooling page under AppTest: size and discarded metrics, window pick, shift, feature-map source."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

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


def test_pick_a_cell_and_read_its_max():
    at = _page(pool_source="mnist", pool_digit=7)
    at.slider(key="pool.row").set_value(5).run()
    at.slider(key="pool.col").set_value(6).run()
    assert not at.exception
    p = next(m for m in at.metric if m.label == "p(5, 6)")
    assert p.value in next(m.value for m in at.markdown if "largest value" in m.value)
    # the formula section writes the same cell out: p(5, 6) = max{its four values} = the metric
    latex = next(v for v in (l.value.strip("$\n") for l in at.latex) if v.startswith("p(5, 6)"))
    assert r"\max" in latex and latex.endswith(f"= {p.value}") and latex.count(",") == 1 + 3
    at.pills(key="pool.kind").set_value("avg").run()
    assert any("mean of the window" in m.value for m in at.markdown)


def test_global_average_and_shift():
    at = _page(pool_source="mnist", pool_digit=7, pool_kind="global")
    assert not at.exception and _metric(at, "output_size") == "1 × 1"
    at = _page(pool_source="mnist", pool_digit=7, pool_shift=0)
    assert _metric(at, "unchanged") == "100%"
    at.slider(key="pool.shift").set_value(2).run()
    assert not at.exception and _metric(at, "unchanged") != "100%"


def test_feature_map_from_the_convolution_settings_and_chinese():
    at = _page("zh", pool_source="feature", pool_size=32)
    assert not at.exception
    assert at.title[0].value == t("pooling.title", "zh")
    assert any("Sobel x" in c.value for c in at.caption)           # the conv page's default kernel
    sizes = [m.value for m in at.metric if m.label == t("pooling.output_size", "zh")]
    assert sizes == ["15 × 15"]                                    # 32 -> conv 30 -> pool 15


def test_hostile_upload_is_a_message():
    at = _page(pool_source="upload")
    at.get("file_uploader")[0].set_value(("x.png", b"not an image", "image/png"))
    at.run()
    assert not at.exception and [e.value for e in at.error] == [t("errors.image.not_image", "en")]
