"""One queue per server process for heavy work: training, attributions, LLM generation.

A class that presses Train together should get a fair, bounded wait, not a stalled server. Every
heavy job takes a ticket and waits its turn (first come, first served); the learner sees their place
in line. Python's GIL lets one process compute on one core at a time, so running a dozen trainings
at once in one process only makes every one of them a dozen times slower (and multiplies memory).

    queue = WorkQueue(QueueConfig(workers=1, per_session=1, max_waiting=48))
    with queue.slot(session_id, on_wait=lambda pos: show(f"{pos} ahead of you")):
        train()                              # at most `workers` of these run at a time

Rules:
- At most `workers` jobs run at once; the others wait in arrival order (FIFO).
- The cap per session: a session runs at most one job at a time and keeps at most `per_session`
  tickets in line. A newer request from the same session supersedes its oldest waiting ticket
  (that wait ends with `Superseded`): pressing Train twice does not take two places.
- At most `max_waiting` tickets wait; one more is refused with `QueueFull` (a UserInputError:
  "the server is busy, try again in a minute"), so the wait stays bounded.
- A ticket always leaves the queue, whatever ends the wait or the job (an exception, the learner
  navigating away: Streamlit stops a script by raising inside the `on_wait` callback, which is
  called every `poll_s` seconds while the ticket waits).

No Streamlit here: the page passes its session id and a callback (app_pages/_queue.py).
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from bigmodel_core.errors import UserInputError


@dataclass(frozen=True)
class QueueConfig:
    workers: int = 1            # heavy jobs that run at once in this process
    per_session: int = 1        # tickets one session may keep waiting (its running job aside)
    max_waiting: int = 48       # tickets waiting at most; one more that must wait is refused
    poll_s: float = 0.5         # how often a waiting ticket wakes to report its position

    @classmethod
    def from_env(cls) -> "QueueConfig":
        """BIGMODEL_HEAVY_WORKERS / BIGMODEL_HEAVY_PER_SESSION / BIGMODEL_HEAVY_MAX_WAITING override."""
        env = os.environ.get
        return cls(workers=max(1, int(env("BIGMODEL_HEAVY_WORKERS", cls.workers))),
                   per_session=max(1, int(env("BIGMODEL_HEAVY_PER_SESSION", cls.per_session))),
                   max_waiting=max(0, int(env("BIGMODEL_HEAVY_MAX_WAITING", cls.max_waiting))))


class QueueFull(UserInputError):
    """The line is full: the learner is asked to try again shortly."""

    def __init__(self, waiting: int):
        super().__init__("errors.queue.full", waiting=waiting)


class Superseded(Exception):
    """A newer request from the same session took this ticket's place in line."""


@dataclass
class Ticket:
    number: int                 # arrival order, unique in the queue
    session: str                # whose job it is
    kind: str                   # what it is ("cnn_train", "attributions", ...), for logs and stats
    arrived: float              # time.monotonic() at arrival
    running: bool = False
    cancelled: bool = False     # superseded by a newer ticket of the same session


class WorkQueue:
    """A FIFO of heavy jobs with `workers` running at once and a cap per session (see module doc)."""

    def __init__(self, config: QueueConfig = QueueConfig()):
        self.config = config
        self._cond = threading.Condition()
        self._line: list[Ticket] = []            # arrival order; running tickets stay in it
        self._numbers = itertools.count(1)
        self.finished = 0                        # jobs that ran to their end (for stats)

    # -- what a waiting learner sees ----------------------------------------------------------
    def position(self, ticket: Ticket) -> int:
        """0 while running; else 1 + the number of waiting tickets ahead of this one."""
        with self._cond:
            if ticket.running:
                return 0
            ahead = 0
            for other in self._line:
                if other is ticket:
                    return ahead + 1
                if not other.running:
                    ahead += 1
            raise KeyError(ticket.number)            # not in line (already released)

    def stats(self) -> dict:
        with self._cond:
            return {"running": sum(t.running for t in self._line),
                    "waiting": sum(not t.running for t in self._line),
                    "finished": self.finished}

    # -- taking and giving back a place ---------------------------------------------------------
    def join(self, session: str, kind: str = "") -> Ticket:
        """Take a place at the back of the line (refused when it is full)."""
        with self._cond:
            mine = [t for t in self._line if t.session == session and not t.running]
            while len(mine) >= self.config.per_session:      # the cap per session: newest wins
                oldest = mine.pop(0)
                oldest.cancelled = True
                self._line.remove(oldest)
            waiting = sum(not t.running for t in self._line)
            ticket = Ticket(next(self._numbers), session, kind, time.monotonic())
            self._line.append(ticket)
            self._promote()
            if not ticket.running and waiting >= self.config.max_waiting:
                self._line.remove(ticket)            # it would have to wait, and the line is full
                raise QueueFull(waiting)
            self._cond.notify_all()
            return ticket

    def leave(self, ticket: Ticket, *, finished: bool = False) -> None:
        """Give the place back (idempotent) and let the next ticket run."""
        with self._cond:
            if ticket in self._line:
                self._line.remove(ticket)
            if ticket.running and finished:
                self.finished += 1
            ticket.running = False
            self._promote()
            self._cond.notify_all()

    def wait(self, ticket: Ticket, on_wait: Callable[[int], None] | None = None,
             timeout: float | None = None) -> None:
        """Block until the ticket runs, calling on_wait(position) at least every `poll_s` seconds.

        The repeated call lets the caller notice that its learner went away (Streamlit acts on a
        stop or rerun only when the script draws something), not only show the new position.

        Raises Superseded if a newer ticket of the same session replaced it, TimeoutError after
        `timeout` seconds; whatever on_wait raises propagates (the caller's `finally` calls leave).
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._cond:
                if ticket.cancelled:
                    raise Superseded(ticket.number)
                if ticket.running:
                    return
                pos = self.position(ticket)
            if on_wait is not None:
                on_wait(pos)                         # outside the lock: it may draw, or raise
            with self._cond:
                if deadline is not None and time.monotonic() >= deadline:
                    raise TimeoutError(f"ticket {ticket.number} waited {timeout} s")
                if not ticket.running and not ticket.cancelled:
                    self._cond.wait(self.config.poll_s)

    @contextmanager
    def slot(self, session: str, kind: str = "", on_wait: Callable[[int], None] | None = None,
             timeout: float | None = None) -> Iterator[Ticket]:
        """Wait for a turn, run the block, give the turn back (also on errors and stops)."""
        ticket = self.join(session, kind)
        ok = False
        try:
            self.wait(ticket, on_wait, timeout)
            yield ticket
            ok = True
        finally:
            self.leave(ticket, finished=ok)

    # -- inside the lock -----------------------------------------------------------------------
    def _promote(self) -> None:
        """Start waiting tickets in arrival order while workers are free; one running job per session."""
        running = [t for t in self._line if t.running]
        busy_sessions = {t.session for t in running}
        free = self.config.workers - len(running)
        for t in self._line:
            if free <= 0:
                break
            if not t.running and t.session not in busy_sessions:
                t.running = True
                busy_sessions.add(t.session)
                free -= 1
