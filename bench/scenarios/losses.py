"""Losses: both pictures are client-side explorables (every loss on the page is closed-form)."""
from bench.browser import Scenario

_REG = ".st-key-losses-regression"
_CLS = ".st-key-losses-classification"

SCENARIOS = [
    Scenario(name="losses_prediction", page="losses", target_ms=50, client=_REG,
             what="losses explorable: prediction key press -> MSE/MAE/Huber loss and gradient curves, points, "
                  "metrics and formulas redrawn in the browser, next frame; messages to the server counted",
             steps=((_REG + ' input[name="pred"]', "ArrowRight"), (_REG + ' input[name="pred"]', "ArrowLeft"))),
    Scenario(name="losses_logit", page="losses", target_ms=50, client=_CLS,
             what="losses explorable: logit key press -> softmax, CE and MSE gradient bars, the 121-point "
                  "true-logit sweep, metrics and formulas redrawn in the browser, next frame",
             steps=((_CLS + ' input[name="z0"]', "ArrowRight"), (_CLS + ' input[name="z0"]', "ArrowLeft"))),
]
