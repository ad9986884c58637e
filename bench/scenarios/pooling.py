"""Pooling: a server-side setting (window size) and the client-side window pick and shift."""
from bench.browser import Scenario

_SLIDER = '.st-key-{} input[type="range"]'
_Q = "pool.source=photo&pool.photo=camera&pool.size=64"
_WINDOW, _SHIFT = ".st-key-pool-window_view", ".st-key-pool-shift_view"    # app_pages/components/pooling.js

SCENARIOS = [
    Scenario(name="pool_window", page="pooling", query=_Q, target_ms=250,
             what="pooling, 64x64 photo: window 2 <-> 3 (whole page reruns, the input sent to both explorables)",
             steps=((_SLIDER.format("pool-window"), "ArrowRight"), (_SLIDER.format("pool-window"), "ArrowLeft"))),
    Scenario(name="pool_window_pick", page="pooling", query=_Q, target_ms=50, client=_WINDOW,
             what="pooling explorable, 64x64 photo: arrow key on the pooled map -> window, winner, numbers and "
                  "p = max{...} redrawn in the browser, next frame; messages to the server counted",
             steps=((_WINDOW + " .pl-map", "ArrowDown"), (_WINDOW + " .pl-map", "ArrowUp"))),
    Scenario(name="pool_shift", page="pooling", query=_Q + "&pool.shift=1", target_ms=50, client=_SHIFT,
             what="pooling explorable, 64x64 photo: shift key press -> shifted input, both pooled maps and the "
                  "share unchanged recomputed and redrawn in the browser, next frame",
             steps=((_SHIFT + ' input[name="shift"]', "ArrowRight"), (_SHIFT + ' input[name="shift"]', "ArrowLeft"))),
]
