"""bigmodel_core.models.mlp: the two MLPs the training pages use, moved out of landscape.py and
regularization.py. The shipped asset still loads into DigitMLP (strictly, every tensor) and gives the
accuracy its record states; WideMLP's forward pass equals the formula written out by hand."""
import json

import pytest
import torch
import torch.nn.functional as F
from safetensors.torch import load_file

from bigmodel_core import landscape as L
from bigmodel_core.models.mlp import DigitMLP, InputJitter, WideMLP


def test_the_landscape_asset_loads_into_digit_mlp_and_keeps_its_numbers():
    record = json.loads(L.MLP_RECORD.read_text())
    tensors = load_file(str(L.MLP_WEIGHTS))
    model = DigitMLP(record["hidden"])
    missing = model.load_state_dict({k[len("trained."):]: v for k, v in tensors.items()
                                     if k.startswith("trained.")}, strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    assert sum(p.numel() for p in model.parameters()) == record["params"]
    X, y = L.mnist_tensors("test")
    with torch.no_grad():
        logits = model.eval()(X)                                               # (1000, 10)
        by_hand = F.relu(X.flatten(1) @ model.fc1.weight.T + model.fc1.bias) @ model.fc2.weight.T + model.fc2.bias
    torch.testing.assert_close(logits, by_hand)
    assert (logits.argmax(1) == y).float().mean().item() == pytest.approx(record["test_accuracy"], abs=1e-3)
    loaded = L.load_landscape_mlp()                                          # the loader: the same weights
    for a, b in zip(loaded.model.parameters(), model.parameters()):
        torch.testing.assert_close(a, b)


def test_wide_mlp_is_the_tanh_stack_and_its_init_ignores_the_regularization():
    x = torch.randn(7, 2, generator=torch.Generator().manual_seed(1))
    plain = WideMLP(2, hidden=16, depth=3, seed=4).eval()
    h = x
    linears = [m for m in plain.net if isinstance(m, torch.nn.Linear)]
    for lin in linears[:-1]:
        h = torch.tanh(h @ lin.weight.T + lin.bias)                            # (7, 16)
    expected = (h @ linears[-1].weight.T + linears[-1].bias).squeeze(-1)      # (7,)
    torch.testing.assert_close(plain(x), expected)
    regular = WideMLP(2, hidden=16, depth=3, dropout=0.5, jitter=0.3, seed=4)
    for a, b in zip(plain.state_dict().values(), regular.state_dict().values()):
        torch.testing.assert_close(a, b)                                       # same seed, same start
    torch.testing.assert_close(regular.eval()(x), plain(x))                    # dropout, jitter off in eval()
    jitter = InputJitter(0.5, seed=0).train()
    assert not torch.equal(jitter(x), x) and torch.equal(jitter.eval()(x), x)
