"""The robustness page's sliders and LIME / KernelSHAP's settings on the interpretability page."""
from bench.browser import Scenario

_EPS = '.st-key-robustness-eps input[type="range"]'           # the server-side slider (PGD)
_HOST = ".st-key-robustness-eps_view"                           # the explorable (components/robustness_eps.js)
_EPS_JS = _HOST + ' input[name="eps"]'
_INDEX = '.st-key-robustness-index input[type="range"]'
_STEPS = '.st-key-robustness-pgd_steps input[type="range"]'
_SAMPLES = '.st-key-interpretability-samples input[type="range"]'

SCENARIOS = [
    Scenario(name="robustness_eps", page="robustness", client=_HOST, target_ms=50,
             what="eps explorable (FGSM): key press -> perturbed digit, noise, prediction, ten bars (looked up from "
                  "the 51-eps batched forward pass), curve rule and formula numbers redrawn in the browser, next "
                  "frame; messages to the server counted",
             query="robustness.eps=0.1", steps=((_EPS_JS, "ArrowRight"), (_EPS_JS, "ArrowLeft"))),
    Scenario(name="robustness_eps_pgd", page="robustness", target_ms=300,
             what="move eps under PGD (server-side: PGD's walk depends on eps; fragment reruns 10 steps on one digit)",
             query="robustness.eps=0.1&robustness.attack=pgd", steps=((_EPS, "ArrowRight"), (_EPS, "ArrowLeft"))),
    Scenario(name="robustness_digit", page="robustness",
             what="pick another held-out digit on the robustness page (attack it and redraw)",
             steps=((_INDEX, "ArrowRight"), (_INDEX, "ArrowLeft")), target_ms=300),
    Scenario(name="robustness_pgd_steps", page="robustness",
             what="change PGD's number of steps (10 <-> 11 signed-gradient steps on one digit, redraw)",
             query="robustness.attack=pgd", steps=((_STEPS, "ArrowRight"), (_STEPS, "ArrowLeft")), target_ms=300),
    Scenario(name="interpretability_surrogate_samples", page="interpretability",
             what="change LIME / KernelSHAP's samples (200 <-> 300): both surrogates refit, additivity redrawn",
             steps=((_SAMPLES, "ArrowRight"), (_SAMPLES, "ArrowLeft")), target_ms=2000),
]
