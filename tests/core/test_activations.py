"""Activations: autograd derivatives vs the closed forms, saturation, and gradients through depth."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.activations import (ACTIVATIONS, activation, closed_form_derivative, curves, depth_ratios,
                                           depth_gradients, depth_table, derivative, init_std,
                                           saturated_regions)

TORCH_MODULES = {"sigmoid": torch.nn.Sigmoid(), "tanh": torch.nn.Tanh(), "relu": torch.nn.ReLU(),
                 "leaky_relu": torch.nn.LeakyReLU(0.2), "gelu": torch.nn.GELU(), "silu": torch.nn.SiLU()}


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_values_match_torch_modules(name):
    x = torch.randn(500, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 4
    assert torch.allclose(activation(name, x, 0.2), TORCH_MODULES[name](x))


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_autograd_derivative_equals_closed_form(name, seed):
    g = torch.Generator().manual_seed(seed)
    n = int(torch.randint(10, 400, (1,), generator=g))
    x = torch.randn(n, generator=g, dtype=torch.float64) * 5
    x = x[x.abs() > 1e-9]                                      # ReLU's kink: both conventions agree off 0
    slope = float(torch.rand(1, generator=g)) * 0.5
    y, dy = derivative(name, x, slope)
    assert torch.allclose(y, activation(name, x, slope))
    assert torch.allclose(dy, closed_form_derivative(name, x, slope), atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "gelu", "silu"])
def test_autograd_derivative_equals_finite_differences(name):
    x = torch.linspace(-6, 6, 101, dtype=torch.float64)
    h = 1e-6
    numeric = (activation(name, x + h) - activation(name, x - h)) / (2 * h)
    assert torch.allclose(derivative(name, x)[1], numeric, atol=1e-7)


def test_known_values():
    x = torch.tensor([0.0, 2.0], dtype=torch.float64)
    s = 1 / (1 + math.exp(-2))
    assert torch.allclose(derivative("sigmoid", x)[1], torch.tensor([0.25, s * (1 - s)], dtype=torch.float64))
    assert torch.allclose(derivative("tanh", x)[1], torch.tensor([1.0, 1 - math.tanh(2) ** 2], dtype=torch.float64))
    assert derivative("gelu", torch.tensor([0.0], dtype=torch.float64))[1].item() == pytest.approx(0.5)
    assert derivative("silu", torch.tensor([0.0], dtype=torch.float64))[1].item() == pytest.approx(0.5)
    assert derivative("leaky_relu", torch.tensor([-3.0]), 0.1)[1].item() == pytest.approx(0.1)


def test_sigmoid_saturates_symmetrically_where_the_slope_drops_below_threshold():
    c = curves("sigmoid", -6, 6, n=1201, threshold=0.05)
    # sigmoid'(x) = 0.05  <=>  s(1 - s) = 0.05  <=>  s = (1 + sqrt(0.8)) / 2
    edge = math.log((1 + math.sqrt(0.8)) / (1 - math.sqrt(0.8)))
    (a0, a1), (b0, b1) = c.saturated
    assert (a0, b1) == (-6.0, 6.0)
    assert a1 == pytest.approx(-edge, abs=0.011) and b0 == pytest.approx(edge, abs=0.011)


def test_relu_is_saturated_on_the_whole_negative_side_and_leaky_relu_is_not():
    assert curves("relu", -4, 4, n=801).saturated == ((-4.0, pytest.approx(0.005)),)
    assert curves("leaky_relu", -4, 4, threshold=0.05, negative_slope=0.1).saturated == ()


def test_saturated_regions_on_a_hand_made_slope():
    x = np.arange(6.0)
    assert saturated_regions(x, np.array([0, 0, 1, 1, 0, 1.0]), 0.5) == ((0.0, 1.5), (3.5, 4.5))
    assert saturated_regions(x, np.ones(6), 0.5) == ()


def test_init_std_matches_torch_init_formulas():
    n_in, n_out = 128, 64
    assert init_std("xavier", n_in, n_out, "tanh") == pytest.approx(math.sqrt(2 / (n_in + n_out)))
    w = torch.empty(n_out, n_in)
    # kaiming_normal_ uses std = gain / sqrt(fan_in) with gain = calculate_gain("leaky_relu", a)
    gain = torch.nn.init.calculate_gain("leaky_relu", 0.2)
    assert init_std("he", n_in, n_out, "leaky_relu", 0.2) == pytest.approx(gain / math.sqrt(n_in))
    assert init_std("he", n_in, n_out, "relu") == pytest.approx(torch.nn.init.calculate_gain("relu") / math.sqrt(n_in))
    assert init_std("typical", n_in, n_out, "sigmoid") == init_std("xavier", n_in, n_out, "sigmoid")
    del w


def test_depth_gradients_match_a_plain_torch_network():
    """The same seeded weights in an nn.Sequential give the same input gradient."""
    depth, width, batch = 7, 16, 5
    ratio = depth_gradients("tanh", depth, "xavier", width=width, batch=batch, seed=3)
    g = torch.Generator().manual_seed(3)
    std = math.sqrt(2 / (2 * width))
    layers = []
    for _ in range(depth):
        lin = torch.nn.Linear(width, width, bias=False).double()
        lin.weight.data = torch.randn(width, width, generator=g, dtype=torch.float64) * std
        layers += [lin, torch.nn.Tanh()]
    x = torch.randn(batch, width, generator=g, dtype=torch.float64).requires_grad_(True)
    grad_out = torch.randn(batch, width, generator=g, dtype=torch.float64)
    torch.nn.Sequential(*layers)(x).backward(grad_out)
    assert ratio.shape == (depth + 1,) and ratio[0] == 1.0
    assert ratio[-1] == pytest.approx((x.grad.norm() / grad_out.norm()).item(), rel=1e-10)


def test_sigmoid_gradient_vanishes_through_depth():
    r = depth_gradients("sigmoid", 50, "typical")
    assert np.all(np.diff(r) < 0)                              # shrinks at every layer
    assert r[10] < 1e-4 and r[50] < 1e-20
    # each layer multiplies the gradient's norm by at most max sigmoid' x ||W||_2 = 1/4 x (about 2
    # for a square Xavier matrix: 2 sqrt(n) x std = 2), so it must fall at least as fast as 0.5^k
    assert np.all(r[1:] <= 0.5 ** np.arange(1, 51))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_relu_with_he_init_keeps_the_gradient_within_a_band(seed):
    r = depth_gradients("relu", 50, "he", seed=seed)
    assert np.all((r > 0.1) & (r < 10))
    # ... and the same ReLU net with Xavier weights (half He's variance) loses it
    assert depth_gradients("relu", 50, "xavier", seed=seed)[-1] < 1e-5


def test_depth_table_long_form_and_bad_input():
    df = depth_table(5, names=("sigmoid", "relu"))
    assert list(df.columns) == ["activation", "layers", "ratio"] and len(df) == 12
    with pytest.raises(UserInputError):
        depth_gradients("relu", 0)
    with pytest.raises(UserInputError):
        activation("swishy", torch.zeros(1))
    with pytest.raises(UserInputError):
        curves("relu", 2, -2)


def test_public_names():
    import bigmodel_core
    assert bigmodel_core.activation_derivative is derivative


def test_depth_ratios_are_depth_gradients_and_the_slope_moves_only_leaky_relu():
    names = ("relu", "leaky_relu", "gelu")
    a, b = depth_ratios("he", 0.01, depth=6, names=names), depth_ratios("he", 0.4, depth=6, names=names)
    assert set(a) == set(names) and all(len(v) == 7 and v[0] == 1.0 for v in a.values())
    assert set(depth_ratios(depth=1)) == set(ACTIVATIONS)
    assert np.allclose(a["gelu"], depth_gradients("gelu", 6, "he"))
    assert a["relu"] == b["relu"] and a["leaky_relu"] != b["leaky_relu"]


def test_live_spec_keeps_the_spec_when_only_a_point_moves():
    """Moving a point must change only its rows, so the browser swaps data instead of redrawing."""
    import altair as alt
    import pandas as pd

    from bigmodel_core.charts.spec import stable_names, to_live_spec, to_spec
    c = curves("sigmoid", -6, 6, n=241)

    def chart(x0):
        line = alt.Chart(pd.DataFrame({"x": c.x, "y": c.y})).mark_line().encode(x="x:Q", y="y:Q")
        point = alt.Chart(pd.DataFrame({"x": [x0], "y": [0.5]})).mark_point().encode(x="x:Q", y="y:Q")
        return alt.layer(line, point)

    a, b = to_live_spec(chart(1.0)), to_live_spec(chart(1.05))
    data_a, data_b = a.pop("datasets"), b.pop("datasets")
    assert a == b                                                  # same spec: same chart identity
    assert list(data_a) == list(data_b) and all(isinstance(v, bytes) for v in data_a.values())
    assert sum(data_a[k] != data_b[k] for k in data_a) == 1        # only the point's rows changed
    plain = to_spec(chart(1.0))
    renamed = stable_names(plain)
    assert plain["datasets"] and set(renamed["datasets"]) == {f"d{i}" for i in range(len(plain["datasets"]))}
    assert sorted(map(str, renamed["datasets"].values())) == sorted(map(str, plain["datasets"].values()))
