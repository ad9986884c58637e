"""Losses: values and gradients against torch.nn.functional, CE's gradient is p - y, and the push."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.losses import (classify, mse_on_probs, regression_curves, regression_loss,
                                      regression_point, softmax_cross_entropy, true_logit_sweep)

REFERENCE = {"mse": F.mse_loss, "mae": F.l1_loss}


def _grad(fn, pred, target):
    p = pred.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(p, target), p)
    return g


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ["mse", "mae", "huber"])
def test_regression_losses_and_gradients_match_torch(name, seed):
    g = torch.Generator().manual_seed(seed)
    shape = tuple(int(s) for s in torch.randint(1, 6, (int(torch.randint(1, 4, (1,), generator=g)),), generator=g))
    pred = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    target = torch.randn(shape, generator=g, dtype=torch.float64) * 3
    delta = float(torch.rand(1, generator=g)) * 2 + 0.1
    ref = (lambda p, y: F.huber_loss(p, y, delta=delta)) if name == "huber" else REFERENCE[name]
    ours = lambda p, y: regression_loss(name, p, y, delta)          # noqa: E731
    assert torch.allclose(ours(pred, target), ref(pred, target))
    assert torch.allclose(_grad(ours, pred, target), _grad(ref, pred, target))


def test_regression_point_closed_forms():
    assert regression_point("mse", 3.0, 1.0) .loss == pytest.approx(4.0)
    assert regression_point("mse", 3.0, 1.0).grad == pytest.approx(4.0)        # 2 (yhat - y)
    assert regression_point("mae", -1.0, 1.0).grad == pytest.approx(-1.0)       # sign(yhat - y)
    assert regression_point("huber", 3.0, 1.0, 1.0).loss == pytest.approx(1.5)  # delta (|r| - delta / 2)
    assert regression_point("huber", 1.5, 1.0, 1.0).grad == pytest.approx(0.5)  # r inside delta


def test_regression_curves_are_pointwise_losses_and_gradients():
    df = regression_curves(0.5, -4, 4, delta=1.5, n=81)
    for name in ["mse", "mae", "huber"]:
        sub = df[df["loss"] == name]
        pred = torch.tensor(sub["prediction"].to_numpy())
        y = torch.full_like(pred, 0.5)
        ref = {"mse": F.mse_loss(pred, y, reduction="none"), "mae": F.l1_loss(pred, y, reduction="none"),
               "huber": F.huber_loss(pred, y, reduction="none", delta=1.5)}[name]
        assert np.allclose(sub["value"], ref.numpy())
        p = pred.clone().requires_grad_(True)
        ref_fn = {"mse": F.mse_loss, "mae": F.l1_loss,
                  "huber": lambda a, b, reduction: F.huber_loss(a, b, reduction=reduction, delta=1.5)}[name]
        (g,) = torch.autograd.grad(ref_fn(p, y, reduction="sum"), p)
        assert np.allclose(sub["grad"], g.numpy())


@pytest.mark.parametrize("seed", range(6))
def test_cross_entropy_matches_torch_and_its_gradient_is_p_minus_y(seed):
    g = torch.Generator().manual_seed(seed)
    K = int(torch.randint(2, 8, (1,), generator=g))
    z = torch.randn(K, generator=g, dtype=torch.float64) * 4
    k = int(torch.randint(0, K, (1,), generator=g))
    ref = F.cross_entropy(z[None], torch.tensor([k]))
    assert torch.allclose(softmax_cross_entropy(z, k), ref)
    c = classify(z, k)
    p = torch.softmax(z, -1).numpy()
    y = np.eye(K)[k]
    assert np.allclose(c.ce_grad, p - y)
    zz = z.clone().requires_grad_(True)
    (ref_grad,) = torch.autograd.grad(F.cross_entropy(zz[None], torch.tensor([k])), zz)
    assert np.allclose(c.ce_grad, ref_grad.numpy())
    assert c.ce == pytest.approx(-np.log(p[k]))


@pytest.mark.parametrize("seed", range(4))
def test_mse_on_probabilities_matches_torch_and_the_softmax_jacobian(seed):
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(3, generator=g, dtype=torch.float64) * 3
    k = seed % 3
    y = F.one_hot(torch.tensor(k), 3).double()
    zz = z.clone().requires_grad_(True)
    ref = F.mse_loss(torch.softmax(zz, -1), y)
    (ref_grad,) = torch.autograd.grad(ref, zz)
    c = classify(z, k)
    assert c.mse == pytest.approx(ref.item()) and np.allclose(c.mse_grad, ref_grad.numpy())
    p = torch.softmax(z, -1)
    J = torch.diag(p) - torch.outer(p, p)                     # softmax Jacobian (symmetric)
    assert np.allclose(c.mse_grad, (J @ (2 / 3 * (p - y))).numpy())
    assert mse_on_probs(z, k).item() == pytest.approx(c.mse)


def test_cross_entropy_pushes_hardest_when_confidently_wrong_and_mse_does_not():
    wrong = classify([5.0, 0.0, -5.0], 2)                     # p(true) ~ 5e-5
    assert wrong.ce_grad[2] == pytest.approx(-1.0, abs=1e-3)   # almost the largest push possible
    assert abs(wrong.mse_grad[2]) < 1e-3                      # MSE's push through a flat softmax
    df = true_logit_sweep([1.0, 0.0, 0.0], 0, -8, 8, n=81)
    ce = df[df["loss"] == "cross_entropy"]["push"].to_numpy()
    mse = df[df["loss"] == "mse_probs"]["push"].to_numpy()
    assert np.all(np.diff(ce) < 0)                             # CE: the more wrong, the harder the push
    assert ce[0] > 0.99 and mse[0] < 0.01                      # at z_true = -8
    assert np.argmax(mse) > 0 and mse.max() < 0.5             # MSE's push peaks in between


def test_shift_invariance_and_bad_input():
    a, b = classify([1.0, 2.0, 3.0], 1), classify([3.0, 4.0, 5.0], 1)
    assert np.allclose(a.probs, b.probs) and a.ce == pytest.approx(b.ce) and np.allclose(a.ce_grad, b.ce_grad)
    with pytest.raises(UserInputError):
        classify([1.0, 2.0], 2)
    with pytest.raises(UserInputError):
        regression_loss("huber", torch.zeros(1), torch.ones(1), delta=0)
    with pytest.raises(UserInputError):
        regression_loss("l7", torch.zeros(1), torch.ones(1))


def test_chart_builders_validate():
    import pandas as pd

    from bigmodel_core.charts.curves import class_bars, regression_chart, sweep_chart
    labels = {n: n for n in ("mse", "mae", "huber", "cross_entropy", "mse_probs")}
    frame = regression_curves(1.0, -3, 3, n=31)
    regression_chart(frame, column="grad", labels=labels, target=1.0, prediction=2.0,
                     current={"mse": 2.0, "mae": 1.0, "huber": 1.0}, title="t", x_title="x",
                     y_title="y", target_label="y").to_dict()
    c = classify([3.0, 0.5, -1.0], 2)
    bars = pd.DataFrame([{"panel": p, "cls": k, "value": float(v[i]), "kind": kind}
                         for p, v, kind in (("P", c.probs, "prob"), ("CE", c.ce_grad, "ce"), ("M", c.mse_grad, "mse"))
                         for i, k in enumerate("abc")])
    spec = class_bars(bars, class_labels=list("abc"), true_label="c", panel_order=["P", "CE", "M"]).to_dict()
    assert len(spec["hconcat"]) == 3
    # both gradient panels share one [-1, 1] scale, so their bar lengths compare
    domains = [p["layer"][0]["encoding"]["y"]["scale"]["domain"] for p in spec["hconcat"]]
    assert domains == [[0, 1], [-1, 1], [-1, 1]]
    sweep_chart(true_logit_sweep([3.0, 0.5, -1.0], 2, n=21), labels=labels, z_now=-1.0,
                current={"cross_entropy": 0.98, "mse_probs": 0.02}, title="t", x_title="x", y_title="y").to_dict()


def test_moving_the_prediction_changes_only_the_point_data():
    """Fixed scale domains and position-named datasets: a new prediction is a data swap in the browser."""
    from bigmodel_core.charts.curves import regression_chart
    from bigmodel_core.charts.spec import to_live_spec
    labels = {n: n for n in ("mse", "mae", "huber")}
    frame = regression_curves(1.0, -5, 5)

    def spec(pred):
        pts = {n: regression_point(n, pred, 1.0, 1.0).loss for n in labels}
        return to_live_spec(regression_chart(frame, column="value", labels=labels, target=1.0, prediction=pred,
                                             current=pts, title="t", x_title="x", y_title="y", target_label="y"))

    a, b = spec(3.0), spec(3.05)
    data_a, data_b = a.pop("datasets"), b.pop("datasets")
    assert a == b and list(data_a) == list(data_b)
    same = [k for k in data_a if data_a[k] == data_b[k]]
    assert len(same) == 3 and len(data_a) > 3       # zero line, target, curves kept; only point rows changed
    line = next(layer for layer in a["layer"] if layer["mark"]["type"] == "line")
    assert line["encoding"]["y"]["scale"]["domain"][0] == 0.0       # written out, not derived from the data


@pytest.mark.parametrize("column", ["value", "grad"])
def test_value_labels_never_overlap(column):
    """The three value labels beside the current point stay a text line apart at every prediction
    (MAE's and Huber's gradients are both 1.00 past δ; their losses differ by 0.5 near the target)."""
    from bigmodel_core.charts.curves import LABEL_GAP_PX, regression_chart
    labels = {n: n for n in ("mse", "mae", "huber")}
    frame = regression_curves(1.0, -5, 5)
    for pred in np.arange(-5.0, 5.01, 0.25):
        pts = {n: getattr(regression_point(n, float(pred), 1.0, 1.0), "loss" if column == "value" else "grad")
               for n in labels}
        spec = regression_chart(frame, column=column, labels=labels, target=1.0, prediction=float(pred), current=pts,
                                title="t", x_title="x", y_title="y", target_label="y", height=250).to_dict()
        text = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "text"
                    and layer["encoding"]["y"].get("field") == "ly")
        lo, hi = text["encoding"]["y"]["scale"]["domain"]
        rows = spec["datasets"][text["data"]["name"]]
        px = sorted(250 * r["ly"] / (hi - lo) for r in rows)
        assert all(b - a >= LABEL_GAP_PX - 1e-6 for a, b in zip(px, px[1:])), (pred, px)
        for r in rows:                      # each label stays next to its own point
            assert abs(r["ly"] - r[column]) <= 2 * LABEL_GAP_PX * (hi - lo) / 250 + 1e-9
