"""`make bench`: every benchmark, results to bench/results/*.json and bench/RESULTS.md.

    python -m bench.run                    # everything
    python -m bench.run --only conv        # scenarios / scripts whose name contains "conv"
    python -m bench.run --no-browser       # only the compute benchmarks (bench/bench_*.py)

Browser scenarios live in bench/scenarios/<page>.py (SCENARIOS = [...]); compute benchmarks are
bench/bench_<topic>.py modules with a main() that calls bench.record.record(...).
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from bench import scenarios as scenarios_pkg
from bench.browser import cold_start, launch_browser, measure_client_latency, measure_latency, server_rss_mb
from bench.record import record, summarize_ms, write_markdown
from tests.e2e.conftest import free_port, start_server, stop_server, wait_healthy, wait_idle

BENCH_DIR = Path(__file__).parent


def all_scenarios():
    for m in pkgutil.iter_modules(scenarios_pkg.__path__):
        yield from importlib.import_module(f"bench.scenarios.{m.name}").SCENARIOS


def run_browser(only: str | None) -> None:
    from playwright.sync_api import sync_playwright

    from app_pages._ui import available_pages
    with sync_playwright() as p:
        browser = launch_browser(p)
        if not only or "cold" in only:
            secs = cold_start(browser, runs=3)
            s = summarize_ms([x * 1000 for x in secs])
            record("cold_start", page="app", what="cold start: launch to first page rendered (median of 3)",
                   value=s["p50"] / 1000, unit="s", target="<= 3 s", ok=s["p50"] <= 3000,
                   detail={"max_s": s["max"] / 1000})
        port = free_port()
        proc = start_server(port)
        try:
            wait_healthy(port, proc)
            base = f"http://127.0.0.1:{port}"
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()
            for sc in all_scenarios():
                if only and only not in sc.name:
                    continue
                extra = dict(sc.extra)
                if sc.client:
                    samples, sent = measure_client_latency(page, base, sc)
                    extra["messages_to_server"] = sent
                else:
                    samples, sent = measure_latency(page, base, sc), 0
                s = summarize_ms(samples)
                print(f"{sc.name}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms"
                      + (f", {sent} messages to the server" if sc.client else ""), flush=True)
                record(sc.name, page=sc.page or "home", what=sc.what, value=s["p95"], unit="ms p95",
                       target=(f"<= {sc.target_ms:g} ms p95" + (", 0 reruns" if sc.client else "")) if sc.target_ms else "",
                       ok=None if sc.target_ms is None else s["p95"] <= sc.target_ms and sent == 0,
                       detail={"p50_ms": s["p50"], "n": s["n"], **extra})
            if not only or "memory" in only:
                for info in available_pages():
                    page.goto(f"{base}/{'' if info.key == 'home' else info.key}")
                    wait_idle(page, timeout=180_000)
                mb = server_rss_mb(proc.pid)
                record("server_memory", page="app", what="server resident memory after visiting every page",
                       value=mb, unit="MiB", detail={"pages": len(available_pages())})
            ctx.close()
        finally:
            stop_server(proc)
        browser.close()


def run_compute(only: str | None, browser: bool = True) -> list[str]:
    """Run bench/bench_*.py; with browser=False skip those that drive Chromium (they import
    playwright, e.g. bench_gc). A benchmark that fails is reported and the others still run."""
    failed = []
    for path in sorted(BENCH_DIR.glob("bench_*.py")):
        if only and only not in path.stem:
            continue
        if not browser and "playwright" in path.read_text():
            print(f"-- {path.stem}: skipped (needs the browser)", flush=True)
            continue
        print(f"-- {path.stem}", flush=True)
        try:
            importlib.import_module(f"bench.{path.stem}").main()
        except Exception as exc:                                   # noqa: BLE001 - report, go on
            print(f"-- {path.stem} FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed.append(path.stem)
    return failed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", help="run only scenarios/scripts whose name contains this")
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args(argv)
    failed = run_compute(args.only, browser=not args.no_browser)
    if not args.no_browser:
        run_browser(args.only)
    print(write_markdown().read_text())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
