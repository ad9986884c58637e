"""Our from-scratch encoder against sentence-transformers' embeddings of all-MiniLM-L6-v2 (fixture made
by scripts/make_minilm_reference.py in a separate environment), its attention weights, padding,
Integrated Gradients' completeness and the [UNK] count for Chinese."""
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from bigmodel_core.i18n import t
from bigmodel_core.models.bert import load_minilm, similarity_attributions, unknown_pieces

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def model():
    return load_minilm("cpu")


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def ref_out(model, ref):
    return model.encode(ref["sentences"])                              # one batch, padded to 256


def test_fixture_says_how_it_was_made(ref):
    assert len(ref["sentences"]) >= 5 and len(ref["embeddings"]) == len(ref["sentences"])
    assert "sentence_transformers" in ref["versions"] and "make_minilm_reference.py" in ref["how"]


def test_embeddings_match_sentence_transformers(ref_out, ref):
    out = ref_out
    expected = torch.tensor(ref["embeddings"])
    assert out.embeddings.shape == (len(ref["sentences"]), 384)
    assert torch.allclose(out.embeddings, expected, atol=1e-5), (out.embeddings - expected).abs().max()
    assert torch.allclose(out.embeddings.norm(dim=1), torch.ones(len(expected)), atol=1e-5)


def test_token_counts_match_the_reference_no_128_cut_and_256_truncation(ref_out, ref):
    out = ref_out
    assert [len(tk) for tk in out.tokens] == ref["n_tokens"]           # 194 tokens: the file's 128 is off
    assert max(ref["n_tokens"]) == 256 and out.truncated == [n == 256 for n in ref["n_tokens"]]
    assert all(tk[0] == "[CLS]" and tk[-1] == "[SEP]" for tk in out.tokens)


def test_attention_rows_sum_to_one_and_ignore_padding(model):
    out = model.encode(["A short one.", "A much longer sentence with quite a few more tokens in it."])
    att, mask = out.attn_weights, out.mask
    B, T = mask.shape
    assert att.shape == (B, 6, 12, T, T)
    n0 = int(mask[0].sum())
    assert n0 < T
    real_rows = att[0, :, :, :n0, :]
    assert torch.allclose(real_rows.sum(-1), torch.ones(6, 12, n0), atol=1e-5)
    assert (att[0, :, :, :, n0:] == 0).all()                           # nobody looks at padding
    assert (att[0, :, :, n0:, :] == 0).all()                           # padding rows are blanked
    assert torch.allclose(att[1].sum(-1), torch.ones(6, 12, T), atol=1e-5)


def test_batched_equals_one_at_a_time(model):
    texts = ["The cat sat on the mat.", "Attention is all you need, or so they say.", "Hi"]
    batch = model.encode(texts)
    for i, text in enumerate(texts):
        one = model.encode([text])
        n = len(one.tokens[0])
        assert one.tokens[0] == batch.tokens[i]
        assert torch.allclose(one.embeddings[0], batch.embeddings[i], atol=1e-6)
        assert torch.allclose(one.attn_weights[0], batch.attn_weights[i, :, :, :n, :n], atol=1e-6)


def test_self_attention_equals_torch_sdpa(model):
    blk = model.blocks[0].attn
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 7, 384, generator=g)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    y, att = blk(x, mask)
    q = blk.query(x).view(2, 7, 12, 32).transpose(1, 2)
    k = blk.key(x).view(2, 7, 12, 32).transpose(1, 2)
    v = blk.value(x).view(2, 7, 12, 32).transpose(1, 2)
    ref = F.scaled_dot_product_attention(q, k, v, attn_mask=mask[:, None, None, :])
    assert torch.allclose(y, blk.proj(ref.transpose(1, 2).reshape(2, 7, 384)), atol=1e-5)


def test_chinese_is_mostly_unk_and_the_page_says_so(model):
    out = model.encode(["猫坐在垫子上，因为它累了。", "The cat sat on the mat."])
    zh_tokens = out.tokens[0][1:-1]
    assert out.n_unk == [9, 0]
    assert out.n_unk[0] > len(zh_tokens) / 2                            # mostly [UNK]
    for lang in ("en", "zh"):
        msg = t("attention.unk", lang, n=out.n_unk[0], total=len(out.tokens[0]))
        assert "9" in msg and "[UNK]" in msg and str(len(out.tokens[0])) in msg


def test_unknown_pieces_name_the_learners_characters_by_kind(model):
    tk = model.tokenizer
    assert unknown_pieces(tk, "The cat sat.") == {}
    assert unknown_pieces(tk, "good 👍 job 🎉 👍") == {"emoji": ["👍", "🎉"]}        # once each, in order
    zh = unknown_pieces(tk, "猫坐在垫子上，因为它累了。")
    assert list(zh) == ["cjk"] and len(zh["cjk"]) == 9                     # the nine [UNK]s above
    assert unknown_pieces(tk, "a ∑ 😀 爱") == {"cjk": ["爱"], "emoji": ["∑", "😀"]}
    n_unk = model.encode(["a ∑ 😀 爱"]).n_unk[0]
    assert n_unk == sum(len(v) for v in unknown_pieces(tk, "a ∑ 😀 爱").values())


def test_integrated_gradients_completeness(model):
    a, b = "a dog runs", "a puppy is running"
    res = similarity_attributions(model, a, b, n_steps=16, internal_batch_size=None)
    enc = model.encode([a, b])
    assert res.similarity == pytest.approx(float(enc.embeddings[0] @ enc.embeddings[1]), abs=1e-5)
    assert res.tokens == enc.tokens[0] and res.attributions.shape == (len(res.tokens),)
    total = float(res.attributions.sum())
    assert total - (res.similarity - res.baseline_similarity) == pytest.approx(res.delta, abs=1e-4)
    assert abs(res.delta) < 0.03 * abs(res.similarity - res.baseline_similarity)     # 16 steps: within 3 %
    assert res.attributions[0] == 0 and res.attributions[-1] == 0      # [CLS]/[SEP] equal their baseline
    assert res.similarity > 0.5


def test_captum_is_imported_lazily():
    import ast
    import inspect

    import bigmodel_core.models.bert as bert
    top = [n for n in ast.parse(inspect.getsource(bert)).body if isinstance(n, (ast.Import, ast.ImportFrom))]
    names = {a.name for n in top for a in n.names} | {getattr(n, "module", None) for n in top}
    assert not any(str(n).startswith("captum") for n in names)
