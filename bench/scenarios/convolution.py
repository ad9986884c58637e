from bench.browser import Scenario

_SLIDER = '.st-key-{} input[type="range"]'          # Streamlit 1.67 sliders: a react-aria range input
_PILL = '.st-key-conv-kernel button:has-text("{}")'
_Q128 = "conv.photo=camera&conv.size=128&conv.kernel=sobel_x"   # the 512x512 cameraman at 128x128

SCENARIOS = [
    Scenario(name="conv_stride", page="convolution", query=_Q128, target_ms=150,
             what="convolution, 128x128 image: stride 1 <-> 2 (whole page reruns, map redrawn)",
             steps=((_SLIDER.format("conv-stride"), "ArrowRight"), (_SLIDER.format("conv-stride"), "ArrowLeft"))),
    Scenario(name="conv_kernel", page="convolution", query=_Q128, target_ms=150,
             what="convolution, 128x128 image: kernel preset Sobel x <-> Gaussian blur",
             steps=((_PILL.format("Gaussian blur"), "Space"), (_PILL.format("Sobel x"), "Space"))),
    Scenario(name="conv_window_pick", page="convolution", query=_Q128, target_ms=100,
             what="convolution, 128x128 image: move the output-row picker (fragment: window, map box, arithmetic)",
             steps=((_SLIDER.format("conv-row"), "ArrowRight"), (_SLIDER.format("conv-row"), "ArrowLeft"))),
]
