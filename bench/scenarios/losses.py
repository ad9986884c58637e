from bench.browser import Scenario

_SLIDER = '.st-key-losses-{} input[type="range"]'   # Streamlit 1.67's slider thumb

SCENARIOS = [
    Scenario(name="losses_prediction", page="losses",
             what="drag the prediction (losses): MSE/MAE/Huber loss and gradient charts, metrics, formulas",
             steps=((_SLIDER.format("pred"), "ArrowRight"), (_SLIDER.format("pred"), "ArrowLeft")),
             target_ms=100),
    Scenario(name="losses_logit", page="losses",
             what="move a logit (losses): softmax, CE and MSE gradient bars, true-logit sweep, formulas",
             steps=((_SLIDER.format("z0"), "ArrowRight"), (_SLIDER.format("z0"), "ArrowLeft")),
             target_ms=100),
]
