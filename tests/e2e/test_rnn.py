"""The RNN page in a real browser.

- The step-through explorable's JavaScript (app_pages/components/rnn_step.js) against the core's
  run_sequence on random cells (kind, sizes, weights, bias or not), run in Chromium itself.
- In the app: the states the JS draws equal the trained cell's; the arrow keys on the slider and on the
  heat map move the step with nothing sent to the server (also in the three cells side by side); the step reaches the URL once the learner stops;
  play advances by itself; a URL restores the cell and the step; Chinese and the sine wave.
"""
import json

import numpy as np
import torch
from torch import nn

from bigmodel_core.models import rnn as M
from bigmodel_core.ops.rnn import run_sequence
from app_pages._explorables import component_js
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_rnn_step_js_equals_run_sequence_on_random_cells(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("rnn_step", "_heatmap") + "\nwindow.__rnn = {runSequence, readout};", type="module")
    page.wait_for_function("() => window.__rnn !== undefined")
    rng = np.random.default_rng(0)
    cases, wants = [], []
    for n in range(30):
        kind = ("rnn", "lstm", "gru")[n % 3]
        I, H, T = int(rng.integers(1, 7)), int(rng.integers(1, 12)), int(rng.integers(1, 41))
        torch.manual_seed(n)
        cell = M.CELL_CLASSES[kind](I, H, bias=bool(n % 4), batch_first=True)
        with torch.no_grad():
            for p in cell.parameters():
                p.mul_(float(rng.uniform(0.5, 4)))                   # saturating gates too
        x = torch.randn(T, I) * float(rng.uniform(0.3, 3))
        model = M.NextStep(kind, I, H, int(rng.integers(1, 6)))
        model.cell = cell
        arrays = M.step_arrays(model, M.Encoded(x, tuple("a" * T), "sine"))
        with torch.no_grad():
            run = run_sequence(cell, x)
            want = {"h": run.hidden_states.numpy(), "gates": {k: v.numpy() for k, v in run.gates().items()},
                    "y": model.readout(run.hidden_states).numpy()}
        cases.append({k: (v.ravel().tolist() if isinstance(v, np.ndarray) else v) for k, v in arrays.items()}
                     | {"T": T, "I": I, "H": H, "O": int(arrays["V"].shape[0])})
        wants.append(want)
    got = page.evaluate("""(cases) => cases.map((c) => {
        const f = (a) => Float32Array.from(a);
        const steps = window.__rnn.runSequence(c.kind, f(c.x), c.T, c.I, c.H, f(c.W), f(c.U), f(c.b_ih), f(c.b_hh));
        const pick = (name) => steps.map((s) => Array.from(s[name]));
        const names = {rnn: ["pre", "h"], lstm: ["i", "f", "g", "o", "c", "h"], gru: ["r", "z", "n", "h"]}[c.kind];
        return {gates: Object.fromEntries(names.map((n) => [n, pick(n)])),
                y: steps.map((s) => Array.from(window.__rnn.readout(f(c.V), f(c.c), s.h, c.O, c.H, false).y))};
    })""", cases)
    worst = 0.0
    for g, want in zip(got, wants):
        for name, values in want["gates"].items():
            worst = max(worst, float(np.abs(np.asarray(g["gates"][name]) - values).max()))
        worst = max(worst, float(np.abs(np.asarray(g["y"]) - want["y"]).max()))
    print(f"rnn_step.js vs run_sequence: max |difference| {worst:.1e}")
    assert worst < 2e-5, worst                                     # float32 (torch) vs float64 (JS)
    page.close()


def _stepper(page):
    return page.locator(".rs-root:not(.rs-compare)")


def test_rnn_page_steps_in_the_browser_and_commits_the_step(app_url, page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(f"{app_url}/rnn?lang=en&rnn.text=hello%20hello&rnn.cell=lstm&rnn.t=3")
    wait_idle(page, timeout=240_000)          # first visit: three small cells are trained on the text
    assert_no_exception(page)
    root = _stepper(page)
    root.wait_for()
    assert root.get_attribute("data-step") == "3"                 # the URL restored the step ...
    assert root.locator(".bm-heatmap").count() == 5               # ... and the cell: h + i, f, o, c

    # the JS's states equal the trained LSTM's
    seq = M.encode_text("hello hello")
    model = M.fit_next_step("lstm", seq, hidden_size=8)
    with torch.no_grad():
        run = run_sequence(model.cell, seq.x)
    h3 = np.asarray(json.loads(root.get_attribute("data-h")))
    assert np.abs(h3 - run.hidden_states[2].numpy()).max() < 1e-5

    # arrow keys on the slider and on the heat map move the step with nothing sent to the server
    before = len(sent)
    page.locator('.rs-slider input[name="step"]').focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")                             # t = 5: "o"
    assert root.get_attribute("data-step") == "5"
    assert page.locator(".rs-metric-value").first.inner_text() == "o"
    page.locator(".bm-heatmap-pick").first.focus()
    page.keyboard.press("ArrowRight")                             # t = 6: the space
    page.wait_for_timeout(300)
    assert len(sent) == before
    h6 = np.asarray(json.loads(root.get_attribute("data-h")))
    assert np.abs(h6 - run.hidden_states[5].numpy()).max() < 1e-5
    assert page.locator(".rs-metric-value").first.inner_text() == "␣"
    # the learner stops: the step reaches the server and the URL
    page.wait_for_url("**rnn.t=6*", timeout=10_000)
    assert len(sent) > before
    wait_idle(page)
    screenshot(page, "rnn_step")

    # RNN, LSTM and GRU side by side: h and gates of all three, one step outlined, moved in the browser
    gates = page.locator(".rs-compare")
    assert gates.locator(".bm-heatmap").count() == 1 + 5 + 3
    assert gates.get_attribute("data-step") == "3"                # the page's step when it was drawn
    before = len(sent)
    gates.locator('input[name="compare_step"]').focus()
    page.keyboard.press("End")                                    # the last step
    assert gates.get_attribute("data-step") == "11"
    page.wait_for_timeout(300)
    assert len(sent) == before

    # play advances by itself, stop commits
    page.locator(".rs-play").click()
    page.locator(".rs-root:not(.rs-compare)[data-step='8']").wait_for(timeout=10_000)
    page.locator(".rs-play").click()
    wait_idle(page)
    assert_no_exception(page)


def test_rnn_page_chinese_sine(app_url, page):
    page.goto(f"{app_url}/rnn?lang=zh&rnn.source=sine&rnn.scale=3.0&rnn.t=12")
    wait_idle(page, timeout=240_000)
    assert_no_exception(page)
    assert page.get_by_text("RNN 隐藏状态").first.is_visible()
    _stepper(page).wait_for()
    assert _stepper(page).get_attribute("data-step") == "12"
    screenshot(page, "rnn_sine_zh")
