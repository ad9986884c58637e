"""CNN anatomy: the course texts' CNN on real MNIST digits, layer by layer, and trained live by the learner."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st
import torch
import torch.nn.functional as F

from bigmodel_core.charts.spec import line_chart
from bigmodel_core.charts.cnn import (confusion_spec, fc1_image, feature_map_grid, filter_grid,
                                      softmax_line_latex)
from bigmodel_core.models.cnn import (CNN, RECORD_PATH, cnn_activations, confusion_matrix, count_parameters,
                                      layer_table, new_cnn)
from bigmodel_core.data import load_record, mnist_tensors
from bigmodel_core.train import OPTIMIZERS, TrainConfig, accuracy, fit, guessing_accuracy, outcome
from app_pages._queue import heavy
from app_pages._training import diverged_text, lr_advice, number
from app_pages._digit_input import bundled_cnn, crisp_images, digit_input, show_prediction
from app_pages._ui import altair, page_header, section, show_code, sync_url, t, url_state, vega, why_and_try

KEY = "cnn_anatomy"
LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0)
BATCHES = (32, 64, 128, 256, 512)
MAPS = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2")
SHAPES = {"input": "1×28×28", "conv1": "32×28×28", "relu1": "32×28×28", "pool1": "32×14×14",
          "conv2": "64×14×14", "relu2": "64×14×14", "pool2": "64×7×7", "fc1": "128", "logits": "10"}

page_header(KEY)
crisp_images()


@st.cache_resource(show_spinner=False)
def data_tensors():
    """The MNIST split as tensors, once per process; read-only (cache_resource: no 16 MB copy per rerun)."""
    return mnist_tensors()


def _toggle_key() -> str:
    """A fresh toggle per training run, so every new run starts switched on."""
    return f"{KEY}.use_trained_{st.session_state.get(f'{KEY}.run_id', 0)}"


def current_model() -> tuple[CNN, bool]:
    """The learner's own trained model once they have trained one, else the bundled weights."""
    trained = st.session_state.get(f"{KEY}.trained_model")
    if trained is not None and st.session_state.get(_toggle_key(), True):
        return trained, True
    return bundled_cnn(), False


def layer_pass(model: CNN, x28: np.ndarray) -> tuple[dict, dict]:
    """One forward pass: every layer's activations (C, H, W) and the feature-map grids drawn from them."""
    x = torch.from_numpy(x28).view(1, 1, 28, 28).to(next(model.parameters()).device)   # (1, 1, 28, 28)
    acts = {k: v[0].cpu() for k, v in cnn_activations(model, x).items()}
    grids = {name: feature_map_grid(acts[name], ncols=16 if acts[name].shape[0] == 64 else 8, scale=1,
                                    diverging=name.startswith("conv")) for name in MAPS}
    return acts, grids


@st.cache_data(max_entries=64, show_spinner=False)
def bundled_pass(digit_key: str, x28: np.ndarray) -> tuple[dict, dict]:
    """layer_pass with the bundled weights, cached per digit: going back to a digit costs no forward pass."""
    return layer_pass(bundled_cnn(), x28)


# ---------------------------------------------------------------------------------------------
# 1. Play: a digit through every layer

@st.fragment
def play(softmax_box) -> None:
    """The digit through every layer. A fragment: picking another digit (one forward pass) reruns only
    this part and the softmax line of the formula (written into softmax_box), not the training part."""
    model, is_trained = current_model()
    col_in, col_seen, col_probs = st.columns([1.25, 0.8, 1.2], gap="medium")
    with col_in:
        digit = digit_input(KEY)
    sync_url(f"{KEY}.source", f"{KEY}.index")
    if digit.x28 is None:
        return
    acts, grids = bundled_pass(digit.key, digit.x28) if not is_trained else layer_pass(model, digit.x28)
    probs = acts["probs"].numpy()
    weights_note = t("cnn_anatomy.weights_trained") if is_trained else t("cnn_anatomy.weights_bundled")
    pred = show_prediction(digit, probs, col_seen, col_probs, prefix=KEY, note=weights_note)
    with col_probs:
        if st.session_state.get(f"{KEY}.trained_model") is not None:
            st.toggle(t("cnn_anatomy.use_trained"), value=True, key=_toggle_key())

    st.markdown("#### " + t("cnn_anatomy.pipeline_title"))
    st.markdown(" → ".join(f"**{name}** `{SHAPES[name]}`" for name in
                           ("input", "conv1", "pool1", "conv2", "pool2", "fc1", "logits")))
    tabs = st.tabs([f"{name} · {SHAPES[name]}" for name in MAPS])
    for tab, name in zip(tabs, MAPS):
        with tab:
            st.caption(t(f"cnn_anatomy.layer_{name}"))
            zoom = {28: 3, 14: 4, 7: 7}[acts[name].shape[-1]]                  # screen pixels per map pixel
            st.image(grids[name], width=grids[name].shape[1] * zoom)

    c_filters, c_fc1, c_params = st.columns([1, 1.3, 1.1], gap="medium")
    with c_filters:
        st.markdown(f"**{t('cnn_anatomy.filters_title')}**")
        st.image(filter_grid(model.conv1.weight.detach().cpu(), scale=1), width=31 * 14)
        st.caption(t("cnn_anatomy.filters_caption"))
    with c_fc1:
        st.markdown(f"**{t('cnn_anatomy.fc1_title')}**")
        st.image(fc1_image(acts["fc1"]), width=16 * 5 * 5)
        st.caption(t("cnn_anatomy.fc1_caption", active=int((acts["fc1"] > 0).sum())))
    with c_params:
        st.markdown(f"**{t('cnn_anatomy.params_title')}**")
        table = pd.DataFrame(layer_table(model))
        table["params"] = table["params"].map("{:,}".format)
        table.columns = [t("cnn_anatomy.col_layer"), t("cnn_anatomy.col_shape"), t("cnn_anatomy.col_params")]
        st.dataframe(table, hide_index=True, width="stretch")
        st.metric(t("cnn_anatomy.total_params"), f"{count_parameters(model):,}")
    with softmax_box:
        line = softmax_line_latex(acts["logits"].numpy(), pred)
        if line is not None:
            st.latex(line)
        else:                                                         # a diverged network's logits
            st.warning(t("cnn_anatomy.logits_not_finite"), icon=":material/warning:")


section("play")
play_box = st.container()


# ---------------------------------------------------------------------------------------------
# Train it yourself. The settings are a fragment (moving a slider reruns only them); the Train and
# Stop buttons and the training itself are in the page's own run, because only a click outside every
# fragment interrupts a running script at once: Streamlit queues a fragment widget's click until the
# run ends, so a Stop inside the fragment would act only after training had finished.

@st.fragment
def train_settings() -> None:
    st.subheader(t("cnn_anatomy.train_title"))
    st.caption(t("cnn_anatomy.train_caption"))
    url_state(f"{KEY}.epochs", 2, lo=1, hi=10)
    url_state(f"{KEY}.lr", 1e-3, choices=LRS)
    url_state(f"{KEY}.batch", 64, choices=BATCHES)
    url_state(f"{KEY}.optimizer", "adam", choices=OPTIMIZERS)
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        epochs = st.slider(t("common.epochs"), 1, 10, key=f"{KEY}.epochs")
    with c2:
        st.select_slider(t("common.learning_rate"), LRS, key=f"{KEY}.lr", format_func=lambda v: f"{v:g}")
    with c3:
        batch = st.select_slider(t("common.batch_size"), BATCHES, key=f"{KEY}.batch")
    with c4:
        st.selectbox(t("common.optimizer"), OPTIMIZERS, key=f"{KEY}.optimizer",
                     format_func=lambda o: t(f"cnn_anatomy.opt_{o}"))
    sync_url(f"{KEY}.epochs", f"{KEY}.lr", f"{KEY}.batch", f"{KEY}.optimizer")
    n_train = len(data_tensors()[0])
    st.caption(t("cnn_anatomy.budget", steps=epochs * math.ceil(n_train / batch), samples=n_train))


def train_yourself() -> None:
    ss = st.session_state
    epochs, lr, batch, opt = (ss[f"{KEY}.{n}"] for n in ("epochs", "lr", "batch", "optimizer"))
    X_train, y_train, X_test, y_test = data_tensors()
    steps_per_epoch = math.ceil(len(X_train) / batch)
    b1, b2, _ = st.columns([1, 1, 3], vertical_alignment="center")
    start = b1.button(t("common.train"), key=f"{KEY}.train", type="primary", icon=":material/play_arrow:")
    b2.button(t("common.stop"), key=f"{KEY}.stop", icon=":material/stop:")   # a click interrupts the run

    run = ss.get(f"{KEY}.run")
    if run is not None and run["status"] == "running" and not start:    # interrupted by Stop (a rerun)
        model = ss[f"{KEY}.trained_model"].eval()                 # the weights of the last step taken
        run["status"] = "stopped"
        run["filters"].append((math.ceil(run["step"] / run["steps_per_epoch"]),
                               model.conv1.weight.detach().cpu().clone()))
        run["cm"] = confusion_matrix(model, X_test, y_test)
        run["test_acc"] = float(np.trace(run["cm"]) / run["cm"].sum())
    progress_box, message_box = st.empty(), st.empty()
    c_loss, c_acc, c_filt = st.columns([1, 1, 1.1])
    loss_box, acc_box, filt_box = c_loss.empty(), c_acc.empty(), c_filt.empty()
    cm_box = st.empty()

    def draw(run, final: bool = False):
        if run["loss_rows"]:
            altair(line_chart(pd.DataFrame(run["loss_rows"]), y="value", series="series", title=t("common.loss"),
                              x_title=t("common.step"), y_title=t("common.loss"), width=300, height=200, log_y=True),
                   where=loss_box)
        if run["acc_rows"]:
            altair(line_chart(pd.DataFrame(run["acc_rows"]), y="value", series="series",
                              title=t("common.accuracy"), x_title=t("common.step"),
                              y_title=t("common.accuracy"), width=300, height=200, points=True),
                   where=acc_box)
        if run["filters"]:
            epoch, kernels = run["filters"][-1]
            with filt_box.container():
                st.markdown(f"**{t('cnn_anatomy.filters_after', epoch=epoch)}**")
                st.image(filter_grid(kernels, scale=1), width=31 * 11)
        if final:
            verdict_note(run)
            if run.get("cm") is not None:
                with cm_box.container():
                    st.markdown(f"**{t('cnn_anatomy.confusion_title')}**")
                    vega(confusion_spec(run["cm"], x_title=t("cnn_anatomy.predicted"), y_title=t("cnn_anatomy.true")),
                         key=f"{KEY}.cm_chart")

    def verdict_note(run):
        """What the run amounts to (bigmodel_core.train.outcome), naming the control to change."""
        acc = t("cnn_anatomy.test_acc", acc=f"{run['test_acc']:.1%}") if math.isfinite(run["test_acc"]) else ""
        if run["status"] == "diverged":
            message_box.error(diverged_text(run["diverged_at"], run["diverged_how"], run["first_loss"],
                                            run["diverged_loss"], run["diverge_factor"])
                              + " " + lr_advice(t("common.learning_rate"), run["lr"], "0.001"),
                              icon=":material/warning:")
        elif run["status"] == "stopped":
            progress_box.progress(run["step"] / max(1, run["total"]),
                                  text=t("train.stopped_progress", step=run["step"], total=run["total"]))
            message_box.warning(t("train.stopped", step=run["step"], total=run["total"]) + " " + acc,
                                icon=":material/stop_circle:")
        elif run["status"] == "chance":
            message_box.warning(t("train.chance", acc=f"{run['test_acc']:.1%}", chance=f"{run['chance']:.1%}")
                                + " " + lr_advice(t("common.learning_rate"), run["lr"], "0.001", chance=True),
                                icon=":material/warning:")
        elif run["status"] == "learned":
            message_box.success(t("common.finished", steps=run["step"], seconds=f"{run['seconds']:.1f}") + " " + acc)

    if start:
        model = new_cnn(seed=0)
        config = TrainConfig(epochs=epochs, lr=lr, batch_size=batch, optimizer=opt, seed=0, report_every=5,
                             eval_every=max(1, steps_per_epoch // 2))
        run = {"status": "running", "step": 0, "total": epochs * steps_per_epoch, "loss_rows": [],
               "acc_rows": [], "filters": [], "cm": None, "diverged_at": None, "diverged_how": None,
               "first_loss": None, "diverged_loss": None, "diverge_factor": config.diverge_factor,
               "seconds": 0.0, "test_acc": float("nan"), "lr": lr, "chance": guessing_accuracy(y_test),
               "steps_per_epoch": steps_per_epoch}
        ss[f"{KEY}.run"] = run
        ss[f"{KEY}.trained_model"] = model                        # the page uses it from now on
        ss[f"{KEY}.run_id"] = ss.get(f"{KEY}.run_id", 0) + 1
        run["filters"].append((0, model.conv1.weight.detach().cpu().clone()))
        bar = progress_box.progress(0.0, text=t("common.training"))
        X_eval, y_eval = X_train[:1000], y_train[:1000]

        def evaluate(m):
            dev = next(m.parameters()).device
            test_logits = m(X_test.to(dev))
            return {"test_loss": F.cross_entropy(test_logits, y_test.to(dev)).item(),
                    "test_acc": (test_logits.argmax(-1).cpu() == y_test).float().mean().item(),
                    "train_acc": accuracy(m, X_eval, y_eval)}

        def on_progress(ev):
            run["step"] = ev.step                                 # (a Stop click interrupts at the next st call)
            if math.isfinite(ev.train_loss):
                run["loss_rows"].append({"step": ev.step, "series": t("cnn_anatomy.train"), "value": ev.train_loss})
            if ev.metrics:
                run["loss_rows"].append({"step": ev.step, "series": t("cnn_anatomy.test"),
                                         "value": ev.metrics["test_loss"]})
                run["acc_rows"] += [{"step": ev.step, "series": t("cnn_anatomy.train"), "value": ev.metrics["train_acc"]},
                                    {"step": ev.step, "series": t("cnn_anatomy.test"), "value": ev.metrics["test_acc"]}]
                run["test_acc"] = ev.metrics["test_acc"]
                if ev.step % run["steps_per_epoch"] == 0 or ev.step == ev.total_steps:
                    run["filters"].append((math.ceil(ev.step / run["steps_per_epoch"]),
                                           model.conv1.weight.detach().cpu().clone()))
            bar.progress(ev.fraction, text=t("cnn_anatomy.progress", step=ev.step, total=ev.total_steps,
                                             epoch=ev.epoch + 1, loss=number(ev.train_loss)))
            draw(run)

        with heavy("cnn_train"):                                  # one training at a time per process
            hist = fit(model, (X_train, y_train), config, loss_fn=F.cross_entropy, evaluate=evaluate,
                       on_progress=on_progress)
        run.update(diverged_at=hist.diverged_at, diverged_how=hist.diverged_how, first_loss=hist.first_loss,
                   diverged_loss=hist.diverged_loss, seconds=hist.seconds)
        run["step"] = hist.steps[-1] if hist.steps else 0
        if not hist.diverged:
            run["cm"] = confusion_matrix(model, X_test, y_test)
            run["test_acc"] = float(np.trace(run["cm"]) / run["cm"].sum())
        run["status"] = outcome(hist, accuracy=run["test_acc"], chance=run["chance"], n_eval=len(y_test))
        progress_box.progress(1.0 if hist.reason == "finished" else run["step"] / max(1, run["total"]))
        draw(run, final=True)
        st.rerun(scope="app")                                     # redraw the layers with the new weights
    elif run is not None:
        draw(run, final=True)


train_settings()
train_yourself()
rec = load_record(RECORD_PATH)
st.caption(t("cnn_anatomy.bundled_note", acc=f"{rec['test_accuracy']:.1%}", epochs=rec["training"]["epochs"],
             n=rec["data"]["train_size"]))

# ---------------------------------------------------------------------------------------------
# 2. The formula, with this digit's numbers

section("formula")
st.latex(r"y_{c}(i,j) = \sum_{c'}\sum_{u=0}^{2}\sum_{v=0}^{2} k_{c,c'}(u,v)\, x_{c'}(i+u-1,\,j+v-1) + b_c"
         r"\qquad \text{pool}(i,j) = \max_{(u,v)\in 2\times2} \text{ReLU}(y)(2i+u,\,2j+v)")
st.latex(r"p = \mathrm{softmax}\big(W_2\,\mathrm{ReLU}(W_1\,\mathrm{flatten}(h_{\text{pool2}}) + b_1) + b_2\big)"
         r"\qquad p_k = \frac{e^{z_k}}{\sum_j e^{z_j}}")
softmax_box = st.container()
st.caption(t("cnn_anatomy.formula_caption", conv1=f"{320:,}", conv2=f"{18496:,}", fc1=f"{401536:,}",
             fc2=f"{1290:,}", total=f"{count_parameters(current_model()[0]):,}"))
show_code(CNN, cnn_activations)
with play_box:
    play(softmax_box)

why_and_try(KEY)
