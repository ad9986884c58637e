"""Loss landscape: the map's start point (client-side explorable: no rerun per key press), and the
server-side controls (a learning rate, a committed start point) that rerun only the paths fragment."""
from bench.browser import Scenario

_LR = '.st-key-loss_landscape-lr-{} input[type="range"]'     # Streamlit 1.67 sliders: a range input
_MAP = ".st-key-loss_landscape-map"
_CANVAS = _MAP + " .lm-canvas"

SCENARIOS = [
    Scenario(name="loss_landscape_start_keys", page="loss_landscape", target_ms=50, client=_MAP,
             what="map explorable: arrow key moves the start point -> marker, J(θ₀), gradient and GD's first step "
                  "redrawn in the browser (six paths over the 61x61 map), next frame; messages to the server counted",
             steps=((_CANVAS, "ArrowRight"), (_CANVAS, "ArrowLeft"))),
    Scenario(name="loss_landscape_start_click", page="loss_landscape", target_ms=250,
             what="click on the map: start sent (trigger), paths fragment reruns (six 200-step torch.optim paths, "
                  "cached after the first visit), map and loss curves redrawn",
             steps=((_CANVAS, "click:0.3,0.7"), (_CANVAS, "click:0.6,0.35"))),
    Scenario(name="loss_landscape_lr", page="loss_landscape", target_ms=250,
             what="change GD's learning rate (log slider, back and forth): paths fragment reruns, map + six paths "
                  "and loss curves redrawn",
             steps=((_LR.format("gd"), "ArrowRight"), (_LR.format("gd"), "ArrowLeft"))),
    Scenario(name="loss_landscape_lr_new", page="loss_landscape", target_ms=250,
             what="lower Adam's learning rate to a new value each press: one 200-step torch.optim path computed, "
                  "paths fragment reruns",
             steps=((_LR.format("adam"), "ArrowLeft"),)),
]
