"""The compression page's chart specs: the histogram counts every weight once on shared bins, the
specs are plain JSON with the learner's choice marked, and no NaN reaches a chart."""
import json

import numpy as np
import torch

from bigmodel_core.compress import quantize_tensor
from bigmodel_core.compress_results import load_results
from bigmodel_core.charts.compression import block_spec, histogram_rows, softmax_spec, sparsity_spec, students_spec


def test_histogram_counts_every_weight_on_shared_bins():
    w = torch.randn(50, 40)
    _, _, w_hat = quantize_tensor(w, 2)
    rows = histogram_rows(w.numpy(), w_hat.numpy(), ("w", "w_hat"))
    for name in ("w", "w_hat"):
        assert sum(r["count"] for r in rows if r["series"] == name) == 2000
    hat_bins = [r for r in rows if r["series"] == "w_hat"]
    assert len(hat_bins) == 3                                   # int2: only -S, 0, S
    edges = {(r["x0"], r["x1"]) for r in rows}
    assert len({x0 for x0, _ in edges}) == len(edges)           # one set of bins for both


def test_recorded_results_draw_as_finite_json_with_the_choice_marked():
    res = load_results()
    specs = [
        sparsity_spec(res["pruning"], "global", 0.9, {k: k for k in ("pruned", "finetuned", "global", "layer", "sparsity", "accuracy")}),
        students_spec(res["distillation"]["students"], 0.9, 4.0, {k: k for k in ("hard", "temperature", "accuracy")}),
        softmax_spec({1.0: np.eye(10)[3], 4.0: np.full(10, 0.1)}, {"digit": "d", "prob": "p"}),
        block_spec(np.arange(32) % 16, np.linspace(-1, 1, 32), 0.1, -1.0, {"index": "i", "weight": "w"}),
    ]
    for spec in specs:
        text = json.dumps(spec, allow_nan=False)                # raises on NaN or infinity
        assert "NaN" not in text
    assert specs[0]["layer"][1]["data"]["values"] == [{"sparsity": 90.0}]
    n_points = sum(1 for r in res["pruning"] for key in ("accuracy", "accuracy_finetuned") if r[key] is not None)
    assert len(specs[0]["layer"][0]["data"]["values"]) == n_points
    assert len(specs[3]["layer"][0]["data"]["values"]) == 16    # the block's 16 levels
