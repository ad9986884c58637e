"""The LLM's own 4 bits: GGUF's Q4_1 blocks, read from SmolLM2-135M-Instruct's file and decoded by hand.

llama.cpp's Q4_1 (ggml-common.h, `block_q4_1`) stores a weight matrix row by row in blocks of 32
weights, 20 bytes each (5 bits per weight):

    bytes 0-1   d   float16   the step between levels (the scale)
    bytes 2-3   m   float16   the minimum of the block
    bytes 4-19  qs  16 bytes  32 4-bit levels q in 0..15: byte j holds weight j in its low nibble
                              and weight j + 16 in its high nibble

    w = d q + m

An asymmetric scheme (a minimum, not a sign), so a block's 16 levels span exactly [min, max].
Where the tensors lie comes from the shared GGUF reader (models/gguf_file.py); `gguf.quants.dequantize`
is the reference the tests compare the hand decode with.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.gguf_file import BLOCK, Q4_1, GGUFFile, TensorInfo
from bigmodel_core.models.llm import gguf_path

BLOCK_WEIGHTS, BLOCK_BYTES = BLOCK[Q4_1]    # 32 weights per block, 20 bytes: 2 (d) + 2 (m) + 16 (nibbles)


@lru_cache(maxsize=1)
def _index() -> dict[str, TensorInfo]:
    """Every tensor's name, torch shape, type and byte offset, from the file's header (models/gguf_file.py)."""
    return GGUFFile(gguf_path()).tensors


def q4_1_tensors() -> list[str]:
    """Names of the Q4_1 tensors (the attention and MLP matrices of the 30 blocks)."""
    return [name for name, info in _index().items() if info.ggml_type == Q4_1]


def _tensor(name: str) -> TensorInfo:
    info = _index().get(name)
    if info is None or info.ggml_type != Q4_1:
        raise UserInputError("compression.errors.tensor", name=name)
    return info


def _raw(info: TensorInfo, index: int) -> bytes:
    """The 20 bytes of block `index`, read from the file."""
    with open(gguf_path(), "rb") as f:
        f.seek(info.offset + index * BLOCK_BYTES)
        return f.read(BLOCK_BYTES)


@dataclass(frozen=True)
class Q41Block:
    name: str                   # tensor, e.g. "blk.0.attn_q.weight"
    index: int                  # block number within the tensor
    row: int                    # the matrix row it belongs to
    col: int                    # the first of its 32 columns
    raw: bytes                  # the 20 bytes as stored in the file
    d: float                    # scale (float16 value)
    m: float                    # minimum (float16 value)
    q: np.ndarray               # (32,) levels 0..15, in weight order
    w: np.ndarray               # (32,) float32 weights d q + m


def decode_block(raw: bytes | np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray]:
    """20 bytes -> (d, m, q (32,), w (32,)), by hand."""
    b = np.frombuffer(bytes(raw), dtype=np.uint8)                       # (20,)
    if b.size != BLOCK_BYTES:
        raise ValueError(f"a Q4_1 block has {BLOCK_BYTES} bytes, not {b.size}")
    d = np.float32(b[0:2].view(np.float16)[0])                           # little-endian float16
    m = np.float32(b[2:4].view(np.float16)[0])
    qs = b[4:20]                                                         # (16,) two levels per byte
    q = np.concatenate([qs & 0x0F, qs >> 4])                             # (32,) low nibbles: 0-15, high: 16-31
    w = d * q.astype(np.float32) + m                                     # (32,) w = d q + m
    return float(d), float(m), q, w


def block_count(name: str) -> int:
    return _tensor(name).n_elements // BLOCK_WEIGHTS


def read_block(name: str, index: int) -> Q41Block:
    """Block `index` of tensor `name`, straight from the file's bytes."""
    info = _tensor(name)
    n_blocks = block_count(name)
    if not 0 <= index < n_blocks:
        raise UserInputError("compression.errors.block", index=index, n=n_blocks)
    raw = _raw(info, index)                                              # blocks lie row after row
    per_row = info.shape[-1] // BLOCK_WEIGHTS                            # shape[-1]: the row length
    d, m, q, w = decode_block(raw)
    return Q41Block(name, index, index // per_row, (index % per_row) * BLOCK_WEIGHTS, raw, d, m, q, w)


def reference_block(name: str, index: int) -> np.ndarray:
    """The same 32 weights as the gguf package dequantizes the same bytes (gguf.quants.dequantize)."""
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize
    raw = np.frombuffer(_raw(_tensor(name), index), dtype=np.uint8).reshape(1, BLOCK_BYTES)
    return dequantize(raw, GGMLQuantizationType.Q4_1).reshape(-1)        # (32,)


def tensor_stats(name: str) -> dict:
    """Size facts of one tensor: weights, bytes in Q4_1, bits per weight, bytes it would take in fp32."""
    info = _tensor(name)
    n, n_bytes = info.n_elements, info.n_bytes
    return {"weights": n, "shape": list(info.shape), "bytes": n_bytes,
            "bits_per_weight": 8 * n_bytes / n, "fp32_bytes": 4 * n}
