"""sampling_distribution: temperature, top-k, top-p (nucleus) as the LLM pages define them, checked by
their properties and against a brute-force re-implementation written out token by token."""
import math

import pytest
import torch

from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.sampling import check_sampling, sample, sampling_distribution


def brute_force(logits: list[float], temperature: float, top_k: int, top_p: float) -> list[float]:
    """The definition, one token at a time: softmax(z / T), keep top-k, keep the smallest top-p set, renormalize."""
    z = [v / temperature for v in logits]
    mx = max(z)
    e = [math.exp(v - mx) for v in z]
    p = [v / sum(e) for v in e]
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    kept = order[:top_k] if top_k else order
    mass = sum(p[i] for i in kept)
    nucleus, acc = [], 0.0
    for i in kept:
        nucleus.append(i)
        acc += p[i] / mass
        if acc >= top_p:
            break
    total = sum(p[i] for i in nucleus)
    return [p[i] / total if i in nucleus else 0.0 for i in range(len(p))]


@pytest.mark.parametrize("temperature", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("top_k", [0, 1, 5, 40])
@pytest.mark.parametrize("top_p", [0.1, 0.5, 0.9, 1.0])
def test_matches_the_definition(temperature, top_k, top_p):
    logits = torch.randn(100) * 3
    probs = sampling_distribution(logits, temperature, top_k, top_p)
    expected = torch.tensor(brute_force(logits.tolist(), temperature, top_k, top_p))
    assert torch.allclose(probs, expected, atol=1e-6)
    assert abs(float(probs.sum()) - 1.0) < 1e-5
    assert (probs >= 0).all()


def test_no_cut_is_softmax_with_temperature():
    logits = torch.randn(1000)
    for t in (0.5, 1.0, 3.0):
        assert torch.allclose(sampling_distribution(logits, t, 0, 1.0), torch.softmax(logits / t, -1), atol=1e-7)


def test_temperature_zero_is_argmax_and_small_temperature_tends_to_it():
    logits = torch.randn(500)
    one_hot = sampling_distribution(logits, 0, 0, 1.0)
    assert one_hot[logits.argmax()] == 1.0 and one_hot.sum() == 1.0
    near = sampling_distribution(logits, 1e-3, 0, 1.0)
    assert near[logits.argmax()] > 0.999
    flat = sampling_distribution(logits, 5.0, 0, 1.0)
    assert flat.max() < sampling_distribution(logits, 1.0, 0, 1.0).max()   # higher T: flatter


def test_top_k_keeps_the_k_most_probable():
    logits = torch.randn(300)
    for k in (1, 7, 50):
        probs = sampling_distribution(logits, 1.0, k, 1.0)
        kept = set(torch.nonzero(probs).flatten().tolist())
        assert kept == set(logits.topk(k).indices.tolist())
        # the kept tokens keep their ratios
        i, j = list(kept)[:2] if k > 1 else (list(kept)[0],) * 2
        assert torch.isclose(probs[i] / probs[j], torch.exp(logits[i] - logits[j]), rtol=1e-4)


def test_top_p_keeps_the_minimal_set_that_reaches_p():
    logits = torch.randn(200) * 2
    full = torch.softmax(logits, -1)
    for p in (0.05, 0.3, 0.75, 0.95):
        probs = sampling_distribution(logits, 1.0, 0, p)
        kept = torch.nonzero(probs).flatten()
        mass = full[kept].sum()
        assert mass >= p - 1e-6                                             # reaches p ...
        assert mass - full[kept].min() < p                                  # ... and no token can be dropped
        assert full[kept].min() >= full[probs == 0].max()                   # the most probable ones


def test_top_p_includes_the_crossing_token():
    logits = torch.log(torch.tensor([0.5, 0.3, 0.2]))
    probs = sampling_distribution(logits, 1.0, 0, 0.6)                     # 0.5 < 0.6 <= 0.8: two tokens
    assert torch.allclose(probs, torch.tensor([0.625, 0.375, 0.0]), atol=1e-6)
    probs = sampling_distribution(logits, 1.0, 0, 0.5)                     # 0.5 reaches 0.5: one token
    assert torch.allclose(probs, torch.tensor([1.0, 0.0, 0.0]))


def test_sampling_follows_the_distribution_and_the_generator():
    probs = torch.tensor([0.6, 0.3, 0.1, 0.0])
    g = torch.Generator().manual_seed(7)
    draws = [sample(probs, g) for _ in range(4000)]
    freq = torch.bincount(torch.tensor(draws), minlength=4).float() / len(draws)
    assert torch.allclose(freq, probs, atol=0.03) and freq[3] == 0
    again = [sample(probs, torch.Generator().manual_seed(7)) for _ in range(1)]
    assert again[0] == draws[0]
    g1, g2 = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    assert [sample(probs, g1) for _ in range(50)] == [sample(probs, g2) for _ in range(50)]


@pytest.mark.parametrize("temperature, top_k, top_p", [
    (-0.1, 0, 1.0), (float("nan"), 0, 1.0), (float("inf"), 0, 1.0), (99.0, 0, 1.0),
    (1.0, -1, 1.0), (1.0, 2.5, 1.0), (1.0, 0, 0.0), (1.0, 0, 1.5), (1.0, 0, float("nan"))])
def test_out_of_range_settings_are_refused_in_both_languages(temperature, top_k, top_p):
    with pytest.raises(UserInputError) as err:
        check_sampling(temperature, top_k, top_p)
    assert err.value.message("en") != err.value.message("zh")
    with pytest.raises(UserInputError):
        sampling_distribution(torch.randn(10), temperature, top_k, top_p)
