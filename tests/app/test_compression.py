"""AppTest of the compression page: the four parts driven by their controls, in both languages, the
numbers shown checked against the core and the recorded results, and the refusals of bad input."""
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core import q4_1
from bigmodel_core.compress import outlier_demo, quantize_tensor
from bigmodel_core.compress_results import load_results
from bigmodel_core.i18n import t
from bigmodel_core.models.cnn import load_cnn
from tests.app._explorable import f32, sent

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "app_pages" / "compression.py")
RESULTS = load_results()


def run_page(lang="en", **state) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state["lang"] = lang
    for key, value in state.items():
        at.session_state[f"compression.{key}"] = value
    return at.run()


def metric(at, label: str) -> str:
    return next(m for m in at.metric if m.label == label).value


def pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def latex(at) -> str:
    return "\n".join(e.value for e in at.latex)


@pytest.fixture(scope="module")
def page():
    at = run_page()
    assert not at.exception
    return at


def test_quantization_shows_the_layers_numbers_and_the_recorded_cnn_accuracy(page):
    at = page
    assert [tab.label for tab in at.tabs] == [t(f"compression.tab_{n}", "en") for n in ("quant", "q4", "prune", "distill")]
    data, = sent(at, "compression_bits")                              # the default: conv2 at 4 bits, per tensor
    w = load_cnn().conv2.weight.detach().cpu()
    assert (data["bits"], data["per_channel"], data["layer"], data["rows"]) == (4, False, "conv2", w.shape[0])
    assert np.array_equal(f32(data["w"], w.shape), w.numpy())          # the weights the JS quantizes
    assert data["whole"] == [{n: r[n] for n in ("bits", "per_channel", "accuracy", "bytes")}
                             for r in RESULTS["quantization"]["whole"]]  # looked up, as recorded
    demo = outlier_demo(w, 4, 10.0)                                     # the outlier experiment per bit width
    assert data["outlier"]["4"]["scale_outlier"] == pytest.approx(demo.scale_outlier)
    assert data["outlier"]["4"]["rms_apart"] == pytest.approx(demo.rms_apart)

    at.toggle(key="compression.per_channel").set_value(True)
    at.selectbox(key="compression.layer").set_value("fc1")
    at.run()
    assert not at.exception
    data, = sent(at, "compression_bits")
    assert (data["per_channel"], data["layer"], data["rows"]) == (True, "fc1", 128)
    assert [r["bits"] for r in data["alone"]] == sorted(r["bits"] for r in RESULTS["quantization"]["one_layer"]
                                                        if r["layer"] == "fc1" and r["per_channel"])


def test_one_bit_is_refused_with_a_message_in_both_languages():
    for lang in ("en", "zh"):
        at = run_page(lang, bits=1)
        assert not at.exception
        assert any(t("compression.errors.bits", lang, bits=1, lo=2, hi=16) == e.value for e in at.error)
        assert sent(at, "compression_bits")[0]["bits"] == 4                # the slider starts at 4 bits, no NaN


def test_q4_1_block_decoded_by_hand_matches_gguf():
    at = run_page(q_layer=7, q_matrix="ffn_up", q_block=123)
    assert not at.exception
    block = q4_1.read_block("blk.7.ffn_up.weight", 123)
    assert any("largest difference 0" in s.value for s in at.success)
    assert f"{block.d:.6g}" in latex(at) and f"{block.w[16]:.6g}" in latex(at)
    assert any(block.raw[4:].hex(" ") in m.value for m in at.markdown)


def test_pruning_shows_the_recorded_point_and_refuses_100_percent():
    at = run_page(scope="layer", sparsity=90)
    assert not at.exception
    row = next(r for r in RESULTS["pruning"] if r["scope"] == "layer" and r["fraction"] == 0.9)
    assert metric(at, "right after pruning") == pct(row["accuracy"])
    assert metric(at, "after a 30-step fine-tune") == pct(row["accuracy_finetuned"])
    at.select_slider(key="compression.sparsity").set_value(100).run()
    assert not at.exception
    assert any("100 %" in e.value and "below 100 %" in e.value for e in at.error)


def test_distillation_in_chinese_shows_the_chosen_students_accuracy():
    at = run_page("zh", T=1.0, alpha=0.5, digit=17)
    assert not at.exception
    students = {s["key"]: s for s in RESULTS["distillation"]["students"]}
    label = t("compression.soft_student", "zh", T="1", alpha="0.5")
    assert metric(at, label) == pct(students["T1_a0.5"]["accuracy"])
    assert metric(at, t("compression.hard_student", "zh")) == pct(students["hard"]["accuracy"])
    assert at.title[0].value == t("compression.title", "zh")
