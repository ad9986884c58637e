from bench.browser import Scenario

_STEP = '.st-key-rnn-t input[type="range"]'

SCENARIOS = [
    Scenario(name="rnn_time_step", page="rnn",
             what="RNN page: move the time-step slider (fragment: formula numbers + hidden-state heat map)",
             steps=((_STEP, "ArrowRight"), (_STEP, "ArrowLeft")), query="rnn.t=5", target_ms=100),
]
