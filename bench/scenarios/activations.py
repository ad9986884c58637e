"""Activations: the explorable (client-side: f, f', x0, the range, the focus, the depth N) and the leaky
slope, which reruns the PyTorch depth experiment in its fragment (server-side)."""
from bench.browser import Scenario

_HOST = ".st-key-activations-explorable"
_INPUT = _HOST + ' input[name="{}"]'

SCENARIOS = [
    Scenario(name="activations_x0", page="activations", target_ms=50, client=_HOST,
             what="activations explorable: x0 key press -> f and f' of six activations (241 points each), the "
                  "point, the values and the formula redrawn in the browser, next frame; messages to the server counted",
             steps=((_INPUT.format("x0"), "ArrowRight"), (_INPUT.format("x0"), "ArrowLeft"))),
    Scenario(name="activations_depth", page="activations", target_ms=50, client=_HOST,
             what="activations explorable: depth N key press -> the 50-layer chart's rule and points, the metric "
                  "and the formula redrawn in the browser, next frame",
             steps=((_INPUT.format("depth"), "ArrowRight"), (_INPUT.format("depth"), "ArrowLeft"))),
    Scenario(name="activations_focus", page="activations", target_ms=50, client=_HOST,
             what="activations explorable: arrow key on the activation radios -> another focus: both charts, the "
                  "saturated bands, the depth chart and the formulas redrawn in the browser, next frame",
             steps=((_HOST + ' input[name="focus"]:checked', "ArrowRight"),
                    (_HOST + ' input[name="focus"]:checked', "ArrowLeft"))),
    Scenario(name="activations_slope", page="activations", target_ms=250,
             what="leaky ReLU slope (server-side: the PyTorch depth experiment for leaky ReLU, cached per value) -> "
                  "the fragment reruns and the explorable gets the new ratios: key press to drawn",
             steps=(('.st-key-activations-slope input[type="range"]', "ArrowRight"),
                    ('.st-key-activations-slope input[type="range"]', "ArrowLeft"))),
]
