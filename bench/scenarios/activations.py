from bench.browser import Scenario

_SLIDER = '.st-key-activations-{} input[type="range"]'   # Streamlit 1.67's slider thumb

SCENARIOS = [
    Scenario(name="activations_x0", page="activations",
             what="move x0 (activations): f and f' charts with the point, the values and the formula redrawn",
             steps=((_SLIDER.format("x0"), "ArrowRight"), (_SLIDER.format("x0"), "ArrowLeft")),
             target_ms=100),
    Scenario(name="activations_depth", page="activations",
             what="move the depth N (activations): gradient-through-50-layers chart and metrics redrawn",
             steps=((_SLIDER.format("depth"), "ArrowRight"), (_SLIDER.format("depth"), "ArrowLeft")),
             target_ms=100),
]
