"""The heavy-work queue on a real page: a Train press waits for another learner's job, then runs;
a full line gives the page's normal message in the learner's language, and the session keeps working."""
import threading
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from bigmodel_core.i18n import t
from app_pages._queue import work_queue

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fresh_queue(monkeypatch):
    """A new per-process queue for each test (the page and the test share it: st.cache_resource)."""
    def make(**env):
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        work_queue.clear()
        return work_queue()
    yield make
    work_queue.clear()


def regularization_page(lang: str = "en") -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "regularization.py"), default_timeout=120)
    at.session_state["lang"] = lang
    at.run()
    at.select_slider(key="regularization.steps").set_value(500)
    return at.run()


def test_train_waits_for_another_learners_job_then_runs(fresh_queue):
    queue = fresh_queue()
    at = regularization_page()
    blocker = queue.join("another-learner")               # their training holds the one worker
    seen = {}

    def release_later():
        deadline = time.monotonic() + 30
        while queue.stats()["waiting"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        seen.update(queue.stats())                        # the page's ticket is in line now
        time.sleep(0.3)
        queue.leave(blocker, finished=True)

    helper = threading.Thread(target=release_later)
    helper.start()
    at.button(key="regularization.train").click().run()
    helper.join(30)
    assert not at.exception
    assert seen == {"running": 1, "waiting": 1, "finished": 0}
    # the page trained both sides after its turn came: two jobs through the queue, plus the blocker's
    assert queue.stats() == {"running": 0, "waiting": 0, "finished": 3}
    assert len(at.session_state["regularization.runs"]) == 2   # without and with the remedy


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_full_line_shows_the_busy_message_and_the_session_keeps_working(fresh_queue, lang):
    queue = fresh_queue(BIGMODEL_HEAVY_MAX_WAITING=0)     # no waiting allowed: any second job is refused
    at = regularization_page(lang)
    blocker = queue.join("another-learner")
    at.button(key="regularization.train").click().run()
    assert not at.exception
    assert [e.value for e in at.error] == [t("errors.queue.full", lang, waiting=0)]
    assert queue.stats() == {"running": 1, "waiting": 0, "finished": 0}   # the refusal left no ticket
    queue.leave(blocker)
    if lang == "en":                                       # (training once is enough for both languages)
        at.button(key="regularization.train").click().run()    # the worker is free: the same session trains
        assert not at.exception and not at.error
        assert queue.stats()["finished"] == 2                   # without and with the remedy
