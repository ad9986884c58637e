from bench.browser import Scenario

_LR = '.st-key-loss_landscape-lr-{} input[type="range"]'     # Streamlit 1.67 sliders: a range input

SCENARIOS = [
    Scenario(name="loss_landscape_lr", page="loss_landscape",
             what="change GD's learning rate (log slider, back and forth): contours + six 200-step paths redrawn",
             steps=((_LR.format("gd"), "ArrowRight"), (_LR.format("gd"), "ArrowLeft")), target_ms=150),
    Scenario(name="loss_landscape_lr_new", page="loss_landscape",
             what="lower Adam's learning rate to a new value each press: one 200-step torch.optim path computed, "
                  "contours + six paths redrawn",
             steps=((_LR.format("adam"), "ArrowLeft"),), target_ms=150),
]
