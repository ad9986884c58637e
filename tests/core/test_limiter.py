"""The heavy-work queue: FIFO order, the worker bound, the cap per session, positions, refusals, clean-up."""
import threading
import time

import pytest

from bigmodel_core.errors import UserInputError
from bigmodel_core.limiter import QueueConfig, QueueFull, Superseded, WorkQueue


def fast(**kw) -> WorkQueue:
    return WorkQueue(QueueConfig(poll_s=0.01, **kw))


def run_jobs(queue: WorkQueue, sessions: list[str], hold_s: float = 0.02):
    """Start one thread per session, in order, each running a job through the queue; return the log."""
    log, lock, threads = [], threading.Lock(), []
    gate = {"max_running": 0, "running": 0}

    def job(s):
        with queue.slot(s, "test"):
            with lock:
                gate["running"] += 1
                gate["max_running"] = max(gate["max_running"], gate["running"])
                log.append(s)
            time.sleep(hold_s)
            with lock:
                gate["running"] -= 1

    for s in sessions:
        th = threading.Thread(target=job, args=(s,))
        th.start()
        threads.append(th)
        time.sleep(0.005)                    # arrival order = list order
    for th in threads:
        th.join(10)
    return log, gate["max_running"]


def test_fifo_and_worker_bound():
    q = fast(workers=2, max_waiting=50)
    sessions = [f"s{i}" for i in range(12)]
    log, max_running = run_jobs(q, sessions)
    assert sorted(log) == sorted(sessions)              # every job ran once
    assert max_running == 2                              # never more than `workers` at once
    assert log[:2] == ["s0", "s1"]
    assert q.stats() == {"running": 0, "waiting": 0, "finished": 12}


def test_positions_count_waiting_tickets_ahead():
    q = fast(workers=1)
    a, b, c = q.join("a"), q.join("b"), q.join("c")
    assert (q.position(a), q.position(b), q.position(c)) == (0, 1, 2)
    q.leave(a, finished=True)
    assert (q.position(b), q.position(c)) == (0, 1)
    q.leave(c)                                           # c gives up (navigated away)
    q.leave(b, finished=True)
    assert q.stats() == {"running": 0, "waiting": 0, "finished": 2}


def test_one_running_job_per_session_even_with_free_workers():
    q = fast(workers=3, per_session=2)
    a1, a2, b1 = q.join("a"), q.join("a"), q.join("b")
    assert a1.running and not a2.running and b1.running   # b overtakes a's second job, not the rule
    q.leave(a1, finished=True)
    assert a2.running


def test_cap_per_session_newest_request_wins():
    q = fast(workers=1, per_session=1)
    running = q.join("x")                                 # someone else's job holds the worker
    old = q.join("a")
    new = q.join("a")                                     # the learner presses Train again
    assert old.cancelled and not new.cancelled
    with pytest.raises(Superseded):
        q.wait(old)
    assert q.position(new) == 1                           # one place, not two
    q.leave(running)
    q.wait(new, timeout=1)
    assert new.running


def test_full_line_is_refused_with_a_message_in_both_languages():
    q = fast(workers=1, max_waiting=2)
    q.join("r")                                           # running
    q.join("w1"), q.join("w2")                            # the line is full
    with pytest.raises(QueueFull) as err:
        q.join("w3")
    assert isinstance(err.value, UserInputError)
    assert "2" in err.value.message("en") and "2" in err.value.message("zh")
    assert err.value.message("en") != err.value.message("zh")
    assert q.stats()["waiting"] == 2                      # the refused ticket left no trace


def test_a_job_that_can_run_at_once_is_never_refused():
    q = fast(workers=2, max_waiting=0)
    a = q.join("a")
    assert a.running
    b = q.join("b")
    assert b.running
    with pytest.raises(QueueFull):
        q.join("c")


def test_on_wait_sees_positions_shrink_and_an_exception_there_frees_the_place():
    q = fast(workers=1)
    blocker = q.join("blocker")
    q.join("b")
    seen = []

    def waiter():
        with q.slot("c", on_wait=seen.append):
            seen.append("ran")

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.05)
    q.leave(blocker, finished=True)                       # b runs, c moves up to 1
    time.sleep(0.05)
    q.leave(q._line[0], finished=True)                    # b finishes, c runs
    th.join(2)
    changes = [v for i, v in enumerate(seen) if i == 0 or v != seen[i - 1]]
    assert changes == [2, 1, "ran"]                      # called every poll, positions only shrink

    class Stop(Exception):                                # what Streamlit raises to stop a script
        pass

    blocker = q.join("blocker")

    def stop_on_wait(pos):
        raise Stop

    with pytest.raises(Stop):
        with q.slot("d", on_wait=stop_on_wait):
            pass
    assert q.stats()["waiting"] == 0                      # d left the line
    q.leave(blocker)


def test_timeout_and_errors_in_the_job_release_the_slot():
    q = fast(workers=1)
    blocker = q.join("blocker")
    with pytest.raises(TimeoutError):
        with q.slot("a", timeout=0.05):
            pass
    q.leave(blocker)
    with pytest.raises(ZeroDivisionError):
        with q.slot("a"):
            1 / 0
    assert q.stats() == {"running": 0, "waiting": 0, "finished": 0}
    with q.slot("a"):
        pass
    assert q.stats()["finished"] == 1


def test_config_from_env(monkeypatch):
    monkeypatch.setenv("BIGMODEL_HEAVY_WORKERS", "3")
    monkeypatch.setenv("BIGMODEL_HEAVY_MAX_WAITING", "5")
    cfg = QueueConfig.from_env()
    assert (cfg.workers, cfg.per_session, cfg.max_waiting) == (3, 1, 5)
