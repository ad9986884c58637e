"""The activation and loss pages' palette, and the Vega-Lite serialization helpers the app shares.

The two pages draw in the browser now (app_pages/components/activation_curves.js, loss_curves.js):
they take their names and colours from here, one fixed colour per activation / loss. `to_spec`,
`stable_names`, `arrow_bytes` / `arrow_datasets` and `to_live_spec` turn an Altair chart into the
dict a page caches and redraws cheaply (`_ui.vega` sends its data with arrow_bytes).
"""
from __future__ import annotations

import altair as alt

ACTIVATION_LABELS = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "ReLU", "leaky_relu": "leaky ReLU",
                     "gelu": "GELU", "silu": "SiLU"}
ACTIVATION_COLORS = {"sigmoid": "#d62728", "tanh": "#ff7f0e", "relu": "#1f5fbf", "leaky_relu": "#17a2b8",
                     "gelu": "#2ca02c", "silu": "#8e44ad"}
LOSS_COLORS = {"mse": "#1f5fbf", "mae": "#ff7f0e", "huber": "#2ca02c",
               "cross_entropy": "#d62728", "mse_probs": "#1f5fbf"}


def to_spec(chart: alt.TopLevelMixin) -> dict:
    """The chart as a plain Vega-Lite dict, built once: pages cache it (st.cache_data) and draw it
    with st.vega_lite_chart, so a rerun does not pay Altair's per-object schema work again.
    (Tests validate the same charts with chart.to_dict().)"""
    from altair.utils.schemapi import debug_mode
    with debug_mode(False):
        return chart.to_dict(validate=False)


def stable_names(spec: dict, prefix: str = "d") -> dict:
    """The spec with its named datasets renamed d0, d1, ... in the order the spec first uses them.

    Altair names each dataset by a hash of its rows, so moving a slider (new point, new rule)
    renames a dataset and changes the spec itself, and the browser rebuilds the whole Vega view.
    With position-based names the spec stays the same and Streamlit only swaps the changed rows
    into the live chart. Returns a new dict; `spec` is not modified."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    order: dict[str, str] = {}

    def walk(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k == "datasets" and node is spec:
                    continue
                if k == "data" and isinstance(v, dict) and v.get("name") in datasets:
                    name = order.setdefault(v["name"], f"{prefix}{len(order)}")
                    out[k] = {**v, "name": name}
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out = walk(spec)
    for old in datasets:                       # declared but never referenced: keep, renamed too
        order.setdefault(old, f"{prefix}{len(order)}")
    out["datasets"] = {order[old]: rows for old, rows in datasets.items()}
    return out


def arrow_bytes(rows: list[dict]) -> bytes:
    """Rows as Arrow IPC bytes, the form st.vega_lite_chart sends chart data in (built straight from
    the rows: going through pandas, as Streamlit does for a list of dicts, costs milliseconds)."""
    import pyarrow as pa
    table = pa.Table.from_pylist(rows)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def arrow_datasets(spec: dict) -> dict:
    """The spec with each named dataset (a list of rows) serialized by arrow_bytes: done once where
    the spec is cached, not on every rerun."""
    datasets = spec.get("datasets")
    if not datasets:
        return spec
    return {**spec, "datasets": {name: rows if isinstance(rows, bytes) else arrow_bytes(rows)
                                 for name, rows in datasets.items()}}


def to_live_spec(chart: alt.TopLevelMixin) -> dict:
    """`to_spec` for a chart redrawn as a control moves: datasets named by position (stable_names)
    and already in Arrow form (arrow_datasets), so a rerun sends only bytes and the browser swaps
    the changed rows into the chart it already shows."""
    return arrow_datasets(stable_names(to_spec(chart)))
