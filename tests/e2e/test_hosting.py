"""Hosting a class, end to end over Streamlit's own websocket protocol (bench/wsclient.py, no browser):

- 27 hostile inputs (forged numbers, wrong types, over-long text, hostile uploads, forged frames) each
  get a clear message in the learner's language, no traceback, and the tab and the server go on;
- a short load smoke: several learners at once complete every interaction with no exception, against
  one process and (where nginx is installed: .ci/run and `make test` as root install it) against nginx
  with 2 processes, where a learner's upload must reach the process holding their session.

No timing is asserted here: bench/hostile.py and bench/load.py measure (bench/RESULTS.md).
"""
import asyncio
import concurrent.futures
import random
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bench.hostile import CASES, known_messages, run_all
from bench.load import PAGES, learner
from bench.wsclient import Learner, upload_state
from bigmodel_core.i18n import t
from deploy.serve import Cluster, free_port


def run_async(coro):
    """asyncio.run in a thread of its own: Playwright's sync API keeps an event loop running in this
    one (the browser tests share a session), where asyncio.run refuses to start another."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
SETUPS = ["one process"] + (["nginx, 2 processes"] if NGINX else [])    # nginx only where installed


def test_hostile_inputs_get_clear_messages_and_everything_keeps_working(app_url):
    result = run_async(run_all(app_url))
    assert len(result["cases"]) == len(CASES) >= 25
    bad = [(c["name"], c["answer"], c["exceptions"], c["after"]) for c in result["cases"]
           if not (c["ok"] and c["works_after"])]
    assert not bad
    assert all(not c["exceptions"] for c in result["cases"])              # 0 tracebacks
    assert result["healthy_after"] and result["fresh_tab_after"]
    # the forged-number cases got the guard's own message, in the tab's language
    zh = next(c for c in result["cases"] if "Chinese" in c["name"])
    assert zh["answer"].startswith(t("errors.widget.rejected", "zh")[:20])


def smoke(url: str, learners: int, interactions: int) -> list:
    async def go():
        deadline = time.monotonic() + 300
        return await asyncio.gather(*(learner(url, PAGES[i % len(PAGES)], deadline=deadline,
                                              rng=random.Random(i), max_interactions=interactions,
                                              pause=(0.2, 0.6), timeout=120)
                                      for i in range(learners)))
    return run_async(go())


@pytest.fixture(scope="module", params=SETUPS)
def served(request, app_url):
    if request.param == "one process":
        yield app_url, None
    else:
        with Cluster(procs=2, nginx=True, listen=f"127.0.0.1:{free_port()}") as cluster:
            yield cluster.url, cluster


def test_learners_at_once_complete_every_interaction(served):
    url, _ = served
    logs = smoke(url, learners=5, interactions=3)
    assert [log.errors for log in logs] == [[]] * 5
    assert [len(log.latencies) for log in logs] == [3] * 5              # every move finished cleanly
    assert {log.page for log in logs} == set(PAGES)


def test_behind_nginx_an_upload_reaches_the_learners_own_process(served):
    url, cluster = served
    if cluster is None:                                                  # (one process: nothing to route)
        assert url.startswith("http://127.0.0.1")
        return

    async def go():
        results = []
        for _ in range(4):                                               # several learners, so both processes serve some
            async with Learner(url, query="conv.source=upload", timeout=120) as me:
                await me.open("convolution")
                widget = next(w for w in me.widgets.values() if w.key == "conv.upload")
                status, state = upload_state(me, widget, "notes.png", b"not an image" * 10)
                run = await me.send(widget, state)
                results.append((me.cookies.get("bml_route", ""), status, run.errors, run.exceptions))
        return results

    for cookie, status, errors, exceptions in run_async(go()):
        assert cookie                                                    # nginx set the routing cookie
        assert status == 204                                             # the session was found: same process
        assert errors == [t("errors.image.not_image", "en")] and not exceptions
    check = subprocess.run([NGINX, "-t", "-p", str(cluster.run_dir), "-e", str(cluster.run_dir / "t.log"),
                            "-c", str(cluster.run_dir / "nginx.conf")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert cluster.restarts == 0


def test_known_messages_cover_both_languages():
    known = known_messages()
    assert t("errors.widget.rejected", "en") in known and t("errors.widget.rejected", "zh") in known
