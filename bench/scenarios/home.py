from bench.browser import Scenario

_LANG = '[data-testid="stSidebar"] button:has-text("{}")'

SCENARIOS = [
    Scenario(name="home_language", page="", what="switch language (sidebar) on the home page: key press to drawn",
             steps=((_LANG.format("简体中文"), "Space"), (_LANG.format("English"), "Space")),
             target_ms=100),
]
