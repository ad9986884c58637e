"""A class at once: many learners against one app process, and against nginx with 2 processes.

Each learner is a bench/wsclient.Learner (Streamlit's own websocket protocol, no browser): it opens
one of the pages below, then every 1-3 s moves a random slider of that page to a random step and
waits for the run to finish. Levels (learners at once) run one after another, each bounded in time;
everything stays on the loopback interface.

    python -m bench.load                                   # levels 1,10,30,60 on both set-ups, 40 s each
    python -m bench.load --levels 1,10 --seconds 20 --setups one
    python -m bench.load --waves 3 --wave-size 20          # memory over three waves of 20 learners

Measured per level: interactions/s, interaction latency (message sent -> script finished) p50/p95/max,
page load (GET + websocket + first run) p50/p95, errors (tracebacks, timeouts, closed sockets),
CPU of the app processes (+ nginx) as % of one core, and resident memory per process.
Results: bench/results/load.json; bench/RESULTS.md quotes them with the machine's load (uptime),
since a shared machine inflates every number.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil

from bench.wsclient import Learner, random_value
from deploy.serve import Cluster, free_port

PAGES = ("convolution", "cnn_anatomy", "attention", "loss_landscape", "regularization")   # the issue's
RESULTS = Path(__file__).parent / "results" / "load" / "load.json"     # not results/*.json: those are rows


@dataclass
class LearnerLog:
    page: str
    load_s: float = float("nan")
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    interactions: int = 0


async def learner(url: str, page: str, *, deadline: float, rng: random.Random,
                  max_interactions: int | None = None, pause: tuple[float, float] = (1.0, 3.0),
                  timeout: float = 60.0) -> LearnerLog:
    """One learner: open `page`, then move sliders until `deadline` (monotonic) or max_interactions."""
    log = LearnerLog(page)
    me = Learner(url, timeout=timeout)
    try:
        run = await me.open(page)
        log.load_s = run.seconds
        if run.status != "ok" or run.exceptions:
            log.errors.append(f"open {page}: {run.status} {run.exceptions[:1]}")
            return log
        while time.monotonic() < deadline and (max_interactions is None or log.interactions < max_interactions):
            await asyncio.sleep(rng.uniform(*pause))
            sliders = me.sliders()
            if not sliders or time.monotonic() >= deadline:
                break
            widget = rng.choice(sliders)
            run = await me.move(widget, random_value(rng, widget))
            log.interactions += 1
            if run.status in ("ok", "fragment") and not run.exceptions:
                log.latencies.append(run.seconds)
            else:
                log.errors.append(f"{page} {widget.key}: {run.status} {run.exceptions[:1]}")
                if run.status.startswith("closed"):
                    break
    except Exception as e:                        # a refused connection, a reset: an error, not a crash
        log.errors.append(f"{page}: {type(e).__name__}: {e}")
    finally:
        try:
            await me.close()
        except Exception:
            pass
    return log


async def run_level(url: str, n: int, seconds: float, seed: int = 0, stagger: float = 2.0) -> list[LearnerLog]:
    """n learners at once (arriving over `stagger` s), each on a page of PAGES in turn, for `seconds`."""
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds

    async def one(i: int) -> LearnerLog:
        await asyncio.sleep(stagger * i / max(1, n))
        return await learner(url, PAGES[i % len(PAGES)], deadline=deadline, rng=random.Random(rng.random()))

    hard_stop = seconds + 90                       # a level never outlives this, whatever the server does
    try:
        return await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(n))), hard_stop)
    except asyncio.TimeoutError:
        return [LearnerLog("?", errors=[f"level of {n} exceeded {hard_stop} s"])]


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


class Usage:
    """CPU (% of one core) and resident memory of a set of processes over an interval."""

    def __init__(self, pids: list[int]):
        self.procs = [psutil.Process(p) for p in pids]
        self.t0 = time.monotonic()
        self.cpu0 = [self._cpu(p) for p in self.procs]

    @staticmethod
    def _cpu(p: psutil.Process) -> float:
        try:
            t = p.cpu_times()
            kids = sum(c.cpu_times().user + c.cpu_times().system for c in p.children(recursive=True))
            return t.user + t.system + kids
        except psutil.NoSuchProcess:
            return 0.0

    def read(self) -> dict:
        wall = time.monotonic() - self.t0
        cpu = [self._cpu(p) - c0 for p, c0 in zip(self.procs, self.cpu0)]
        rss = []
        for p in self.procs:
            try:
                rss.append(p.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                rss.append(float("nan"))
        return {"cpu_pct_total": round(100 * sum(cpu) / wall, 1),
                "cpu_pct_per_process": [round(100 * c / wall, 1) for c in cpu],
                "rss_mb_per_process": [round(r) for r in rss]}


def summarize(logs: list[LearnerLog], seconds: float) -> dict:
    lat = [x for log in logs for x in log.latencies]
    loads = [log.load_s for log in logs if log.load_s == log.load_s]
    errors = [e for log in logs for e in log.errors]
    ms = lambda x: round(1000 * x)                                      # noqa: E731
    return {"learners": len(logs), "interactions": len(lat), "interactions_per_s": round(len(lat) / seconds, 2),
            "p50_ms": ms(pct(lat, 50)) if lat else None, "p95_ms": ms(pct(lat, 95)) if lat else None,
            "max_ms": ms(max(lat)) if lat else None,
            "load_p50_ms": ms(pct(loads, 50)) if loads else None, "load_p95_ms": ms(pct(loads, 95)) if loads else None,
            "errors": len(errors), "error_examples": errors[:3],
            "per_page_p95_ms": {p: ms(pct([x for log in logs if log.page == p for x in log.latencies], 95))
                                for p in PAGES if any(log.page == p and log.latencies for log in logs)}}


def machine() -> dict:
    return {"uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
            "cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                     cwd=Path(__file__).parents[1]).stdout.strip()}


def cluster_for(setup: str) -> Cluster:
    if setup == "one":
        return Cluster(procs=1, nginx=False)
    if setup == "nginx2":
        return Cluster(procs=2, nginx=True, listen=f"127.0.0.1:{free_port()}")
    raise ValueError(setup)


async def warm(url: str) -> None:
    """Every page once, so the first level does not pay for imports and model loads."""
    for page in PAGES:
        await learner(url, page, deadline=0, rng=random.Random(0), timeout=300)


def run_setup(setup: str, levels: list[int], seconds: float, waves: int, wave_size: int) -> dict:
    out = {"setup": setup, "levels": [], "waves": []}
    with cluster_for(setup) as cluster:
        pids = cluster.pids() + ([cluster._nginx.pid] if cluster._nginx else [])
        for port in cluster.ports:                  # each process directly: through nginx a page may miss one
            asyncio.run(warm(f"http://127.0.0.1:{port}"))
        for n in levels:
            usage = Usage(pids)
            t0 = time.monotonic()
            logs = asyncio.run(run_level(cluster.url, n, seconds))
            row = {**summarize(logs, time.monotonic() - t0), **usage.read(), "uptime": machine()["uptime"]}
            out["levels"].append(row)
            print(f"{setup:7} {n:3} learners: {row['interactions_per_s']:5.1f}/s  p50/p95/max "
                  f"{row['p50_ms']}/{row['p95_ms']}/{row['max_ms']} ms  load p50/p95 {row['load_p50_ms']}/"
                  f"{row['load_p95_ms']} ms  errors {row['errors']}  CPU {row['cpu_pct_total']} %  "
                  f"RSS {row['rss_mb_per_process']} MB   [{row['uptime'].split('load average:')[-1].strip()}]",
                  flush=True)
        for w in range(waves):                      # memory: connect, interact, disconnect, read RSS
            usage = Usage(pids)
            logs = asyncio.run(run_level(cluster.url, wave_size, seconds, seed=100 + w))
            time.sleep(5)                           # sessions closed; let the server drop them
            row = {"wave": w + 1, **summarize(logs, seconds), **usage.read()}
            out["waves"].append(row)
            print(f"{setup:7} wave {w + 1}: RSS {row['rss_mb_per_process']} MB  errors {row['errors']}", flush=True)
        out["restarts"] = cluster.restarts
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description="Many learners against the app (loopback only).")
    ap.add_argument("--levels", default="1,10,30,60")
    ap.add_argument("--seconds", type=float, default=40.0, help="each level's length")
    ap.add_argument("--setups", default="one,nginx2", help="one (1 process) and/or nginx2 (nginx + 2)")
    ap.add_argument("--waves", type=int, default=0, help="memory waves after the levels, e.g. 3")
    ap.add_argument("--waves-on", default="nginx2", help="the set-up that runs the waves")
    ap.add_argument("--wave-size", type=int, default=20)
    ap.add_argument("--out", default=str(RESULTS))
    args = ap.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x]
    result = {"machine": machine(), "seconds_per_level": args.seconds, "pages": PAGES, "setups": []}
    for setup in args.setups.split(","):
        waves = args.waves if setup == args.waves_on else 0
        result["setups"].append(run_setup(setup, levels, args.seconds, waves, args.wave_size))
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1))
    result["machine_after"] = machine()["uptime"]
    Path(args.out).write_text(json.dumps(result, indent=1))
    if Path(args.out) == RESULTS:
        from bench.record import write_markdown
        write_markdown()                             # RESULTS.md gets the section below
    print(f"written {args.out}")


def markdown_section() -> list[str]:
    """bench/RESULTS.md's part for many learners and hostile inputs (bench/record.py appends it)."""
    lines: list[str] = []
    if RESULTS.exists():
        r = json.loads(RESULTS.read_text())
        m = r["machine"]
        lines += ["", "## Many learners at once (bench/load.py)", "",
                  f"{m['cores']} cores, commit {m['commit']}, {r['seconds_per_level']:.0f} s per level, pages "
                  f"{', '.join(r['pages'])}; each learner moves a slider every 1-3 s. **Caveat: a shared machine** "
                  f"(other engineers' jobs): `uptime` before: {m['uptime']}; after: {r.get('machine_after', '?')}. "
                  "Every number is inflated by that load; rerun `make load` on a quiet machine.", "",
                  "| set-up | learners | interactions/s | p50 / p95 / max | page load p50 / p95 | errors | CPU (% of a core) | RSS per process | load avg |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for setup in r["setups"]:
            name = {"one": "1 process", "nginx2": "nginx + 2 processes"}.get(setup["setup"], setup["setup"])
            for row in setup["levels"]:
                lines.append(f"| {name} | {row['learners']} | {row['interactions_per_s']} | {row['p50_ms']} / "
                             f"{row['p95_ms']} / {row['max_ms']} ms | {row['load_p50_ms']} / {row['load_p95_ms']} ms | "
                             f"{row['errors']} | {row['cpu_pct_total']} % ({' + '.join(map(str, row['cpu_pct_per_process']))}) | "
                             f"{' / '.join(map(str, row['rss_mb_per_process']))} MB | "
                             f"{row['uptime'].split('load average:')[-1].strip()} |")
            for row in setup.get("waves", []):
                lines.append(f"| {name}, memory wave {row['wave']} | {row['learners']} | {row['interactions_per_s']} | "
                             f"{row['p50_ms']} / {row['p95_ms']} / {row['max_ms']} ms | {row['load_p50_ms']} / "
                             f"{row['load_p95_ms']} ms | {row['errors']} | {row['cpu_pct_total']} % | "
                             f"{' / '.join(map(str, row['rss_mb_per_process']))} MB | |")
        lines += ["", "CPU is the app processes' share of one core (nginx's included in the nginx rows; its RSS "
                  "is the last figure): 200 % would be both cores. Memory waves: 3 x 20 learners, one after "
                  "another, RSS read after each."]
        lines += [f"- {note}" for note in r.get("notes", [])]
    hostile = RESULTS.with_name("hostile.json")
    if hostile.exists():
        h = json.loads(hostile.read_text())
        cases = h["cases"]
        good = sum(c["ok"] and c["works_after"] for c in cases)
        lines += ["", "## Hostile inputs (bench/hostile.py)", "",
                  f"{good}/{len(cases)} got a clear message with the tab working after; "
                  f"{sum(bool(c['exceptions']) for c in cases)} tracebacks; slowest answer "
                  f"{max(c['seconds'] for c in cases) * 1000:.0f} ms; server healthy after: {h['healthy_after']}; "
                  f"a fresh tab after: {h['fresh_tab_after']}. `uptime`: {h.get('uptime', '?')}.", "",
                  "| input | answer | ms | tab after |", "|---|---|---|---|"]
        for c in cases:
            lines.append(f"| {c['name']} | {c['answer'][:70]} | {c['seconds'] * 1000:.0f} | {c['after']} |")
    return lines


if __name__ == "__main__":
    main()
