"""Loss functions: MSE / MAE / Huber on a prediction, softmax cross-entropy vs MSE on three logits
(course text 2, §3.1 and §3.3).

Every loss here is closed-form, so both pictures are drawn in the browser
(app_pages/components/loss_curves.js, the same formulas as ops/losses.py, checked against it in
Chromium); the page sends the settings and the words, and keeps the settings for the address bar.
"""
import streamlit as st

from bigmodel_core.charts.curves import LOSS_COLORS
from bigmodel_core.ops.losses import classify, regression_curves, softmax_cross_entropy
from app_pages._explorables import loss_curves_explorable, valid_settings
from app_pages._ui import lang, page_header, section, show_code, sync_url, t, url_state, why_and_try

KEY = "losses"
PRED_RANGE = (-5.0, 5.0)       # the prediction slider and the curves' x axis
LOGIT_RANGE = (-6.0, 6.0)
# the settings each picture owns: {name: rule} (see _explorables.valid_settings)
FIELDS = {"regression": {"pred": PRED_RANGE, "target": (-3.0, 3.0), "delta": (0.1, 3.0)},
          "classification": {"z0": LOGIT_RANGE, "z1": LOGIT_RANGE, "z2": LOGIT_RANGE, "true_class": [0, 1, 2]}}
LABELS = {"regression": ("pred", "target", "delta", "delta_help", "pred_axis", "target_label", "loss_title",
                         "loss_axis", "grad_title", "grad_axis", "grad_of"),
          "classification": ("logit", "true_class", "panel_probs", "panel_ce", "panel_mse", "bars_caption",
                             "sweep_title", "sweep_x", "sweep_y", "metric_p", "metric_ratio")}


def on_commit(part: str) -> None:
    """The browser committed one picture's settings (0.6 s after the last move): keep them, for the URL."""
    sent = (st.session_state.get(f"{KEY}.{part}") or {}).get("settings")
    for name, value in valid_settings(sent, FIELDS[part]).items():
        st.session_state[f"{KEY}.{name}"] = value


@st.fragment
def picture(part: str, **ranges) -> None:
    """One explorable; its commit reruns only this fragment (and writes the URL)."""
    loss_curves_explorable(
        part=part, settings={name: st.session_state[f"{KEY}.{name}"] for name in FIELDS[part]},
        labels={k: t(f"{KEY}.{k}") for k in LABELS[part]},
        names={n: t(f"{KEY}.names.{n}") for n in ("mse", "mae", "huber", "cross_entropy", "mse_probs")},
        colors=LOSS_COLORS, lang=lang(), key=f"{KEY}.{part}", on_commit=lambda: on_commit(part), **ranges)
    sync_url(*(f"{KEY}.{name}" for name in FIELDS[part]))


def page() -> None:
    url_state(f"{KEY}.target", 1.0, lo=-3.0, hi=3.0)
    url_state(f"{KEY}.pred", 3.0, lo=PRED_RANGE[0], hi=PRED_RANGE[1])
    url_state(f"{KEY}.delta", 1.0, lo=0.1, hi=3.0)
    for i, z in enumerate((3.0, 0.5, -1.0)):
        url_state(f"{KEY}.z{i}", z, lo=LOGIT_RANGE[0], hi=LOGIT_RANGE[1])
    url_state(f"{KEY}.true_class", 2, choices=(0, 1, 2))

    st.markdown(f"#### {t(f'{KEY}.reg_title')}")
    picture("regression", pred_range=PRED_RANGE)
    st.markdown(f"#### {t(f'{KEY}.cls_title')}")
    picture("classification", logit_range=LOGIT_RANGE, classes=[c.strip() for c in t(f"{KEY}.classes").split(",")])
    show_code(regression_curves, softmax_cross_entropy, classify)

    section("formula")
    st.caption(t(f"{KEY}.seed_note"))
    st.latex(r"\mathrm{MSE} = \frac{1}{n}\sum_{i=1}^{n} (y_i - \hat y_i)^2, \qquad "
             r"\mathrm{MAE} = \frac{1}{n}\sum_{i=1}^{n} |y_i - \hat y_i|, \qquad\allowbreak "
             r"\mathrm{Huber}_\delta = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
             r"\delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}")
    st.latex(r"p_i = \frac{e^{z_i}}{\sum_j e^{z_j}}, \qquad \mathrm{CE} = -\sum_i y_i \log p_i, \qquad\allowbreak "
             r"\frac{\partial\,\mathrm{CE}}{\partial z} = p - y, \qquad\allowbreak "
             r"\frac{\partial\,\mathrm{MSE}(p, y)}{\partial z} = \bigl(\operatorname{diag}(p) - p\,p^{\top}\bigr)\,"
             r"\tfrac{2}{K}(p - y)")


page_header(KEY)
page()
why_and_try(KEY)
