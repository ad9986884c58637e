"""Heavy work (training, attributions, LLM generation) through the process's one queue.

    with heavy("cnn_train"):                 # shows "You are number 3 in line" while it waits
        history = fit(...)

The queue itself is bigmodel_core.limiter (no Streamlit, tested there). This file only gives it the
learner's session, draws the place in line, and turns a refusal into the page's normal message.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from bigmodel_core.limiter import QueueConfig, QueueFull, Superseded, WorkQueue
from app_pages._ui import show_error, t


@st.cache_resource(show_spinner=False)
def work_queue() -> WorkQueue:
    """One queue per server process, shared by every session (BIGMODEL_HEAVY_* override its sizes)."""
    return WorkQueue(QueueConfig.from_env())


def _session_id() -> str:
    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "no-session"


@contextmanager
def heavy(kind: str) -> Iterator[None]:
    """Run the block when this session's turn comes; the place in line shows meanwhile.

    A full line shows the page's usual error and stops this run (the learner tries again).
    """
    box = st.empty()

    def on_wait(position: int) -> None:              # every poll: also where a Stop press lands
        text = t("hosting.queue_next") if position <= 1 else t("hosting.queue_waiting", position=position)
        box.info(text, icon=":material/hourglass_top:")

    queue = work_queue()
    try:
        ticket = queue.join(_session_id(), kind)
    except QueueFull as err:
        with box:
            show_error(err)
        st.stop()
    done = False
    try:
        try:
            queue.wait(ticket, on_wait)
        except Superseded:                           # a newer run of this session took the place
            box.empty()
            st.stop()
        box.empty()
        yield
        done = True
    finally:
        queue.leave(ticket, finished=done)
