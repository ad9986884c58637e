from bench.browser import Scenario

_SLIDER = '.st-key-{} input[type="range"]'
_Q = "pool.source=photo&pool.photo=camera&pool.size=64"

SCENARIOS = [
    Scenario(name="pool_window", page="pooling", query=_Q, target_ms=150,
             what="pooling, 64x64 photo: window 2 <-> 3 (whole page reruns)",
             steps=((_SLIDER.format("pool-window"), "ArrowRight"), (_SLIDER.format("pool-window"), "ArrowLeft"))),
    Scenario(name="pool_window_pick", page="pooling", query=_Q, target_ms=100,
             what="pooling, 64x64 photo: move the output-row picker (fragment: window, winner, numbers)",
             steps=((_SLIDER.format("pool-row"), "ArrowRight"), (_SLIDER.format("pool-row"), "ArrowLeft"))),
]
