"""This app's controls beside a bare Streamlit page with one slider: same probe, same run.

    python -m bench.rerun_table              # every scenario of bench/scenarios
    python -m bench.rerun_table --only conv  # the scenarios whose name contains "conv"

The bare page (bench/bare/app.py) is timed before and after the app's scenarios, so a change in the
machine's load during the run shows as a difference between those two rows. Server-side controls are
timed key press -> the page idle and drawn (bench/browser.py measure_latency); client-side explorables
key press -> the next frame with the explorable redrawn, with the messages sent to the server counted.
Writes bench/results/tables/rerun_table.json, which bench/RESULTS.md shows as its own table.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench.browser import Scenario, launch_browser, measure_client_latency, measure_latency
from bench.record import commit, machine, summarize_ms, write_markdown
from bench.run import all_scenarios
from tests.e2e.conftest import ROOT, free_port, start_server, stop_server, wait_healthy

TABLE = Path(__file__).parent / "results" / "tables" / "rerun_table.json"
BARE = Scenario(name="bare_slider", page="", what="bare Streamlit page, one slider",
                steps=(('.st-key-x input[type="range"]', "ArrowRight"), ('.st-key-x input[type="range"]', "ArrowLeft")))


def start_bare(port: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "streamlit", "run", str(Path(__file__).parent / "bare" / "app.py"),
           "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
           "--browser.gatherUsageStats", "false"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _row(label: str, kind: str, samples: list[float], sent: int | None, target: float | None) -> dict:
    s = summarize_ms(samples)
    return {"control": label, "kind": kind, "p50_ms": round(s["p50"], 1), "p95_ms": round(s["p95"], 1),
            "messages_to_server": sent, "target_ms": target,
            "met": None if target is None else bool(s["p95"] <= target and not sent)}


def main(argv=None) -> None:
    from playwright.sync_api import sync_playwright
    ap = argparse.ArgumentParser()
    ap.add_argument("--only")
    args = ap.parse_args(argv)
    rows = []
    bare_port, app_port = free_port(), free_port()
    bare, app = start_bare(bare_port), start_server(app_port)
    uptime_before = os.getloadavg()
    try:
        wait_healthy(bare_port, bare)
        wait_healthy(app_port, app)
        with sync_playwright() as p:
            browser = launch_browser(p)
            ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = ctx.new_page()

            def bare_row(when: str):
                rows.append(_row(f"bare Streamlit slider ({when})", "server",
                                 measure_latency(page, f"http://127.0.0.1:{bare_port}", BARE), None, None))

            bare_row("before")
            for sc in all_scenarios():
                if args.only and args.only not in sc.name:
                    continue
                base = f"http://127.0.0.1:{app_port}"
                try:
                    if sc.client:
                        page = ctx.new_page()     # the websocket counter is installed per page
                        samples, sent = measure_client_latency(page, base, sc)
                        rows.append(_row(f"{sc.name}: {sc.what}", "client", samples, sent, sc.target_ms))
                    else:
                        rows.append(_row(f"{sc.name}: {sc.what}", "server", measure_latency(page, base, sc), None,
                                         sc.target_ms))
                except Exception as exc:          # noqa: BLE001 - one broken scenario must not lose the run
                    rows.append({"control": f"{sc.name}: {sc.what}", "kind": "client" if sc.client else "server",
                                 "error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}",
                                 "target_ms": sc.target_ms, "met": False})
                    page = ctx.new_page()
                print(rows[-1], flush=True)
            bare_row("after")
            browser.close()
    finally:
        stop_server(bare)
        stop_server(app)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    runs = [{"machine": machine(), "commit": commit(), "load_before": uptime_before, "load_after": os.getloadavg(),
             "only": args.only, "rows": rows}]
    if args.only and TABLE.exists():              # a partial run adds to the last full one
        runs = json.loads(TABLE.read_text())["runs"] + runs
    TABLE.write_text(json.dumps({"runs": runs}, indent=1, ensure_ascii=False))
    write_markdown()


def markdown_section() -> list[str]:
    """bench/RESULTS.md's table of every control beside the bare slider (bench/record.py appends it)."""
    if not TABLE.exists():
        return []
    runs = json.loads(TABLE.read_text())["runs"]
    lines = ["", "## Every control beside a bare Streamlit slider (bench/rerun_table.py)", "",
             "Server: key press -> page idle and drawn. Client: key press -> the frame that paints the explorable. "
             "Each run times the bare one-slider page before and after the app's controls, on the same machine."]
    for n, r in enumerate(runs, 1):
        lines += ["", f"Run {n}{' (--only ' + r['only'] + ')' if r.get('only') else ''}: commit {r['commit']}, "
                  f"{r['machine']}; load average before {', '.join(f'{x:.1f}' for x in r['load_before'])}, "
                  f"after {', '.join(f'{x:.1f}' for x in r['load_after'])}.", "",
                  "| control | kind | p50 | p95 | messages to server | target (p95) | met |", "|---|---|---|---|---|---|---|"]
        for row in r["rows"]:
            met = "" if row["met"] is None else ("yes" if row["met"] else "**no**")
            target = f"<= {row['target_ms']:g} ms" if row["target_ms"] else ""
            if "error" in row:
                lines.append(f"| {row['control']} | {row['kind']} | {row['error']} | | | {target} | {met} |")
                continue
            sent = "" if row["messages_to_server"] is None else str(row["messages_to_server"])
            lines.append(f"| {row['control']} | {row['kind']} | {row['p50_ms']:g} ms | {row['p95_ms']:g} ms | {sent} | "
                         f"{target} | {met} |")
    return lines


if __name__ == "__main__":
    main()
