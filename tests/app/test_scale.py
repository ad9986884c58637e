"""AppTest drives the "How big is big" page: presets, shape controls, bad shapes, memory, benchmark, laws."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.scale import PRESETS, parameter_count

ROOT = Path(__file__).resolve().parents[2]


def _run(lang: str = "en", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "scale.py"), default_timeout=120)
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def _total(at) -> int:
    return int(at.metric[0].value.replace(",", ""))


def test_four_parts_presets_and_shape_controls():
    at = _run()
    assert not at.exception
    assert [s.value for s in at.subheader] == [t(f"common.{p}", "en") for p in ("formula", "why", "try_this")]
    assert _total(at) == 124_439_808 == int(at.metric[1].value.replace(",", ""))
    at.selectbox(key="scale.preset").set_value("SmolLM2-135M").run()
    assert _total(at) == 134_515_008 and at.number_input(key="scale.n_kv_head").value == 3
    at.number_input(key="scale.n_kv_head").set_value(9).run()      # back to full multi-head attention
    assert at.selectbox(key="scale.preset").value == "custom"
    assert _total(at) == 134_515_008 + 30 * 2 * 576 * 384           # two more 576 x 384 matrices per layer
    assert at.query_params["scale.n_kv_head"] in ("9", ["9"])
    assert "N = " in "".join(m.value for m in at.markdown)


def test_bert_pooler_is_shown_and_url_opens_a_preset():
    at = _run(**{"scale.preset": "bert-base-uncased"})
    assert _total(at) == 109_482_240
    table = at.dataframe[0].value
    assert t("scale.part_pooler", "en") in set(table.iloc[:, 0])
    assert any("590,592" in c.value for c in at.caption)


def test_bad_shape_is_a_message_and_the_page_recovers():
    at = _run()
    at.number_input(key="scale.n_head").set_value(7).run()
    assert not at.exception
    assert at.error[0].value == t("scale.errors.heads", "en", d_model=768, n_head=7)
    at.number_input(key="scale.n_head").set_value(12).run()
    assert not at.error and _total(at) == 124_439_808
    at.number_input(key="scale.tokens_b").set_value(1e6).run()       # 10^15 tokens
    assert not at.exception and at.error and "1e+15" in at.error[0].value


def test_memory_benchmark_laws_and_own_models_in_chinese():
    at = _run("zh", **{"scale.preset": "llama-2-7b"})
    assert not at.exception
    memory = next(d.value for d in at.dataframe if t("scale.col_gpu", "zh") in d.value.columns)
    adam = memory[memory.iloc[:, 0] == t("scale.adam_row", "zh")]
    assert adam.iloc[0, 1] == f"{16 * 6_738_415_616 / 1e9:.2f} GB" and adam.iloc[0, 3] == "✗"
    at.button(key="scale.bench").click().run()
    assert "GFLOP/s" in at.success[0].value
    at.slider(key="scale.log_c").set_value(24.0).run()
    assert not at.exception and "1e+24" in "".join(m.value for m in at.markdown)
    at.toggle(key="scale.count_own").set_value(True).run()
    own = next(d.value for d in at.dataframe if "=" in d.value.columns)
    assert list(own["="]) == ["✓"] * 3
    assert parameter_count(PRESETS["all-MiniLM-L6-v2"]) in set(own.iloc[:, 1])
