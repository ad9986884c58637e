"""LIME and KernelSHAP over superpixels: exact Shapley values of a linear model, SHAP's additivity on the
CNN, the superpixel mask, the weighted least squares, bad settings."""
import pytest
import torch
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.interpret import _weighted_least_squares, additivity, superpixel_mask, surrogate_attribute
from bigmodel_core.models.cnn import new_cnn


def _digit(seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(1, 1, 28, 28)
    x[:, :, 5:23, 7:21] = torch.rand(1, 1, 18, 14, generator=g)
    return x


def test_superpixel_mask_numbers_square_patches_row_major():
    m = superpixel_mask(7)
    assert m.shape == (1, 1, 28, 28) and m.unique().tolist() == list(range(16))
    assert m[0, 0, 0, 0] == 0 and m[0, 0, 0, 7] == 1 and m[0, 0, 7, 0] == 4 and m[0, 0, 27, 27] == 15
    assert all(int((m == j).sum()) == 49 for j in range(16))
    assert superpixel_mask(2).max() == 195
    with pytest.raises(UserInputError):
        superpixel_mask(5)


def test_kernel_shap_gives_a_linear_models_exact_shapley_values():
    # for f(x) = w . x + b and a black baseline, patch j's Shapley value is sum_{i in j} w_i x_i
    torch.manual_seed(0)
    lin = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    x = _digit(1)
    res = surrogate_attribute(lin, x, 4, "kernel_shap", n_samples=120, patch=7)
    mask = superpixel_mask(7).view(-1)
    contrib = (lin[1].weight[4].detach() * x.view(-1))                      # (784,) w_i x_i
    exact = torch.zeros(16).index_add_(0, mask, contrib)
    torch.testing.assert_close(res["coef"], exact, atol=2e-4, rtol=1e-3)
    assert res["intercept"] == pytest.approx(float(lin[1].bias[4].detach()), abs=2e-4)
    assert res["map"].shape == (28, 28) and float(res["map"][0, 8]) == pytest.approx(float(exact[1]))


@pytest.mark.parametrize("seed,target,patch", [(0, 3, 4), (2, 8, 7)])
def test_kernel_shap_is_additive_on_the_cnn(seed, target, patch):
    model = new_cnn(seed=1).eval()
    x = _digit(seed)
    res = surrogate_attribute(model, x, target, "kernel_shap", n_samples=80, patch=patch)
    check = additivity(model, x, target, res["coef"])
    assert check["gap"] <= 1e-3 * max(1.0, abs(check["difference"]))         # sum phi = F(x) - F(black)
    assert res["intercept"] == pytest.approx(check["f_baseline"], abs=1e-3)
    with torch.no_grad():
        assert check["f_x"] == pytest.approx(float(model(x)[0, target]), abs=1e-5)


def test_lime_fits_the_samples_but_promises_no_additivity():
    model = new_cnn(seed=1).eval()
    x = _digit(3)
    a = surrogate_attribute(model, x, 5, "lime", n_samples=60, patch=7, seed=0)
    b = surrogate_attribute(model, x, 5, "lime", n_samples=60, patch=7, seed=0)
    torch.testing.assert_close(a["coef"], b["coef"])                         # seeded: a rerun agrees
    c = surrogate_attribute(model, x, 5, "lime", n_samples=60, patch=7, seed=1)
    assert not torch.equal(a["coef"], c["coef"])
    assert a["n_features"] == 16 and torch.isfinite(a["coef"]).all()


def test_weighted_least_squares_solves_the_normal_equations():
    from captum._utils.models.linear_model import LinearModel
    from torch.utils.data import DataLoader, TensorDataset
    g = torch.Generator().manual_seed(0)
    Z = (torch.rand(50, 6, generator=g) > 0.5).float()
    y = Z @ torch.tensor([1.0, -2.0, 0.5, 0.0, 3.0, 1.5]) + 0.7 + 0.01 * torch.randn(50, generator=g)
    w = torch.rand(50, generator=g) + 0.1
    model = LinearModel(train_fn=_weighted_least_squares, ridge=0.0)
    model.fit(DataLoader(TensorDataset(Z, y, w), batch_size=50))
    A = torch.cat([torch.ones(50, 1), Z], 1).double()
    W = torch.diag(w.double())
    beta = torch.linalg.solve(A.T @ W @ A, A.T @ W @ y.double())            # the normal equations
    torch.testing.assert_close(model.representation()[0].double(), beta[1:], atol=1e-5, rtol=1e-5)
    assert float(model.linear.bias.detach()) == pytest.approx(float(beta[0]), abs=1e-5)


def test_bad_surrogate_settings():
    model = new_cnn(seed=1).eval()
    with pytest.raises(UserInputError):
        surrogate_attribute(model, _digit(0), 1, "anchors")
    with pytest.raises(UserInputError):
        surrogate_attribute(model, _digit(0), 1, "kernel_shap", n_samples=5)
    with pytest.raises(UserInputError):
        surrogate_attribute(model, _digit(0), 1, "lime", patch=3)
