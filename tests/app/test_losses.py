"""The losses page under AppTest. Both pictures are explorables, which render nothing here, so these
tests read what the page would send them and check the URL state round trip."""
import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]


def run(lang="en", query: dict | None = None, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "losses.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in (query or {}).items():
        at.query_params[k] = v
    for k, v in state.items():                       # start values, as a shared link would give
        at.session_state[f"losses.{k}"] = v
    return at.run()


def sent(at) -> dict:
    """{part: data} the page hands the two loss_curves explorables."""
    out = {}
    for e in at.main:
        if getattr(e.proto, "component_name", "") == "bigmodel_loss_curves":
            data = json.loads(e.proto.json)
            out[data["part"]] = data
    return out


def test_sends_each_picture_its_settings_and_words():
    at = run(pred=-2.0, z2=-5.0)
    assert not at.exception
    data = sent(at)
    assert data["regression"]["settings"] == {"pred": -2.0, "target": 1.0, "delta": 1.0}
    assert data["regression"]["pred_range"] == [-5.0, 5.0]
    assert data["classification"]["settings"] == {"z0": 3.0, "z1": 0.5, "z2": -5.0, "true_class": 2}
    assert data["classification"]["classes"] == ["cat", "dog", "bird"]
    assert data["classification"]["names"]["cross_entropy"] == "Cross-entropy"


def test_a_link_sets_the_pictures_and_bad_values_fall_back():
    at = run(query={"losses.pred": "4.5", "losses.true_class": "0", "losses.delta": "nan", "losses.z1": "99"})
    data = sent(at)
    assert data["regression"]["settings"]["pred"] == 4.5
    assert data["regression"]["settings"]["delta"] == 1.0                    # nan: the default, with a note
    assert data["classification"]["settings"]["z1"] == 0.5                   # out of range: the default
    assert data["classification"]["settings"]["true_class"] == 0
    assert not at.exception


def test_the_general_formulas_are_whole():
    latex = " ".join(l.value for l in run().latex)
    assert r"\tfrac{2}{K}(p - y)" in latex and "KEY" not in latex and r"\frac{\partial\,\mathrm{CE}}{\partial z} = p - y" in latex


def test_runs_in_chinese():
    at = run("zh")
    assert not at.exception and at.title[0].value == "损失函数"
    data = sent(at)["classification"]
    assert data["classes"] == ["猫", "狗", "鸟"] and data["labels"]["metric_ratio"] == t("losses.metric_ratio", "zh")
