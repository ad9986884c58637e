"""Convolution: server-side settings (a new convolution per press) and the client-side window pick."""
from bench.browser import Scenario

_SLIDER = '.st-key-{} input[type="range"]'          # Streamlit 1.67 sliders: a react-aria range input
_PILL = '.st-key-conv-kernel button:has-text("{}")'
_Q128 = "conv.photo=camera&conv.size=128&conv.kernel=sobel_x"   # the 512x512 cameraman at 128x128
_HOST = ".st-key-conv-window"                                    # the explorable (app_pages/components/conv.js)

SCENARIOS = [
    Scenario(name="conv_stride", page="convolution", query=_Q128, target_ms=250,
             what="convolution, 128x128 image: stride 1 <-> 2 (whole page reruns, arrays sent to the explorable)",
             steps=((_SLIDER.format("conv-stride"), "ArrowRight"), (_SLIDER.format("conv-stride"), "ArrowLeft"))),
    Scenario(name="conv_kernel", page="convolution", query=_Q128, target_ms=250,
             what="convolution, 128x128 image: kernel preset Sobel x <-> Gaussian blur",
             steps=((_PILL.format("Gaussian blur"), "Space"), (_PILL.format("Sobel x"), "Space"))),
    Scenario(name="conv_window_pick", page="convolution", query=_Q128, target_ms=50, client=_HOST,
             what="conv explorable, 128x128 image: arrow key on the feature map -> window on the input, "
                  "grids, tap table and y = sum w x + b redrawn in the browser, next frame; messages to the server counted",
             steps=((_HOST + " .cv-map", "ArrowRight"), (_HOST + " .cv-map", "ArrowLeft"))),
    Scenario(name="conv_window_pick_rgb", page="convolution", query=_Q128 + "&conv.rgb=1&conv.dilation=2",
             target_ms=50, client=_HOST,
             what="conv explorable, 128x128 RGB, dilation 2: arrow key on the feature map (3 channel slices, 27 taps)",
             steps=((_HOST + " .cv-map", "ArrowDown"), (_HOST + " .cv-map", "ArrowUp"))),
]
