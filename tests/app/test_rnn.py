"""The RNN page under AppTest: the time-step slider moves the formula panel, and its numbers add up."""
from pathlib import Path

import numpy as np
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]


def open_page(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "rnn.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.session_state["rnn.table_open"] = True                    # the numbers table's expander, opened
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def metric(at, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def check_numbers_add_up(at):
    df = at.table[0].value
    assert len(df) == 8                                          # one row per hidden unit
    pre = df["W x_t"] + df["U h_{t-1}"] + df["b"]
    assert np.allclose(pre, df["pre"], atol=2e-4)
    assert np.allclose(np.tanh(df["pre"]), df["h_t"], atol=2e-4)
    return df


def test_time_step_slider_moves_the_formula_panel():
    at = open_page()
    assert not at.exception
    assert metric(at, "Input x") == "h"                       # "hello hello", step 1
    df1 = check_numbers_add_up(at)
    assert np.allclose(df1["h_{t-1}"], 0)                     # h_0 = 0
    assert np.allclose(df1["U h_{t-1}"], 0)
    at.slider(key="rnn.t").set_value(5).run()
    assert not at.exception
    assert metric(at, "Input x") == "o"                       # h e l l o
    df5 = check_numbers_add_up(at)
    assert not np.allclose(df5["h_{t-1}"], 0)                 # the past is carried in
    at.slider(key="rnn.t").set_value(6).run()
    df6 = check_numbers_add_up(at)
    assert np.allclose(df6["h_{t-1}"], df5["h_t"], atol=1e-4)  # h_{t-1} at t=6 is h_t at t=5
    assert metric(at, "Input x") == "␣"


def test_trained_cell_predicts_the_repeating_text():
    at = open_page(**{"rnn.text": "abcabcabcabc", "rnn.t": 7})
    assert metric(at, "Input x") == "a"
    assert metric(at, "Output y").strip("'") == "b"


def test_empty_and_long_inputs_give_a_message():
    at = open_page(**{"rnn.text": "   "})
    assert not at.exception
    assert at.error[0].value == t("rnn.errors.empty", "en")
    long = "the quick brown fox jumps over the lazy dog again and again"
    at = open_page(**{"rnn.text": long})
    assert not at.exception
    assert at.info[0].value == t("rnn.cut", "en", n=len(long), max=40)
    assert at.slider(key="rnn.t").max == 40


def test_sine_input_and_weight_scale_in_chinese():
    at = open_page("zh", **{"rnn.source": "sine", "rnn.t": 3})
    assert not at.exception
    assert at.title[0].value == t("rnn.title", "zh")
    first = metric(at, "RNN：")
    at.slider(key="rnn.scale").set_value(3.0).run()
    assert not at.exception
    assert float(metric(at, "RNN：")) > 1e3 * float(first)   # from fading to exploding
