"""How a language model picks the next token: temperature, top-k and top-p (nucleus) sampling.

The model gives one logit z_i per token of the vocabulary. Then

    p_i = exp(z_i / T) / sum_j exp(z_j / T)          softmax with temperature T (T -> 0: argmax, greedy)
    top-k: keep the k most probable tokens (k = 0 keeps all)
    top-p: keep the smallest set of most probable tokens whose probability adds up to at least p
           (Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration"); the token that
           crosses p is kept
    renormalize what is kept, and draw one token from it.

    sampling_distribution(logits, temperature, top_k, top_p) -> probs (vocab,), zeros where cut
    sample(probs, generator) -> int
    check_sampling(temperature, top_k, top_p)  # UserInputError when out of range
"""
from __future__ import annotations

import math

import torch

from bigmodel_core.errors import UserInputError

MAX_TEMPERATURE = 5.0


def check_sampling(temperature: float, top_k: int, top_p: float) -> None:
    """Refuse settings outside the sliders' ranges (they may come from a hand-edited URL)."""
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and 0 <= temperature <= MAX_TEMPERATURE):
        raise UserInputError("errors.llm.bad_temperature", value=temperature, max=MAX_TEMPERATURE)
    if not (isinstance(top_k, int) and top_k >= 0):
        raise UserInputError("errors.llm.bad_top_k", value=top_k)
    if not (isinstance(top_p, (int, float)) and math.isfinite(top_p) and 0 < top_p <= 1):
        raise UserInputError("errors.llm.bad_top_p", value=top_p)


def sampling_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                          top_p: float = 1.0) -> torch.Tensor:
    """logits (vocab,) -> probabilities (vocab,) float32 after temperature, top-k and top-p; sums to 1."""
    check_sampling(temperature, top_k, top_p)
    z = logits.detach().float().reshape(-1)                              # (V,)
    if temperature == 0:                                                 # the limit T -> 0: all mass on the argmax
        probs = torch.zeros_like(z)
        probs[z.argmax()] = 1.0
        return probs
    probs = torch.softmax(z / temperature, dim=-1)                       # (V,) p_i = exp(z_i/T) / sum_j exp(z_j/T)
    order = torch.argsort(probs, descending=True, stable=True)           # most probable first; ties by id
    sorted_p = probs[order]                                              # (V,)
    keep = torch.ones_like(sorted_p, dtype=torch.bool)
    if 0 < top_k < len(z):
        keep[top_k:] = False                                             # top-k: the k most probable
    kept = torch.where(keep, sorted_p, torch.zeros_like(sorted_p))
    kept = kept / kept.sum()                                             # renormalized after top-k
    if top_p < 1.0:
        before = torch.cumsum(kept, dim=0) - kept                        # mass of the tokens ranked above
        keep &= before < top_p                                           # keep until the sum reaches p (the crossing token stays)
    out = torch.zeros_like(probs)
    out[order[keep]] = sorted_p[keep]
    return out / out.sum()                                               # renormalize


def sample(probs: torch.Tensor, generator: torch.Generator | None = None) -> int:
    """Draw one token id from probs (one-hot probs give their token, whatever the generator)."""
    if int((probs > 0).sum()) == 1:
        return int(probs.argmax())
    return int(torch.multinomial(probs, 1, generator=generator))
