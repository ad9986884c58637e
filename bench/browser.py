"""Browser benchmarks: cold start, interaction latency (key press -> page idle and drawn), memory.

Latency is measured inside the page (performance.now()): from the keydown event to the last DOM
change the rerun makes, once the script has finished and the page has been quiet for QUIET_MS,
so Python's round trips to the browser are not counted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import psutil

from tests.e2e.conftest import CHROMIUM, free_port, start_server, stop_server, wait_healthy, wait_idle

_LATENCY_PROBE = """
() => {
  // keydown -> the last DOM change the rerun causes. Streamlit's data-test-script-state is not
  // enough on its own: a rerun faster than a React commit never changes the attribute.
  const app = document.querySelector('[data-testid="stApp"]');
  window.__bench = {keydown: null, last: null};
  const start = () => Object.assign(window.__bench, {keydown: performance.now(), last: null});
  document.addEventListener('keydown', start, true);
  document.addEventListener('pointerdown', start, true);     // a click step starts the clock too
  new MutationObserver(() => {
    if (window.__bench.keydown !== null) window.__bench.last = performance.now();
  }).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__benchSettled = (quietMs) => {
    const b = window.__bench;
    return b.last !== null && app.getAttribute('data-test-script-state') === 'notRunning'
           && performance.now() - b.last > quietMs;
  };
}
"""
QUIET_MS = 300   # no DOM change for this long after the last one = the page is idle and drawn

# Client-side explorables (components v2) redraw inside a shadow root, which a MutationObserver on
# document.body does not see, and with no rerun. This probe observes the component's shadow root:
# key press -> the first animation frame after the explorable changed its DOM (the frame that paints
# it), and counts the messages the page sends to the server meanwhile (a rerun is one of them).
_WS_COUNTER = """
() => {
  if (window.__wsSent !== undefined) return;
  window.__wsSent = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (...args) { window.__wsSent += 1; return send.apply(this, args); };
}
"""
_CLIENT_PROBE = """
(hostSelector) => {
  const host = document.querySelector(hostSelector + ' [data-testid="stBidiComponentIsolated"]')
            || document.querySelector(hostSelector);
  const root = host.shadowRoot || host;
  window.__cbench = {keydown: null, frame: null, sent0: 0, changed: false};
  document.addEventListener('keydown', () => Object.assign(window.__cbench,
      {keydown: performance.now(), frame: null, sent0: window.__wsSent, changed: false}), true);
  new MutationObserver(() => {
    const b = window.__cbench;
    if (b.keydown === null || b.changed) return;
    b.changed = true;
    requestAnimationFrame(() => { b.frame = performance.now(); });
  }).observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
}
"""


@dataclass(frozen=True)
class Scenario:
    """Press keys on a control and time each rerun.

    steps: (CSS selector, key) pairs used in turn, e.g. a slider's thumb with ArrowRight then
    ArrowLeft, so the value goes back and forth. A key "click:fx,fy" clicks the element at that
    fraction of its width and height instead (a chart's selection), timed from the pointer down. Streamlit gives each keyed widget the class
    st-key-<key> (characters outside A-Z a-z 0-9 _ - become '-'; underscores stay). A slider's
    thumb in Streamlit 1.67 is an input[type="range"]: '.st-key-conv-stride input[type="range"]'.
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
    client: str | None = None      # a client-side explorable: CSS selector of its element (st-key-...)


def measure_client_latency(page, base_url: str, sc: Scenario) -> tuple[list[float], int]:
    """Key press -> the next frame with the explorable redrawn; also the messages sent to the server
    during the presses (0 when the control is purely client-side)."""
    page.add_init_script(_WS_COUNTER)
    url = f"{base_url}/{sc.page}" + (f"?{sc.query}" if sc.query else "")
    page.goto(url)
    wait_idle(page, timeout=180_000)
    if sc.setup_js:                               # e.g. train first, so there is something to replay
        page.evaluate(sc.setup_js)
        wait_idle(page, timeout=180_000)
    page.locator(sc.client).first.wait_for()
    page.evaluate(_WS_COUNTER)
    page.evaluate(_CLIENT_PROBE, sc.client)
    samples, sent = [], 0
    for i in range(sc.warmup + sc.presses):
        selector, key = sc.steps[i % len(sc.steps)]
        page.locator(selector).first.focus()
        page.keyboard.press(key)
        page.wait_for_function("() => window.__cbench.frame !== null", timeout=10_000)
        page.wait_for_timeout(50)                  # anything sent to the server would go now
        b = page.evaluate("() => ({ms: window.__cbench.frame - window.__cbench.keydown,"
                          " sent: window.__wsSent - window.__cbench.sent0})")
        if i >= sc.warmup:
            samples.append(b["ms"])
            sent += b["sent"]
    return samples, sent


def measure_latency(page, base_url: str, sc: Scenario) -> list[float]:
    url = f"{base_url}/{sc.page}" + (f"?{sc.query}" if sc.query else "")
    page.goto(url)
    wait_idle(page, timeout=180_000)      # a page's first run may load a model or train one
    if sc.setup_js:
        page.evaluate(sc.setup_js)
        wait_idle(page)
    page.evaluate(_LATENCY_PROBE)
    samples = []
    for i in range(sc.warmup + sc.presses):
        selector, key = sc.steps[i % len(sc.steps)]
        target = page.locator(selector).first
        if key.startswith("click:"):
            fx, fy = (float(v) for v in key[len("click:"):].split(","))
            target.scroll_into_view_if_needed()      # a click below the fold would land nowhere
            box = target.bounding_box()
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        else:
            target.focus()
            for k in key.split():              # "ArrowUp Enter": a number input commits on Enter
                page.keyboard.press(k)
        page.wait_for_function(f"() => window.__benchSettled({QUIET_MS})", timeout=60_000)
        ms = page.evaluate("() => window.__bench.last - window.__bench.keydown")
        if i >= sc.warmup:
            samples.append(ms)
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
            stop_server(proc)
    return out


def server_rss_mb(pid: int) -> float:
    proc = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]) / 2**20


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
