"""Tokens: a new text through both tokenizers, the costs table and the merges."""
from bench.browser import Scenario

_EXAMPLE = '.st-key-tokens-example button:has-text("{}")'

SCENARIOS = [
    Scenario(name="tokens_example", page="tokens", target_ms=250,
             what="pick an example text: BPE and WordPiece pieces, counts, costs table, merges redrawn",
             steps=((_EXAMPLE.format("大语言模型"), "click:0.5,0.5"), (_EXAMPLE.format("Tokenization splits"), "click:0.5,0.5"))),
]
