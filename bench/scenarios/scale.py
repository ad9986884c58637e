from bench.browser import Scenario

_LAYERS = '.st-key-scale-n_layer input'
_BUDGET = '.st-key-scale-log_c input[type="range"]'
_KV = '.st-key-scale-kv_tokens input'


def _tab(i: int) -> str:
    """JS that opens the page's i-th tab (0-based) before the presses."""
    return f"document.querySelectorAll('[role=\"tab\"]')[{i}].click()"


# the shape's number inputs sit in an expander that is closed unless the preset is "custom"
_OPEN_SHAPE = "document.querySelector('.st-key-scale-n_layer').closest('details').open = true"

SCENARIOS = [
    Scenario(name="scale_layers", page="scale", setup_js=_OPEN_SHAPE,
             what="how big is big: change the number of layers (count, breakdown table + bar, memory): key press to drawn",
             steps=((_LAYERS, "ArrowUp Enter"), (_LAYERS, "ArrowDown Enter")),
             target_ms=300),
    Scenario(name="scale_budget", page="scale", setup_js=_tab(3), target_ms=250,
             what="scaling laws: move the compute budget C (iso-FLOP line, optimum, the three-rule table): key press to drawn",
             steps=((_BUDGET, "ArrowRight"), (_BUDGET, "ArrowLeft"))),
    Scenario(name="scale_kv", page="scale", setup_js=_tab(1), target_ms=250,
             what="memory: change the KV-cache tokens (the memory table's KV row): key press to drawn",
             steps=((_KV, "ArrowUp"), (_KV, "ArrowDown"))),
]
