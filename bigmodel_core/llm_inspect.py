"""Looking inside the LLM: how the answer forms layer by layer, and where the 134,515,008 parameters are.

The logit lens (nostalgebraist 2020, "interpreting GPT: the logit lens") reads every block's residual
stream through the final RMSNorm and the tied output head, as if the model stopped there. At the
last position, the probability the model's final answer already has after each block shows where
the answer forms. The parameter count per part follows from the config alone (Touvron et al. 2023,
LLaMA: no biases, tied head here), so it checks the weights the model actually loaded.

    answer_by_layer(layer_logits_last, final_id) -> (n_layer,) probability, (n_layer,) rank
    parameter_formulas(cfg) -> {part: (count, formula with the numbers)}
"""
from __future__ import annotations

import torch


def answer_by_layer(layer_logits_last: torch.Tensor, final_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """layer_logits_last (n_layer, vocab): each block's read-out at the last position.

    Returns the probability of token `final_id` after each block (n_layer,) and its rank among the
    vocabulary there (0 = the block's top token)."""
    logits = layer_logits_last.float()                                   # (n_layer, V)
    probs = logits.softmax(dim=-1)[:, final_id]                           # (n_layer,)
    rank = (logits > logits[:, final_id:final_id + 1]).sum(dim=-1)        # (n_layer,) tokens scored higher
    return probs, rank


def parameter_formulas(cfg) -> dict[str, tuple[int, str]]:
    """Parameters per part from the config: embedding V x C (the output head shares it), attention
    per block C x C (W_q) + 2 x C x (n_kv x d_head) (W_k, W_v) + C x C (W_o), SwiGLU per block 3 x C x F,
    RMSNorm gains 2 per block + 1 final, C each."""
    C, V, F, nl = cfg.n_embd, cfg.vocab_size, cfg.n_inner, cfg.n_layer
    kv = cfg.n_kv_head * cfg.head_dim
    attn = C * C + 2 * C * kv + C * C
    mlp = 3 * C * F
    parts = {
        "embedding": (V * C, f"{V:,} × {C}"),
        "attention": (nl * attn, f"{nl} × ({C}×{C} + 2×{C}×{kv} + {C}×{C})"),
        "mlp": (nl * mlp, f"{nl} × 3 × {C} × {F}"),
        "norms": ((2 * nl + 1) * C, f"(2 × {nl} + 1) × {C}"),
    }
    parts["total"] = (sum(n for n, _ in parts.values()), " + ".join(parts))
    return parts
