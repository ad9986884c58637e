"""Captum attributions checked against autograd, hand-computed Grad-CAM and occlusion, and IG completeness."""
import threading

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core import attribute
from bigmodel_core.errors import UserInputError
from bigmodel_core.interpret import METHODS, all_attributions, completeness, make_baseline
from bigmodel_core.models.cnn import new_cnn


@pytest.fixture(scope="module")
def model():
    return new_cnn(seed=1).eval()


def _digit(seed, n=1):
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, 28, 28)
    x[:, :, 6:22, 8:20] = torch.rand(n, 1, 16, 12, generator=g)       # a blob of "ink" in the middle
    return x


@pytest.mark.parametrize("seed,target,baseline", [(0, 3, "black"), (1, 7, "blurred"), (2, 0, "black"),
                                                  (3, 9, "blurred")])
def test_integrated_gradients_sum_to_the_score_difference_within_delta(model, seed, target, baseline):
    x = _digit(seed, n=2)
    attr, delta = attribute(model, x, target, "integrated_gradients", baseline=baseline, n_steps=32)
    assert attr.shape == x.shape and delta.shape == (2,)
    with torch.no_grad():
        diff = model(x)[:, target] - model(make_baseline(x, baseline))[:, target]
    sums = attr.flatten(1).sum(1)
    assert torch.all((sums - diff).abs() <= delta.abs() + 1e-5)
    assert torch.allclose(sums - diff, delta, atol=1e-5)               # Captum's delta is exactly that gap
    comp = completeness(model, x, target, attr, delta, baseline)
    assert comp["gap"] == pytest.approx(abs(float(delta[0])), abs=1e-5)
    assert comp["difference"] == pytest.approx(float(diff[0]), abs=1e-5)


def test_integrated_gradients_are_exact_for_a_linear_model():
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    x = torch.rand(1, 1, 28, 28)
    attr, delta = attribute(lin, x, 4, "integrated_gradients", n_steps=8)
    expected = (x * lin[1].weight[4].view(1, 1, 28, 28)).detach()       # (x - 0) * w
    torch.testing.assert_close(attr, expected, atol=1e-5, rtol=1e-4)
    assert abs(float(delta)) < 1e-4


def test_more_steps_shrink_the_delta(model):
    x = _digit(5)
    deltas = [abs(float(attribute(model, x, 2, "integrated_gradients", n_steps=s)[1])) for s in (2, 64)]
    assert deltas[1] <= deltas[0] + 1e-6


def test_saliency_equals_the_absolute_autograd_gradient(model):
    x = _digit(7, n=3).requires_grad_(True)
    grad, = torch.autograd.grad(model(x)[:, 5].sum(), x)
    torch.testing.assert_close(attribute(model, x.detach(), 5, "saliency"), grad.abs())


def test_grad_cam_has_the_inputs_shape_and_matches_the_definition(model):
    x = _digit(11, n=2)
    cam = attribute(model, x, 6, "grad_cam")
    assert cam.shape == x.shape and (cam >= 0).all()
    # by hand: A = conv2's output, alpha_k = mean_ij dF/dA_k, ReLU(sum_k alpha_k A_k), bilinear to 28x28
    feats = {}
    handle = model.conv2.register_forward_hook(lambda m, i, o: feats.setdefault("A", o))
    score = model(x)[:, 6].sum()
    handle.remove()
    A = feats["A"]                                                      # (2, 64, 14, 14)
    grads, = torch.autograd.grad(score, A)
    alpha = grads.mean(dim=(2, 3), keepdim=True)                        # (2, 64, 1, 1)
    ref = F.relu((alpha * A).sum(1, keepdim=True))                      # (2, 1, 14, 14)
    ref = F.interpolate(ref, size=(28, 28), mode="bilinear")
    torch.testing.assert_close(cam, ref.detach(), atol=1e-5, rtol=1e-4)


def test_occlusion_of_the_corner_patch_is_the_score_drop(model):
    x = _digit(13)
    x[0, 0, 0:4, 0:4] = 0.8                                             # ink in the corner
    occ = attribute(model, x, 1, "occlusion")
    assert occ.shape == x.shape
    covered = x.clone()
    covered[0, 0, 0:4, 0:4] = 0.0
    with torch.no_grad():
        drop = model(x)[0, 1] - model(covered)[0, 1]
    assert float(occ[0, 0, 0, 0]) == pytest.approx(float(drop), abs=1e-5)  # pixel (0,0): one window only


def test_bad_settings_are_user_errors(model):
    x = _digit(0)
    with pytest.raises(UserInputError):
        attribute(model, x, 0, "integrated_gradients", n_steps=65)
    with pytest.raises(UserInputError):
        attribute(model, x, 0, "lime")
    with pytest.raises(UserInputError):
        make_baseline(x, "noise")


def test_blurred_baseline_keeps_the_mass_but_not_the_edges():
    x = _digit(3)
    b = make_baseline(x, "blurred")
    assert b.shape == x.shape
    assert float(b.sum()) == pytest.approx(float(x.sum()), rel=0.02)
    assert float(b.max()) < float(x.max())


def test_shared_model_from_threads_gives_the_serial_answers(model):
    xs = [_digit(s) for s in range(6)]
    serial = [attribute(model, x, 3, "grad_cam") for x in xs]
    results = [None] * len(xs)

    def work(i):
        results[i] = attribute(model, xs[i], 3, "grad_cam")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a, b in zip(serial, results):
        torch.testing.assert_close(a, b)
    assert not model.conv2._forward_hooks and not model.conv2._backward_hooks   # Captum cleaned up


def test_all_attributions_returns_four_maps_and_the_check(model):
    out = all_attributions(model, _digit(4), 8, n_steps=16)
    assert set(METHODS) <= set(out)
    assert all(out[m].shape == (28, 28) for m in METHODS)
    assert out["completeness"]["gap"] <= abs(out["completeness"]["delta"]) + 1e-5
