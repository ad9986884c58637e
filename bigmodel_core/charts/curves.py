"""The activation and loss pages' palette: one fixed name and colour per activation / loss.

Both pages draw in the browser (client-side explorables: app_pages/components/activation_curves.js
and loss_curves.js compute the closed-form curves themselves), so no chart is built here; the pages
send these names and colours with their data, and the JS draws every curve in them.
"""
from __future__ import annotations

ACTIVATION_LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
                     "gelu": "GELU", "silu": "SiLU"}
ACTIVATION_COLORS = {"sigmoid": "#d62728", "tanh": "#ff7f0e", "relu": "#1f5fbf", "leaky_relu": "#17a2b8",
                     "gelu": "#2ca02c", "silu": "#8e44ad"}
LOSS_COLORS = {"mse": "#1f5fbf", "mae": "#ff7f0e", "huber": "#2ca02c",
               "cross_entropy": "#d62728", "mse_probs": "#1f5fbf"}
