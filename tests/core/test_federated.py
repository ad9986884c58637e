"""FedAvg (McMahan et al. 2017) against plain training and a hand-computed weighted average; splits,
privacy clipping, divergence and bad settings."""
import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.federated import (FedConfig, central_curve, client_config, fedavg, fedavg_clients,
                                     split_clients)
from bigmodel_core.models.cnn import new_cnn
from bigmodel_core.data import mnist_tensors
from bigmodel_core.train import accuracy, fit

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def data():
    X, y, X_test, y_test = mnist_tensors()
    return X[:600], y[:600], X_test[:200], y_test[:200]


def small_mlp(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def params(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


def test_one_client_one_round_equals_plain_training(data):
    X, y, X_test, y_test = data
    X, y = X[:96], y[:96]
    cfg = FedConfig(n_clients=1, rounds=1, fraction=1.0, local_epochs=2, lr=0.05, batch_size=32)
    fed_model = new_cnn(3)
    plain = copy.deepcopy(fed_model)
    res = fedavg_clients(fed_model, [(X, y)], cfg, lambda m: accuracy(m, X_test, y_test))
    fit(plain, (X, y), client_config(cfg, 0, 0), loss_fn=F.cross_entropy, device=CPU)
    assert res.reason == "finished" and len(res.rounds) == 1
    for a, b in zip(fed_model.parameters(), plain.parameters()):
        assert torch.equal(a, b)
    assert res.rounds[0].accuracy == pytest.approx(accuracy(plain, X_test, y_test))


def test_the_server_takes_the_data_weighted_average_of_the_clients(data):
    X, y, X_test, y_test = data
    clients = [(X[:100], y[:100]), (X[100:400], y[100:400])]                   # n_1 = 100, n_2 = 300
    cfg = FedConfig(n_clients=2, rounds=1, fraction=1.0, lr=0.1, batch_size=20)
    start = small_mlp(1)
    locals_ = []
    for k, (Xk, yk) in enumerate(clients):                                     # ClientUpdate by hand
        m = copy.deepcopy(start)
        fit(m, (Xk, yk), client_config(cfg, 0, k), loss_fn=F.cross_entropy, device=CPU)
        locals_.append(params(m))
    expected = 0.25 * locals_[0] + 0.75 * locals_[1]                          # n_k / n
    model = copy.deepcopy(start)
    fedavg_clients(model, clients, cfg, lambda m: 0.0)
    torch.testing.assert_close(params(model), expected, atol=1e-6, rtol=1e-5)


def test_iid_split_is_a_partition_and_two_classes_gives_two_digits_each(data):
    _, y, _, _ = data
    parts = split_clients(y, FedConfig(n_clients=7, split="iid"))
    allidx = np.concatenate(parts)
    assert sorted(allidx.tolist()) == list(range(len(y)))
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    for K in (5, 7, 10, 20):
        parts = split_clients(y, FedConfig(n_clients=K, split="two_classes"))
        assert sorted(np.concatenate(parts).tolist()) == list(range(len(y)))   # every digit, once
        assert all(len(set(y[p].tolist())) == 2 for p in parts)               # exactly two classes each


def test_clipping_bounds_every_round_and_noise_changes_the_model(data):
    X, y, X_test, y_test = data
    ev = lambda m: accuracy(m, X_test, y_test)                                 # noqa: E731
    base = dict(n_clients=4, rounds=2, fraction=1.0, lr=0.1, batch_size=50)
    clipped = fedavg(FedConfig(**base, clip=0.5), (X, y), (X_test, y_test), model_fn=small_mlp, device=CPU)
    assert all(r.update_norm <= 0.5 + 1e-5 for r in clipped.rounds)
    noisy = fedavg(FedConfig(**base, clip=0.5, noise=1.0), (X, y), (X_test, y_test), model_fn=small_mlp, device=CPU)
    assert not torch.equal(params(noisy.model), params(clipped.model))
    assert noisy.bytes_sent() == [2 * 4 * sum(p.numel() for p in small_mlp().parameters())] * 4
    assert ev(clipped.model) > 0.1


def test_fedavg_learns_and_the_central_baseline_runs_the_same_number_of_steps(data):
    X, y, X_test, y_test = data
    cfg = FedConfig(n_clients=5, rounds=4, fraction=0.6, lr=0.1, batch_size=20)
    res = fedavg(cfg, (X, y), (X_test, y_test), model_fn=small_mlp, device=CPU)
    assert len(res.rounds) == 4 and all(len(r.clients) == 3 for r in res.rounds)
    assert res.rounds[-1].accuracy > res.initial_accuracy + 0.3
    central = central_curve(cfg, (X, y), (X_test, y_test), model_fn=small_mlp, device=CPU)
    assert central["rounds"] == [1, 2, 3, 4]
    assert central["steps_per_round"] == 3 * 120 // 20                         # m clients x n/K digits / B
    assert central["accuracy"][-1] > 0.5


def test_divergence_is_reported_not_drawn(data):
    X, y, X_test, y_test = data
    res = fedavg(FedConfig(n_clients=3, rounds=5, fraction=1.0, lr=1e12), (X, y), (X_test, y_test),
                 model_fn=small_mlp, device=CPU)
    assert res.reason == "diverged" and res.diverged_round is not None
    assert all(np.isfinite(r.accuracy) and np.isfinite(r.update_norm) for r in res.rounds)


@pytest.mark.parametrize("kwargs", [dict(n_clients=0), dict(rounds=0), dict(fraction=0.0), dict(local_epochs=0),
                                    dict(split="by_writer"), dict(lr=float("nan")), dict(noise=1.0)])
def test_bad_settings_are_learners_mistakes(data, kwargs):
    _, y, _, _ = data
    with pytest.raises(UserInputError):
        split_clients(y, FedConfig(**kwargs))


def test_a_client_with_no_data_is_refused(data):
    X, y, _, _ = data
    with pytest.raises(UserInputError) as e:
        split_clients(y[:5], FedConfig(n_clients=8))                            # 5 digits, 8 clients
    assert "client" in str(e.value)
    with pytest.raises(UserInputError):
        fedavg_clients(small_mlp(), [(X[:10], y[:10]), (X[:0], y[:0])], FedConfig(n_clients=2), lambda m: 0.0)
