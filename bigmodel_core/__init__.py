"""BigModel Lab's engine: the explained operations, models, training and charts. Never imports streamlit.

Public names are re-exported lazily (PEP 562), so `import bigmodel_core` is cheap and a page pays
only for the modules it uses. Each name maps to the module that defines it.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    # foundation ---------------------------------------------------------------------------
    "get_device": "bigmodel_core.device",
    "configure_threads": "bigmodel_core.device",
    "load_mnist": "bigmodel_core.data",
    "load_image": "bigmodel_core.data",
    "load_photo": "bigmodel_core.data",
    "UserInputError": "bigmodel_core.errors",
    "t": "bigmodel_core.i18n",
    "TrainConfig": "bigmodel_core.train",
    "fit": "bigmodel_core.train",
    "tex_text": "bigmodel_core.tex",


    # convolution and pooling (issue 3) ------------------------------------------------------
    "conv2d_explained": "bigmodel_core.ops.conv",
    "pool2d_explained": "bigmodel_core.ops.pool",


    # CNN and interpretability (issue 4) -----------------------------------------------------
    "CNN": "bigmodel_core.models.cnn",
    "load_cnn": "bigmodel_core.models.cnn",
    "attribute": "bigmodel_core.interpret",


    # recurrent cells (issue 5) ----------------------------------------------------------------
    "rnn_step": "bigmodel_core.ops.rnn",
    "lstm_step": "bigmodel_core.ops.rnn",
    "gru_step": "bigmodel_core.ops.rnn",
    "run_sequence": "bigmodel_core.ops.rnn",
    "hidden_state_gradients": "bigmodel_core.ops.rnn",


    # attention and the pretrained transformer (issue 6) ---------------------------------------
    "scaled_dot_product_attention_explained": "bigmodel_core.ops.attention",
    "sinusoidal_positional_encoding": "bigmodel_core.ops.attention",
    "load_minilm": "bigmodel_core.models.bert",


    # activations, losses, optimizers and landscapes (issue 7) ---------------------------------
    "activation": "bigmodel_core.ops.activations",
    "activation_derivative": "bigmodel_core.ops.activations",
    "depth_gradients": "bigmodel_core.ops.activations",
    "regression_loss": "bigmodel_core.ops.losses",
    "softmax_cross_entropy": "bigmodel_core.ops.losses",
    "classify": "bigmodel_core.ops.losses",
    "optimizer_path": "bigmodel_core.landscape",
    "filter_normalized_direction": "bigmodel_core.landscape",
    "loss_surface_2d": "bigmodel_core.landscape",


    # regularization and the autoencoder (issue 8) ---------------------------------------------
    "RegConfig": "bigmodel_core.regularization",
    "train_run": "bigmodel_core.regularization",
    "l1_penalty": "bigmodel_core.regularization",
    "l2_penalty": "bigmodel_core.regularization",
    "soft_threshold_": "bigmodel_core.regularization",
    "weight_decay_": "bigmodel_core.regularization",
    "load_autoencoder": "bigmodel_core.models.autoencoder",


    # robustness and privacy; LIME and KernelSHAP (issue 14) ---------------------------------
    "fgsm": "bigmodel_core.robustness",
    "fgsm_targeted": "bigmodel_core.robustness",
    "pgd": "bigmodel_core.robustness",
    "accuracy_vs_eps": "bigmodel_core.robustness",
    "adversarial_finetune": "bigmodel_core.robustness",
    "FedConfig": "bigmodel_core.federated",
    "fedavg": "bigmodel_core.federated",
    "surrogate_attribute": "bigmodel_core.interpret",
    # compression (issue 14) -------------------------------------------------------------------
    "quantize_tensor": "bigmodel_core.compress",
    "prune_magnitude": "bigmodel_core.compress",
    "distillation_loss": "bigmodel_core.compress",


}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'bigmodel_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value          # cache: later lookups skip __getattr__
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
