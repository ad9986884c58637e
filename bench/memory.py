"""Where the server's memory goes: resident memory after each page's first visit, in one process.

    python -m bench.memory            # writes bench/results/server_memory*.json and RESULTS.md

Target (instant-interactions issue): at most 1.0 GB resident with every page visited, the LLM
pages included. The rows say how much each page's first visit added (its models, its cached
results, Streamlit's per-session state), so a miss names where the memory went.
"""
from __future__ import annotations

import time

from bench.browser import launch_browser, server_rss_mb
from bench.record import record, write_markdown
from tests.e2e.conftest import free_port, start_server, stop_server, wait_healthy, wait_idle

TARGET_MIB = 1e9 / 2**20          # 1.0 GB = 953.7 MiB


def main() -> None:
    from playwright.sync_api import sync_playwright

    from app_pages._ui import available_pages
    port = free_port()
    proc = start_server(port)
    steps = []
    try:
        wait_healthy(port, proc)
        steps.append(("server started", server_rss_mb(proc.pid)))
        with sync_playwright() as p:
            browser = launch_browser(p)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            for info in available_pages():
                page.goto(f"http://127.0.0.1:{port}/{'' if info.key == 'home' else info.key}")
                wait_idle(page, timeout=300_000)
                time.sleep(1.0)                       # let the page's last rerun release its temporaries
                steps.append((info.key, server_rss_mb(proc.pid)))
                print(f"{info.key:>20}: {steps[-1][1]:7.1f} MiB (+{steps[-1][1] - steps[-2][1]:6.1f})", flush=True)
            browser.close()
    finally:
        stop_server(proc)
    total = steps[-1][1]
    added = {name: round(mb - steps[i][1], 1) for i, (name, mb) in enumerate(steps[1:])}
    record("server_memory", page="app", what="server resident memory after visiting every page (LLM pages included)",
           value=total, unit="MiB", target=f"<= 1.0 GB ({TARGET_MIB:.0f} MiB)", ok=total <= TARGET_MIB,
           detail={"pages": len(steps) - 1, "at_start_mib": round(steps[0][1], 1),
                   "added_by_first_visit_mib": added})
    write_markdown()


if __name__ == "__main__":
    main()
