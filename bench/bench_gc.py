"""Which way to remove Streamlit's per-rerun gc.collect(2) cost: measure a simple rerun three ways.

  default     postScriptGC = false (.streamlit/config.toml) and gc.freeze() after PyTorch loads
  freeze      postScriptGC = true, gc.freeze() after PyTorch loads
  neither     postScriptGC = true, no freeze (Streamlit's defaults)

The rerun is the home page's language switch, after the CNN page has loaded a model into the process.
"""
from __future__ import annotations

from playwright.sync_api import sync_playwright

from bench.browser import Scenario, launch_browser, measure_latency
from bench.record import record, summarize_ms
from bench.scenarios.home import SCENARIOS
from tests.e2e.conftest import free_port, start_server, stop_server, wait_healthy, wait_idle

VARIANTS = {
    "default": ({}, ()),
    "freeze": ({}, ("--runner.postScriptGC", "true")),
    "neither": ({"BIGMODEL_GC_FREEZE": "0"}, ("--runner.postScriptGC", "true")),
}


def main() -> None:
    scenario: Scenario = SCENARIOS[0]
    results = {}
    with sync_playwright() as p:
        browser = launch_browser(p)
        for name, (env, args) in VARIANTS.items():
            port = free_port()
            proc = start_server(port, env=env, args=args)
            try:
                wait_healthy(port, proc)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/cnn_anatomy")   # load torch models into the heap
                wait_idle(page, timeout=180_000)
                results[name] = summarize_ms(measure_latency(page, f"http://127.0.0.1:{port}", scenario))
                page.close()
            finally:
                stop_server(proc)
        browser.close()
    for name, s in results.items():
        print(f"{name}: p50 {s['p50']:.0f} ms, p95 {s['p95']:.0f} ms")
    d = results["default"]
    record("gc_rerun", page="app", what="simple rerun (language switch) with postScriptGC=false + gc.freeze",
           value=d["p95"], unit="ms p95", target="lower than Streamlit's defaults",
           ok=d["p50"] < results["neither"]["p50"],
           detail={"default_p50_ms": d["p50"], "freeze_only_p50_ms": results["freeze"]["p50"],
                   "freeze_only_p95_ms": results["freeze"]["p95"],
                   "streamlit_defaults_p50_ms": results["neither"]["p50"],
                   "streamlit_defaults_p95_ms": results["neither"]["p95"]})


if __name__ == "__main__":
    main()
