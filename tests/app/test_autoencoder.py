"""AppTest drives the autoencoder page: coordinate pickers, walk, reconstructions, denoising, training."""
import base64
import io
import json
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from PIL import Image

from bigmodel_core.data import mnist_tensors
from bigmodel_core.models.autoencoder import (decoder_weights, encode_digits, load_autoencoder, load_record,
                                              per_digit_error)

ROOT = Path(__file__).resolve().parents[2]


def _run(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "autoencoder.py"), default_timeout=120)
    at.session_state["lang"] = lang
    return at.run()


def sent(at) -> dict:
    """The data the page hands the latent_decoder explorable (it renders nothing under AppTest)."""
    (el,) = [e for e in at.main if getattr(e.proto, "component_name", "") == "bigmodel_latent_decoder"]
    return json.loads(el.proto.json)


def test_page_has_four_parts_and_sends_the_decoder_once():
    at = _run()
    assert not at.exception
    assert at.title[0].value == t("autoencoder.title", "en")
    subheaders = [s.value for s in at.subheader]
    assert subheaders == [t("common.formula", "en"), t("common.why", "en"), t("common.try_this", "en")]
    assert len(at.tabs) == 5
    data = sent(at)
    model = load_autoencoder(2)
    W, b = decoder_weights(model)
    assert np.array_equal(np.frombuffer(base64.b64decode(data["W"]), "<f4").reshape(784, 2), W)
    assert np.array_equal(np.frombuffer(base64.b64decode(data["b"]), "<f4"), b)
    assert np.array_equal(W, model.decoder.weight.detach().cpu().numpy())
    X_test = mnist_tensors(flat=True)[2]
    codes = np.frombuffer(base64.b64decode(data["codes"]), "<f4").reshape(-1, 2)
    assert np.allclose(codes, encode_digits(model, X_test))
    picked = data["settings"]["picked"]
    assert (codes[picked] > 0.5).all() and not (codes[:picked] > 0.5).all(1).any()   # the first off both axes
    assert data["settings"]["z1"] == round(float(codes[picked, 0]), 1)
    bce = np.frombuffer(base64.b64decode(data["bce"]), "<f4")
    assert bce[picked] == np.float32(per_digit_error(model, X_test[picked:picked + 1])[0])
    # the digit sheet: digit i at column i % 40, row i // 40, MNIST's levels exactly
    sheet = np.asarray(Image.open(io.BytesIO(base64.b64decode(data["sheet"].split(",", 1)[1]))))
    i = 123
    tile = sheet[28 * (i // 40):28 * (i // 40 + 1), 28 * (i % 40):28 * (i % 40 + 1)]
    assert np.array_equal(tile, np.rint(X_test[i].numpy().reshape(28, 28) * 255))


def test_a_link_sets_the_point_and_the_digit():
    at = AppTest.from_file(str(ROOT / "app_pages" / "autoencoder.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.query_params.update({"autoencoder.z1": "1.5", "autoencoder.z2": "99", "autoencoder.picked": "7"})
    at.run()
    assert not at.exception
    settings = sent(at)["settings"]
    assert settings["z1"] == 1.5 and settings["picked"] == 7
    assert 0 <= settings["z2"] <= sent(at)["domain"][1]                   # out of range: the default


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
