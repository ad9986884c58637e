"""The guard against forged widget values (app_pages/_hostile.py) on a real page under AppTest.

AppTest sends widget values as the browser does (WidgetState protos), so values no browser sends
reach Streamlit's deserializers the same way; without the guard an integer number_input of inf
raises OverflowError inside st.number_input and the session fails on every rerun after.
"""
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages import _hostile
from bigmodel_core.i18n import t

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def guard():
    _hostile.install()
    yield
    _hostile.uninstall()


def conv_digits(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "convolution.py"), default_timeout=120)
    at.query_params["conv.source"] = "mnist"
    at.session_state["lang"] = lang
    return at.run()


def test_without_the_guard_inf_breaks_the_session_for_good():
    _hostile.uninstall()              # an AppTest of app.py earlier in this process installs it
    at = conv_digits()
    at.number_input(key="conv.digit").set_value(float("inf")).run()
    assert at.exception                                   # OverflowError inside st.number_input (redacted)
    at.run()                                              # the bad value stays: every rerun fails
    assert at.exception


@pytest.mark.parametrize("bad", [float("inf"), float("nan"), 10**6, -1])
def test_a_forged_number_keeps_the_last_good_value_and_says_so(guard, bad):
    at = conv_digits()
    at.number_input(key="conv.digit").set_value(7).run()
    assert not at.exception and at.session_state["conv.digit"] == 7
    at.number_input(key="conv.digit").set_value(bad).run()
    assert not at.exception
    assert at.session_state["conv.digit"] == 7            # the last good value, not the minimum
    assert [m.value for m in at.toast] == [t("errors.widget.rejected", "en")]
    at.number_input(key="conv.digit").set_value(12).run()  # the session goes on
    assert not at.exception and at.session_state["conv.digit"] == 12 and not at.toast


def test_out_of_range_slider_is_reported_in_chinese_not_silently_clamped(guard):
    at = conv_digits("zh")
    at.slider(key="conv.stride").set_value(3).run()
    at.slider(key="conv.stride").set_value(10**9).run()
    assert not at.exception
    assert at.session_state["conv.stride"] == 3
    assert [m.value for m in at.toast] == [t("errors.widget.rejected", "zh")]
