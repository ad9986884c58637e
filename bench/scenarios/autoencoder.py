from bench.browser import Scenario

_Z1 = '.st-key-autoencoder-z1 input[type="range"]'
_Z2 = '.st-key-autoencoder-z2 input[type="range"]'
_MAP = '.st-key-autoencoder-map canvas, .st-key-autoencoder-map svg'

SCENARIOS = [
    Scenario(name="autoencoder_coordinate", page="autoencoder",
             what="latent map: move a coordinate picker (z1/z2), decode and redraw map + image: key press to drawn",
             steps=((_Z1, "ArrowRight"), (_Z2, "ArrowRight"), (_Z1, "ArrowLeft"), (_Z2, "ArrowLeft")),
             target_ms=150),
    # a click picks the nearest held-out digit: both pickers jump to its code, the decoding, the
    # original, the marker and the formula's numbers follow (two far-apart points, in turn)
    Scenario(name="autoencoder_map_click", page="autoencoder",
             what="latent map: click a digit on the map (pick it, move both pickers, decode, redraw): click to drawn",
             steps=((_MAP, "click:0.2,0.3"), (_MAP, "click:0.65,0.7")), target_ms=150),
]
