"""Gradient descent and loss landscapes: six torch.optim optimizers on toy surfaces, side by side, and
a real network's loss surface (1-D line, 2-D filter-normalized slice, training path in the PCA plane)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st
import torch.nn.functional as F

from bigmodel_core import landscape as L
from bigmodel_core.errors import UserInputError
from bigmodel_core.charts.landscape import (OPTIMIZER_COLORS, curve_frame, interpolation_chart, loss_curves_chart,
                                            map_background, network_surface_chart)
from app_pages._explorables import committed, float32_b64, landscape_map_explorable
from app_pages._ui import (altair, lang, page_header, section, show_code, show_error, sync_url, t, url_state, vega,
                           why_and_try)

KEY = "loss_landscape"
LR_OPTIONS = tuple(float(f"{10 ** (k / 20):.4g}") for k in range(-100, 21))     # 1e-5 .. 10, log spaced
NOISE_OPTIONS = (0.0, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
GRID = 61                                   # 61 x 61 = 3,721 contour cells (Altair allows 5,000); 0 is a grid line
NET_BATCH = 256                             # the fixed batch of training digits for the real surface

# Learning rates (and SGD's noise) that show each surface's character; the learner moves from here.
DEFAULTS = {
    "quadratic": dict(gd=1.0, sgd=0.3, momentum=0.2, nesterov=0.2, rmsprop=0.05, adam=0.1, noise=0.5),
    "rosenbrock": dict(gd=1e-3, sgd=1e-3, momentum=1e-3, nesterov=1e-3, rmsprop=0.02, adam=0.1, noise=20.0),
    "himmelblau": dict(gd=0.01, sgd=0.01, momentum=0.005, nesterov=0.005, rmsprop=0.05, adam=0.1, noise=5.0),
    "saddle": dict(gd=0.05, sgd=0.05, momentum=0.02, nesterov=0.02, rmsprop=0.02, adam=0.05, noise=0.5),
    "beale": dict(gd=1e-3, sgd=1e-3, momentum=5e-4, nesterov=5e-4, rmsprop=0.05, adam=0.1, noise=2.0),
}


def k(name: str) -> str:
    return f"{KEY}.{name}"


def snap(value: float, options=LR_OPTIONS) -> float:
    return L.nearest_option(options, value)


def _reset_for_surface() -> None:
    """A new surface: its own start point, learning rates and noise (the old ones rarely fit)."""
    surf = L.get_surface(st.session_state[k("surface")])
    st.session_state[k("x0")], st.session_state[k("y0")] = surf.start
    for name in L.OPTIMIZER_NAMES:
        st.session_state[k(f"lr.{name}")] = snap(DEFAULTS[surf.name][name])
    st.session_state[k("noise")] = DEFAULTS[surf.name]["noise"]


def _on_start() -> None:
    """The map sent a start point (a click, or Enter after the arrow keys): only the paths fragment
    reruns, since the start lives in it (the map, the paths, the numbers all change)."""
    picked = committed(k("map"), "start")
    if not isinstance(picked, (list, tuple)) or len(picked) != 2:
        return
    surf = current_surface()
    try:
        st.session_state[k("x0")], st.session_state[k("y0")] = L.snap_start(surf, float(picked[0]),
                                                                            float(picked[1]))
    except (TypeError, ValueError, UserInputError):
        pass                                    # a forged value: the start stays where it was


def _best_quadratic() -> None:
    th = L.quadratic_theory(st.session_state[k("kappa")])
    st.session_state[k("lr.gd")] = snap(th.gd_best_lr)
    st.session_state[k("lr.momentum")] = snap(th.momentum_best_lr)
    st.session_state[k("beta.momentum")] = round(min(0.99, th.momentum_best_beta), 2)


def current_surface() -> L.Surface:
    return L.get_surface(st.session_state[k("surface")], float(st.session_state[k("kappa")]),
                         float(st.session_state[k("angle")]))


# ---------------------------------------------------------------------------------------------
# Cached computations (keyed on plain values)

@st.cache_data(max_entries=256, show_spinner=False)
def cached_path(surface: str, kappa: float, angle: float, name: str, start: tuple, lr: float, steps: int,
                hyper: tuple) -> L.Path:
    return L.optimizer_path(L.get_surface(surface, kappa, angle), name, start, lr, steps, **dict(hyper))


def current_paths(surf_name: str, kappa: float, angle: float, start: tuple, steps: int,
                  chosen: list[str]) -> dict[str, L.Path]:
    """The chosen optimizers' paths at the learning rates (and noise, betas) in session state now."""
    settings = []
    for name in chosen:
        hyper = {"noise": float(st.session_state[k("noise")])} if name == "sgd" else \
                {"beta": float(st.session_state[k(f"beta.{name}")])} if name in ("momentum", "nesterov") else {}
        settings.append((name, float(st.session_state[k(f"lr.{name}")]), tuple(sorted(hyper.items()))))
    return {name: cached_path(surf_name, kappa, angle, name, start, lr, steps, hyper)
            for name, lr, hyper in settings}


@st.cache_resource(max_entries=8, show_spinner=False)
def curves_spec(domain: tuple, colors: tuple, x_title: str, y_title: str) -> dict:
    chart = loss_curves_chart(pd.DataFrame(), color_domain=list(domain), color_range=list(colors), width=300,
                              height=190, x_title=x_title, y_title=y_title, data_name="curves")
    return chart.to_dict(validate=False)


@st.cache_resource(max_entries=32, show_spinner=False)   # shared and read-only
def cached_map(surface: str, kappa: float, angle: float) -> tuple[np.ndarray, list[float]]:
    """The map's colours: log10(f - f*) on the GRID x GRID grid, and its iso-line levels."""
    return map_background(L.get_surface(surface, kappa, angle), GRID)


@st.cache_resource(show_spinner=False)
def landscape_model() -> L.TrainedMLP:
    return L.load_landscape_mlp(L.surface_device())


@st.cache_resource(show_spinner=False)
def fixed_batch():
    return L.mnist_tensors("train", NET_BATCH)


@st.cache_data(max_entries=4, show_spinner=False)
def cached_line() -> tuple[np.ndarray, np.ndarray]:
    net = landscape_model()
    alphas = np.linspace(-0.5, 1.5, 41)
    theta = [p.detach() for p in net.model.parameters()]
    return alphas, L.loss_along_line(net.model, net.init, theta, F.cross_entropy, fixed_batch(), alphas)


@st.cache_resource(show_spinner=False)
def surface_cache() -> L.SurfaceCache:
    """The network's surfaces computed so far in this process (shared by every learner)."""
    return L.SurfaceCache(max_entries=12)


@st.cache_data(max_entries=1, show_spinner=False)
def cached_pca() -> L.PathProjection:
    return L.pca_directions(landscape_model().checkpoints)


# ---------------------------------------------------------------------------------------------

page_header(KEY)
url_state(k("view"), "toy", choices=("toy", "network"))
view = st.segmented_control(t(k("view")), ("toy", "network"), key=k("view"), required=True,
                            format_func=lambda v: t(k(f"view_{v}")), label_visibility="collapsed")


def toy_play() -> dict:
    """The toy surfaces: controls, the map with six paths (drawn in the browser), loss per step."""
    url_state(k("surface"), "quadratic", choices=L.SURFACE_NAMES)
    url_state(k("kappa"), 10, lo=1, hi=100)
    url_state(k("angle"), 30, lo=0, hi=90)
    url_state(k("steps"), 200, lo=10, hi=500)
    surf0 = L.get_surface(st.session_state[k("surface")])
    url_state(k("x0"), float(surf0.start[0]), lo=surf0.xlim[0], hi=surf0.xlim[1])
    url_state(k("y0"), float(surf0.start[1]), lo=surf0.ylim[0], hi=surf0.ylim[1])
    for name in L.OPTIMIZER_NAMES:
        url_state(k(f"lr.{name}"), snap(DEFAULTS[surf0.name][name]), choices=LR_OPTIONS)
    url_state(k("noise"), DEFAULTS[surf0.name]["noise"], choices=NOISE_OPTIONS)
    url_state(k("beta.momentum"), 0.9, lo=0.0, hi=0.99)
    url_state(k("beta.nesterov"), 0.9, lo=0.0, hi=0.99)
    if k("optimizers") not in st.session_state:
        st.session_state[k("optimizers")] = list(L.OPTIMIZER_NAMES)

    left, mid, right = st.columns([1.0, 1.9, 1.5], gap="small")
    with left:
        st.selectbox(t(k("surface")), L.SURFACE_NAMES, key=k("surface"), on_change=_reset_for_surface,
                     format_func=lambda s: t(k(f"surfaces.{s}")))
        surf_name = st.session_state[k("surface")]
        if surf_name == "quadratic":
            ca, cb = st.columns(2)
            ca.slider(t(k("kappa")), 1, 100, key=k("kappa"), help=t(k("kappa_help")))
            cb.slider(t(k("angle")), 0, 90, step=5, key=k("angle"))
        st.slider(t(k("steps")), 10, 500, step=10, key=k("steps"))
        st.caption(t(k("start_hint")))
    st.pills(t(k("optimizers")), L.OPTIMIZER_NAMES, selection_mode="multi", key=k("optimizers"),
             format_func=lambda n: t(k(f"opt.{n}")), label_visibility="collapsed")
    chosen = [n for n in L.OPTIMIZER_NAMES if n in (st.session_state[k("optimizers")] or [])]
    surf = current_surface()

    # the learning rates (log sliders), one per optimizer, with each one's own setting beneath; the
    # sliders themselves are drawn by paths_fragment into the slots kept for them here
    slots: dict = {}
    lr_cols = st.columns(6)
    for col, name in zip(lr_cols, L.OPTIMIZER_NAMES):
        with col:
            st.markdown(f"<span style='color:{OPTIMIZER_COLORS[name]};font-weight:700;font-size:1.05rem'>"
                        f"■ {t(k(f'opt.{name}'))}</span>", unsafe_allow_html=True)
            slots[f"lr.{name}"] = st.container()
            if name == "adam":
                st.caption(t(k("adam_defaults")))
            if name == "rmsprop":
                st.caption(t(k("rmsprop_defaults")))

    with mid:
        slots["contours"] = st.container()
        st.caption(t(k("click_hint")))
    with right:
        st.markdown(f"**{t(k('loss_per_step'))}**")
        slots["curves"] = st.container()
        if surf_name == "quadratic":
            slots["best"] = st.container()
    slots["table"] = st.container()
    sync_url(k("view"), k("surface"), k("kappa"), k("angle"), k("x0"), k("y0"), k("steps"), k("noise"),
             k("beta.momentum"), k("beta.nesterov"), *[k(f"lr.{n}") for n in L.OPTIMIZER_NAMES])
    play = dict(surf_name=surf_name, kappa=surf.kappa, angle=surf.angle, steps=int(st.session_state[k("steps")]),
                chosen=chosen)
    return {"surface": surf, "play": play, "slots": slots}


# A learning rate, SGD's noise, a momentum beta or the start point changes only the paths. Their
# sliders, the map (a client-side explorable: the start point moves in the browser and is sent on a
# click or Enter) and everything drawn from the paths (the loss curves, the table) are one fragment,
# drawn into slots the page keeps for them: a change reruns just these ~15 elements, not the page.

@st.fragment
def paths_fragment(play: dict, slots: dict) -> None:
    try:
        _draw_paths(play, slots)
    except UserInputError as e:
        show_error(e)


def _draw_paths(play: dict, slots: dict) -> None:
    chosen = play["chosen"]
    for name in L.OPTIMIZER_NAMES:
        with slots[f"lr.{name}"]:
            st.select_slider(t(k("lr")), LR_OPTIONS, key=k(f"lr.{name}"), format_func=lambda v: f"{v:.3g}",
                             disabled=name not in chosen)
            if name == "sgd":
                st.select_slider(t(k("noise")), NOISE_OPTIONS, key=k("noise"), format_func=lambda v: f"{v:g}",
                                 disabled=name not in chosen, help=t(k("noise_help")))
            if name in ("momentum", "nesterov"):
                st.slider(t(k("beta")), 0.0, 0.99, step=0.01, key=k(f"beta.{name}"), disabled=name not in chosen)
    surf = L.get_surface(play["surf_name"], play["kappa"], play["angle"])
    start = (float(st.session_state[k("x0")]), float(st.session_state[k("y0")]))   # the map may have moved it
    paths = current_paths(play["surf_name"], play["kappa"], play["angle"], start, play["steps"], chosen)
    labels = {n: t(k(f"opt.{n}")) for n in L.OPTIMIZER_NAMES}
    with slots["contours"]:
        draw_map(surf, start, paths, labels)
    with slots["curves"]:
        domain = tuple(labels[n] for n in L.OPTIMIZER_NAMES)
        colors = tuple(OPTIMIZER_COLORS[n] for n in L.OPTIMIZER_NAMES)
        vega(curves_spec(domain, colors, t("common.step"), t(k("gap_axis"))),
             datasets={"curves": curve_frame(paths, surf.f_min, labels)})
    if "best" in slots:
        with slots["best"]:
            st.button(t(k("use_best")), key=k("use_best"), on_click=_best_quadratic,
                      icon=":material/auto_fix_high:", width="stretch")
    with slots["table"]:
        outcome_table(paths, surf, labels)
    # (a fragment rerun does not reach the page's own sync_url)
    sync_url(k("x0"), k("y0"), k("noise"), k("beta.momentum"), k("beta.nesterov"),
             *[k(f"lr.{n}") for n in L.OPTIMIZER_NAMES])


MAP_LABELS = ("map_label", "map_hint", "pending", "start_here", "start_at", "hover", "first_step",
              "first_step_none", "theory_title", "gd_max_lr", "gd_best", "momentum_best", "rate_steps",
              "your_gd", "your_momentum", "verdict_diverges", "verdict_converges", "diverged_mark")


def map_data(surf: L.Surface, start: tuple, paths: dict[str, L.Path], labels: dict) -> dict:
    """What the map explorable gets (a test compares it with the core): see landscape_map_explorable."""
    z, levels = cached_map(surf.name, surf.kappa, surf.angle)
    sent = []
    for name, p in paths.items():
        end, pts = L.drawn_points(p, surf)
        sent.append({"name": name, "label": labels[name], "color": OPTIMIZER_COLORS[name], "lr": p.lr,
                     "xy": float32_b64(pts), "end": end, "diverged": p.diverged})
    theory = None
    if surf.name == "quadratic":
        def rate(name):
            return None if name not in paths or paths[name].diverged else L.measured_rate(paths[name], surf.f_min)
        theory = {"kappa": surf.kappa, "lr_gd": paths["gd"].lr if "gd" in paths else None,
                  "lr_momentum": float(st.session_state[k("lr.momentum")]),
                  "beta": float(st.session_state[k("beta.momentum")]),
                  "measured_gd": rate("gd"), "measured_momentum": rate("momentum"),
                  "gd_diverged": bool("gd" in paths and paths["gd"].diverged),
                  "momentum_diverged": bool("momentum" in paths and paths["momentum"].diverged)}
    return dict(surface={"name": surf.name, "kappa": surf.kappa, "angle": surf.angle, "xlim": list(surf.xlim),
                         "ylim": list(surf.ylim), "f_min": surf.f_min, "minima": [list(m) for m in surf.minima]},
                z=z, levels=levels, paths=sent, start=start, step=L.START_STEP,
                gd_lr=float(st.session_state[k("lr.gd")]), theory=theory,
                labels={**{name: t(k(name)) for name in MAP_LABELS}, "loss": t("common.loss")}, lang=lang())


def draw_map(surf: L.Surface, start: tuple, paths: dict[str, L.Path], labels: dict) -> None:
    st.session_state[k("_map_sent")] = data = map_data(surf, start, paths, labels)   # (AppTest reads it)
    landscape_map_explorable(**data, key=k("map"), on_start=_on_start)


def outcome_table(paths: dict[str, L.Path], surf: L.Surface, labels: dict) -> None:
    rows = [f"| {t(k('col_optimizer'))} | {t(k('lr'))} | {t(k('col_final'))} | {t(k('col_status'))} |",
            "|---|---:|---:|---|"]
    for name, p in paths.items():
        out = L.path_outcome(p, surf)
        status = {"diverged": f"✗ {t(k('status_diverged'), step=out.step)}",
                  "reached": "✓ " + t(k("status_reached")), "running": "→ " + t(k("status_running"))}[out.status]
        final = "—" if out.final_loss is None else f"{out.final_loss:.3g}"
        rows.append(f"| <span style='color:{OPTIMIZER_COLORS[name]};font-weight:700'>{labels[name]}</span> | "
                    f"{p.lr:.3g} | {final} | {status} |")
    if paths:
        st.markdown("\n".join(rows), unsafe_allow_html=True)
    else:
        st.info(t(k("no_optimizer")))


def toy_formula(state: dict) -> None:
    st.latex(r"\theta_{t+1} = \theta_t - \alpha\,\nabla J(\theta_t)\qquad "
             r"\theta_{t+1} = \theta_t - \eta\,\nabla J(\theta_t; z_t)")
    st.caption(t(k("formula_on_map")))
    paths_fragment(state["play"], state["slots"])        # now that every slot it draws into is there
    surf = state["surface"]
    st.markdown(t(k("formula_others")))
    st.latex(r"\text{momentum: } z_{t+1} = \beta z_t + \nabla J(\theta_t),\ \ \theta_{t+1} = \theta_t - \alpha z_{t+1}"
             r"\qquad \text{Nesterov: } \theta_{t+1} = \theta_t - \alpha\,(\nabla J(\theta_t) + \beta z_{t+1})")
    st.latex(r"\text{RMSProp: } v_{t+1} = \rho v_t + (1-\rho) g_t^2,\ \ \theta_{t+1} = \theta_t - "
             r"\frac{\alpha\, g_t}{\sqrt{v_{t+1}} + \epsilon}\qquad \text{Adam: } m_{t+1} = \beta_1 m_t + (1-\beta_1) g_t,"
             r"\ \ \theta_{t+1} = \theta_t - \alpha \frac{\hat m_{t+1}}{\sqrt{\hat v_{t+1}} + \epsilon}")
    if surf.name == "quadratic":
        th = L.quadratic_theory(surf.kappa)
        st.markdown(t(k("formula_theory")))
        st.latex(rf"0 < \alpha < \frac{{2}}{{\lambda_{{max}}}} = {th.gd_max_lr:.3g},\quad "
                 rf"\alpha^* = \frac{{2}}{{\lambda_{{min}}+\lambda_{{max}}}} = {th.gd_best_lr:.3g},\quad "
                 rf"\text{{rate}} = \frac{{\kappa-1}}{{\kappa+1}} = {th.gd_best_rate:.3f}")
        st.latex(rf"\alpha^* = \Big(\frac{{2}}{{\sqrt{{\lambda_{{min}}}}+\sqrt{{\lambda_{{max}}}}}}\Big)^2 = "
                 rf"{th.momentum_best_lr:.3g},\quad \beta^* = \Big(\frac{{\sqrt\kappa-1}}{{\sqrt\kappa+1}}\Big)^2 = "
                 rf"{th.momentum_best_beta:.3f},\quad \text{{rate}} = \frac{{\sqrt\kappa-1}}{{\sqrt\kappa+1}} = "
                 rf"{th.momentum_best_rate:.3f}")
    show_code(L.optimizer_path, L.Surface.grad, L.quadratic_theory)


# ---------------------------------------------------------------------------------------------
# A real network

def network_play() -> dict:
    url_state(k("plane"), "random", choices=("random", "pca"))
    url_state(k("grid"), 21, choices=(11, 21, 31, 41))
    url_state(k("span"), 1.0, lo=0.1, hi=2.0)
    url_state(k("seed"), 0, lo=0, hi=99)
    url_state(k("shaded"), False)
    net = landscape_model()
    rec = net.record
    left, mid, right = st.columns([1.0, 1.75, 1.6], gap="medium")
    with left:
        st.caption(t(k("net_about"), params=f"{rec['params']:,}", steps=rec["steps"],
                     acc=f"{rec['test_accuracy'] * 100:.1f}", batch=NET_BATCH))
        st.radio(t(k("plane")), ("random", "pca"), key=k("plane"), format_func=lambda v: t(k(f"plane_{v}")))
        st.select_slider(t(k("grid")), (11, 21, 31, 41), key=k("grid"), format_func=lambda n: f"{n} × {n}")
        plane = st.session_state[k("plane")]
        if plane == "random":
            st.slider(t(k("span")), 0.1, 2.0, step=0.1, key=k("span"), help=t(k("span_help")))
            st.number_input(t(k("seed")), 0, 99, key=k("seed"))
        st.toggle(t(k("shaded")), key=k("shaded"))
    n = int(st.session_state[k("grid")])
    span, seed = float(st.session_state[k("span")]), int(st.session_state[k("seed")])
    shaded = bool(st.session_state[k("shaded")])
    path = None
    labels = {"loss": t("common.loss"), "log_loss": t(k("log_loss")), "trained": t(k("trained")),
              "init": t(k("init")), "alpha": "α"}
    if plane == "pca":
        proj = cached_pca()
        window = L.pca_window(proj)
        key = ("pca", n, *(round(v, 4) for pair in window for v in pair))
        spec = dict(span=window, directions=(L.unflatten(proj.d1, net.model), L.unflatten(proj.d2, net.model)))
        steps_at = L.checkpoint_steps(rec, len(proj.coords))
        path = pd.DataFrame({"step": steps_at, "x": proj.coords[:, 0], "y": proj.coords[:, 1],
                             "label": [t(k("init"))] + [""] * (len(steps_at) - 1)})
        labels.update(x=t(k("pca_axis"), i=1, share=f"{proj.explained[0] * 100:.0f}"),
                      y=t(k("pca_axis"), i=2, share=f"{proj.explained[1] * 100:.0f}"))
    else:
        key = ("random", n, span, seed)
        spec = dict(span=span, seed=seed)
        labels.update(x=t(k("dir_axis"), i=1), y=t(k("dir_axis"), i=2))
    surface = network_surface(key, n, spec)
    with mid:
        if surface is not None:
            altair(network_surface_chart(surface.alphas, surface.betas, surface.losses, shaded=shaded, path=path,
                                         labels=labels, size=340))
            st.caption(t(k("surface_caption"), n=n, seconds=f"{surface.seconds:.1f}",
                         centre=f"{surface.center_loss:.4f}"))
    with right:
        alphas, line = cached_line()
        st.markdown(f"**{t(k('line_title'))}**")
        altair(interpolation_chart(alphas, line, labels=labels, width=340, height=240))
        st.caption(t(k("line_caption"), init=f"{line[np.argmin(abs(alphas))]:.3f}",
                     trained=f"{line[np.argmin(abs(alphas - 1))]:.4f}"))
    sync_url(k("view"), k("plane"), k("grid"), k("span"), k("seed"), k("shaded"))
    return {"surface": surface, "net": net}


def network_surface(key: tuple, n: int, spec: dict) -> L.LossSurface | None:
    """The surface for these settings: from the process-wide cache, else computed now with progress."""
    cache = surface_cache()
    if (surface := cache.get(key)) is not None:
        return surface
    net = landscape_model()
    bar = st.progress(0.0, text=t(k("computing"), done=0, total=n * n))

    def progress(done: int, total: int) -> None:
        bar.progress(done / total, text=t(k("computing"), done=done, total=total))

    try:
        surface = cache.get_or_compute(key, lambda: L.loss_surface_2d(net.model, F.cross_entropy, fixed_batch(),
                                                                      n, on_progress=progress, **spec))
    except UserInputError as e:
        show_error(e)
        return None
    bar.empty()
    return surface


def network_formula(state: dict) -> None:
    s = state["surface"]
    st.latex(r"d_{i,j} \leftarrow \frac{d_{i,j}}{\lVert d_{i,j}\rVert}\,\lVert \theta_{i,j}\rVert \qquad "
             r"f(\alpha, \beta) = L(\theta^* + \alpha\,\delta + \beta\,\eta)")
    st.latex(r"g(\alpha) = L\big((1-\alpha)\,\theta_0 + \alpha\,\theta^*\big)")
    if s is not None:
        st.markdown(t(k("net_formula_numbers"), centre=f"{s.center_loss:.4f}", lo=f"{np.nanmin(s.losses):.4f}",
                      hi=f"{np.nanmax(s.losses):.3f}"))
    show_code(L.filter_normalized_direction, L.loss_surface_2d)


# ---------------------------------------------------------------------------------------------

try:
    state = toy_play() if view == "toy" else network_play()
except UserInputError as e:
    show_error(e)
    state = None
section("formula")
if state is not None and view == "toy":
    toy_formula(state)
elif state is not None:             # a statement, not a bare expression: Streamlit would draw its None
    network_formula(state)
why_and_try(KEY)
