"""Regularization: the replay slider (client-side explorable over the training snapshots: no rerun, no
retraining per key press) and a knob change (server rerun that redraws the last run from its snapshots)."""
from bench.browser import Scenario

_HOST = ".st-key-regularization-replay"
_REPLAY = _HOST + ' input[name="replay_step"]'
_QUERY = "regularization.steps=500&regularization.l1=0.01"
# train once before timing (the replay needs a run); the promise gives the rerun time to start
_TRAIN = ("() => { document.querySelector('.st-key-regularization-train button').click();"
          " return new Promise(r => setTimeout(r, 1500)); }")

SCENARIOS = [
    Scenario(name="regularization_replay", page="regularization", target_ms=50, client=_HOST, query=_QUERY,
             setup_js=_TRAIN,
             what="replay explorable: training-step key press -> both sides' fit, loss curves, histogram, numbers and "
                  "the penalty formula redrawn in the browser from the run's snapshots, next frame; messages counted",
             steps=((_REPLAY, "ArrowLeft"), (_REPLAY, "ArrowRight"))),
    Scenario(name="regularization_knob", page="regularization", target_ms=250, query=_QUERY, setup_js=_TRAIN,
             what="a knob after a run (dropout slider, back and forth): page rerun, no training, the last run redrawn "
                  "from its snapshots (replay explorable) with the 'from your last run' note",
             steps=(('.st-key-regularization-dropout input[type="range"]', "ArrowRight"),
                    ('.st-key-regularization-dropout input[type="range"]', "ArrowLeft"))),
]
