"""Scaled dot-product self-attention, explained (course texts 3 and 4 §3.3.1; 5 §3.3).

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V

Q, K and V are the token embeddings X multiplied by three learned matrices: Q = X W_Q, K = X W_K,
V = X W_V. Row i of the score matrix holds how well query i matches every key; the softmax turns the
row into weights that sum to 1 (course text 5: a_ij = exp(u_i^T v_j + b_a) / sum_k exp(u_i^T v_k + b_a));
the output row i is the weighted sum of the value rows, c_i = sum_j a_ij v_j.
Without the 1/sqrt(d_k) the scores grow like sqrt(d_k) and the softmax saturates to one-hot rows
(Vaswani et al. 2017, "Attention Is All You Need", §3.2.1), which is why the course text divides.

Also here: the sinusoidal positional encoding of the same paper (§3.5), the by-hand set-up the page
uses (a sentence -> X -> W_Q, W_K, W_V -> Q, K, V), and per-head summaries of a real model's heads.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from bigmodel_core.errors import UserInputError

D_K_RANGE = (2, 64)          # the learner's d_k slider
HEADS_RANGE = (1, 4)         # the learner's number of heads
D_MODEL = 16                 # width of the toy embeddings X in the by-hand half
MAX_TOKENS = 24              # the by-hand half shows every number: keep sentences short


@dataclass
class AttentionResult:
    raw_scores: torch.Tensor    # (..., T, T) Q K^T, before scaling
    scores: torch.Tensor        # (..., T, T) what enters the softmax: Q K^T * factor, masked cells -inf
    weights: torch.Tensor       # (..., T, T) attn_weights = softmax(scores) along each row
    output: torch.Tensor        # (..., T, d_v) weights @ V
    factor: float               # 1 / (sqrt(d_k) if scale else 1) / temperature


def causal_mask(T: int, device=None) -> torch.Tensor:
    """(T, T) boolean, True where query i may look at key j (j <= i): no peeking at later tokens."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def scaled_dot_product_attention_explained(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *,
                                           mask: torch.Tensor | None = None, scale: bool = True,
                                           temperature: float = 1.0) -> AttentionResult:
    """softmax(Q K^T / sqrt(d_k) / temperature) V, step by step, keeping every intermediate.

    q, k: (T, d_k) or (heads, T, d_k); v: (T, d_v) or (heads, T, d_v).
    mask: boolean, True = may attend (like torch's attn_mask), broadcastable to (..., T, T); or a float
        mask added to the scores. scale=False drops the 1/sqrt(d_k); temperature > 1 flattens the rows.
    With mask=None, temperature=1 this equals F.scaled_dot_product_attention(q, k, v, attn_mask=mask,
    scale=factor); the tests check it.
    """
    if temperature <= 0:
        raise UserInputError("attention.errors.temperature", value=temperature)
    d_k = q.size(-1)
    factor = (1.0 / math.sqrt(d_k) if scale else 1.0) / temperature
    raw_scores = q @ k.transpose(-2, -1)                        # (..., T, T) q_i . k_j
    scores = raw_scores * factor                                # (..., T, T)
    if mask is not None:
        if mask.dtype == torch.bool:
            scores = scores.masked_fill(~mask, float("-inf"))   # forbidden cells: weight exactly 0
        else:
            scores = scores + mask
    weights = torch.softmax(scores, dim=-1)                     # (..., T, T) each row sums to 1
    output = weights @ v                                        # (..., T, d_v) c_i = sum_j a_ij v_j
    return AttentionResult(raw_scores=raw_scores, scores=scores, weights=weights, output=output, factor=factor)


def sinusoidal_positional_encoding(n_positions: int, d_model: int) -> torch.Tensor:
    """(n_positions, d_model): PE[pos, 2i] = sin(pos / 10000^(2i/d_model)), PE[pos, 2i+1] = cos(same).

    Each pair of dimensions is a clock turning at its own speed: fast in the first columns, slow in the
    last, so every position gets a unique pattern and PE[p] . PE[q] depends only on p - q.
    """
    pos = torch.arange(n_positions, dtype=torch.float64)[:, None]              # (P, 1)
    i2 = torch.arange(0, d_model, 2, dtype=torch.float64)                      # (ceil(D/2),) = 2i
    angle = pos / torch.pow(10000.0, i2 / d_model)                            # (P, ceil(D/2))
    pe = torch.zeros(n_positions, d_model, dtype=torch.float64)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.float()


def position_similarity(pe: torch.Tensor) -> torch.Tensor:
    """(P, P) dot products PE[p] . PE[q]: large near the diagonal, the same along every diagonal."""
    return pe @ pe.T


# ---------------------------------------------------------------------------------------------
# The by-hand half: a sentence -> X -> Q, K, V with seeded matrices -> attention, every number kept.

@dataclass
class ByHand:
    tokens: list[str]              # WordPiece tokens of the sentence, [CLS] ... [SEP]
    X: torch.Tensor                # (T, d_model) token embeddings (+ positional encoding if asked)
    W_Q: torch.Tensor              # (heads, d_model, d_k)
    W_K: torch.Tensor              # (heads, d_model, d_k)
    W_V: torch.Tensor              # (heads, d_model, d_k)
    Q: torch.Tensor                # (heads, T, d_k)
    K: torch.Tensor                # (heads, T, d_k)
    V: torch.Tensor                # (heads, T, d_k)
    attn: AttentionResult          # scores / weights (heads, T, T), output (heads, T, d_k)

    @property
    def mean_max_weight(self) -> float:
        """The largest weight of each row, averaged over rows and heads (1 = one-hot rows, 1/T = even)."""
        return float(self.attn.weights.max(-1).values.mean())

    @property
    def output(self) -> torch.Tensor:
        """(T, heads * d_k): the heads' outputs side by side (a real model then applies W_O)."""
        H, T, d_k = self.attn.output.shape
        return self.attn.output.transpose(0, 1).reshape(T, H * d_k)


def embedding_projection(table: torch.Tensor, d_model: int = D_MODEL) -> tuple[torch.Tensor, torch.Tensor]:
    """PCA of a pretrained token-embedding table (V, C) -> (mean (C,), projection (C, d_model)).

    The projection keeps the d_model directions along which the vocabulary varies most, scaled so the
    projected embeddings have unit variance per dimension (like the random table's entries).
    """
    table = table.detach().float().cpu()
    mean = table.mean(0)                                        # (C,)
    centred = table - mean                                      # (V, C)
    cov = centred.T @ centred / (table.size(0) - 1)             # (C, C)
    evals, evecs = torch.linalg.eigh(cov)                       # ascending
    top = evecs[:, -d_model:].flip(-1)                          # (C, d_model) largest first
    std = evals[-d_model:].flip(-1).clamp(min=1e-12).sqrt()     # (d_model,)
    return mean, top / std


def token_embeddings(ids: list[int], *, source: str, d_model: int = D_MODEL, table: torch.Tensor | None = None,
                     projection: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0) -> torch.Tensor:
    """(T, d_model) embeddings of token ids.

    source="pretrained": MiniLM's own token embeddings (table, (V, 384)) projected by PCA to d_model.
    source="random": a seeded N(0, 1) table, the same numbers for the same token every time.
    """
    idx = torch.as_tensor(ids, dtype=torch.long)
    if source == "pretrained":
        mean, proj = projection if projection is not None else embedding_projection(table, d_model)
        return (table[idx.to(table.device)].float().cpu() - mean) @ proj   # (T, d_model)
    if source == "random":
        rows = []
        for i in ids:                                           # one generator per token id: stable rows
            g = torch.Generator().manual_seed(seed * 1_000_003 + int(i))
            rows.append(torch.randn(d_model, generator=g))
        return torch.stack(rows)                                # (T, d_model)
    raise ValueError(f"unknown embedding source {source!r}")


def projection_matrices(d_model: int, d_k: int, n_heads: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """W_Q, W_K, W_V, each (n_heads, d_model, d_k) ~ N(0, 1/d_model).

    Drawn at the largest size and sliced, so raising d_k adds columns and keeps the earlier ones.
    """
    g = torch.Generator().manual_seed(seed)
    W = torch.randn(3, HEADS_RANGE[1], d_model, D_K_RANGE[1], generator=g) / math.sqrt(d_model)
    W = W[:, :n_heads, :, :d_k]                                 # (3, heads, d_model, d_k)
    return W[0], W[1], W[2]


def by_hand_attention(tokens: list[str], X: torch.Tensor, *, d_k: int = 8, n_heads: int = 1, causal: bool = False,
                      scale: bool = True, temperature: float = 1.0, positional: bool = True,
                      seed: int = 0) -> ByHand:
    """Q = X W_Q, K = X W_K, V = X W_V for each head, then the explained attention of each head."""
    if not D_K_RANGE[0] <= d_k <= D_K_RANGE[1]:
        raise UserInputError("attention.errors.d_k", lo=D_K_RANGE[0], hi=D_K_RANGE[1])
    if not HEADS_RANGE[0] <= n_heads <= HEADS_RANGE[1]:
        raise UserInputError("attention.errors.heads", lo=HEADS_RANGE[0], hi=HEADS_RANGE[1])
    T, d_model = X.shape
    if positional:
        X = X + sinusoidal_positional_encoding(T, d_model)      # (T, d_model) word + position
    W_Q, W_K, W_V = projection_matrices(d_model, d_k, n_heads, seed)
    Q = X @ W_Q                                                 # (T, d_model) @ (heads, d_model, d_k) -> (heads, T, d_k)
    K = X @ W_K
    V = X @ W_V
    mask = causal_mask(T) if causal else None
    attn = scaled_dot_product_attention_explained(Q, K, V, mask=mask, scale=scale, temperature=temperature)
    return ByHand(tokens=list(tokens), X=X, W_Q=W_Q, W_K=W_K, W_V=W_V, Q=Q, K=K, V=V, attn=attn)


def check_sentence(text: str, n_tokens: int, max_tokens: int = MAX_TOKENS) -> None:
    """The by-hand half needs a short, non-empty sentence."""
    if not text.strip():
        raise UserInputError("attention.errors.empty")
    if n_tokens > max_tokens:
        raise UserInputError("attention.errors.too_long", n=n_tokens, max=max_tokens)


@dataclass(frozen=True)
class Sentence:
    tokens: list[str]              # WordPiece tokens, no [CLS] / [SEP]
    ids: list[int]                 # their vocabulary ids
    n_unk: int                     # how many are [UNK]


def sentence_pieces(model, text: str, max_tokens: int = MAX_TOKENS) -> Sentence:
    """The learner's sentence as the model's WordPiece tokens (no special tokens), checked for the
    by-hand half (non-empty, at most max_tokens). model: a bigmodel_core.models.bert.MiniLM."""
    enc = model.tokenizer.encode(text, add_special_tokens=False)
    check_sentence(text, len(enc.ids), max_tokens)
    return Sentence(list(enc.tokens), list(enc.ids), enc.tokens.count("[UNK]"))


def pretrained_projection(model, d_model: int = D_MODEL) -> tuple[torch.Tensor, torch.Tensor]:
    """The PCA projection of the model's own token-embedding table (embedding_projection)."""
    return embedding_projection(model.emb.tok.weight, d_model)


def sentence_embeddings(model, sentence: Sentence, *, source: str,
                        projection: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """(T, D_MODEL) X for the by-hand half: the model's pretrained token embeddings projected by PCA
    (source="pretrained"; pass pretrained_projection(model) to reuse it), or the seeded random table."""
    if source == "pretrained":
        return token_embeddings(sentence.ids, source=source, table=model.emb.tok.weight,
                                projection=projection if projection is not None else pretrained_projection(model))
    return token_embeddings(sentence.ids, source=source)


# ---------------------------------------------------------------------------------------------
# Why divide by sqrt(d_k): the softmax of random scores as d_k grows, scaled and not.

def softmax_saturation(d_ks=(2, 4, 8, 16, 32, 64), T: int = 10, trials: int = 200, seed: int = 0) -> pd.DataFrame:
    """For q, k with N(0, 1) entries: score spread and the largest softmax weight per row, by d_k.

    Long form: d_k, scaled (bool), score_std, max_weight (mean over rows), entropy (nats, mean over rows).
    Unscaled scores have std sqrt(d_k), so rows become one-hot (max weight -> 1, entropy -> 0).
    """
    g = torch.Generator().manual_seed(seed)
    rows = []
    for d_k in d_ks:
        q = torch.randn(trials, T, d_k, generator=g)
        k = torch.randn(trials, T, d_k, generator=g)
        raw = q @ k.transpose(-2, -1)                           # (trials, T, T), std sqrt(d_k)
        for scaled in (True, False):
            s = raw / math.sqrt(d_k) if scaled else raw
            w = torch.softmax(s, -1)
            ent = -(w * torch.log(w.clamp_min(1e-30))).sum(-1)
            rows.append({"d_k": d_k, "scaled": scaled, "score_std": float(s.std()),
                         "max_weight": float(w.max(-1).values.mean()), "entropy": float(ent.mean())})
    return pd.DataFrame(rows)


def saturation_at(df: pd.DataFrame, d_k: int) -> dict[str, float]:
    """softmax_saturation's numbers at the d_k it measured nearest to d_k, scaled and unscaled:
    {"d_k", "std_scaled", "std_unscaled", "w_scaled", "w_unscaled"}."""
    near = min(df.d_k.unique(), key=lambda v: abs(v - d_k))
    row = df[df.d_k == near].set_index("scaled")
    return {"d_k": int(near), "std_scaled": float(row.score_std[True]), "std_unscaled": float(row.score_std[False]),
            "w_scaled": float(row.max_weight[True]), "w_unscaled": float(row.max_weight[False])}


# ---------------------------------------------------------------------------------------------
# Summaries of a real model's heads: how spread out and how far each head looks.

def head_summaries(attn_weights: torch.Tensor, mask: torch.Tensor | None = None) -> pd.DataFrame:
    """Per head of (L, H, T, T) weights (one sentence): mean row entropy and mean attention distance.

    entropy  = mean_i -sum_j a_ij log a_ij  (nats; 0 = looks at one token, log T = looks everywhere)
    distance = mean_i  sum_j a_ij |i - j|   (tokens; how far away the head looks on average)
    mask: (T,) True for real tokens; padding rows are left out of the means.
    Long form: layer, head (both from 1), entropy, distance.
    """
    A = attn_weights.detach().double().cpu()
    L, H, T, _ = A.shape
    keep = torch.ones(T, dtype=torch.bool) if mask is None else mask.bool().cpu()
    A = A[:, :, keep][:, :, :, keep]                            # (L, H, n, n) real tokens only
    n = A.size(-1)
    ent = -(A * torch.log(A.clamp_min(1e-30))).sum(-1).mean(-1)  # (L, H)
    idx = torch.arange(n, dtype=torch.float64)
    dist = (A * (idx[:, None] - idx[None, :]).abs()).sum(-1).mean(-1)   # (L, H)
    layer, head = np.meshgrid(np.arange(1, L + 1), np.arange(1, H + 1), indexing="ij")
    return pd.DataFrame({"layer": layer.ravel(), "head": head.ravel(),
                         "entropy": ent.numpy().ravel(), "distance": dist.numpy().ravel()})


def head_extremes(summary: pd.DataFrame) -> dict:
    """From head_summaries: the sharpest head (lowest entropy), the most spread-out head (highest), and
    the range of mean attention distances. {"sharp": (layer, head, entropy), "flat": (...),
    "distance": (min, max)}."""
    lo, hi = summary.loc[summary.entropy.idxmin()], summary.loc[summary.entropy.idxmax()]
    return {"sharp": (int(lo["layer"]), int(lo["head"]), float(lo.entropy)),
            "flat": (int(hi["layer"]), int(hi["head"]), float(hi.entropy)),
            "distance": (float(summary.distance.min()), float(summary.distance.max()))}
