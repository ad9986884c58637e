"""The page template runs like a page in both languages, so a page copied from it starts working."""
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from bigmodel_core.ops.activations import activation

ROOT = Path(__file__).resolve().parents[2]


def test_template_page_draws_the_core_value_in_both_languages():
    for lang in ("en", "zh"):
        at = AppTest.from_file(str(ROOT / "app_pages" / "_template.py"), default_timeout=60)
        at.session_state["lang"] = lang
        at.query_params["template.fn"] = "sigmoid"                 # a shared link's setting
        at.run()
        assert not at.exception
        at.slider(key="template.range").set_value(6.0).run()
        expected = float(activation("sigmoid", torch.tensor(6.0)))
        assert at.query_params["template.range"] == "6.0"                 # written back for the link
        assert any(f"f(6.0) = {expected:.4f}" in lx.value for lx in at.latex)
        assert at.title[0].value == {"en": "Page template", "zh": "页面模板"}[lang]
