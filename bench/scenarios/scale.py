from bench.browser import Scenario

_LAYERS = '.st-key-scale-n_layer input'
_BUDGET = '.st-key-scale-log_c input[type="range"]'

SCENARIOS = [
    Scenario(name="scale_layers", page="scale",
             what="how big is big: change the number of layers (count, breakdown table + bar, memory): key press to drawn",
             steps=((_LAYERS, "ArrowUp"), (_LAYERS, "ArrowDown"), (_LAYERS, "ArrowUp"), (_LAYERS, "ArrowDown")),
             target_ms=300),
]
