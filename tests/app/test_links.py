"""Hand-edited links: every URL key a page reads, set to nan, inf, -inf or a value out of range,
opens the page without an exception, puts a finite in-range value in the widget and shows a note
(in the learner's language) naming the key and the value used instead."""
from __future__ import annotations

import math
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]
BAD = ("nan", "inf", "-inf", "999999")        # the last one is out of every slider's range
NUM, CHOICE, BOOL = "num", "choice", "bool"   # text keys are given as their max_chars (an int)

# Every url_state key of every page (grep url_state app_pages/), by kind. A page whose keys depend
# on a mode is listed once per mode with the valid query that selects it.
LL = "loss_landscape"
KEYS: dict[str, list[tuple[dict, dict]]] = {
    "activations": [({}, {f"activations.{k}": v for k, v in {
        "focus": CHOICE, "xmax": NUM, "x0": NUM, "compare": BOOL, "threshold": NUM, "slope": NUM,
        "depth": NUM, "init": CHOICE}.items()})],
    "losses": [({}, {**{f"losses.{k}": NUM for k in ("target", "pred", "delta", "z0", "z1", "z2")},
                     "losses.true_class": CHOICE})],
    "convolution": [({}, {"conv.source": CHOICE, "conv.photo": CHOICE, "conv.digit": NUM, "conv.rgb": BOOL,
                          "conv.size": CHOICE, "conv.kernel": CHOICE, "conv.bias": NUM, "conv.stride": NUM,
                          "conv.padding": NUM, "conv.dilation": NUM, "conv.w": 400, "conv.row": NUM,
                          "conv.col": NUM})],
    "pooling": [({}, {"pool.source": CHOICE, "pool.photo": CHOICE, "pool.digit": NUM, "pool.size": CHOICE,
                      "pool.kind": CHOICE, "pool.window": NUM, "pool.stride": NUM, "pool.shift": NUM,
                      "pool.row": NUM, "pool.col": NUM})],
    "cnn_anatomy": [({}, {"cnn_anatomy.source": CHOICE, "cnn_anatomy.index": NUM, "cnn_anatomy.epochs": NUM,
                          "cnn_anatomy.lr": CHOICE, "cnn_anatomy.batch": CHOICE, "cnn_anatomy.optimizer": CHOICE})],
    "rnn": [({"rnn.source": "sine"}, {"rnn.freq": NUM, "rnn.noise": NUM, "rnn.cell": CHOICE, "rnn.t": NUM,
                                      "rnn.scale": NUM, "rnn.delay": NUM}),
            ({}, {"rnn.source": CHOICE, "rnn.text": 200})],
    "attention": [({}, {"attention.sentence": 160, "attention.source": CHOICE, "attention.heads": NUM,
                        "attention.scale": BOOL, "attention.causal": BOOL, "attention.pe": BOOL,
                        "attention.temp": NUM, "attention.dk": NUM, "attention.query": NUM, "attention.head": NUM,
                        "attention.pe_dim": CHOICE, "attention.text": 2000, "attention.layer": NUM,
                        "attention.mhead": NUM, "attention.token": NUM, "attention.sim_a": 500,
                        "attention.sim_b": 500})],
    LL: [({}, {f"{LL}.view": CHOICE, f"{LL}.surface": CHOICE, f"{LL}.kappa": NUM, f"{LL}.angle": NUM,
               f"{LL}.steps": NUM, f"{LL}.x0": NUM, f"{LL}.y0": NUM, f"{LL}.noise": CHOICE,
               f"{LL}.beta.momentum": NUM, f"{LL}.beta.nesterov": NUM,
               **{f"{LL}.lr.{o}": CHOICE for o in ("gd", "sgd", "momentum", "nesterov", "rmsprop", "adam")}}),
         ({f"{LL}.view": "network"}, {f"{LL}.plane": CHOICE, f"{LL}.grid": CHOICE, f"{LL}.span": NUM,
                                      f"{LL}.seed": NUM, f"{LL}.shaded": BOOL})],
    "regularization": [({}, {**{f"regularization.{k}": NUM for k in ("n_train", "noise", "dropout", "patience",
                                                                   "jitter")},
                             **{f"regularization.{k}": CHOICE for k in ("task", "l1", "l2", "steps")},
                             "regularization.prox": BOOL})],
    "autoencoder": [({}, {**{f"autoencoder.{k}": NUM for k in ("z1", "z2", "picked", "alpha", "grid_shift", "noise",
                                                              "epochs")},
                          **{f"autoencoder.{k}": CHOICE for k in ("walk_from", "walk_to", "walk_latent", "grid_latent",
                                                                  "noise_digit", "train_latent", "lr")}})],
    "interpretability": [({}, {"interpretability.source": CHOICE, "interpretability.index": NUM,
                               "interpretability.model": CHOICE, "interpretability.target": CHOICE,
                               "interpretability.baseline": CHOICE, "interpretability.steps": NUM})],
}
CASES = [(page, i, mode, keys) for page, modes in KEYS.items() for i, (mode, keys) in enumerate(modes)]


def _bad_query(keys: dict, shift: int) -> dict[str, str]:
    """One bad value per key, rotating through BAD so that across pages every key kind meets each."""
    query = {}
    for n, (key, kind) in enumerate(keys.items()):
        if isinstance(kind, int):
            query[key] = "x" * (kind + 1)             # any text is a valid text: only length is bad
        else:
            query[key] = BAD[(n + shift) % len(BAD)]
    return query


def _shown_text(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page,i,mode,keys", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_bad_link_values_are_replaced_with_a_visible_note(page, i, mode, keys, lang):
    shift = 0 if lang == "en" else 2                  # both languages: all four bad values per key
    query = {**mode, **_bad_query(keys, shift)}
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=180)
    at.session_state["lang"] = lang
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception[0].message
    assert not at.error, at.error[0].value            # a refused value never becomes an error box
    shown = _shown_text(at)
    marker = t("ui.url_refused", lang, name="", raw="", used="").split("**")[0]
    for key, raw in query.items():
        if key in mode:
            continue
        value = at.session_state[key]
        assert str(value) != raw, key
        if isinstance(value, float):
            assert math.isfinite(value), key
        # the note names the key, the refused text and the value used, in the learner's language
        notes = [line for line in shown.split("\n") if f"**{key}**" in line]
        assert notes and marker in notes[0], (key, shown[:500])
        assert f"**{value if value != '' else '—'}**" in notes[0], (key, notes[0])


def test_a_note_stays_until_the_setting_changes():
    at = AppTest.from_file(str(ROOT / "app_pages" / "losses.py"), default_timeout=60)
    at.query_params["losses.delta"] = "nan"
    at.run()
    assert "**losses.delta**" in _shown_text(at)
    at.run()                                          # any rerun: the value is still the stand-in
    assert "**losses.delta**" in _shown_text(at)
    at.session_state["losses.delta"] = 2.0            # the learner moved Huber's delta (in the browser)
    at.run()
    assert "**losses.delta**" not in _shown_text(at)
