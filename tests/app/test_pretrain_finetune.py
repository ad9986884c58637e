"""AppTest drives the pre-training / fine-tuning page: digits from N labels, the LLM with LoRA, bad reviews."""
from pathlib import Path

from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.data import mnist_tensors
from bigmodel_core.pretrain import LabelRunConfig, train_with_labels

ROOT = Path(__file__).resolve().parents[2]
KEY = "pretrain_finetune"


def _run(lang: str = "en", **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "pretrain_finetune.py"), default_timeout=600)
    at.session_state["lang"] = lang
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_digits_metrics_are_the_cores_results_and_lora_arithmetic_follows_the_rank():
    at = _run(**{f"{KEY}.n": "10"})
    assert not at.exception
    assert [s.value for s in at.subheader] == [t(f"common.{p}", "en") for p in ("formula", "why", "try_this")]
    X_train, y_train, X_test, y_test = mnist_tensors(flat=True)
    probe = train_with_labels(LabelRunConfig(n_labels=10, method="probe"), X_train, y_train, X_test, y_test)
    assert at.metric[1].label == t(f"{KEY}.m_probe", "en")
    assert at.metric[1].value == f"{probe['test_acc']:.1%}"
    at.slider(key=f"{KEY}.rank").set_value(4).run()
    table = next(d.value for d in at.dataframe if "d × k" in d.value.columns)
    assert table.iloc[-1, 3] == f"{30 * 4 * (1152 + 768):,}"
    assert at.query_params[f"{KEY}.rank"] in ("4", ["4"])


def test_bad_reviews_are_messages_in_chinese():
    at = _run("zh")
    at.text_input(key=f"{KEY}.typed").set_value("   ").run()
    assert not at.exception and at.error[0].value == t(f"{KEY}.errors.empty", "zh")
    at.text_input(key=f"{KEY}.typed").set_value("好" * 1_000_000).run()
    assert not at.exception and "1,000,000" in at.error[0].value


def test_both_models_classify_a_review():
    at = _run()
    at.text_input(key=f"{KEY}.typed").set_value("质量太差了，不推荐").run()
    at.button(key=f"{KEY}.ask").click().run()
    assert not at.exception
    metrics = {m.label: m for m in at.metric}
    for which in ("base", "tuned"):
        m = metrics[t(f"{KEY}.model_{which}", "en")]
        assert m.value in ("好评", "差评") and "P(好评)" in m.delta
