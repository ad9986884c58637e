"""SmolLM2's Q4_1 blocks decoded by hand (bigmodel_core.q4_1) against the gguf package: its own
reader (where the tensors are) and its own dequantize (what the bytes mean)."""
import numpy as np
import pytest

from bigmodel_core import q4_1
from bigmodel_core.errors import UserInputError


def test_decode_a_hand_made_block():
    d, m = np.float16(0.125), np.float16(-1.0)
    q = np.arange(32) % 16                                           # levels 0..15, twice
    qs = (q[:16] | (q[16:] << 4)).astype(np.uint8)                   # weight j low nibble, j + 16 high
    raw = d.tobytes() + m.tobytes() + qs.tobytes()
    got_d, got_m, got_q, got_w = q4_1.decode_block(raw)
    assert (got_d, got_m) == (0.125, -1.0)
    assert got_q.tolist() == q.tolist()
    assert np.array_equal(got_w, (0.125 * q - 1.0).astype(np.float32))


def test_random_blocks_decode_like_gguf_dequantize():
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize, quantize
    rng = np.random.default_rng(0)
    blocks = quantize(rng.normal(size=(8, 32)).astype(np.float32), GGMLQuantizationType.Q4_1)   # (8, 20)
    ref = dequantize(blocks, GGMLQuantizationType.Q4_1)
    for i in range(8):
        assert np.array_equal(q4_1.decode_block(blocks[i].tobytes())[3], ref[i])


def test_the_tensor_table_tiles_the_file_exactly():
    """Where the blocks are: tensors follow each other, aligned to 32 bytes, sized by their type, and
    the last one ends where the file ends (gguf.GGUFReader finds the same table, about 9 s slower)."""
    sizes = {0: 4, 3: 20 / 32, 8: 34 / 32}                             # bytes per weight: F32, Q4_1, Q8_0
    infos = sorted(q4_1._index().values(), key=lambda i: i.offset)
    assert len(infos) == 272 and infos[0].offset % 32 == 0
    for a, b in zip(infos, infos[1:]):
        size = int(np.prod(a.shape) * sizes[a.ggml_type])
        assert b.offset == a.offset + -(-size // 32) * 32               # next tensor at the next aligned byte
    last = infos[-1]
    assert last.offset + int(np.prod(last.shape) * sizes[last.ggml_type]) == q4_1.gguf_path().stat().st_size


def test_the_hand_decode_of_smollm2_blocks_equals_gguf_dequantize():
    rng = np.random.default_rng(1)
    names = q4_1.q4_1_tensors()
    assert len(names) == 210                                           # 30 blocks x 7 matrices
    for name in (names[0], names[3], names[-1]):
        n_blocks = q4_1.block_count(name)
        for index in [0, 1, *rng.integers(0, n_blocks, 5).tolist(), n_blocks - 1]:
            block = q4_1.read_block(name, int(index))
            assert np.array_equal(block.w, q4_1.reference_block(name, int(index)))
            assert 0 < block.d < 1 and abs(block.m) < 2                 # a real block: small scale and minimum
            assert float(block.w.min()) == pytest.approx(block.m, abs=1e-6) or block.q.min() > 0


def test_size_facts_and_bad_blocks():
    s = q4_1.tensor_stats("blk.0.attn_q.weight")
    assert s["shape"] == [576, 576] and s["bits_per_weight"] == 5.0 and s["bytes"] == 576 * 576 // 32 * 20
    with pytest.raises(UserInputError):
        q4_1.read_block("blk.0.attn_q.weight", q4_1.block_count("blk.0.attn_q.weight"))
    with pytest.raises(UserInputError):
        q4_1.read_block("token_embd.weight", 0)                        # Q8_0, not Q4_1
