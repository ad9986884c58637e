"""Inside the LLM: pick a layer (cached analysis, redraw), and a new prompt (logit lens, 270 heads, norms)."""
from bench.browser import Scenario

_EXAMPLE = '.st-key-llm_layers-example button:has-text("{}")'

SCENARIOS = [
    Scenario(name="llm_layers_layer", page="llm_layers", target_ms=250,
             what="layer slider: the enlarged head and the outline on the 30 x 9 grid redrawn (analysis cached)",
             steps=(('.st-key-llm_layers-layer input[type="range"]', "ArrowRight"),
                    ('.st-key-llm_layers-layer input[type="range"]', "ArrowLeft"))),
    Scenario(name="llm_layers_prompt", page="llm_layers", target_ms=1000, presses=6, warmup=1,
             what="another example prompt (12-14 tokens; computed on its first visit, cached after): lens grid, 270 heads, norms redrawn",
             steps=((_EXAMPLE.format("The capital of France"), "click:0.5,0.5"), (_EXAMPLE.format("One, two, three"), "click:0.5,0.5"))),
]
