"""The compression page's controls: each sits in a fragment and only looks up precomputed results or
quantizes one layer (milliseconds), so the target is the instant-interactions issue's 250 ms p95 for
server-side controls. A part in a tab other than the first is opened once by setup_js."""
from bench.browser import Scenario

_SLIDER = '.st-key-compression-{} input[type="range"]'
_HOST = ".st-key-compression-bits_view"                          # the explorable (components/compression_bits.js)
_BITS = _HOST + ' input[name="bits"]'


def _tab(i: int) -> str:
    return f"() => document.querySelectorAll('[role=\"tab\"]')[{i}].click()"


SCENARIOS = [
    Scenario(name="compression_bits", page="compression", target_ms=50, client=_HOST,
             what="bits explorable, conv2 (18,432 weights): key press -> quantized in the browser, both histograms, "
                  "error, SQNR, formula, looked-up CNN accuracy / size / outlier numbers, bits chart rule, next frame; "
                  "messages to the server counted",
             steps=((_BITS, "ArrowRight"), (_BITS, "ArrowLeft"))),
    Scenario(name="compression_bits_fc1", page="compression", target_ms=50, client=_HOST,
             query="compression.layer=fc1",
             what="bits explorable, fc1 (401,408 weights, the largest layer): key press -> quantized and binned in the "
                  "browser, everything above redrawn, next frame",
             steps=((_BITS, "ArrowRight"), (_BITS, "ArrowLeft"))),
    Scenario(name="compression_per_channel", page="compression", target_ms=250,
             what="quantize a layer: per-tensor <-> per-channel scale (toggle, Space; server: the fragment reruns and re-sends the layer to the explorable)",
             steps=(('.st-key-compression-per_channel input[type="checkbox"]', "Space"),) * 2),
    Scenario(name="compression_outlier", page="compression", target_ms=250,
             what="quantize a layer: the outlier factor 10x <-> 20x (server: the outlier experiment at bits 2..8, cached, sent to the explorable)",
             steps=((_SLIDER.format("outlier"), "ArrowRight"), (_SLIDER.format("outlier"), "ArrowLeft"))),
    Scenario(name="compression_q4_block", page="compression", target_ms=250, setup_js=_tab(1),
             what="LLM Q4_1: the transformer block 0 <-> 1 (read 20 bytes from the GGUF, decode, table, chart)",
             steps=((_SLIDER.format("q_layer"), "ArrowRight"), (_SLIDER.format("q_layer"), "ArrowLeft"))),
    Scenario(name="compression_sparsity", page="compression", target_ms=250, setup_js=_tab(2),
             what="pruning: sparsity 50 <-> 60 % (recorded curves, conv1's pruned filters computed and cached)",
             steps=((_SLIDER.format("sparsity"), "ArrowRight"), (_SLIDER.format("sparsity"), "ArrowLeft"))),
    Scenario(name="compression_temperature", page="compression", target_ms=250, setup_js=_tab(3),
             what="distillation: T 4 <-> 8 (recorded students, the teacher's softmax at T for one digit)",
             steps=((_SLIDER.format("T"), "ArrowRight"), (_SLIDER.format("T"), "ArrowLeft"))),
]
