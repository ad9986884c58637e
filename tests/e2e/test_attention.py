"""The self-attention page in a real browser.

- The by-hand explorable's JavaScript (app_pages/components/attention_row.js) against the core's
  scaled_dot_product_attention_explained on random cases (T, d_k, heads, temperature, scaling, mask).
- In the app: the row the JS draws equals the core's by_hand_attention; the arrow keys, a click on the
  weight matrix and the mask / scaling switches redraw with nothing sent to the server; the settings
  reach the URL once the learner stops; a URL restores them; a d_k key press (server-side) gives new
  Q, K, V; in the real model a Chinese example shows the [UNK] message and a click enlarges a head.
"""
import json

import numpy as np
import pytest
import torch

from bigmodel_core.i18n import t
from bigmodel_core.models import bert
from bigmodel_core.ops import attention as A
from app_pages._explorables import component_js
from tests.e2e.conftest import assert_no_exception, screenshot, wait_idle


def test_attention_js_equals_python_on_random_cases(browser):
    page = browser.new_page()
    page.set_content("<html><body></body></html>")
    page.add_script_tag(content=component_js("attention_row", "_heatmap") + "\nwindow.__att = {attention};", type="module")
    page.wait_for_function("() => window.__att !== undefined")
    rng = np.random.default_rng(0)
    cases, wants = [], []
    for n in range(40):
        heads, T, d_k = int(rng.integers(1, 5)), int(rng.integers(1, 25)), int(rng.integers(2, 65))
        Q, K, V = (torch.randn(heads, T, d_k, generator=torch.Generator().manual_seed(3 * n + k)) * float(rng.uniform(0.3, 2.5))
                   for k in range(3))
        s = {"temperature": float(rng.choice([0.1, 0.5, 1.0, 1.7, 5.0])), "scale": bool(rng.integers(2)),
             "causal": bool(rng.integers(2))}
        head = int(rng.integers(heads))
        want = A.scaled_dot_product_attention_explained(Q.double(), K.double(), V.double(),
                                                        mask=A.causal_mask(T) if s["causal"] else None,
                                                        scale=s["scale"], temperature=s["temperature"])
        cases.append({"Q": Q.flatten().tolist(), "K": K.flatten().tolist(), "V": V.flatten().tolist(),
                      "T": T, "dk": d_k, "head": head, "s": s})
        wants.append((want, head))
    got = page.evaluate("""(cases) => cases.map((c) => {
        const f = (a) => Float32Array.from(a);
        const r = window.__att.attention(f(c.Q), f(c.K), f(c.V), c.T, c.dk, c.head, c.s);
        return {w: Array.from(r.weights), o: Array.from(r.output), s: Array.from(r.scores, (v) => (isFinite(v) ? v : null)),
                factor: r.factor};
    })""", cases)
    worst = 0.0
    for g, (want, h) in zip(got, wants):
        T = want.weights.shape[-1]
        w, o = np.asarray(g["w"]).reshape(T, T), np.asarray(g["o"]).reshape(T, -1)
        s = np.asarray([np.nan if v is None else v for v in g["s"]]).reshape(T, T)
        masked = ~torch.isfinite(want.scores[h]).numpy()
        assert (np.isnan(s) == masked).all()                         # the same cells masked ...
        assert (w[masked] == 0).all()                                 # ... with weight exactly 0
        assert np.allclose(w.sum(-1), 1, atol=1e-12)
        assert g["factor"] == pytest.approx(want.factor, rel=1e-12)
        worst = max(worst, float(np.abs(w - want.weights[h].numpy()).max()), float(np.abs(o - want.output[h].numpy()).max()),
                    float(np.nanmax(np.abs(s - np.where(masked, np.nan, want.scores[h].numpy())), initial=0)))
    print(f"attention_row.js vs scaled_dot_product_attention_explained: max |difference| {worst:.1e}")
    assert worst < 1e-9, worst        # both in float64 over the same float32 Q, K, V
    page.close()


def _row(page) -> dict:
    root = page.locator(".ar-root")
    return {"query": int(root.get_attribute("data-query")), "weights": np.asarray(json.loads(root.get_attribute("data-weights"))),
            "output": np.asarray(json.loads(root.get_attribute("data-output")))}


def _core(text, *, d_k=8, causal=False, scale=True, temperature=1.0):
    model = bert.load_minilm()
    sentence = A.sentence_pieces(model, text)
    X = A.sentence_embeddings(model, sentence, source="pretrained")
    return A.by_hand_attention(sentence.tokens, X, d_k=d_k, causal=causal, scale=scale, temperature=temperature)


def test_by_hand_explorable_keys_click_commit_then_model_view(app_url, page):
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    page.goto(app_url)                          # through the app frame (wide layout, navigation)
    wait_idle(page, timeout=180_000)
    page.goto(f"{app_url}/attention?attention.query=2&attention.temp=0.5")       # a URL restores the settings
    wait_idle(page, timeout=180_000)
    assert_no_exception(page)
    page.locator(".ar-root").wait_for()
    bh = _core("The cat sat on the mat because it was tired", temperature=0.5)
    row = _row(page)
    assert row["query"] == 2
    assert np.abs(row["weights"] - bh.attn.weights[0, 2].numpy()).max() < 1e-5
    assert np.abs(row["output"] - bh.attn.output[0, 2].numpy()).max() < 1e-5
    assert page.locator(".ar-root .ar-title", has_text=t("attention.row_title", token="sat", i=2)).count() == 1

    # arrow keys on the query and temperature sliders, a click on row 3 of the weight matrix and the
    # causal switch: redrawn in the browser, nothing sent to the server
    before = len(sent)
    page.locator('.ar-slider input[name="query"]').focus()
    page.keyboard.press("ArrowRight")                                            # query 3: "on"
    page.locator('.ar-slider input[name="temperature"]').focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")                                        # temperature 1.0
    page.locator(".ar-weights rect[data-row='4'][data-col='0']").click()        # query 4: "the"
    page.locator(".ar-weights").press("ArrowUp")                                 # query 3 again
    page.locator('.ar-check input[name="causal"]').check()
    page.wait_for_timeout(300)
    assert len(sent) == before
    bh = _core("The cat sat on the mat because it was tired", causal=True)
    row = _row(page)
    assert row["query"] == 3
    assert np.abs(row["weights"] - bh.attn.weights[0, 3].numpy()).max() < 1e-5
    assert (row["weights"][4:] == 0).all()                                       # causal: no later token
    # the learner stops: the settings reach the server and the URL
    page.wait_for_url("**attention.causal=1**", timeout=10_000)
    assert "attention.query=3" in page.url and "attention.temp=1.0" in page.url
    wait_idle(page)
    assert_no_exception(page)

    # d_k is the server's (new projections): a key press, new Q, K, V in the explorable
    dk = page.locator('.st-key-attention-dk input[type="range"]')
    assert dk.input_value() == "8"
    dk.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url("**attention.dk=9**")
    wait_idle(page)
    page.get_by_text(t("attention.q_title", d_k=9)).wait_for()
    bh = _core("The cat sat on the mat because it was tired", d_k=9, causal=True)
    assert np.abs(_row(page)["output"] - bh.attn.output[0, 3].numpy()).max() < 1e-5
    screenshot(page, "attention-by-hand")

    page.get_by_role("tab").nth(1).click()
    page.locator(".st-key-attention-example button", has_text="注意力机制").click()
    page.get_by_text("are [UNK]").first.wait_for()
    wait_idle(page)
    heads = page.locator(".st-key-attention-model_click .mark-symbol path")
    heads.nth(2 * 12 + 4).click()                                       # layer 3, head 5
    page.get_by_text(t("attention.head_view", layer=3, head=5)).wait_for()
    wait_idle(page)
    assert_no_exception(page)
    screenshot(page, "attention-model")
