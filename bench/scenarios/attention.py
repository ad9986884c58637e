from bench.browser import Scenario

_SLIDER = '.st-key-attention-{} input[type="range"]'     # Streamlit 1.67 sliders are <input type=range>
_EXAMPLE = '.st-key-attention-example button:has-text("{}")'
_MODEL_TAB = "() => document.querySelectorAll('[role=\"tab\"]')[1].click()"

SCENARIOS = [
    Scenario(name="attention_dk", page="attention", target_ms=100,
             what="by hand: change d_k (Q, K, V, scores, weights, row formula redrawn): key press to drawn",
             steps=((_SLIDER.format("dk"), "ArrowRight"), (_SLIDER.format("dk"), "ArrowLeft"))),
    Scenario(name="attention_query", page="attention", target_ms=100,
             what="by hand: pick another query token (row written out with numbers): key press to drawn",
             steps=((_SLIDER.format("query"), "ArrowRight"), (_SLIDER.format("query"), "ArrowLeft"))),
    Scenario(name="attention_model_encode", page="attention", target_ms=400, setup_js=_MODEL_TAB,
             what="real model: encode a new ~20-token sentence and draw all 72 heads + head views (uncached)",
             steps=((_EXAMPLE.format("I went to the bank"), "Space"),
                    (_EXAMPLE.format("Attention lets every"), "Space")),
             extra={"tokens": "19-20"}),
]
