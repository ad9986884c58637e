"""The compression page's controls: each sits in a fragment and only looks up precomputed results or
quantizes one layer (milliseconds), so the target is the instant-interactions issue's 250 ms p95 for
server-side controls. A part in a tab other than the first is opened once by setup_js."""
from bench.browser import Scenario

_SLIDER = '.st-key-compression-{} input[type="range"]'


def _tab(i: int) -> str:
    return f"() => document.querySelectorAll('[role=\"tab\"]')[{i}].click()"


SCENARIOS = [
    Scenario(name="compression_bits", page="compression", target_ms=250,
             what="quantize a layer: bits 4 <-> 5 (histograms of w and w_hat, error, whole-CNN accuracy and size, outlier demo, formula)",
             steps=((_SLIDER.format("bits"), "ArrowRight"), (_SLIDER.format("bits"), "ArrowLeft"))),
    Scenario(name="compression_per_channel", page="compression", target_ms=250,
             what="quantize a layer: per-tensor <-> per-channel scale (toggle, Space): histograms, error, accuracy, formula",
             steps=(('.st-key-compression-per_channel input[type="checkbox"]', "Space"),) * 2),
    Scenario(name="compression_outlier", page="compression", target_ms=250,
             what="quantize a layer: the outlier factor 10x <-> 20x (the part's fragment redraws)",
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
