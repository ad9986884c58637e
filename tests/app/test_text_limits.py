"""A text box takes at most max_chars characters and the browser drops a longer paste without a
word: every text box says its limit right under it, in the learner's language."""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]
LIMITS = {"rnn": {"rnn.text": 200},
          "attention": {"attention.sentence": 160, "attention.text": 2000, "attention.sim_a": 500,
                        "attention.sim_b": 500}}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("page", list(LIMITS))
def test_every_text_box_says_its_limit(page, lang):
    at = AppTest.from_file(str(ROOT / "app_pages" / f"{page}.py"), default_timeout=180)
    at.session_state["lang"] = lang
    at.run()
    assert not at.exception
    captions = [c.value for c in at.caption]
    for key, n in LIMITS[page].items():
        assert at.text_input(key=key).proto.max_chars == n                  # the limit the browser applies
        assert t("ui.max_chars", lang, n=n) in captions, key                 # ... said on the page
    assert len(at.text_input) == len(LIMITS[page])                          # no text box left out
