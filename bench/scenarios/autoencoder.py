from bench.browser import Scenario

_HOST = ".st-key-autoencoder-map"
_Z1 = _HOST + ' input[name="z1"]'
_Z2 = _HOST + ' input[name="z2"]'
_MAP = _HOST + " .ld-map"

SCENARIOS = [
    Scenario(name="autoencoder_coordinate", page="autoencoder", target_ms=50, client=_HOST,
             what="latent map explorable: z1/z2 key press -> decode sigmoid(W'z + b') in JS (784 x 2), the image, "
                  "the cross and the numbers redrawn in the browser, next frame; messages to the server counted",
             steps=((_Z1, "ArrowRight"), (_Z2, "ArrowRight"), (_Z1, "ArrowLeft"), (_Z2, "ArrowLeft"))),
    # the map itself takes the arrow keys (a click is the same redraw, with a nearest-digit search first)
    Scenario(name="autoencoder_map_keys", page="autoencoder", target_ms=50, client=_HOST,
             what="latent map explorable: arrow key on the map -> the cross moves 0.1, decoded in JS and redrawn "
                  "with the numbers, next frame",
             steps=((_MAP, "ArrowUp"), (_MAP, "ArrowRight"), (_MAP, "ArrowDown"), (_MAP, "ArrowLeft"))),
]
