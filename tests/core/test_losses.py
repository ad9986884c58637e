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
