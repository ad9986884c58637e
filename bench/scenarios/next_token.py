"""Next token: the sampling explorable (client-side: no rerun per key press) and a server-side Sample."""
from bench.browser import Scenario

_HOST = ".st-key-next_token-sampler"
_SLIDER = _HOST + ' input[name="{}"]'

SCENARIOS = [
    Scenario(name="next_token_temperature", page="next_token", target_ms=50, client=_HOST,
             what="sampling explorable: temperature key press -> 20 bars, formula and entropy redrawn in the browser "
                  "(softmax over all 49,152 logits), next frame; messages to the server counted",
             steps=((_SLIDER.format("temperature"), "ArrowRight"), (_SLIDER.format("temperature"), "ArrowLeft"))),
    Scenario(name="next_token_top_p", page="next_token", target_ms=50, client=_HOST, query="next_token.top_p=0.9",
             what="sampling explorable: top-p key press -> the nucleus recomputed and cut tokens greyed, next frame",
             steps=((_SLIDER.format("top_p"), "ArrowLeft"), (_SLIDER.format("top_p"), "ArrowRight"))),
    Scenario(name="next_token_sample", page="next_token", target_ms=300, presses=10,
             query="next_token.prompt=The+history+of+the+city+begins+in+the+middle+ages,+when+a+small+"
                   "village+grew+around+a+market+and+a+bridge+over+the+river,+and",
             what="Sample: draw a token, append it, and the next-token bars for the ~30-token context (uncached "
                  "forward pass, logits sent to the explorable): click to drawn",
             steps=(('.st-key-next_token-sample button', "click:0.5,0.5"),),
             extra={"tokens": "~30, growing by 1 per press"}),
]
