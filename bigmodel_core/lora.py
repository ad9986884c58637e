"""LoRA: fine-tune a big model by training two thin matrices per weight (Hu et al. 2021, "LoRA").

A pre-trained weight W (d x k) stays frozen. Next to it we learn B (d x r) and A (r x k) with r << d, k:

    W' = W + (alpha / r) B A          B starts at zero, so W' = W before training
    trainable numbers per matrix: r (d + k) instead of d k

Here on SmolLM2-135M-Instruct's query and value projections (W_q: 576 x 576, W_v: 192 x 576) in all 30
layers, as in the LoRA paper's §7.1. Each target layer is replaced by a LoRALinear that keeps the frozen
(4-bit) layer and adds (alpha/r) B (A x) to its output; `merged_weight()` gives W + (alpha/r) B A.

The task is the course's fine-tuning example (course text 5 §2, 2 §4.1.2) on real labelled text: a Chinese
review -> "好评" (positive) or "差评" (negative). Base and fine-tuned models get the same chat prompt and
are scored the same way: the probability of each answer's first token, renormalized over the two.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.llm import KVCache

TARGETS = ("wq", "wv")                       # attention's query and value projections
QUESTION = "好评还是差评？"                  # "positive or negative review?"
ANSWERS = ("差评", "好评")                   # class 0 negative, class 1 positive


@dataclass(frozen=True)
class LoRAConfig:
    r: int = 8                  # rank of B A
    alpha: float = 16.0         # scale: the update is (alpha / r) B A
    targets: tuple[str, ...] = TARGETS
    seed: int = 0               # A's random start (B starts at zero)


class LoRALinear(nn.Module):
    """y = W x + (alpha / r) B (A x): a frozen linear layer W (d x k) with a trainable low-rank path beside it.

    The readable path computes the two products separately (never forms the d x k update);
    `merged_weight()` is the same layer as one matrix, W + (alpha / r) B A."""

    def __init__(self, base: nn.Module, cfg: LoRAConfig, gen: torch.Generator):
        super().__init__()
        self.base = base                                                   # frozen: the model's QuantLinear
        d, k = base.n_out, base.n_in
        self.scale = cfg.alpha / cfg.r
        self.A = nn.Parameter(torch.randn(cfg.r, k, generator=gen) / math.sqrt(k))   # (r, k) small random
        self.B = nn.Parameter(torch.zeros(d, cfg.r))                                   # (d, r) zero: no change yet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x (..., k) -> W x (..., d)  +  scale * B (A x): (..., k) -> (..., r) -> (..., d)
        return self.base(x) + self.scale * F.linear(F.linear(x, self.A), self.B)

    def merged_weight(self) -> torch.Tensor:
        """W' = W + (alpha / r) B A, (d, k) float32."""
        return self.base.weight() + self.scale * (self.B @ self.A)


def add_lora(model: nn.Module, cfg: LoRAConfig = LoRAConfig()) -> dict[str, LoRALinear]:
    """Put adapters on every target matrix of every block; everything else stays frozen.

    model: the Llama module (llm.model). Returns {"blocks.3.attn.wq": LoRALinear, ...}.
    """
    model.requires_grad_(False)
    gen = torch.Generator().manual_seed(cfg.seed)
    adapters = {}
    for i, block in enumerate(model.blocks):
        for name in cfg.targets:
            lora = LoRALinear(getattr(block.attn, name), cfg, gen)
            setattr(block.attn, name, lora)                                # attn.wq(x) now runs W x + s B A x
            adapters[f"blocks.{i}.attn.{name}"] = lora
    return adapters


def adapters_of(model: nn.Module) -> dict[str, LoRALinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def lora_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Only the adapters' tensors: {"blocks.3.attn.wq.A": (r, k), "blocks.3.attn.wq.B": (d, r), ...}."""
    return {f"{name}.{p}": getattr(ad, p).detach().clone() for name, ad in adapters_of(model).items()
            for p in ("A", "B")}


def load_lora_state(model: nn.Module, state: dict[str, torch.Tensor]) -> None:
    with torch.no_grad():
        for name, ad in adapters_of(model).items():
            ad.A.copy_(state[f"{name}.A"])
            ad.B.copy_(state[f"{name}.B"])


def trainable_count(d: int, k: int, r: int) -> int:
    """Numbers LoRA trains for one d x k matrix: B (d x r) + A (r x k) = r (d + k)."""
    return r * (d + k)


# ---------------------------------------------------------------------------------------------
# The classification prompt, scored by the language model itself

def prompt_parts(llm, review: str) -> tuple[list[int], list[int]]:
    """(prefix ids, review ids): the chat prompt split where the review starts, so the prefix (system
    message, "<|im_start|>user\\n" and the question) is read once and its KV cache reused for every review."""
    marker = "\u0000REVIEW\u0000"
    text = llm.chat_prompt([{"role": "user", "content": f"{QUESTION}\n{marker}"}])
    head, tail = text.split(marker)
    return llm.encode(head), llm.encode(review + tail)


def answer_ids(llm) -> list[list[int]]:
    """Token ids of the two answers: "差评", "好评" are 4 byte-level tokens each, and already their FIRST
    tokens differ (<E5 B7> starts 差, <E5 A5> starts 好), so the model's choice is made at that token."""
    return [llm.encode(a) for a in ANSWERS]


def _copy_cache(cache: KVCache, batch: int = 1) -> KVCache:
    """A cache that starts from the same keys/values (expanded to `batch` rows); torch.cat never writes
    into the old tensors, so the copy can grow without touching the original."""
    new = KVCache(len(cache.k))
    new.k = [k.expand(batch, -1, -1, -1) for k in cache.k]
    new.v = [v.expand(batch, -1, -1, -1) for v in cache.v]
    return new


def prefix_cache(model: nn.Module, prefix: list[int]) -> KVCache:
    """Run the shared prompt prefix once: its KV cache, (1, n_kv_head, T_prefix, head_dim) per layer."""
    cache = KVCache(len(model.blocks))
    model(torch.tensor([prefix]), cache, want_logits=False)
    return cache


def _padded(rows: list[list[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, T) ids and each row's last real position (B,). Padding comes after a row's
    last token, and attention is causal, so it never changes that row's numbers."""
    T = max(len(r) for r in rows)
    ids = torch.tensor([r + [pad] * (T - len(r)) for r in rows])           # (B, T)
    return ids, torch.tensor([len(r) - 1 for r in rows])


@torch.no_grad()
def answer_scores(llm, model: nn.Module, cache: KVCache, reviews: list[str]) -> torch.Tensor:
    """log P(first answer token | prompt) of both answers for a batch of reviews: (B, 2).

    The prefix comes from `cache` (read once); each review is read once after it."""
    rows = [prompt_parts(llm, r)[1] for r in reviews]
    ids, last = _padded(rows, llm.cfg.eos_id)
    out = model(ids, _copy_cache(cache, len(rows)), want_hidden=True, want_logits=False)
    h = out.hidden[-1][torch.arange(len(rows)), last]                     # (B, 576) at each row's last token
    logp = F.linear(model.norm(h), model.tok_emb.weight()).log_softmax(-1)  # (B, vocab), tied head
    first = torch.tensor([a[0] for a in answer_ids(llm)])                  # (2,) the answers' first tokens
    return logp[:, first]                                                  # (B, 2)


def classify(llm, model: nn.Module, cache: KVCache, review: str) -> dict:
    """P(negative), P(positive) renormalized over the two answers, and how much of the model's own
    probability went to either answer at all (a zero-shot model may prefer to say something else)."""
    lp = answer_scores(llm, model, cache, [review])[0]
    probs = lp.softmax(0)
    return {"p_negative": float(probs[0]), "p_positive": float(probs[1]), "mass": float(lp.exp().sum())}


def held_out_accuracy(llm, model: nn.Module, cache: KVCache, reviews: list[str], labels: list[int],
                      batch: int = 16, on_batch=None) -> tuple[float, list[float]]:
    """Accuracy and P(positive) of each review, in batches."""
    p_pos = []
    for i in range(0, len(reviews), batch):
        lp = answer_scores(llm, model, cache, reviews[i:i + batch])
        p_pos += lp.softmax(1)[:, 1].tolist()
        if on_batch:
            on_batch(i + batch)
    acc = sum((p > 0.5) == bool(y) for p, y in zip(p_pos, labels)) / len(labels)
    return acc, p_pos


# ---------------------------------------------------------------------------------------------
# One training step: next-token loss on the answer only

def batch_tensors(llm, reviews: list[str], labels: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-padded (B, T) ids of review + question + answer, and (B, T) targets (-100 except the answer).

    Padding sits after the answer, and attention is causal, so it never changes the answer's loss.
    """
    answers = answer_ids(llm)
    rows, targets = [], []
    for text, y in zip(reviews, labels):
        _, ids = prompt_parts(llm, text)
        full = ids + answers[y]
        tgt = [-100] * len(ids) + answers[y]                               # predict only the answer tokens
        rows.append(full)
        targets.append(tgt[1:] + [-100])                                   # target at t = token t + 1
    ids, _ = _padded(rows, llm.cfg.eos_id)                                 # (B, T)
    tgt, _ = _padded(targets, -100)                                        # (B, T)
    return ids, tgt


def answer_loss(model: nn.Module, prefix: list[int], ids: torch.Tensor, tgt: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of the answer tokens. The prefix is read once (with gradients: V's adapters
    change its values) and shared by the whole batch."""
    B = ids.shape[0]
    cache = KVCache(len(model.blocks))
    model(torch.tensor([prefix]), cache, want_logits=False)               # (1, T_prefix) once
    cache = _copy_cache(cache, B)                                          # (B, ...) views, no copy
    out = model(ids, cache, want_hidden=True, want_logits=False)
    h = out.hidden[-1]                                                     # (B, T, 576) before the final norm
    keep = tgt != -100                                                     # only answer positions
    logits = F.linear(model.norm(h[keep]), model.tok_emb.weight())        # (n_answer_tokens, vocab)
    return F.cross_entropy(logits, tgt[keep])


def lora_parameter_table(r: int, n_layer: int = 30, shapes: dict[str, tuple[int, int]] | None = None,
                         total: int = 134_515_008) -> list[dict]:
    """Per target matrix: its shape d x k, d k frozen numbers, r (d + k) trainable ones, and the sum over
    all layers as a share of the whole model (SmolLM2-135M: W_q 576 x 576, W_v 192 x 576)."""
    if not 1 <= r <= 576:
        raise UserInputError("pretrain_finetune.errors.rank", r=r)
    shapes = shapes or {"W_q": (576, 576), "W_v": (192, 576)}
    rows = [{"matrix": name, "d": d, "k": k, "frozen": d * k, "trainable": trainable_count(d, k, r)}
            for name, (d, k) in shapes.items()]
    all_layers = n_layer * sum(row["trainable"] for row in rows)
    rows.append({"matrix": f"all {n_layer} layers", "d": None, "k": None,
                 "frozen": n_layer * sum(row["frozen"] for row in rows), "trainable": all_layers,
                 "share": all_layers / total})
    return rows


def fresh_adapters(model: nn.Module, cfg: LoRAConfig = LoRAConfig()) -> None:
    """Reset every adapter to its starting point: B = 0 (so W' = W), A random with cfg.seed."""
    gen = torch.Generator().manual_seed(cfg.seed)
    with torch.no_grad():
        for ad in adapters_of(model).values():
            ad.A.copy_(torch.randn(ad.A.shape, generator=gen) / math.sqrt(ad.A.shape[1]))
            ad.B.zero_()
