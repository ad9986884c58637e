from bench.browser import Scenario

_INDEX = '.st-key-cnn_anatomy-index input[type="range"]'
_IG_INDEX = '.st-key-interpretability-index input[type="range"]'

SCENARIOS = [
    Scenario(name="cnn_anatomy_digit", page="cnn_anatomy",
             what="pick another held-out digit (slider): every layer's maps, filters, fc1, probabilities redrawn",
             steps=((_INDEX, "ArrowRight"), (_INDEX, "ArrowLeft")), target_ms=300),
    Scenario(name="interpretability_digit", page="interpretability",
             what="pick another held-out digit: four attributions (IG 32 steps) and the completeness check",
             steps=((_IG_INDEX, "ArrowRight"), (_IG_INDEX, "ArrowLeft")), target_ms=2000),
]
