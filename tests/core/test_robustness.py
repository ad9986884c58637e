"""FGSM, targeted FGSM and PGD against hand-computed gradients and their defining properties; the
adversarially trained asset against the standard CNN."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.cnn import load_cnn
from bigmodel_core.data import ASSETS, load_record, mnist_tensors
from bigmodel_core.robustness import (accuracy_vs_eps, eps_grid, fgsm, fgsm_sweep, fgsm_targeted, input_gradient,
                                      perturb, perturbation_numbers, pgd)
from bigmodel_core.train import accuracy


def tiny_linear(seed=0):
    """f(x) = W vec(x) + b on 2x2 images, 3 classes: its input gradient is known in closed form."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(4, 3)).eval()


def hand_gradient(model, x, y):
    """d CE(Wx + b, y) / dx = W^T (softmax(Wx + b) - onehot(y)), one digit at a time."""
    W, b = model[1].weight.detach(), model[1].bias.detach()          # (3, 4), (3,)
    grads = []
    for xi, yi in zip(x, y):
        p = torch.softmax(W @ xi.reshape(4) + b, 0)                   # (3,)
        p[yi] -= 1.0                                                  # softmax - onehot
        grads.append((W.T @ p).reshape(1, 2, 2))                      # (1, 2, 2)
    return torch.stack(grads)


@pytest.fixture(scope="module")
def cnn():
    return load_cnn(device=torch.device("cpu"))


@pytest.fixture(scope="module")
def digits():
    _, _, X, y = mnist_tensors()
    return X[:120], y[:120]


def test_fgsm_moves_each_pixel_by_eps_along_the_hand_computed_gradient_sign():
    model = tiny_linear()
    g = torch.Generator().manual_seed(1)
    x = 0.2 + 0.6 * torch.rand(5, 1, 2, 2, generator=g)              # away from 0 and 1: no clipping
    y = torch.tensor([0, 1, 2, 0, 1])
    expected = x + 0.1 * hand_gradient(model, x, y).sign()
    torch.testing.assert_close(fgsm(model, x, y, 0.1), expected)
    torch.testing.assert_close(input_gradient(model, x, y), hand_gradient(model, x, y))


def test_fgsm_clips_to_the_valid_pixel_range():
    model = tiny_linear(2)
    x = torch.tensor([[[[0.0, 1.0], [0.02, 0.97]]]]).repeat(4, 1, 1, 1)
    y = torch.tensor([0, 1, 2, 0])
    x_adv = fgsm(model, x, y, 0.3)
    expected = (x + 0.3 * hand_gradient(model, x, y).sign()).clamp(0, 1)
    torch.testing.assert_close(x_adv, expected)
    assert x_adv.min() >= 0 and x_adv.max() <= 1


def test_targeted_fgsm_steps_down_the_targets_loss():
    model = tiny_linear(3)
    x = 0.5 + 0.1 * torch.randn(4, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    target = torch.full((4,), 2)
    expected = (x - 0.05 * hand_gradient(model, x, target).sign()).clamp(0, 1)
    torch.testing.assert_close(fgsm_targeted(model, x, 2, 0.05), expected)
    with torch.no_grad():                                             # the target's logit went up
        assert (model(expected)[:, 2] - model(x)[:, 2] > 0).all()


def test_fgsm_on_the_cnn_stays_in_the_budget_and_raises_the_loss(cnn, digits):
    X, y = digits
    x_adv = fgsm(cnn, X, y, 0.1)
    assert (x_adv - X).abs().max() <= 0.1 + 1e-6
    assert 0 <= x_adv.min() and x_adv.max() <= 1
    with torch.no_grad():
        assert F.cross_entropy(cnn(x_adv), y) > F.cross_entropy(cnn(X), y)


def test_accuracy_curve_matches_attacking_one_eps_at_a_time(cnn, digits):
    X, y = digits
    rows = accuracy_vs_eps(cnn, X, y, [0.0, 0.05, 0.15])
    assert rows[0]["accuracy"] == pytest.approx(accuracy(cnn, X, y))
    for row in rows[1:]:
        assert row["accuracy"] == pytest.approx(accuracy(cnn, fgsm(cnn, X, y, row["eps"]), y))
    assert rows[0]["accuracy"] > rows[1]["accuracy"] > rows[2]["accuracy"]      # more eps, fewer right
    assert rows[0]["flipped"] == 0 and rows[2]["flipped"] > rows[1]["flipped"]


def test_pgd_stays_in_the_box_and_is_at_least_as_strong_as_fgsm(cnn, digits):
    X, y = digits
    x_pgd = pgd(cnn, X, y, 0.1, steps=10)
    assert (x_pgd - X).abs().max() <= 0.1 + 1e-6 and 0 <= x_pgd.min() and x_pgd.max() <= 1
    assert accuracy(cnn, x_pgd, y) <= accuracy(cnn, fgsm(cnn, X, y, 0.1), y)
    x_t = pgd(cnn, X[:20], 3, 0.2, steps=10, targeted=True)          # targeted: towards class 3
    with torch.no_grad():
        assert (cnn(x_t).argmax(-1) == 3).float().mean() > (cnn(X[:20]).argmax(-1) == 3).float().mean()


@pytest.mark.parametrize("eps", [10, -0.1, float("nan"), float("inf"), "a"])
def test_bad_eps_is_a_learners_mistake(eps):
    model = tiny_linear()
    with pytest.raises(UserInputError) as e:
        fgsm(model, torch.rand(1, 1, 2, 2), torch.tensor([0]), eps)
    assert "eps" in str(e.value) or "ε" in str(e.value)


def test_bad_attack_settings():
    model = tiny_linear()
    with pytest.raises(UserInputError):
        pgd(model, torch.rand(1, 1, 2, 2), torch.tensor([0]), 0.1, steps=0)
    with pytest.raises(UserInputError):
        accuracy_vs_eps(model, torch.rand(2, 1, 2, 2), torch.tensor([0, 1]), [0.1], attack="cw")


def test_the_adversarially_trained_asset_resists_fgsm_better(cnn, digits):
    X, y = digits
    adv = load_cnn(ASSETS / "cnn_mnist_adv.safetensors", device=torch.device("cpu"))
    record = load_record(ASSETS / "cnn_mnist_adv.json")
    assert record["training"]["reason"] == "finished"
    before = accuracy_vs_eps(cnn, X, y, [0.2])[0]["accuracy"]
    after = accuracy_vs_eps(adv, X, y, [0.2])[0]["accuracy"]
    assert after > before + 0.3                                        # the defence, measured here
    assert accuracy(adv, X, y) > 0.9                                   # still reads clean digits
    fgsm_02 = {r["eps"]: r["accuracy"] for r in record["evaluation"]["adversarial"]["fgsm"]}[0.2]
    assert after == pytest.approx(fgsm_02, abs=0.1)                    # the record agrees (120 vs 1,000 digits)


def test_adversarial_finetune_walks_the_data_in_chunks_through_fit():
    from bigmodel_core.robustness import AdvTrainConfig, adversarial_finetune
    g = torch.Generator().manual_seed(0)
    X = torch.rand(256, 1, 2, 2, generator=g)
    y = (X.flatten(1).sum(1) > 2).long() + (X[:, 0, 0, 0] > 0.5).long()    # 3 classes from the pixels
    model = tiny_linear(4)
    cfg = AdvTrainConfig(eps=0.05, epochs=1, lr=1e-2, batch_size=16, regenerate_every=4)
    res = adversarial_finetune(model, X, y, cfg)
    assert res.reason == "finished"
    assert res.steps == 16 and len(res.train_loss) == 4        # 4 chunks of 64 digits + 64 FGSM copies, batch 32
    assert adversarial_finetune(tiny_linear(4), X, y, cfg, should_stop=lambda: True).reason == "stopped"
    blown = adversarial_finetune(tiny_linear(4), X, y, AdvTrainConfig(eps=0.05, epochs=1, lr=1e37, batch_size=16))
    assert blown.reason == "diverged" and blown.diverged_at is not None
    with pytest.raises(UserInputError):
        adversarial_finetune(tiny_linear(4), X, y, AdvTrainConfig(eps=10))


def test_eps_grid_is_the_sliders_values():
    grid = eps_grid()
    assert len(grid) == 51 and grid[0] == 0.0 and grid[-1] == 0.5
    assert all(g == round(k * 0.01, 2) for k, g in enumerate(grid))


@pytest.mark.parametrize("target", [None, 7])
def test_fgsm_sweep_equals_attacking_and_calling_the_model_at_each_eps(cnn, digits, target):
    """One batched forward pass over the grid gives what fgsm / fgsm_targeted + the model give per eps."""
    X, y = digits
    x, label = X[5:6], int(y[5])
    grid = eps_grid()
    res = fgsm_sweep(cnn, x, label, grid, target=target)
    assert res["probs"].shape == (51, 10) and res["loss"].shape == (51,)
    assert set(res["direction"].unique().tolist()) <= {-1.0, 0.0, 1.0}
    for k in (0, 3, 10, 25, 37, 50):
        eps = grid[k]
        x_adv = fgsm(cnn, x, y[5:6], eps) if target is None else fgsm_targeted(cnn, x, target, eps)
        assert torch.equal(perturb(x, res["direction"].view(1, 1, 28, 28), eps), x_adv)   # the same image, bit for bit
        with torch.no_grad():
            logits = cnn(x_adv)
        assert torch.allclose(res["probs"][k], logits.softmax(-1)[0], atol=1e-5)
        assert res["loss"][k] == pytest.approx(float(F.cross_entropy(logits, y[5:6])), abs=1e-4)
    if target is None:                                          # FGSM raises the loss of the true class
        assert res["loss"][50] > res["loss"][0]
    else:                                                       # targeted FGSM raises the target's probability
        assert res["probs"][20, target] > res["probs"][0, target]


def test_perturbation_numbers_count_the_clip():
    x = torch.tensor([0.0, 0.95, 0.5, 0.02, 1.0])
    d = torch.tensor([1.0, 1.0, -1.0, -1.0, 0.0])
    x_adv = perturb(x, d, 0.1)                                  # 0.1, 1.0 (clipped), 0.4, 0.0 (clipped), 1.0
    n = perturbation_numbers(x, x_adv, 0.1)
    assert (n["plus"], n["minus"], n["clipped"]) == (1, 1, 3)
    assert n["linf"] == pytest.approx(0.1, abs=1e-6)
    assert n["l2"] == pytest.approx((0.01 + 0.0025 + 0.01 + 0.0004) ** 0.5, abs=1e-6)
