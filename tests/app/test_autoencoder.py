"""AppTest drives the autoencoder page: coordinate pickers, walk, reconstructions, denoising, training."""
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.models.autoencoder import LATENT_SIZES, load_record

ROOT = Path(__file__).resolve().parents[2]


def _run(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "autoencoder.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def _formula_slider_latex(at) -> str:
    return next(l.value for l in at.latex if "784" in l.value and "bmatrix" in l.value)


def test_page_has_four_parts_and_moves_the_decoded_point():
    at = _run()
    assert not at.exception
    assert at.title[0].value == t("autoencoder.title", "en")
    subheaders = [s.value for s in at.subheader]
    assert subheaders == [t("common.formula", "en"), t("common.why", "en"), t("common.try_this", "en")]
    assert len(at.tabs) == 5
    at.slider(key="autoencoder.z1").set_value(3.0).run()
    at.slider(key="autoencoder.z2").set_value(1.5).run()
    assert not at.exception
    assert r"3.0 \\ 1.5" in _formula_slider_latex(at)
    captions = [c for img in at.get("image") for c in [img.proto.imgs[0].caption] if "z =" in c]
    assert any("(3.0, 1.5)" in c for c in captions)
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert any(any(p.get("name") == "pick" for p in sp.get("params", [])) for sp in specs)   # clickable map


def test_error_chart_shows_the_recorded_errors_and_grid_latent_switch():
    at = _run()
    low = at.dataframe[0].value.to_numpy().mean()
    at.segmented_control(key="autoencoder.grid_latent").set_value(32).run()
    assert not at.exception
    assert list(at.dataframe[0].value.index) == ["BCE (z=32)"]
    assert at.dataframe[0].value.to_numpy().mean() < low              # latent 32 rebuilds better than 2
    specs = [el.proto.spec for el in at.get("vega_lite_chart")]
    assert any('"field": "latent"' in s and '"field": "error"' in s for s in specs)
    assert load_record(2)["test_bce"] > load_record(8)["test_bce"] > load_record(32)["test_bce"]
    table = at.dataframe[0].value
    assert table.shape == (1, 10) and (table.to_numpy() > 0).all()


def test_denoise_noise_slider_changes_the_errors():
    at = _run()
    def mses():
        return [m.value for m in at.markdown if m.value.startswith("**MSE")]
    at.slider(key="autoencoder.noise").set_value(0.0).run()
    low = mses()
    at.slider(key="autoencoder.noise").set_value(0.8).run()
    high = mses()
    assert not at.exception and len(low) == len(high) == 4
    assert float(low[0].strip("*").split()[1]) == 0.0                      # no noise: the input is the digit
    assert float(high[0].strip("*").split()[1]) > 0.05                     # the noisy input is far off
    assert float(high[3].strip("*").split()[1]) < float(high[0].strip("*").split()[1])   # z=32 cleans it


def test_train_it_yourself_then_chinese():
    at = _run()
    at.slider(key="autoencoder.epochs").set_value(1).run()
    at.button(key="autoencoder.train").click().run()
    assert not at.exception
    done = [s.value for s in at.success]
    assert done and "2" in done[0] and "BCE" in done[0]
    trained = at.session_state["autoencoder.trained"]
    assert trained["reason"] == "finished" and trained["steps"] == 63 and np.isfinite(trained["test_bce"])
    zh = _run("zh")
    assert not zh.exception
    assert zh.title[0].value == t("autoencoder.title", "zh")
