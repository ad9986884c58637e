"""Pre-train vs fine-tune: the digits tab's n slider (runs cached per n after the warm-up presses)."""
from bench.browser import Scenario

_N = '.st-key-pretrain_finetune-n input[type="range"]'

SCENARIOS = [
    Scenario(name="pretrain_finetune_n", page="pretrain_finetune", target_ms=250, presses=10, warmup=2,
             what="digits: labelled examples n one step up / down (three cached runs: metrics, accuracy and loss charts redrawn)",
             steps=((_N, "ArrowRight"), (_N, "ArrowLeft"))),
]
