"""The RNN page under AppTest. The step-through explorable (a components v2 element) renders nothing
here: these tests drive the page's own state (cell, step, URL) and the server-side controls, and check
what the page hands the explorable against the trained cell (the browser test checks what it draws)."""
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from bigmodel_core.models import rnn as M

ROOT = Path(__file__).resolve().parents[2]


def open_page(lang="en", **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "rnn.py"), default_timeout=180)
    at.session_state["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def test_cell_and_step_reach_the_url_and_the_step_stays_inside_the_sequence():
    at = open_page(**{"rnn.cell": "gru", "rnn.t": 7})
    assert not at.exception
    assert at.query_params["rnn.cell"] == "gru" and at.query_params["rnn.t"] == "7"
    at.segmented_control(key="rnn.cell").set_value("lstm").run()
    assert not at.exception
    assert at.query_params["rnn.cell"] == "lstm"
    at.text_input(key="rnn.text").set_value("abc").run()           # 3 steps: t = 7 is pulled back to 3
    assert at.session_state["rnn.t"] == 3
    assert at.query_params["rnn.t"] == "3"


def test_step_arrays_are_the_trained_cells_weights_in_pytorchs_layout():
    """What the page sends: loaded into a fresh torch cell, the arrays give the trained cell's states."""
    seq = M.encode_text("abcabcabcabc")
    for kind in M.CELL_CLASSES:
        model = M.fit_next_step(kind, seq, hidden_size=8, steps=20)
        arrays = M.step_arrays(model, seq)
        fresh = M.CELL_CLASSES[kind](arrays["x"].shape[1], 8, batch_first=True)
        with torch.no_grad():
            for name, key in (("weight_ih_l0", "W"), ("weight_hh_l0", "U"), ("bias_ih_l0", "b_ih"), ("bias_hh_l0", "b_hh")):
                getattr(fresh, name).copy_(torch.from_numpy(arrays[key]))
            want, _ = model.cell(seq.x[None])
            got, _ = fresh(torch.from_numpy(arrays["x"])[None])
            y = torch.from_numpy(arrays["V"]) @ got[0, -1] + torch.from_numpy(arrays["c"])
        assert arrays["kind"] == kind
        assert torch.allclose(got, want, atol=1e-6)
        assert torch.allclose(y, model(seq.x[None])[0, -1], atol=1e-5)


def test_empty_and_long_inputs_give_a_message():
    at = open_page(**{"rnn.text": "   "})
    assert not at.exception
    assert at.error[0].value == t("rnn.errors.empty", "en")
    long = "the quick brown fox jumps over the lazy dog again and again"
    at = open_page(**{"rnn.text": long, "rnn.t": 40})
    assert not at.exception
    assert at.info[0].value == t("rnn.cut", "en", n=len(long), max=40)
    assert at.session_state["rnn.t"] == 40                         # the last of the 40 steps kept


def test_sine_input_and_weight_scale_in_chinese():
    at = open_page("zh", **{"rnn.source": "sine", "rnn.t": 3})
    assert not at.exception
    assert at.title[0].value == t("rnn.title", "zh")
    first = next(m.value for m in at.metric if m.label.startswith("RNN："))
    at.slider(key="rnn.scale").set_value(3.0).run()
    assert not at.exception
    assert float(next(m.value for m in at.metric if m.label.startswith("RNN："))) > 1e3 * float(first)
