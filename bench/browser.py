"""Browser benchmarks: cold start, interaction latency (key press -> page idle and drawn), memory.

Latency is measured inside the page: the time of the keydown event (performance.now()) to two
animation frames after Streamlit's script state returns to "notRunning", so Python's round trips
to the browser are not counted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil

from tests.e2e.conftest import CHROMIUM, free_port, start_server, wait_healthy, wait_idle

_LATENCY_PROBE = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__bench = {keydown: null, done: null, sawRunning: false};
  document.addEventListener('keydown', () => {
    Object.assign(window.__bench, {keydown: performance.now(), done: null, sawRunning: false});
  }, true);
  new MutationObserver(() => {
    const b = window.__bench, s = app.getAttribute('data-test-script-state');
    if (s === 'running') b.sawRunning = true;
    if (s === 'notRunning' && b.sawRunning && b.keydown !== null && b.done === null) {
      requestAnimationFrame(() => requestAnimationFrame(() => { b.done = performance.now(); }));
    }
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}
"""


@dataclass(frozen=True)
class Scenario:
    """Press keys on a control and time each rerun.

    steps: (CSS selector, key) pairs used in turn, e.g. a slider's thumb with ArrowRight then
    ArrowLeft, so the value goes back and forth. Streamlit gives each keyed widget the class
    st-key-<key> (dots and other symbols become '-'): '.st-key-conv-stride [role="slider"]'.
    """
    name: str                      # results file name, e.g. "conv_stride"
    page: str                      # URL path, "" for home
    what: str                      # a line for RESULTS.md
    steps: tuple[tuple[str, str], ...]
    query: str = ""                # e.g. "conv.image=camera"
    presses: int = 20
    warmup: int = 3
    target_ms: float | None = None
    setup_js: str | None = None    # optional JS run once before timing (e.g. click something)
    extra: dict = field(default_factory=dict)


def measure_latency(page, base_url: str, sc: Scenario) -> list[float]:
    url = f"{base_url}/{sc.page}" + (f"?{sc.query}" if sc.query else "")
    page.goto(url)
    wait_idle(page)
    if sc.setup_js:
        page.evaluate(sc.setup_js)
        wait_idle(page)
    page.evaluate(_LATENCY_PROBE)
    samples = []
    for i in range(sc.warmup + sc.presses):
        selector, key = sc.steps[i % len(sc.steps)]
        page.locator(selector).first.focus()
        page.keyboard.press(key)
        page.wait_for_function("() => window.__bench.done !== null", timeout=60_000)
        ms = page.evaluate("() => window.__bench.done - window.__bench.keydown")
        if i >= sc.warmup:
            samples.append(ms)
        time.sleep(0.05)
    return samples


def cold_start(browser, runs: int = 3) -> list[float]:
    """Seconds from launching `streamlit run app.py` to the home page fully rendered."""
    out = []
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        proc = start_server(port)
        try:
            wait_healthy(port, proc, timeout=120)
            ctx = browser.new_context()
            page = ctx.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            page.wait_for_selector("h1")
            wait_idle(page)
            out.append(time.perf_counter() - t0)
            ctx.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return out


def server_rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
