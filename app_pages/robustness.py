"""Robustness and privacy: adversarial digits against the course CNN (FGSM, targeted FGSM, PGD, and
adversarial training as a defence), and federated learning (FedAvg) over simulated clients (course text 3 §7,
course text 4: security, privacy)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import streamlit as st
import torch

from bigmodel_core.errors import UserInputError
from bigmodel_core.federated import (MAX_CLIENTS, MAX_ROUNDS, SPLITS, FedConfig, central_curve, fedavg_clients,
                                     split_clients, validate)
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.data import ASSETS, load_record, mnist_tensors
from bigmodel_core.robustness import (EPS_STEP, MAX_EPS, MAX_PGD_STEPS, accuracy_vs_eps, check_eps, eps_grid, fgsm,
                                      fgsm_sweep, fgsm_targeted, input_gradient, pgd)
from bigmodel_core.charts.robustness import (accuracy_eps_chart, move_rule, perturbation_image,
                                             probability_pair_spec, rounds_chart)
from bigmodel_core.charts.spec import to_spec
from bigmodel_core.charts.cnn import digit_image
from app_pages._digit_input import bundled_cnn, crisp_images, digit_input
from app_pages._ui import (lang, page_header, section, show_code, show_error, sync_url, t, url_state, vega,
                           why_and_try)
from app_pages._queue import heavy
from app_pages._explorables import committed, robustness_eps_explorable

KEY = "robustness"
TOPICS = ("adversarial", "federated")
MODELS = ("standard", "adversarial")
ATTACKS = ("fgsm", "targeted", "pgd")
TARGETS = (-1,) + tuple(range(10))        # -1: the runner-up class
EPS_CURVE = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
CURVE_DIGITS = 500
ADV_WEIGHTS, ADV_RECORD = ASSETS / "cnn_mnist_adv.safetensors", ASSETS / "cnn_mnist_adv.json"
FRACTIONS = (0.1, 0.2, 0.3, 0.5, 1.0)
LRS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 10.0)
CLIPS = (0.0, 0.5, 1.0, 2.0, 5.0)
NOISES = (0.0, 0.01, 0.03, 0.1, 0.3)   # sigma: above ~0.3 the noise (sigma S / m per weight) swamps the updates
D = FedConfig()


def k(name: str) -> str:
    return f"{KEY}.{name}"


def guarded_state(key: str, default, check) -> None:
    """Like url_state, but a value from the link (or the session) that `check` refuses is reported
    in the learner's language instead of silently replaced: eps 10, zero clients, zero rounds."""
    raw = st.session_state.get(key, st.query_params.get(key))
    if raw is None:
        st.session_state[key] = default
        return
    try:
        value = type(default)(raw)
        check(value)
    except UserInputError as e:
        show_error(e)
        value = default
    except (TypeError, ValueError):
        value = default
    if st.session_state.get(key) != value:
        st.session_state[key] = value


# ---------------------------------------------------------------------------------------------
# Models and data (loaded once per process, read-only)

@st.cache_resource(show_spinner=False)
def adversarial_cnn():
    """The adversarially fine-tuned CNN (scripts/train_robust_cnn.py), or None if it is not shipped."""
    return load_cnn(ADV_WEIGHTS) if ADV_WEIGHTS.exists() else None


@st.cache_resource(show_spinner=False)
def adv_record() -> dict | None:
    return load_record(ADV_RECORD) if ADV_RECORD.exists() else None


@st.cache_resource(show_spinner=False)
def digits():
    return mnist_tensors()                                           # X_train, y_train, X_test, y_test


def get_model(kind: str):
    return (adversarial_cnn() or bundled_cnn()) if kind == "adversarial" else bundled_cnn()


@st.cache_data(max_entries=128, show_spinner=False)
def attack_digit(model_kind: str, digit_key: str, x28: np.ndarray, label: int, attack: str, eps: float,
                 target: int, steps: int) -> dict:
    """One digit before and after the attack, with the numbers the formula shows; plain values only."""
    model = get_model(model_kind)
    device = next(model.parameters()).device
    x = torch.from_numpy(x28).view(1, 1, 28, 28).to(device)          # (1, 1, 28, 28)
    y = torch.tensor([label], device=device)
    grad, logits = input_gradient(model, x, y, return_logits=True)
    p0 = logits.softmax(-1)[0]
    if target < 0:                                                     # the runner-up class
        target = int(p0.argsort(descending=True)[1])
    if attack == "fgsm":
        x_adv = fgsm(model, x, y, eps)
    elif attack == "targeted":
        x_adv = fgsm_targeted(model, x, target, eps)
    else:
        x_adv = pgd(model, x, y, eps, steps=steps)
    with torch.no_grad():
        logits_adv = model(x_adv)
        loss0 = float(torch.nn.functional.cross_entropy(logits, y))
        loss1 = float(torch.nn.functional.cross_entropy(logits_adv, y))
    delta = (x_adv - x)[0, 0].cpu().numpy()                           # (28, 28)
    return {"x_adv": x_adv[0, 0].cpu().numpy(), "delta": delta, "p0": p0.cpu().numpy(),
            "p1": logits_adv.softmax(-1)[0].cpu().numpy(), "loss0": loss0, "loss1": loss1, "target": target,
            "plus": int((delta > eps - 1e-6).sum()), "minus": int((delta < -eps + 1e-6).sum()),   # the full eps
            "clipped": int((np.abs(delta) <= eps - 1e-6).sum()),         # moved less: stopped at 0 or 1
            "linf": float(np.abs(delta).max()), "l2": float(np.sqrt((delta ** 2).sum()))}


@st.cache_data(max_entries=64, show_spinner=False)
def eps_sweep(model_kind: str, digit_key: str, x28: np.ndarray, label: int, attack: str, target: int) -> dict:
    """FGSM (or targeted FGSM) on one digit at every eps of the slider (fgsm_sweep): what the browser
    redraws from. target -1: the runner-up class of the clean digit. Plain arrays only."""
    model = get_model(model_kind)
    x = torch.from_numpy(x28).view(1, 1, 28, 28)                      # (1, 1, 28, 28)
    if attack == "targeted" and target < 0:
        with torch.no_grad():
            target = int(model(x.to(next(model.parameters()).device))[0].argsort(descending=True)[1])
    res = fgsm_sweep(model, x, label, eps_grid(), target=target if attack == "targeted" else None)
    return {"direction": res["direction"].numpy(), "probs": res["probs"].numpy(), "loss": res["loss"].numpy(),
            "target": target if attack == "targeted" else None}


@st.cache_data(max_entries=4, show_spinner=False)
def curve_rows(language: str) -> list[dict]:
    """The accuracy-against-eps series the explorable draws: FGSM measured now, PGD from the record."""
    curves, _ = fgsm_curves()
    rec = adv_record()
    out = [{"name": t(k(f"adv.series_fgsm_{m}")), "rows": rows} for m, rows in curves.items()]
    if rec:
        out += [{"name": t(k(f"adv.series_pgd_{m}")), "rows": rec["evaluation"][m]["pgd"]} for m in MODELS]
    return out


@st.cache_data(max_entries=4, show_spinner=False)
def fgsm_curves() -> tuple[dict, float]:
    """Held-out accuracy against eps under FGSM for both models, on the first CURVE_DIGITS digits."""
    import time
    _, _, X, y = digits()
    t0 = time.perf_counter()
    out = {m: accuracy_vs_eps(get_model(m), X[:CURVE_DIGITS], y[:CURVE_DIGITS], EPS_CURVE)
           for m in MODELS if m == "standard" or adversarial_cnn() is not None}
    return out, time.perf_counter() - t0


@st.cache_data(max_entries=4, show_spinner=False)
def curve_spec(language: str) -> tuple[dict, float]:
    """The accuracy-against-eps chart as a Vega-Lite dict, built once per language (the eps slider
    only moves its rule, with move_rule)."""
    curves, seconds = fgsm_curves()
    rec = adv_record()
    series = {t(k(f"adv.series_fgsm_{m}")): rows for m, rows in curves.items()}
    if rec:
        for m in MODELS:
            series[t(k(f"adv.series_pgd_{m}"))] = rec["evaluation"][m]["pgd"]
    chart = accuracy_eps_chart(series, eps=0.0, labels={"eps": t(k("adv.eps_axis")),
                                                        "accuracy": t(k("adv.accuracy_axis"))})
    return to_spec(chart), seconds


# ---------------------------------------------------------------------------------------------
# Adversarial examples

@st.fragment
def adversarial_part() -> None:
    """Play, the defence and the formula: one fragment, so a slider reruns only this part."""
    res = adversarial_play()
    defence_table()
    adversarial_formula(res)


def adversarial_play():
    guarded_state(k("eps"), 0.1, check_eps)
    guarded_state(k("pgd_steps"), 10, lambda v: pgd_steps_ok(v))
    url_state(k("model"), "standard", choices=MODELS)
    url_state(k("attack"), "fgsm", choices=ATTACKS)
    url_state(k("target"), -1, choices=TARGETS)
    sent = committed(k("eps_view"), "eps")                             # the explorable's last commit
    if sent is not None and sent != st.session_state.get(k("_eps_sent")):
        st.session_state[k("_eps_sent")] = sent
        try:
            st.session_state[k("eps")] = check_eps(round(float(sent), 2))
        except (UserInputError, TypeError, ValueError):
            pass                                                       # a forged message changes nothing
    col_in, col_ctrl = st.columns([1.1, 1.6], gap="medium")
    with col_in:
        digit = digit_input(KEY)
    with col_ctrl:
        model_kind = st.segmented_control(t(k("adv.model")), MODELS, key=k("model"), required=True,
                                          format_func=lambda m: t(f"robustness.adv.model_{m}"))
        attack = st.segmented_control(t(k("adv.attack")), ATTACKS, key=k("attack"), required=True,
                                      format_func=lambda a: t(f"robustness.adv.attack_{a}"))
        if attack == "pgd":                                            # PGD's walk depends on eps: server-side
            eps = st.slider(t(k("adv.eps")), 0.0, MAX_EPS, step=EPS_STEP, key=k("eps"))
        else:                                                          # FGSM: the eps slider is in the browser
            eps = float(st.session_state[k("eps")])
        if attack == "targeted":
            st.selectbox(t(k("adv.target")), TARGETS, key=k("target"),
                         format_func=lambda c: t(k("adv.target_auto")) if c < 0 else str(c))
        if attack == "pgd":
            st.slider(t(k("adv.pgd_steps")), 1, 20, key=k("pgd_steps"))
    sync_url(k("source"), k("index"), k("model"), k("attack"), k("eps"), k("target"), k("pgd_steps"))
    if digit.x28 is None:
        return None
    model = get_model(model_kind)
    label = digit.label
    if label is None:
        with torch.no_grad():
            x = torch.from_numpy(digit.x28).view(1, 1, 28, 28).to(next(model.parameters()).device)
            label = int(model(x).argmax())
        st.caption(t(k("adv.label_note"), label=label))
    if attack != "pgd":
        return fgsm_view(model_kind, digit, label, attack, float(eps))
    steps = int(st.session_state[k("pgd_steps")])
    res = attack_digit(model_kind, digit.key, digit.x28, label, attack, float(eps),
                       int(st.session_state[k("target")]), steps)
    a, b = int(res["p0"].argmax()), int(res["p1"].argmax())

    c1, c2, c3, c4 = st.columns([1, 1, 1, 1.7], gap="small")
    with c1:
        st.markdown(f"**{t(k('adv.clean'))}**")
        st.image(digit_image(digit.x28, scale=1), width=168)
        st.metric(t(k("adv.prediction")), a, delta=f"{res['p0'][a]:.1%}", delta_color="off", delta_arrow="off")
    with c2:
        st.markdown(f"**{t(k('adv.noise'))}**")
        st.image(perturbation_image(res["delta"], max(eps, 1e-9)), width=168)
        st.caption(t(k("adv.noise_caption")))
    with c3:
        st.markdown(f"**{t(k('adv.adversarial'))}**")
        st.image(digit_image(res["x_adv"], scale=1), width=168)
        st.metric(t(k("adv.prediction")), b, delta=t(k("adv.was"), pred=a) if b != a else f"{res['p1'][b]:.1%}",
                  delta_color="inverse" if b != a else "off", delta_arrow="off")
    with c4:
        st.markdown(f"**{t(k('adv.probs_title'))}**")
        labels = {"clean": t(k("adv.probs_clean")), "adversarial": t(k("adv.probs_adversarial")),
                  "digit": t(k("adv.digit")), "probability": t(k("adv.probability"))}
        vega(probability_pair_spec(res["p0"], res["p1"], labels=labels), height=290, key=k("probs_chart"))
    eps_txt = f"{eps:g}"
    if b != a:
        st.warning(t(k("adv.flipped"), a=a, b=b, eps=eps_txt, grey=round(eps * 255)), icon=":material/bolt:")
    else:
        st.info(t(k("adv.held"), a=a, eps=eps_txt), icon=":material/shield:")
    if attack == "targeted":
        st.caption(t(k("adv.targeted_hit"), b=b) if b == res["target"] else
                   t(k("adv.targeted_miss"), t=res["target"], b=b))

    st.markdown("#### " + t(k("adv.curve_title")))
    spec, seconds = curve_spec(lang())
    vega(move_rule(spec, float(eps)), height=340, key=k("curve_chart"))
    rec = adv_record()
    st.caption(t(k("adv.curve_caption"), n=CURVE_DIGITS, seconds=f"{seconds:.1f}",
                 pgd_steps=rec["evaluation"]["pgd_steps"] if rec else 10,
                 pgd_n=rec["evaluation"]["pgd_digits"] if rec else 0))
    return {"eps": float(eps), "attack": attack, "steps": steps, **res}


EPS_LABELS = ("eps", "clean", "noise", "noise_caption", "adversarial", "prediction", "was", "probs_title",
              "probs_clean", "probs_adversarial", "flipped", "held", "targeted_hit", "targeted_miss", "curve_title",
              "eps_axis", "formula_numbers")


def fgsm_view(model_kind: str, digit, label: int, attack: str, eps: float) -> dict:
    """FGSM and targeted FGSM: the digit at every eps is computed once (eps_sweep) and the explorable
    redraws eps in the browser (app_pages/components/robustness_eps.js); eps comes back on a commit."""
    sweep = eps_sweep(model_kind, digit.key, digit.x28, label, attack, int(st.session_state[k("target")]))
    eps = round(round(eps / EPS_STEP) * EPS_STEP, 2)                  # on the grid (a link may say 0.255)
    robustness_eps_explorable(x28=digit.x28, sweep=sweep, eps=eps, step=EPS_STEP, max_eps=MAX_EPS,
                              curves=curve_rows(lang()), target=sweep["target"],
                              labels={n: t(k(f"adv.{n}")) for n in EPS_LABELS}, lang=lang(), key=k("eps_view"),
                              on_commit=lambda: None)
    _, seconds = fgsm_curves()
    rec = adv_record()
    st.caption(t(k("adv.curve_caption"), n=CURVE_DIGITS, seconds=f"{seconds:.1f}",
                 pgd_steps=rec["evaluation"]["pgd_steps"] if rec else 10,
                 pgd_n=rec["evaluation"]["pgd_digits"] if rec else 0))
    return None


def pgd_steps_ok(v: int) -> None:
    if not 1 <= int(v) <= min(20, MAX_PGD_STEPS):
        raise UserInputError("robustness.errors.steps", steps=v, max_steps=20)


def defence_table() -> None:
    rec = adv_record()
    st.markdown("#### " + t(k("adv.defence_title")))
    if rec is None:
        st.info(t(k("adv.no_record")))
        return
    tr = rec["training"]
    st.markdown(t(k("adv.defence_text"), epochs=tr["epochs"], eps=tr["eps"], every=tr["regenerate_every"],
                  steps=tr["steps"], seconds=tr["seconds"]))
    ev = rec["evaluation"]
    rows = []
    for m in MODELS:
        r = ev[m]
        row = {t(k("adv.col_model")): t(k(f"adv.model_{m}")), t(k("adv.col_clean")): f"{r['clean_accuracy']:.1%}"}
        for attack in ("fgsm", "pgd"):
            for point in r[attack]:
                if point["eps"] in (0.1, 0.2, 0.3):
                    row[f"{attack.upper()} ε={point['eps']:g}"] = f"{point['accuracy']:.1%}"
        rows.append(row)
    st.dataframe(rows, hide_index=True)


def adversarial_formula(res: dict | None) -> None:
    section("formula")
    st.markdown(t(k("adv.formula_intro")))
    st.latex(r"x_{\text{adv}} = \operatorname{clip}_{[0,1]}\!\Big(x + \varepsilon\,"
             r"\operatorname{sign}\big(\nabla_x L(f(x), y)\big)\Big),\qquad \|x_{\text{adv}} - x\|_\infty \le \varepsilon")
    if res is not None:
        st.latex(rf"\varepsilon = {res['eps']:g}:\quad L(f(x), y) = {res['loss0']:.4f}\;\longrightarrow\;"
                 rf"L(f(x_{{\text{{adv}}}}), y) = {res['loss1']:.4f}")
        st.markdown(t(k("adv.formula_numbers"), plus=res["plus"], minus=res["minus"], clipped=res["clipped"],
                      linf=f"{res['linf']:.3f}", l2=f"{res['l2']:.3f}", loss0=f"{res['loss0']:.4f}",
                      loss1=f"{res['loss1']:.4f}"))
    st.markdown(t(k("adv.formula_pgd")))
    st.latex(r"x^{(i+1)} = \Pi_{\|x' - x\|_\infty \le \varepsilon,\ x' \in [0,1]}\Big(x^{(i)} \pm \alpha\,"
             r"\operatorname{sign}\big(\nabla_x L(f(x^{(i)}), y \text{ or } t)\big)\Big)")
    st.markdown(t(k("adv.formula_train")))
    st.latex(r"\min_\theta\ \tfrac12\,L(f_\theta(x), y) + \tfrac12\,L\big(f_\theta(x + \varepsilon\,"
             r"\operatorname{sign}(\nabla_x L(f_\theta(x), y))), y\big)")
    from bigmodel_core.robustness import adversarial_finetune
    show_code(fgsm, pgd, accuracy_vs_eps, adversarial_finetune)


# ---------------------------------------------------------------------------------------------
# Federated learning

def federated_play() -> FedConfig | None:
    guarded_state(k("clients"), D.n_clients, lambda v: validate(FedConfig(n_clients=v)))
    guarded_state(k("rounds"), D.rounds, lambda v: validate(FedConfig(rounds=v)))
    guarded_state(k("epochs"), D.local_epochs, lambda v: validate(FedConfig(local_epochs=v)))
    url_state(k("split"), D.split, choices=SPLITS)
    url_state(k("fraction"), D.fraction, choices=FRACTIONS)
    url_state(k("lr"), D.lr, choices=LRS)
    url_state(k("clip"), D.clip, choices=CLIPS)
    url_state(k("noise"), D.noise, choices=NOISES)
    controls, play = st.columns([1, 2.6], gap="medium")
    with controls:
        st.slider(t(k("fed.n_clients")), 1, MAX_CLIENTS, key=k("clients"))
        st.segmented_control(t(k("fed.split")), SPLITS, key=k("split"), required=True,
                             format_func=lambda s: t(f"robustness.fed.split_{s}"))
        st.slider(t(k("fed.rounds")), 1, MAX_ROUNDS, key=k("rounds"))
        st.slider(t(k("fed.local_epochs")), 1, 5, key=k("epochs"))
        st.select_slider(t(k("fed.fraction")), FRACTIONS, key=k("fraction"))
        st.select_slider(t(k("fed.lr")), LRS, key=k("lr"), format_func=lambda v: f"{v:g}")
        with st.expander(t(k("fed.privacy")), icon=":material/lock:"):
            st.select_slider(t(k("fed.clip")), CLIPS, key=k("clip"), format_func=lambda v: f"{v:g}")
            st.select_slider(t(k("fed.noise")), NOISES, key=k("noise"), format_func=lambda v: f"{v:g}")
        clicked = st.button(t(k("fed.train")), type="primary", key=k("train"), icon=":material/play_arrow:",
                            width="stretch")
        st.button(t("common.stop"), key=k("stop"), icon=":material/stop:", width="stretch")   # a click reruns
    sync_url(*(k(n) for n in ("topic", "clients", "split", "rounds", "epochs", "fraction", "lr", "clip", "noise")))
    ss = st.session_state
    cfg = FedConfig(n_clients=int(ss[k("clients")]), split=ss[k("split")], rounds=int(ss[k("rounds")]),
                    local_epochs=int(ss[k("epochs")]), fraction=float(ss[k("fraction")]), lr=float(ss[k("lr")]),
                    clip=float(ss[k("clip")]), noise=float(ss[k("noise")]))
    X, y, X_test, y_test = digits()
    with play:
        try:
            validate(cfg)
            parts = split_clients(y, cfg)
        except UserInputError as e:
            show_error(e)
            return None
        runs: dict = ss.setdefault(k("runs"), {})
        status, chart_box, note = st.empty(), st.empty(), st.empty()
        labels = {"fedavg": t(k("fed.series_fedavg")), "central": t(k("fed.series_central")),
                  "plain": t(k("fed.series_plain")),
                  "round": t(k("fed.round_axis")), "accuracy": t(k("fed.accuracy_axis"))}

        def draw(fed_rows, central_rows, plain_rows=None):
            vega(rounds_chart(fed_rows, central_rows, labels=labels, rounds=cfg.rounds, plain=plain_rows),
                 height=330, where=chart_box)

        if clicked:
            fed_rows: list[dict] = []

            def on_round(rec):
                if not fed_rows:
                    fed_rows.append({"round": 0, "accuracy": result_holder.get("initial", 0.0)})
                fed_rows.append({"round": rec.round, "accuracy": rec.accuracy})
                status.info(t(k("fed.training"), round=rec.round, rounds=cfg.rounds, clients=len(rec.clients),
                              acc=f"{rec.accuracy:.1%}"), icon=":material/hub:")
                draw(fed_rows, [])

            result_holder: dict = {}
            clients = [(X[torch.from_numpy(p)], y[torch.from_numpy(p)]) for p in parts]
            from bigmodel_core.models.cnn import new_cnn
            from bigmodel_core.device import get_device
            from bigmodel_core.train import accuracy
            device = get_device()
            Xt, yt = X_test.to(device), y_test.to(device)

            def evaluate(m):
                acc = accuracy(m, Xt, yt)
                result_holder.setdefault("initial", acc)
                return acc

            with heavy("federated"):                              # a class pressing Train waits in line
                res = fedavg_clients(new_cnn(cfg.seed).to(device), clients, cfg, evaluate, on_round=on_round)
                status.info(t(k("fed.training_central")), icon=":material/hourglass_top:")
                central = central_curve(cfg, (X, y), (X_test, y_test))
            runs[cfg] = {"result": res, "central": central}
            ss[k("last")] = cfg
            while len(runs) > 8:
                runs.pop(next(iter(runs)))
        shown = cfg if cfg in runs else ss.get(k("last"))
        if shown not in runs:
            status.info(t(k("fed.press_train")), icon=":material/touch_app:")
            draw([], [])
        else:
            run = runs[shown]
            res, central = run["result"], run["central"]
            if shown != cfg:
                status.warning(t(k("fed.stale")), icon=":material/history:")
            else:
                status.empty()
            fed_rows = [{"round": 0, "accuracy": res.initial_accuracy}] + \
                       [{"round": r.round, "accuracy": r.accuracy} for r in res.rounds]
            central_rows = [{"round": 0, "accuracy": res.initial_accuracy}] + \
                           [{"round": r, "accuracy": a} for r, a in zip(central["rounds"], central["accuracy"])]
            twin = replace(shown, clip=0.0, noise=0.0)                        # the same run without noise
            plain_rows = None
            if shown.noise > 0 and twin in runs:
                plain = runs[twin]["result"]
                plain_rows = [{"round": 0, "accuracy": plain.initial_accuracy}] + \
                             [{"round": r.round, "accuracy": r.accuracy} for r in plain.rounds]
            draw(fed_rows, central_rows, plain_rows)
            if res.diverged:
                why = "fed.diverged_noise" if shown.noise > 0 else "fed.diverged"     # name the control to turn
                note.error(t(k(why), round=res.diverged_round), icon=":material/warning:")
            elif central["reason"] == "diverged":
                note.warning(t(k("fed.central_diverged"), step=central["diverged_at"]), icon=":material/warning:")
            else:
                text = t(k("fed.final"), rounds=len(res.rounds), fed=f"{res.rounds[-1].accuracy:.1%}",
                         central=f"{central['accuracy'][-1]:.1%}" if central["accuracy"] else "–",
                         seconds=f"{res.seconds:.1f}")
                if plain_rows and len(plain_rows) > 1:
                    text += " " + t(k("fed.noise_cost"), plain=f"{plain_rows[-1]['accuracy']:.1%}",
                                    cost=f"{(plain_rows[-1]['accuracy'] - res.rounds[-1].accuracy) * 100:+.1f}")
                elif shown.noise > 0:
                    text += " " + t(k("fed.noise_hint"))
                note.success(text, icon=":material/check_circle:")
        clients_table(cfg, parts, y, runs.get(cfg))
    return cfg


def clients_table(cfg: FedConfig, parts, y, run) -> None:
    st.markdown("#### " + t(k("fed.clients_title")))
    from bigmodel_core.models.cnn import count_parameters
    n_params = count_parameters(bundled_cnn())
    sent = run["result"].bytes_sent() if run else [0] * len(parts)
    taken = [s // (4 * n_params) for s in sent]
    rows = [{t(k("fed.col_client")): i + 1, t(k("fed.col_digits")): len(p),
             t(k("fed.col_classes")): " ".join(str(c) for c in sorted(set(y[torch.from_numpy(p)].tolist()))),
             t(k("fed.col_rounds")): taken[i], t(k("fed.col_sent")): f"{sent[i] / 2**20:.1f} MiB",
             t(k("fed.col_digits_sent")): 0} for i, p in enumerate(parts)]
    st.dataframe(rows, hide_index=True, height=min(400, 36 * (len(rows) + 1) + 3))
    st.caption(t(k("fed.clients_caption"), n=len(parts), per=round(np.mean([len(p) for p in parts])),
                 params=f"{n_params:,}"))


def federated_formula(cfg: FedConfig | None) -> None:
    section("formula")
    st.markdown(t(k("fed.formula_intro")))
    st.latex(r"w_{t} = \sum_{k \in S_t} \frac{n_k}{n}\, w^{k}_{t},\qquad "
             r"w^{k}_{t} = \text{ClientUpdate}(k, w_{t-1}),\qquad n = \sum_{k \in S_t} n_k")
    if cfg is not None:
        nk = round(len(digits()[1]) / cfg.n_clients)
        st.markdown(t(k("fed.formula_numbers"), K=cfg.n_clients, C=f"{cfg.fraction:g}", m=cfg.clients_per_round,
                      E=cfg.local_epochs, B=cfg.batch_size, lr=f"{cfg.lr:g}", nk=nk,
                      steps=cfg.local_epochs * -(-nk // cfg.batch_size)))
    st.markdown(t(k("fed.formula_dp")))
    st.latex(r"w_t = w_{t-1} + \frac{1}{m}\sum_{k \in S_t} \Delta_k \min\!\Big(1, \frac{S}{\|\Delta_k\|_2}\Big)"
             r" + \mathcal{N}\!\Big(0, \big(\tfrac{\sigma S}{m}\big)^2 I\Big)")
    if cfg is not None and cfg.clip > 0:
        from bigmodel_core.models.cnn import count_parameters
        st.markdown(t(k("fed.formula_dp_numbers"), S=f"{cfg.clip:g}", sigma=f"{cfg.noise:g}",
                      std=f"{cfg.noise * cfg.clip / cfg.clients_per_round:.3g}",
                      params=f"{count_parameters(bundled_cnn()):,}"))
    show_code(fedavg_clients, split_clients)


# ---------------------------------------------------------------------------------------------
# The page: pick a topic, then its four parts

page_header(KEY)
crisp_images()
url_state(k("topic"), "adversarial", choices=TOPICS)
topic = st.segmented_control(t(k("topic")), TOPICS, key=k("topic"), required=True,
                             format_func=lambda s: t(f"robustness.topic_{s}"))
section("play")
if topic == "adversarial":
    sync_url(k("topic"))
    adversarial_part()
    why_and_try(k("adv"))
else:
    cfg = federated_play()
    federated_formula(cfg)
    why_and_try(k("fed"))
