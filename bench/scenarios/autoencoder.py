from bench.browser import Scenario

_Z1 = '.st-key-autoencoder-z1 input[type="range"]'
_Z2 = '.st-key-autoencoder-z2 input[type="range"]'

SCENARIOS = [
    Scenario(name="autoencoder_coordinate", page="autoencoder",
             what="latent map: move a coordinate picker (z1/z2), decode and redraw map + image: key press to drawn",
             steps=((_Z1, "ArrowRight"), (_Z2, "ArrowRight"), (_Z1, "ArrowLeft"), (_Z2, "ArrowLeft")),
             target_ms=150),
]
