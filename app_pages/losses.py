"""Loss functions: MSE / MAE / Huber on a prediction, softmax cross-entropy vs MSE on three logits (seed 001 §3.1, §3.3)."""
import pandas as pd
import streamlit as st

from bigmodel_core.errors import UserInputError
from bigmodel_core.charts.curves import class_bars, regression_chart, sweep_chart
from bigmodel_core.charts.spec import to_live_spec
from bigmodel_core.ops.losses import (REGRESSION_LOSSES, classify, regression_curves, regression_point,
                                      softmax_cross_entropy, true_logit_sweep)
from bigmodel_core.tex import tex_text
from app_pages._ui import lang, page_header, vega, section, show_code, show_error, sync_url, t, url_state, why_and_try

K = "losses"
PRED_RANGE = (-5.0, 5.0)       # the prediction slider and the curves' x axis
LOGIT_RANGE = (-6.0, 6.0)


@st.cache_data(max_entries=64)
def regression_frame(target: float, delta: float) -> pd.DataFrame:
    return regression_curves(target, *PRED_RANGE, delta=delta)


@st.cache_data(max_entries=256)
def regression_points(pred: float, target: float, delta: float) -> dict:
    return {name: regression_point(name, pred, target, delta) for name in REGRESSION_LOSSES}


@st.cache_data(max_entries=256)
def classification(logits: tuple[float, ...], true_class: int):
    return classify(list(logits), true_class)


@st.cache_data(max_entries=256)
def sweep_frame(logits: tuple[float, ...], true_class: int) -> pd.DataFrame:
    return true_logit_sweep(list(logits), true_class, *LOGIT_RANGE, n=121)


def loss_labels() -> dict[str, str]:
    return {n: t(f"{K}.names.{n}") for n in ("mse", "mae", "huber", "cross_entropy", "mse_probs")}


@st.cache_data(max_entries=256)
def regression_specs(pred: float, target: float, delta: float, lang_: str) -> tuple[dict, dict]:
    """The loss and gradient charts as Vega-Lite dicts (built once per setting; lang_ keys the cache)."""
    frame, pts = regression_frame(target, delta), regression_points(pred, target, delta)
    common = dict(labels=loss_labels(), target=target, prediction=pred, x_title=t(f"{K}.pred_axis"),
                  target_label=t(f"{K}.target_label", y=f"{target:.1f}"))
    loss = regression_chart(frame, column="value", current={n: p.loss for n, p in pts.items()},
                            title=t(f"{K}.loss_title"), y_title=t(f"{K}.loss_axis"), **common)
    grad = regression_chart(frame, column="grad", current={n: p.grad for n, p in pts.items()},
                            title=t(f"{K}.grad_title"), y_title=t(f"{K}.grad_axis"), **common)
    return to_live_spec(loss), to_live_spec(grad)


@st.cache_data(max_entries=256)
def classification_specs(logits: tuple[float, ...], y_cls: int, lang_: str) -> tuple[dict, dict]:
    """The gradient bars and the true-logit sweep as Vega-Lite dicts."""
    classes = [c.strip() for c in t(f"{K}.classes").split(",")]
    c = classification(logits, y_cls)
    panels = [t(f"{K}.panel_probs"), t(f"{K}.panel_ce"), t(f"{K}.panel_mse")]
    rows = [(panels[0], c.probs, "prob"), (panels[1], c.ce_grad, "ce"), (panels[2], c.mse_grad, "mse")]
    bars = pd.DataFrame([{"panel": panel, "cls": classes[i], "value": float(v[i]), "kind": kind}
                         for panel, v, kind in rows for i in range(3)])
    bars_chart = class_bars(bars, class_labels=classes, true_label=classes[y_cls], panel_order=panels)
    sweep = sweep_chart(sweep_frame(logits, y_cls), labels=loss_labels(), z_now=logits[y_cls],
                        current={"cross_entropy": abs(c.ce_grad[y_cls]), "mse_probs": abs(c.mse_grad[y_cls])},
                        title=t(f"{K}.sweep_title", name=classes[y_cls]),
                        x_title=t(f"{K}.sweep_x", name=classes[y_cls]), y_title=t(f"{K}.sweep_y"))
    return to_live_spec(bars_chart), to_live_spec(sweep)


def vec(a, fmt: str = "{:.3f}") -> str:
    return r"\bigl(" + ",\ ".join(fmt.format(v) for v in a) + r"\bigr)"


def regression_formula(pred: float, target: float, delta: float, pts: dict) -> list[str]:
    """MSE, MAE and Huber with the learner's numbers, one formula each (each wraps at its = signs)."""
    r = pred - target
    return [r"\mathrm{MSE} = \frac{1}{n}\sum_{i=1}^{n} (y_i - \hat y_i)^2"
            rf" \;\overset{{n=1}}{{=}}\; ({target:.2f} - ({pred:.2f}))^2 = {pts['mse'].loss:.3f},"
            rf"\qquad\allowbreak \frac{{\partial\,\mathrm{{MSE}}}}{{\partial \hat y}} = 2(\hat y - y) = {pts['mse'].grad:+.3f}",
            r"\mathrm{MAE} = \frac{1}{n}\sum_{i=1}^{n} |y_i - \hat y_i|"
            rf" = {pts['mae'].loss:.3f},\qquad\allowbreak \frac{{\partial\,\mathrm{{MAE}}}}{{\partial \hat y}}"
            rf" = \operatorname{{sign}}(\hat y - y) = {pts['mae'].grad:+.0f}",
            r"\mathrm{Huber}_\delta = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\ "
            r"\delta\,(|r| - \tfrac12\delta) & |r| > \delta \end{cases}"
            rf"\quad\allowbreak r = \hat y - y = {r:+.2f},\ \delta = {delta:.1f}:\quad\allowbreak {pts['huber'].loss:.3f},"
            rf"\quad\allowbreak \frac{{\partial}}{{\partial \hat y}} = {pts['huber'].grad:+.3f}"]


def classification_formula(c, y_cls: int, name: str) -> list[str]:
    """Softmax, cross-entropy, its gradient and MSE on the probabilities with the learner's numbers."""
    return [r"p_i = \operatorname{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}:\quad\allowbreak "
            rf"z = {vec(c.logits, '{:.2f}')} \;\to\; p = {vec(c.probs)}",
            r"H(p, q) = -\sum_{i} p_i \log q_i \;\to\; \mathrm{CE} = -\sum_i y_i \log p_i"
            rf" = -\log p_{{{tex_text(name)}}} = -\log {c.probs[y_cls]:.4f} = {c.ce:.3f}",
            r"\frac{\partial\,\mathrm{CE}}{\partial z} = p - y = "
            rf"{vec(c.probs)} - {vec(c.target, '{:.0f}')} = {vec(c.ce_grad, '{:+.3f}')}",
            r"\mathrm{MSE}(p, y) = \frac{1}{3}\sum_i (p_i - y_i)^2 = " + f"{c.mse:.3f}" +
            r",\qquad\allowbreak \frac{\partial\,\mathrm{MSE}}{\partial z} = \bigl(\operatorname{diag}(p) - p\,p^{\top}\bigr)"
            r"\,\tfrac{2}{3}(p - y) = " + vec(c.mse_grad, "{:+.4f}")]


def latex_lines(lines: list[str]) -> None:
    """Formulas one under the other, each its own element so that each can wrap."""
    for line in lines:
        st.latex(line)


@st.fragment
def prediction_play(out: dict, target: float, delta: float):
    """The prediction slider and everything that shows the prediction; a move reruns only this.
    The outputs sit in containers the page laid out around the slider (`out`)."""
    st.slider(t(f"{K}.pred"), *PRED_RANGE, step=0.05, key=f"{K}.pred")
    sync_url(f"{K}.pred")
    pred = float(st.session_state[f"{K}.pred"])
    try:
        pts = regression_points(pred, target, delta)
    except UserInputError as e:
        show_error(e)
        return
    names = loss_labels()
    spec_loss, spec_grad = regression_specs(pred, target, delta, lang())
    with out["loss"]:
        vega(spec_loss, key=f"{K}.chart_loss")
    with out["grad"]:
        vega(spec_grad, key=f"{K}.chart_grad")
    with out["metrics"]:
        cells = st.columns(6)
        for i, name in enumerate(REGRESSION_LOSSES):
            cells[2 * i].metric(names[name], f"{pts[name].loss:.3f}")
            cells[2 * i + 1].metric(t(f"{K}.grad_of", name=names[name]), f"{pts[name].grad:+.3f}")
    with out["formula"]:
        latex_lines(regression_formula(pred, target, delta, pts))


@st.fragment
def logits_play(out: dict, classes: list[str], y_cls: int):
    """The three logit sliders and everything that shows the logits."""
    for i, name in enumerate(classes):
        st.slider(t(f"{K}.logit", name=name), *LOGIT_RANGE, step=0.1, key=f"{K}.z{i}")
    sync_url(f"{K}.z0", f"{K}.z1", f"{K}.z2")
    logits = tuple(float(st.session_state[f"{K}.z{i}"]) for i in range(3))
    c = classification(logits, y_cls)
    names = loss_labels()
    spec_bars, spec_sweep = classification_specs(logits, y_cls, lang())
    with out["bars"]:
        vega(spec_bars, key=f"{K}.chart_bars")
    with out["sweep"]:
        vega(spec_sweep, key=f"{K}.chart_sweep")
    with out["metrics"]:
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(t(f"{K}.metric_p", name=classes[y_cls]), f"{c.probs[y_cls]:.3f}")
        m2.metric(names["cross_entropy"], f"{c.ce:.3f}")
        m3.metric(names["mse_probs"], f"{c.mse:.3f}")
        ratio = abs(c.ce_grad[y_cls]) / max(abs(c.mse_grad[y_cls]), 1e-12)
        m4.metric(t(f"{K}.metric_ratio"), f"{ratio:.1f}×")
    with out["formula"]:
        latex_lines(classification_formula(c, y_cls, classes[y_cls]))


def play_and_formula():
    """Lay the page out first (containers), then fill it: the prediction and the logits live in two
    small fragments that redraw only the elements showing them; every other control reruns the page."""
    classes = [c.strip() for c in t(f"{K}.classes").split(",")]
    url_state(f"{K}.target", 1.0, lo=-3.0, hi=3.0)
    url_state(f"{K}.pred", 3.0, lo=PRED_RANGE[0], hi=PRED_RANGE[1])
    url_state(f"{K}.delta", 1.0, lo=0.1, hi=3.0)
    for i, z in enumerate((3.0, 0.5, -1.0)):
        url_state(f"{K}.z{i}", z, lo=LOGIT_RANGE[0], hi=LOGIT_RANGE[1])
    url_state(f"{K}.true_class", 2, choices=(0, 1, 2))

    # -- regression: one prediction against one target -------------------------------------------
    st.markdown(f"#### {t(f'{K}.reg_title')}")
    ctrl, col_loss, col_grad = st.columns([1.05, 2, 2], gap="medium")
    with ctrl:
        pred_box = st.container()
        st.slider(t(f"{K}.target"), -3.0, 3.0, step=0.1, key=f"{K}.target")
        st.slider(t(f"{K}.delta"), 0.1, 3.0, step=0.1, key=f"{K}.delta", help=t(f"{K}.delta_help"))
    target = float(st.session_state[f"{K}.target"])
    delta = float(st.session_state[f"{K}.delta"])
    try:
        regression_frame(target, delta)
    except UserInputError as e:
        show_error(e)
        return
    reg_metrics = st.container()

    # -- classification: three logits -> softmax -> cross-entropy ---------------------------------
    st.markdown(f"#### {t(f'{K}.cls_title')}")
    ctrl2, col_bars, col_sweep = st.columns([1.05, 2.3, 1.7], gap="medium")
    with ctrl2:
        logits_box = st.container()
        st.radio(t(f"{K}.true_class"), (0, 1, 2), format_func=lambda i: classes[i], key=f"{K}.true_class",
                 horizontal=True)
    y_cls = int(st.session_state[f"{K}.true_class"])
    with col_bars:
        bars_box = st.container()
        st.caption(t(f"{K}.bars_caption", name=classes[y_cls]))
    cls_metrics = st.container()
    sync_url(f"{K}.pred", f"{K}.target", f"{K}.delta", f"{K}.z0", f"{K}.z1", f"{K}.z2", f"{K}.true_class")
    show_code(regression_curves, softmax_cross_entropy, classify)

    # -- the formulas, with the learner's numbers -------------------------------------------------
    section("formula")
    st.caption(t(f"{K}.seed_note"))
    reg_formula = st.container()
    cls_formula = st.container()

    with pred_box:
        prediction_play({"loss": col_loss, "grad": col_grad, "metrics": reg_metrics, "formula": reg_formula},
                        target, delta)
    with logits_box:
        logits_play({"bars": bars_box, "sweep": col_sweep, "metrics": cls_metrics, "formula": cls_formula},
                    classes, y_cls)


page_header(K)
play_and_formula()
why_and_try(K)
