"""Quantization, pruning and distillation (bigmodel_core.compress) against the formulas written out
independently, the shipped CNN's measured accuracy, and the recorded results the page shows."""
import copy
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigmodel_core.compress import (distillation_loss, finetune_pruned, magnitude_masks, model_bytes,
                                    outlier_demo, prune_magnitude, quantization_error, quantize_model, quantize_tensor, sparsity,
                                    weight_layers)
from bigmodel_core.compress_results import load_results, load_student, student_key
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.data import mnist_tensors
from bigmodel_core.train import TrainConfig, accuracy

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def cnn():
    return load_cnn(device=CPU)


@pytest.fixture(scope="module")
def digits():
    return mnist_tensors()


@pytest.fixture(scope="module")
def float_acc(cnn, digits):
    return accuracy(cnn, digits[2], digits[3])


# ---------------------------------------------------------------------------------------------
# Quantization

def formula(w: torch.Tensor, bits: int, per_channel: bool):
    """S = max|w| / (2^(b-1) - 1), q = clamp(round(w / S)), w_hat = S q; per channel row by row."""
    top = 2 ** (bits - 1) - 1
    rows = [w[c] for c in range(w.shape[0])] if per_channel else [w]
    qs, hats, scales = [], [], []
    for r in rows:
        S = r.abs().max() / top
        q = torch.clamp(torch.round(r / S), -top, top)
        qs.append(q), hats.append(S * q), scales.append(S)
    if per_channel:
        return torch.stack(qs), torch.stack(scales), torch.stack(hats)
    return qs[0], scales[0], hats[0]


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("shape", [(16, 40), (8, 3, 3, 3)])
def test_quantize_tensor_matches_the_formula(bits, per_channel, shape):
    w = torch.randn(shape) * torch.rand(shape[0]).view(-1, *[1] * (len(shape) - 1))   # channels of different size
    q, scale, w_hat = quantize_tensor(w, bits, per_channel)
    q_ref, s_ref, h_ref = formula(w, bits, per_channel)
    assert q.dtype == torch.int8 and q.shape == w.shape
    assert torch.equal(q.float(), q_ref)
    assert torch.equal(scale.flatten(), s_ref.flatten())
    assert torch.equal(w_hat, h_ref)
    assert torch.equal(w_hat, scale * q)                          # the scale broadcasts as returned
    assert int(q.abs().max()) == 2 ** (bits - 1) - 1              # the largest |w| lands on the top level
    err = quantization_error(w, q, scale, w_hat)
    assert err.levels_used == len(torch.unique(q))
    assert err.max_abs == pytest.approx(float((w - w_hat).abs().max()))
    assert err.sqnr_db == pytest.approx(10 * math.log10(float((w.double() ** 2).sum() / ((w - w_hat).double() ** 2).sum())))


def test_ties_at_half_round_to_even_like_torch_round():
    w = torch.tensor([7.0, 0.5, 1.5, 2.5, 3.5, -0.5, -1.5, -2.5, 4.5])   # int4: S = 7 / 7 = 1 exactly
    q, scale, w_hat = quantize_tensor(w, 4)
    assert float(scale) == 1.0
    assert q.tolist() == [7, 0, 2, 2, 4, 0, -2, -2, 4]
    w2 = torch.stack([w, 2 * w])                                          # per channel: S = 1 and 2
    q2, s2, _ = quantize_tensor(w2, 4, per_channel=True)
    assert s2.flatten().tolist() == [1.0, 2.0] and torch.equal(q2[0], q2[1])


@pytest.mark.parametrize("per_channel", [False, True])
def test_int8_error_is_at_most_half_a_step_everywhere(cnn, per_channel):
    for w in [torch.randn(64, 100) * 3, *(layer.weight.detach() for _, layer in weight_layers(cnn))]:
        _, scale, w_hat = quantize_tensor(w, 8, per_channel)
        err = (w.double() - w_hat.double()).abs()
        # S/2, plus float32's own rounding of w / S and of S q (a relative 2^-24 each, times |w|)
        bound = scale.double() / 2 + w.double().abs() * 2.0 ** -22
        assert bool((err <= bound).all())
        assert float((err / (scale.double() / 2)).max()) > 0.9            # and the bound is nearly reached


def test_zero_tensor_and_bad_bits():
    q, scale, w_hat = quantize_tensor(torch.zeros(3, 4), 8, per_channel=True)
    assert not q.any() and not w_hat.any() and torch.isfinite(w_hat).all()
    w = torch.tensor([[0.0, 0.0], [1.0, -2.0]])
    q, scale, w_hat = quantize_tensor(w, 4, per_channel=True)                  # one zero channel
    assert torch.equal(w_hat[0], torch.zeros(2)) and torch.isfinite(w_hat).all()
    for bad in (0, 1, 17, 2.5, True, float("nan")):
        with pytest.raises(UserInputError):
            quantize_tensor(torch.randn(4), bad)
    assert "1 bit" in UserInputError("compression.errors.bits", bits=1, lo=2, hi=16).message("en")


@pytest.mark.parametrize("per_channel", [False, True])
def test_shipped_cnn_at_int8_stays_within_half_a_point(cnn, digits, float_acc, per_channel):
    acc8 = accuracy(quantize_model(cnn, 8, per_channel), digits[2], digits[3])
    assert abs(acc8 - float_acc) <= 0.005
    assert torch.equal(cnn.conv1.weight, load_cnn(device=CPU).conv1.weight)    # the original is untouched


def test_model_bytes_by_hand(cnn):
    n_w = 288 + 18432 + 401408 + 1280                                           # conv1, conv2, fc1, fc2 weights
    n_b = 32 + 64 + 128 + 10
    assert model_bytes(cnn) == 4 * (n_w + n_b) == 4 * 421642
    assert model_bytes(cnn, 8) == n_w + 4 * 4 + 4 * n_b
    assert model_bytes(cnn, 4, per_channel=True) == n_w // 2 + 4 * (32 + 64 + 128 + 10) + 4 * n_b
    assert model_bytes(cnn, 2) == n_w // 4 + 4 * 4 + 4 * n_b


def test_outlier_stretches_the_scale_and_keeping_it_apart_restores_precision(cnn):
    w = cnn.fc1.weight
    same = outlier_demo(w, 8, 1.0)
    assert same.scale_plain == same.scale_outlier and same.rms_plain == same.rms_outlier
    d = outlier_demo(w, 8, 100.0)
    assert d.scale_outlier == pytest.approx(100 * d.scale_plain, rel=1e-6)
    assert d.rms_outlier > 20 * d.rms_plain                     # every other weight lost precision
    assert d.zeros_outlier > 0.5 > d.zeros_plain
    assert d.rms_apart <= d.rms_plain * 1.01                    # the rest alone: as good as before
    with pytest.raises(UserInputError):
        outlier_demo(w, 8, 0.5)


def test_recorded_quantization_table_is_what_the_model_measures(cnn, digits, float_acc):
    table = load_results()["quantization"]
    assert table["float"]["accuracy"] == float_acc
    row = next(r for r in table["whole"] if r["bits"] == 2 and not r["per_channel"])
    assert row["accuracy"] == accuracy(quantize_model(cnn, 2, False), digits[2], digits[3])
    assert row["bytes"] == model_bytes(cnn, 2)
    by = {(r["bits"], r["per_channel"]): r["accuracy"] for r in table["whole"]}
    assert by[(8, False)] > by[(2, False)] and by[(2, True)] >= by[(2, False)]


# ---------------------------------------------------------------------------------------------
# Pruning

@pytest.mark.parametrize("scope", ["global", "layer"])
@pytest.mark.parametrize("fraction", [0.0, 0.1, 1 / 3, 0.5, 0.9, 0.99])
def test_pruning_leaves_exactly_the_asked_fraction_of_zeros(cnn, scope, fraction):
    pruned = prune_magnitude(copy.deepcopy(cnn), fraction, scope)
    layers = weight_layers(pruned)
    n = sum(layer.weight.numel() for _, layer in layers)
    zeros = sum(int((layer.weight == 0).sum()) for _, layer in layers)
    if scope == "global":
        assert zeros == round(fraction * n)
    else:
        for _, layer in layers:
            assert int((layer.weight == 0).sum()) == round(fraction * layer.weight.numel())
    for (_, a), (_, b) in zip(weight_layers(cnn), layers):
        assert torch.equal(a.bias, b.bias)                                     # biases are not pruned
        kept = b.weight != 0
        assert torch.equal(b.weight[kept], a.weight[kept])                     # survivors unchanged
    if scope == "global" and 0 < fraction:
        gone = torch.cat([a.weight.detach()[b.weight == 0].abs() for (_, a), (_, b) in zip(weight_layers(cnn), layers)])
        kept = torch.cat([b.weight.detach()[b.weight != 0].abs() for _, b in layers])
        assert float(gone.max()) <= float(kept.min())                          # the smallest went first


def test_exact_count_with_tied_magnitudes_and_bad_fractions(cnn):
    m = copy.deepcopy(cnn)
    with torch.no_grad():
        for _, layer in weight_layers(m):
            layer.weight.fill_(0.5)                                            # every magnitude tied
    prune_magnitude(m, 0.25)
    assert sparsity(m)["all"] == round(0.25 * 421408) / 421408
    for bad in (1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(UserInputError):
            magnitude_masks(cnn, bad)


def test_finetune_keeps_the_pruned_weights_at_zero(cnn, digits):
    m = copy.deepcopy(cnn)
    masks = magnitude_masks(m, 0.8)
    prune_magnitude(m, 0.8)
    before = sparsity(m)
    hist = finetune_pruned(m, masks, (digits[0][:192], digits[1][:192]),
                           TrainConfig(epochs=1, lr=1e-3, batch_size=64, max_steps=3))
    assert hist.reason == "finished" and len(hist.train_loss) >= 1
    assert sparsity(m) == before
    assert not torch.equal(m.fc2.bias, cnn.fc2.bias)                            # it did train


def test_recorded_pruning_point_is_what_the_model_measures(cnn, digits):
    rows = load_results()["pruning"]
    row = next(r for r in rows if r["scope"] == "global" and r["fraction"] == 0.9)
    pruned = prune_magnitude(copy.deepcopy(cnn), 0.9)
    assert row["accuracy"] == accuracy(pruned, digits[2], digits[3])
    assert row["layer_sparsity"] == pytest.approx(sparsity(pruned))
    assert all(r["accuracy_finetuned"] is not None for r in rows if r["finetune_reason"] != "diverged")


# ---------------------------------------------------------------------------------------------
# Distillation

def hand_loss(s, t, labels, T, alpha):
    """The loss written out with math.exp and math.log, sample by sample."""
    total = 0.0
    for zs, zt, y in zip(s, t, labels):
        ps = [math.exp(v / T) for v in zs]
        pt = [math.exp(v / T) for v in zt]
        ps, pt = [v / sum(ps) for v in ps], [v / sum(pt) for v in pt]
        kl = sum(a * (math.log(a) - math.log(b)) for a, b in zip(pt, ps))
        p1 = [math.exp(v) for v in zs]
        ce = -math.log(p1[y] / sum(p1))
        total += alpha * T * T * kl + (1 - alpha) * ce
    return total / len(s)


@pytest.mark.parametrize("T,alpha", [(1.0, 0.5), (4.0, 0.9), (2.0, 0.0), (8.0, 1.0)])
def test_distillation_loss_matches_a_hand_computation(T, alpha):
    s = [[1.0, -0.5, 2.0, 0.0], [0.3, 0.2, -1.0, 1.5]]
    t = [[3.0, 0.5, -1.0, 0.2], [-0.4, 2.5, 0.0, 1.0]]
    labels = [2, 1]
    got = distillation_loss(torch.tensor(s, dtype=torch.float64), torch.tensor(t, dtype=torch.float64),
                            torch.tensor(labels), T, alpha)
    assert float(got) == pytest.approx(hand_loss(s, t, labels, T, alpha), rel=1e-12)


def test_distillation_loss_limits_and_bad_input():
    z = torch.randn(5, 10, dtype=torch.float64)
    y = torch.randint(0, 10, (5,))
    assert float(distillation_loss(z, z, y, 4.0, 1.0)) == pytest.approx(0.0, abs=1e-12)   # student = teacher
    assert float(distillation_loss(z, torch.randn_like(z), y, 4.0, 0.0)) == pytest.approx(float(F.cross_entropy(z, y)))
    for T, alpha in ((0.0, 0.5), (-1.0, 0.5), (float("nan"), 0.5), (4.0, 1.5), (4.0, -0.1)):
        with pytest.raises(UserInputError):
            distillation_loss(z, z, y, T, alpha)


def test_shipped_students_score_what_the_record_says(digits):
    d = load_results()["distillation"]
    assert d["student_params"] == 3322 and d["teacher_params"] == 421642
    for s in d["students"]:
        if s["key"] in ("hard", student_key(4.0, 0.9)):
            assert accuracy(load_student(s["key"]), digits[2], digits[3]) == s["accuracy"]
