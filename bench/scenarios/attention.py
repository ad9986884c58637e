"""Self-attention: the by-hand explorable (client-side: no rerun per key press), d_k (server-side: new
projections) and the real model's encoding."""
from bench.browser import Scenario

_HOST = ".st-key-attention-row"
_CONTROL = _HOST + ' input[name="{}"]'
_SLIDER = '.st-key-attention-{} input[type="range"]'     # Streamlit 1.67 sliders are <input type=range>
_EXAMPLE = '.st-key-attention-example button:has-text("{}")'
_MODEL_TAB = "() => document.querySelectorAll('[role=\"tab\"]')[1].click()"

SCENARIOS = [
    Scenario(name="attention_query", page="attention", target_ms=50, client=_HOST,
             what="by-hand explorable: query-row key press -> weight matrix outline, score and softmax rows, c_i, "
                  "formula and Q / scores / output outlines redrawn in the browser, next frame",
             steps=((_CONTROL.format("query"), "ArrowRight"), (_CONTROL.format("query"), "ArrowLeft"))),
    Scenario(name="attention_temperature", page="attention", target_ms=50, client=_HOST,
             what="by-hand explorable: temperature key press -> every row's softmax recomputed (T x T x d_k) and "
                  "all matrices recoloured, next frame",
             steps=((_CONTROL.format("temperature"), "ArrowRight"), (_CONTROL.format("temperature"), "ArrowLeft"))),
    Scenario(name="attention_causal", page="attention", target_ms=50, client=_HOST,
             what="by-hand explorable: causal mask switched with Space -> masked scores and weights redrawn, next frame",
             steps=((_CONTROL.format("causal"), "Space"),)),
    Scenario(name="attention_dk", page="attention", target_ms=250,
             what="by hand: change d_k (server-side: new W_Q, W_K, W_V, Q, K, V sent to the explorable, which "
                  "redraws; saturation chart): key press to drawn",
             steps=((_SLIDER.format("dk"), "ArrowRight"), (_SLIDER.format("dk"), "ArrowLeft"))),
    Scenario(name="attention_model_encode", page="attention", target_ms=400, setup_js=_MODEL_TAB,
             what="real model: encode a new ~20-token sentence and draw all 72 heads + head views (uncached)",
             steps=((_EXAMPLE.format("I went to the bank"), "Space"),
                    (_EXAMPLE.format("Attention lets every"), "Space")),
             extra={"tokens": "19-20"}),
]
