"""A small, readable GGUF reader: the file format llama.cpp uses for quantized language models.

A GGUF file is four parts, one after the other (spec: ggml's docs/gguf.md):

    header       b"GGUF", version (u32), number of tensors (u64), number of metadata entries (u64)
    metadata     key (string) -> typed value: numbers, strings, arrays (the tokenizer's 49,152 tokens live here)
    tensor infos name, number of dims, dims (innermost first, like ggml), quantization type, data offset
    data         every tensor's bytes, starting at the next multiple of `general.alignment` (32)

`gguf.GGUFReader` parses the same file field by field (about 2 s for this vocabulary); here the long
string arrays are read in one pass and no tensor is read until asked for, so opening costs ~0.1 s. Dequantization (Q4_1, Q8_0, F16, F32) is a few torch tensor ops and equals
`gguf.quants.dequantize` exactly (tests/core/test_llm.py checks it).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# metadata value types (gguf.GGUFValueType)
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(13)
_SCALAR = {_UINT8: "<u1", _INT8: "<i1", _UINT16: "<u2", _INT16: "<i2", _UINT32: "<u4", _INT32: "<i4",
           _FLOAT32: "<f4", _BOOL: "<u1", _UINT64: "<u8", _INT64: "<i8", _FLOAT64: "<f8"}

# tensor types (gguf.GGMLQuantizationType): (block size in weights, bytes per block)
F32, F16, Q4_1, Q8_0 = 0, 1, 3, 8
BLOCK = {F32: (1, 4), F16: (1, 2), Q4_1: (32, 20), Q8_0: (32, 34)}
TYPE_NAME = {F32: "F32", F16: "F16", Q4_1: "Q4_1", Q8_0: "Q8_0"}
_HEADER_BYTES = 8 << 20        # read this much for the metadata (this model's is 1.8 MB)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]      # torch order (outermost first): ggml's dims reversed, e.g. (49152, 576)
    ggml_type: int              # F32 / F16 / Q4_1 / Q8_0
    offset: int                 # absolute byte offset in the file

    @property
    def n_elements(self) -> int:
        return int(np.prod(self.shape))

    @property
    def n_bytes(self) -> int:
        block, nbytes = BLOCK[self.ggml_type]
        return self.n_elements // block * nbytes


class GGUFFile:
    """`meta`: dict of metadata; `tensors`: dict name -> TensorInfo; `tensor(name)` -> float32 torch tensor."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        with open(self.path, "rb") as f:
            head = f.read(_HEADER_BYTES)                                   # metadata + tensor infos: ~2 MB
        buf = memoryview(head)
        if bytes(buf[:4]) != b"GGUF":
            raise ValueError(f"{self.path} is not a GGUF file")
        self.version, n_tensors, n_kv = struct.unpack_from("<IQQ", buf, 4)
        pos = 24
        self.meta: dict = {}
        for _ in range(n_kv):
            key, pos = _read_string(buf, pos)
            (vtype,), pos = struct.unpack_from("<I", buf, pos), pos + 4
            self.meta[key], pos = _read_value(buf, pos, vtype)
        infos = []
        for _ in range(n_tensors):
            name, pos = _read_string(buf, pos)
            (n_dims,) = struct.unpack_from("<I", buf, pos)
            dims = struct.unpack_from(f"<{n_dims}Q", buf, pos + 4)
            ggml_type, offset = struct.unpack_from("<IQ", buf, pos + 4 + 8 * n_dims)
            pos += 4 + 8 * n_dims + 12
            infos.append((name, tuple(reversed(dims)), ggml_type, offset))
        align = int(self.meta.get("general.alignment", 32))
        start = (pos + align - 1) // align * align                         # data section begins here
        self.tensors = {n: TensorInfo(n, s, t, start + o) for n, s, t, o in infos}

    def raw(self, name: str) -> np.ndarray:
        """The tensor's bytes as stored: uint8 array of shape (n_blocks, bytes per block).

        Read with pread into a fresh buffer (from the OS page cache after the first time), not through
        a memmap: mapped pages would stay counted in the process's resident memory.
        """
        info = self.tensors[name]
        block, nbytes = BLOCK[info.ggml_type]
        buf = bytearray(info.n_bytes)
        with open(self.path, "rb", buffering=0) as f:
            f.seek(info.offset)
            f.readinto(buf)
        return np.frombuffer(buf, dtype=np.uint8).reshape(-1, nbytes)

    def tensor(self, name: str) -> torch.Tensor:
        """Dequantized to float32, torch shape (out, in) for a matrix."""
        info = self.tensors[name]
        return dequantize(self.raw(name), info.ggml_type).reshape(info.shape)


def dequantize(blocks, ggml_type: int) -> torch.Tensor:
    """(n_blocks, bytes per block) uint8 (numpy or torch) -> flat float32 weights.

    Equal, bit for bit, to gguf.quants.dequantize: the same float32 products and sums in the same order.
    """
    b = torch.as_tensor(blocks)                                          # (n, bytes) uint8
    n = b.shape[0]
    if ggml_type == F32:
        return b.contiguous().view(torch.float32).reshape(-1)
    if ggml_type == F16:
        return b.contiguous().view(torch.float16).reshape(-1).float()
    if ggml_type == Q4_1:
        # 20 bytes = scale d (fp16), minimum m (fp16), 16 bytes of nibbles; w = d * q + m, q in 0..15
        d = b[:, 0:2].contiguous().view(torch.float16).float()           # (n, 1)
        m = b[:, 2:4].contiguous().view(torch.float16).float()           # (n, 1)
        q = torch.empty(n, 32, dtype=torch.float32)                      # (n, 32)
        q[:, :16] = b[:, 4:20] & 0x0F                                    # low nibbles: weights 0..15
        q[:, 16:] = b[:, 4:20] >> 4                                      # high nibbles: weights 16..31
        return q.mul_(d).add_(m).reshape(-1)
    if ggml_type == Q8_0:
        # 34 bytes = scale d (fp16), 32 signed bytes; w = d * q
        d = b[:, 0:2].contiguous().view(torch.float16).float()           # (n, 1)
        q = b[:, 2:34].contiguous().view(torch.int8).float()             # (n, 32)
        return q.mul_(d).reshape(-1)
    raise NotImplementedError(f"GGML tensor type {ggml_type} is not supported here")


def _read_string(buf, pos: int) -> tuple[str, int]:
    (n,) = struct.unpack_from("<Q", buf, pos)
    return bytes(buf[pos + 8: pos + 8 + n]).decode("utf-8"), pos + 8 + n


def _read_value(buf, pos: int, vtype: int):
    if vtype == _STRING:
        return _read_string(buf, pos)
    if vtype == _ARRAY:
        etype, count = struct.unpack_from("<IQ", buf, pos)
        pos += 12
        if etype == _STRING:                                # e.g. 49,152 tokens: one tight loop
            out = []
            unpack = struct.unpack_from
            for _ in range(count):
                (n,) = unpack("<Q", buf, pos)
                out.append(bytes(buf[pos + 8: pos + 8 + n]).decode("utf-8"))
                pos += 8 + n
            return out, pos
        if etype == _ARRAY:
            raise NotImplementedError("nested GGUF arrays")
        dt = np.dtype(_SCALAR[etype])
        arr = np.frombuffer(buf, dtype=dt, count=count, offset=pos).copy()
        return arr, pos + dt.itemsize * count
    dt = np.dtype(_SCALAR[vtype])
    value = np.frombuffer(buf, dtype=dt, count=1, offset=pos)[0].item()
    return (bool(value) if vtype == _BOOL else value), pos + dt.itemsize
