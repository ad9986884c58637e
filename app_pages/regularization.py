"""Regularization and overfitting: an over-parameterized MLP on a few noisy points, with and without
L1 / L2 / dropout / early stopping / data augmentation, trained live side by side (course text 2 §3.3.3)."""
from __future__ import annotations

import hashlib
import time

import streamlit as st

from bigmodel_core.errors import UserInputError
from bigmodel_core.regularization import (GRID, HIST_BINS, LAMBDAS, LIVE_INTERVAL_S, SLIDERS, STEPS, TASKS, InputJitter,
                                          RegConfig, Snapshot, Throttle, frame_of, l1_penalty, l2_penalty, make_task,
                                          replay_arrays, soft_threshold_, train_run, true_curve, untrained_snapshot,
                                          validate, weight_decay_)
from bigmodel_core.train import TrainConfig
from bigmodel_core.charts.regularization import fit_chart, loss_chart, weights_histogram
from app_pages._explorables import float32_b64, regularization_replay_explorable
from app_pages._queue import heavy
from app_pages._training import diverged_text
from app_pages._ui import (altair, lang, page_header, section, show_code, show_error, sync_url, t, url_state,
                           why_and_try)

KEY = "regularization"
LOSS_RANGE = {"curve": (1e-3, 2.0), "moons": (1e-3, 3.0)}     # fixed, so both sides compare
D = RegConfig()
DIVERGE_FACTOR = TrainConfig().diverge_factor
W_FIT, H_FIT, W_LOSS, H_LOSS, H_HIST = 360, 180, 360, 110, 85    # plot areas (the spec's own size)
# element heights: the plot plus title, legend and axes (Streamlit fits the chart into these)
EL_FIT, EL_MAP, EL_LOSS, EL_HIST = 300, 370, 280, 210


def k(name: str) -> str:
    return f"{KEY}.{name}"


def slider(name: str, **kw) -> None:
    """One of the page's sliders, with the range bigmodel_core.regularization.SLIDERS gives it."""
    r = SLIDERS[name]
    st.slider(t(k(name)), r.lo, r.hi, step=r.step, key=k(name), **kw)


def fmt_lambda(v: float) -> str:
    return "0" if v == 0 else f"{v:g}"


def describe(cfg: RegConfig, prox: bool) -> str:
    """The chosen regularization in a few words, e.g. "L1 λ₁=0.001, dropout 0.2"."""
    parts = []
    if cfg.l1:
        parts.append(f"L1 λ₁={fmt_lambda(cfg.l1)}" + ("" if prox else f" ({t(k('in_loss'))})"))
    if cfg.l2:
        parts.append(f"L2 λ₂={fmt_lambda(cfg.l2)}")
    if cfg.dropout:
        parts.append(f"{t(k('short_dropout'))} {cfg.dropout:g}")
    if cfg.patience:
        parts.append(f"{t(k('short_patience'))} {cfg.patience}")
    if cfg.jitter:
        parts.append(f"{t(k('short_jitter'))} σ={cfg.jitter:g}")
    return ", ".join(parts) or t(k("none_chosen"))


def chart_labels() -> dict[str, dict[str, str]]:
    return {
        "fit": {"train": t(k("train_points")), "truth": t(k("truth")), "model": t(k("model")),
                "class0": t(k("class0")), "class1": t(k("class1")),
                "x": t(k("x")) if task_kind == "curve" else t(k("x1")),
                "y": t(k("y")) if task_kind == "curve" else t(k("x2"))},
        "loss": {"train": t(k("train")), "val": t(k("val")), "gap": t(k("gap_label")),
                 "step": t(k("step")), "loss": t(k("loss")), "best": t(k("best"))},
        "hist": {"weight": t(k("weight")), "count": t(k("count")), "zeros": t(k("zeros_label"))},
    }


class Panel:
    """One side of the A/B: a title and a note; during training, live pictures (drawn on the server as
    the snapshots arrive). A finished run, a stopped one or the untrained network is drawn by the
    replay explorable below both sides, from its snapshots."""

    def __init__(self, title: str):
        st.markdown(f"##### {title}")
        self.note = st.empty()
        self.live = st.empty()

    def draw_live(self, task, snap: Snapshot, rows: list[dict], steps: int, histogram: bool = True) -> None:
        """The live pictures; the histogram every other time (it changes slowly)."""
        import pandas as pd
        gap = snap.val_loss - snap.train_loss
        with self.live.container():
            st.markdown(
                f"**{t(k('train_loss'))}** `{snap.train_loss:.4f}` · **{t(k('val_loss'))}** `{snap.val_loss:.4f}`"
                f" · **{t(k('gap'))}** `{gap:+.4f}` · **{t(k('zeros'))}** `{snap.zeros:,} / {snap.weights.size:,}`")
            altair(fit_chart(task, snap, task_kind, title=t(k("fit_title")), labels=labels["fit"],
                             width=W_FIT, height=H_FIT), height=EL_FIT if task_kind == "curve" else EL_MAP)
            altair(loss_chart(pd.DataFrame(rows), title=t(k("loss_title")), labels=labels["loss"],
                              y_domain=LOSS_RANGE[task_kind], x_domain=(0, steps), width=W_LOSS, height=H_LOSS),
                   height=EL_LOSS)
            if histogram:
                altair(weights_histogram(snap.weights, title=t(k("hist_title")), labels=labels["hist"],
                                         width=W_LOSS, height=H_HIST), height=EL_HIST)

    def notes(self, result) -> None:
        """A finished run's notes (divergence, early stopping)."""
        h = result.history
        if h.diverged:                              # (the clip makes it rare; the weights drawn are finite)
            self.note.warning(diverged_text(h.diverged_at, h.diverged_how, h.first_loss, h.diverged_loss,
                                            DIVERGE_FACTOR) + " " + t(k("diverged_advice"),
                                                                      dropout=t(k("dropout")), noise=t(k("noise"))),
                              icon=":material/warning:")
        elif result.stopped_early:
            self.note.info(t(k("stopped_early"), step=result.best_step), icon=":material/front_hand:")

    def train_live(self, cfg: RegConfig, prox: bool, side: str, pair: tuple[RegConfig, bool]):
        """Train through bigmodel_core.train.fit, redrawing at most every LIVE_INTERVAL_S seconds.

        A click on Stop (or any widget) reruns the script, which Streamlit does by raising inside the
        next st call here; the run's last snapshot is kept in the session first, so the rerun can
        draw it whole and say where training stopped."""
        task = make_task(cfg.task, cfg.n_train, cfg.noise, cfg.seed)
        rows: list[dict] = []
        throttle = Throttle(LIVE_INTERVAL_S)
        live = st.session_state[k("live")] = {"key": pair, "side": side, "rows": rows, "snap": None}

        def on_snapshot(snap: Snapshot) -> None:
            rows.append({"step": snap.step, "train_loss": snap.train_loss, "val_loss": snap.val_loss})
            live["snap"] = snap
            if throttle.ready():
                started = time.perf_counter()
                self.draw_live(task, snap, rows, cfg.steps, histogram=throttle.updates % 2 == 0)
                throttle.drew(started)

        t0 = time.perf_counter()
        with heavy("regularization_train"):                       # one training at a time per process
            result = train_run(cfg, on_snapshot=on_snapshot, l1_mode="proximal" if prox else "penalty")
        seconds = time.perf_counter() - t0
        st.session_state.pop(k("live"), None)
        self.live.empty()                                         # the replay below draws the result
        self.notes(result)
        return result, throttle.updates, seconds


@st.cache_resource(max_entries=16, show_spinner=False)      # shared and read-only
def untrained(cfg: RegConfig) -> Snapshot:
    """The untrained network (the same on both sides): a forward pass, once per setting."""
    return untrained_snapshot(cfg)


def side_of_run(result) -> dict:
    """A finished run as the replay draws it: its kept frames, every evaluation's losses, its best step."""
    return replay_side(result.frames, result.curve.to_dict("records"),
                       result.best_step if result.stopped_early else None)


def side_of_snapshot(snap: Snapshot, rows: list[dict] | None) -> dict:
    """One snapshot (the untrained network, or where a stopped run got to) as a one-frame side."""
    rows = rows or [{"step": snap.step, "train_loss": snap.train_loss, "val_loss": snap.val_loss}]
    return replay_side([frame_of(snap)], rows, None)


def replay_side(frames, rows: list[dict], best_step: int | None) -> dict:
    arr = replay_arrays(frames)
    return {"frames": {name: arr[name].tolist() for name in ("step", "train_loss", "val_loss", "sum_abs", "sum_sq",
                                                             "zeros", "hist_edge")},
            "hist": float32_b64(arr["hist"]), "prediction": float32_b64(arr["prediction"]),
            "n_weights": int(frames[-1].n_weights), "best_step": best_step,
            "curve": {"step": [int(r["step"]) for r in rows], "train": [float(r["train_loss"]) for r in rows],
                      "val": [float(r["val_loss"]) for r in rows]}}


REPLAY_LABELS = ("replay", "replay_value", "replay_formula", "train_loss", "val_loss", "gap", "zeros", "fit_title",
                 "loss_title", "hist_title", "train", "val", "step", "loss", "weight", "count", "zeros_label",
                 "train_points", "truth", "model", "class0", "class1")


def replay_data(task, kind: str, sides: list[dict], steps: int, lambdas: tuple[float, float]) -> dict:
    """Everything the replay explorable draws (a test compares it with the core's runs)."""
    show = task.X_show[:, 0]
    data = {"kind": kind, "extent": list(task.extent), "grid": GRID, "P": int(task.X_show.shape[0]),
            "bins": HIST_BINS, "steps": int(steps), "loss_range": list(LOSS_RANGE[kind]), "lambdas": list(lambdas),
            "px": float32_b64(task.X_train[:, 0].numpy()),
            "py": float32_b64((task.y_train if kind == "curve" else task.X_train[:, 1]).numpy()),
            "plabel": float32_b64(task.y_train.numpy()) if kind == "moons" else None,
            "xs": float32_b64(show.numpy()) if kind == "curve" else None,
            "truth": float32_b64(true_curve(show).numpy()) if kind == "curve" else None,
            "sides": sides, "lang": lang(),
            "labels": {**{name: t(k(name)) for name in REPLAY_LABELS},
                       "x": t(k("x")) if kind == "curve" else t(k("x1")),
                       "y": t(k("y")) if kind == "curve" else t(k("x2"))}}
    data["signature"] = hashlib.sha1(repr((kind, steps, [(sd["frames"]["step"], sd["frames"]["val_loss"])
                                                         for sd in sides])).encode()).hexdigest()[:16]
    return data


# ---------------------------------------------------------------------------------------------
# (1) Play: controls on the left, the A/B on the right

page_header(KEY)
url_state(k("task"), D.task, choices=TASKS)
url_state(k("n_train"), D.n_train, lo=SLIDERS["n_train"].lo, hi=SLIDERS["n_train"].hi)
url_state(k("noise"), D.noise, lo=SLIDERS["noise"].lo, hi=SLIDERS["noise"].hi)
url_state(k("l1"), D.l1, choices=LAMBDAS)
url_state(k("prox"), True)
url_state(k("l2"), D.l2, choices=LAMBDAS)
url_state(k("dropout"), D.dropout, lo=SLIDERS["dropout"].lo, hi=SLIDERS["dropout"].hi)
url_state(k("patience"), D.patience, lo=SLIDERS["patience"].lo, hi=SLIDERS["patience"].hi)
url_state(k("jitter"), D.jitter, lo=SLIDERS["jitter"].lo, hi=SLIDERS["jitter"].hi)
url_state(k("steps"), D.steps, choices=STEPS)

controls, play = st.columns([1, 3.2], gap="medium")
with controls:
    st.segmented_control(t(k("task")), TASKS, format_func=lambda v: t(k(f"task_{v}")), key=k("task"),
                         required=True)
    slider("n_train")
    slider("noise")
    st.markdown(f"**{t(k('remedies'))}**")
    st.select_slider(t(k("l1")), LAMBDAS, format_func=fmt_lambda, key=k("l1"), help=t(k("l1_help")))
    st.checkbox(t(k("prox")), key=k("prox"), help=t(k("prox_help")))
    st.select_slider(t(k("l2")), LAMBDAS, format_func=fmt_lambda, key=k("l2"), help=t(k("l2_help")))
    slider("dropout", help=t(k("dropout_help")))
    slider("patience", help=t(k("patience_help")))
    slider("jitter", help=t(k("jitter_help")))
    st.select_slider(t(k("steps")), STEPS, key=k("steps"))
    train_clicked = st.button(t("common.train"), type="primary", key=k("train"), icon=":material/play_arrow:",
                              width="stretch")
    # a click reruns the script, which interrupts a training run at its next redraw (at most 0.25 s)
    st.button(t("common.stop"), key=k("stop"), icon=":material/stop:", width="stretch")
sync_url(*(k(n) for n in ("task", "n_train", "noise", "l1", "prox", "l2", "dropout", "patience",
                          "jitter", "steps")))

ss = st.session_state
task_kind = ss[k("task")]
prox = bool(ss[k("prox")])
cfg = RegConfig(task=task_kind, n_train=int(ss[k("n_train")]), noise=float(ss[k("noise")]),
                l1=float(ss[k("l1")]), l2=float(ss[k("l2")]), dropout=float(ss[k("dropout")]),
                patience=int(ss[k("patience")]), jitter=float(ss[k("jitter")]), steps=int(ss[k("steps")]))
labels = chart_labels()
runs: dict = ss.setdefault(k("runs"), {})          # (config, prox) -> RunResult, this session only

try:
    validate(cfg)
except UserInputError as e:
    with play:
        show_error(e)
    st.stop()

shown = None                                        # the (config, prox) whose results are drawn
live = ss.pop(k("live"), None)                      # a training run the last click interrupted
stopped = live if (live is not None and live["snap"] is not None and not train_clicked
                  and live["key"][0].task == task_kind) else None
partial = None                                      # its snapshot, when it was the right-hand side's
with play:
    status = st.empty()
    left, right = st.columns(2, gap="medium")
    title_cfg, title_prox = stopped["key"] if stopped else (cfg, prox)
    with left:
        panel_a = Panel(t(k("without")))
    with right:
        panel_b = Panel(t(k("with"), what=describe(title_cfg, title_prox)))
    replay_slot = st.empty()
    base_key, reg_key = (cfg.baseline(), True), (cfg, prox)
    task = make_task(cfg.task, cfg.n_train, cfg.noise, cfg.seed)
    drawn = None                                    # (task, steps, lambdas, [side a, side b]) for the replay
    if stopped:                                     # Stop: draw where training got to, whole
        s_cfg, s_prox = stopped["key"]              # the A/B pair's right-hand settings
        s_task = make_task(s_cfg.task, s_cfg.n_train, s_cfg.noise, s_cfg.seed)
        snap_s = stopped["snap"]
        note = t(k("stopped"), step=snap_s.step, total=s_cfg.steps)
        status.warning(note, icon=":material/stop_circle:")
        here = side_of_snapshot(snap_s, stopped["rows"])
        if stopped["side"] == "a":
            panel_a.note.warning(note, icon=":material/stop_circle:")
            other = side_of_snapshot(untrained(s_cfg), None) if s_cfg.regularized else here
            sides = [here, other]
        else:                                       # the left side finished before the right began
            if (s_cfg.baseline(), True) in runs:
                panel_a.notes(runs[(s_cfg.baseline(), True)])
                before = side_of_run(runs[(s_cfg.baseline(), True)])
            else:
                before = side_of_snapshot(untrained(s_cfg), None)
            panel_b.note.warning(note, icon=":material/stop_circle:")
            sides = [before, here]
            partial = (snap_s, s_cfg)
        drawn = (s_task, s_cfg.steps, (s_cfg.l1, s_cfg.l2), sides)
    elif train_clicked:
        if base_key in runs:
            panel_a.notes(runs[base_key])
        else:
            runs[base_key], *_ = panel_a.train_live(cfg.baseline(), True, "a", reg_key)
        if not cfg.regularized:
            runs[reg_key] = runs[base_key]
            panel_b.notes(runs[base_key])
        else:
            runs[reg_key], updates, seconds = panel_b.train_live(cfg, prox, "b", reg_key)
            status.caption(t(k("live"), updates=updates, seconds=f"{seconds:.1f}",
                             rate=f"{updates / max(seconds, 1e-9):.1f}"))
        ss[k("last")] = reg_key
        while len(runs) > 12:                       # keep the session small
            runs.pop(next(iter(runs)))
        shown = reg_key
    elif reg_key in runs and base_key in runs:
        shown = reg_key
    elif ss.get(k("last")) in runs:
        shown = ss[k("last")]
        last_cfg, last_prox = shown
        status.warning(t(k("stale"), what=describe(last_cfg, last_prox)), icon=":material/history:")
    if shown is not None:
        run_a, run_b = runs[(shown[0].baseline(), True)], runs[shown]
        if not train_clicked:
            panel_a.notes(run_a)
            panel_b.notes(run_b)
        drawn = (run_b.task, shown[0].steps, (shown[0].l1, shown[0].l2), [side_of_run(run_a), side_of_run(run_b)])
    if drawn is None:                               # nothing trained yet: the untrained network
        status.info(t(k("press_train")), icon=":material/touch_app:")
        one = side_of_snapshot(untrained(cfg), None)
        drawn = (task, cfg.steps, (cfg.l1, cfg.l2), [one, one])
    if not cfg.regularized:
        panel_b.note.caption(t(k("same_run")))
    r_task, r_steps, r_lambdas, r_sides = drawn
    ss[k("_replay")] = data = replay_data(r_task, "curve" if r_task.X_train.shape[1] == 1 else "moons", r_sides,
                                          r_steps, r_lambdas)               # (AppTest reads what was sent)
    with replay_slot.container():
        regularization_replay_explorable(data, key=k("replay"))
        st.caption(t(k("replay_hint")))

# ---------------------------------------------------------------------------------------------
# (2) The formula, with the learner's numbers (the right-hand run, or the untrained network)

section("formula")
snap = runs[shown].final if shown is not None else partial[0] if partial else untrained(cfg)
lam1, lam2 = (shown[0].l1, shown[0].l2) if shown is not None else \
    (partial[1].l1, partial[1].l2) if partial else (cfg.l1, cfg.l2)
n_weights = snap.weights.size
st.markdown(t(k("formula_intro"), n=f"{n_weights:,}"))
f1, f2 = st.columns(2)
with f1:
    st.latex(r"J_{L1}(\theta) = J(\theta) + \lambda \sum_{i=1}^{n} |\theta_i|")
    st.latex(rf"= {snap.train_loss:.4f} + {fmt_lambda(lam1)} \times {snap.sum_abs:.2f}"
             rf" = {snap.train_loss:.4f} + {lam1 * snap.sum_abs:.4f} = {snap.train_loss + lam1 * snap.sum_abs:.4f}")
with f2:
    st.latex(r"J_{L2}(\theta) = J(\theta) + \lambda \sum_{i=1}^{n} \theta_i^2")
    st.latex(rf"= {snap.train_loss:.4f} + {fmt_lambda(lam2)} \times {snap.sum_sq:.2f}"
             rf" = {snap.train_loss:.4f} + {lam2 * snap.sum_sq:.4f} = {snap.train_loss + lam2 * snap.sum_sq:.4f}")
st.markdown(f"**{t(k('how_title'))}**")
g1, g2 = st.columns(2)
with g1:
    st.latex(r"\theta \leftarrow \operatorname{sign}(\theta)\,\max(|\theta| - \eta\lambda_1,\ 0)")
    st.latex(rf"\eta\lambda_1 = {cfg.lr:g}\times{fmt_lambda(cfg.l1)} = {cfg.lr * cfg.l1:.2g}")
with g2:
    st.latex(r"\theta \leftarrow \theta\,(1 - 2\eta\lambda_2)")
    st.latex(rf"1 - 2\eta\lambda_2 = 1 - 2\times{cfg.lr:g}\times{fmt_lambda(cfg.l2)} = {1 - 2 * cfg.lr * cfg.l2:.6g}")
st.markdown(t(k("how"), lr=f"{cfg.lr:g}", thr=f"ηλ₁ = {cfg.lr * cfg.l1:.2g}",
              decay=f"{1 - 2 * cfg.lr * cfg.l2:.6g}"))
show_code(l1_penalty, l2_penalty, soft_threshold_, weight_decay_, InputJitter)

# ---------------------------------------------------------------------------------------------
# (3) Why it matters, (4) Try this

why_and_try(KEY)
