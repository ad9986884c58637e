"""Template: the page a new concept starts from (copy it to app_pages/<key>.py; see CONTRIBUTING.md).

A page is thin: it reads controls, calls tested functions of bigmodel_core, and draws what they return
through app_pages/_ui. Every number a test should check is computed in bigmodel_core (ops/, models/,
...) and every picture is built in bigmodel_core/charts/. This one plots an activation f(x) and
writes f at the edge of the range with the learner's numbers (course text 2, §2.1.2).
It runs like a page (tests/app/test_template.py), so it stays in step with _ui.
"""
from __future__ import annotations

import pandas as pd
import streamlit as st
import torch

from bigmodel_core.charts.spec import line_chart                       # pictures: bigmodel_core/charts/
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.activations import ACTIVATIONS, activation       # maths: bigmodel_core, tested in tests/core
from bigmodel_core.tex import tex_text
from app_pages._ui import altair, page_header, section, show_code, show_error, sync_url, t, url_state, why_and_try

KEY = "template"        # file name, URL path, locale table [template], and the prefix of every widget key
RANGE = (1.0, 10.0)


@st.cache_data(max_entries=64)
def curve(name: str, half_width: float) -> pd.DataFrame:
    """The core function on a grid, cached per setting. No arithmetic here that a test should check."""
    x = torch.linspace(-half_width, half_width, 201)                    # (201,)
    return pd.DataFrame({"x": x.numpy(), "value": activation(name, x).numpy(), "series": name})


page_header(KEY)

# 1. Play: seed every control from the URL (a shared link reproduces the page), draw, write the URL back
url_state(f"{KEY}.fn", "tanh", choices=ACTIVATIONS)
url_state(f"{KEY}.range", 4.0, lo=RANGE[0], hi=RANGE[1])
controls, picture = st.columns([1, 2])
with controls:
    st.selectbox(t(f"{KEY}.fn"), ACTIVATIONS, key=f"{KEY}.fn")
    st.slider(t(f"{KEY}.range"), *RANGE, step=0.5, key=f"{KEY}.range")
sync_url(f"{KEY}.fn", f"{KEY}.range")
name, half_width = st.session_state[f"{KEY}.fn"], float(st.session_state[f"{KEY}.range"])
try:
    frame = curve(name, half_width)
except UserInputError as err:                                            # the learner's mistake, in their language
    show_error(err)
    st.stop()
with picture:
    altair(line_chart(frame, x="x", y="value", x_title="x", y_title=t(f"{KEY}.y_axis"), width=420))
show_code(activation)

# 2. The formula, with the learner's numbers (read from what the core returned, not recomputed)
section("formula")
edge = frame.iloc[-1]
st.latex(rf"f(x) = {tex_text(name)}(x),\qquad f({edge.x:.1f}) = {edge.value:.4f}")

# 3 and 4. Why it matters, and what to try
why_and_try(KEY)
