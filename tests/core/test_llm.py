"""Our from-scratch SmolLM2-135M-Instruct against transformers' GGUF loader (fixture made by
scripts/make_llm_reference.py in a separate environment): token ids, logits to 1e-3, greedy text; plus
the KV cache against full recomputation, the logit lens, attention, the GGUF decoding, BPE merges and
bad input. The model is loaded once for the module."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bigmodel_core.errors import UserInputError
from bigmodel_core.models import llm as llm_mod
from bigmodel_core.models.gguf_file import BLOCK, GGUFFile, dequantize
from bigmodel_core.models.llm import CONTEXT_CAP, MAX_TEXT_CHARS, KVCache, kv_cache_bytes, load_llm

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "llm_reference.json"
TOL = 1e-3


@pytest.fixture(scope="module")
def ref():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def llm():
    return load_llm()


def test_fixture_says_how_it_was_made(ref):
    assert ref["made_by"] == "scripts/make_llm_reference.py" and "transformers" in ref["with"]
    assert len(ref["prompts"]) >= 5 and len(ref["chats"]) >= 1 and len(ref["texts"]) >= 5
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in p["text"]) for p in ref["prompts"])   # Chinese
    assert any("\U0001F355" in p["text"] for p in ref["prompts"])                               # emoji


def test_config_comes_from_the_gguf(llm):
    c = llm.cfg
    assert (c.n_layer, c.n_embd, c.n_head, c.n_kv_head, c.head_dim, c.n_inner) == (30, 576, 9, 3, 64, 1536)
    assert c.vocab_size == 49152 and c.rope_base == 100000.0 and abs(c.norm_eps - 1e-5) < 1e-9


def test_parameter_count(llm, ref):
    parts = llm.parameter_breakdown()
    assert parts["total"] == 134_515_008 == ref["n_params"]
    assert parts["embedding"] + parts["attention"] + parts["mlp"] + parts["norms"] == parts["total"]
    assert parts["embedding"] == 49152 * 576 and parts["norms"] == 61 * 576
    assert parts["attention"] == 30 * (576 * 576 * 2 + 576 * 192 * 2)
    assert parts["mlp"] == 30 * 3 * 576 * 1536


def test_dequantize_equals_the_gguf_package():
    from gguf import GGMLQuantizationType
    from gguf.quants import dequantize as gguf_dequantize
    g = GGUFFile(llm_mod.gguf_path())
    for name in ["token_embd.weight", "blk.0.attn_q.weight", "blk.29.ffn_down.weight", "output_norm.weight"]:
        info = g.tensors[name]
        raw = g.raw(name)                                                   # (n_blocks, bytes)
        ours = dequantize(raw, info.ggml_type).numpy()
        theirs = gguf_dequantize(raw.reshape(info.shape[0], -1), GGMLQuantizationType(info.ggml_type)).reshape(-1)
        assert np.array_equal(ours, theirs), name
    assert {i.ggml_type for i in g.tensors.values()} <= set(BLOCK)


def test_token_ids_match_the_reference_tokenizer(llm, ref):
    for item in ref["texts"] + ref["prompts"] + ref["chats"]:
        ids = llm.encode(item["text"])
        assert ids == item["ids"], item["text"]
        assert llm.decode(ids) == item["text"]
    for item in ref["texts"]:
        assert llm.decode(item["ids"]) == item["decoded"]


def test_chat_template_matches(llm, ref):
    for chat in ref["chats"]:
        assert llm.chat_prompt(chat["messages"]) == chat["text"]
    assert llm.encode("<|im_start|>")[0] == 1 and llm.encode("<|im_end|>") == [llm.cfg.eos_id]


def test_logits_match_the_reference(llm, ref):
    items = ref["prompts"] + ref["chats"]
    check_logits(llm, items[:1])                                            # weights decoded product by product
    with llm.model.decoded():                                               # the rest: decoded once (same numbers)
        check_logits(llm, items[1:])


def check_logits(llm, items):
    for item in items:
        logits = llm.logits(item["ids"])                                    # (T, vocab)
        assert logits.shape == (len(item["ids"]), 49152) and logits.dtype == torch.float32
        last = logits[-1]
        assert torch.allclose(last[item["last_top50_ids"]], torch.tensor(item["last_top50_logits"]), atol=TOL, rtol=0)
        got5 = logits.gather(1, torch.tensor(item["top5_ids"]))
        assert torch.allclose(got5, torch.tensor(item["top5_logits"]), atol=TOL, rtol=0)
        assert abs(float(last.double().logsumexp(-1)) - item["last_logsumexp"]) < TOL
        assert abs(float(last.double().mean()) - item["last_sum"] / 49152) < TOL
        assert torch.allclose(llm.next_token_logits(item["ids"]), last, atol=1e-4, rtol=0)


def test_greedy_continuations_match_the_reference(llm, ref):
    with llm.model.decoded():                                               # decode the weights once for all prompts
        for item in ref["prompts"] + ref["chats"]:
            out = llm.generate(item["ids"], ref["n_new"], temperature=0)
            assert out[:len(item["ids"])] == item["ids"]
            assert out[len(item["ids"]):] == item["greedy"], item["text"]


def test_kv_cache_equals_full_recomputation(llm):
    ids = llm.encode("人工智能 is changing how we write code, 一步一步。")
    full = llm.logits(ids)                                                  # (T, vocab) one pass, no cache
    cache = KVCache(llm.cfg.n_layer)
    with torch.no_grad(), llm.model.decoded():
        rows = [llm.model(torch.tensor([ids[:5]]), cache).logits[0]]        # the prompt's first 5 at once
        for t in ids[5:]:                                                   # then one token at a time
            rows.append(llm.model(torch.tensor([[t]]), cache).logits[0])
    assert cache.n_tokens == len(ids)
    assert torch.allclose(torch.cat(rows), full, atol=1e-4, rtol=0)
    assert cache.nbytes() == kv_cache_bytes(llm.cfg, len(ids)) == 2 * 30 * 3 * 64 * len(ids) * 4


def test_generation_reports_the_real_cache_size_and_is_reproducible(llm):
    ids = llm.encode("Once upon a time")
    steps = list(llm.stream(ids, 6, temperature=1.0, top_k=50, top_p=0.9, seed=3, stop_at_eos=False))
    assert [s.cache_bytes for s in steps] == [llm.kv_cache_bytes(len(ids) + i) for i in range(6)]
    assert llm.last_cache_bytes == steps[-1].cache_bytes
    assert all(0 < s.prob <= 1 for s in steps)
    again = llm.generate(ids, 6, temperature=1.0, top_k=50, top_p=0.9, seed=3, stop_at_eos=False)
    assert again == ids + [s.token_id for s in steps]


def test_logit_lens_last_layer_is_the_model_output(llm):
    ids = llm.encode("The capital of France is")
    lens = llm.logit_lens(ids)
    logits = llm.logits(ids)
    assert lens.top_ids.shape == lens.top_probs.shape == (30, len(ids))
    assert torch.allclose(lens.layer_logits_last[-1], logits[-1], atol=1e-5, rtol=0)
    assert torch.equal(lens.top_ids[-1], logits.argmax(-1))
    assert torch.allclose(lens.top_probs[-1], logits.softmax(-1).max(-1).values, atol=5e-5)
    assert llm.decode([int(lens.top_ids[-1, -1])]) == " Paris"               # the answer forms by the last layer
    assert ((lens.top_probs > 0) & (lens.top_probs <= 1)).all()


def test_attention_is_causal_and_normalized(llm):
    ids = llm.encode("我爱北京 and Paris")
    att = llm.attention(ids)
    T = len(ids)
    assert att.shape == (30, 9, T, T)
    assert torch.allclose(att.sum(-1), torch.ones(30, 9, T), atol=1e-5)
    assert (att.triu(diagonal=1) == 0).all()
    assert torch.equal(llm.attention(ids, layers=[29, 0]), att[[29, 0]])


def test_residual_norms(llm):
    ids = llm.encode("Hello world")
    norms = llm.residual_norms(ids)
    assert norms.shape == (31, len(ids)) and (norms > 0).all()
    emb = llm.model.tok_emb.rows(torch.tensor(ids))
    assert torch.allclose(norms[0], emb.norm(dim=-1))


def test_merge_steps_rebuild_the_tokenizers_tokens(llm):
    text = "The transformers tokenizer merges bytes into words like Supercalifragilistic and 北京"
    for piece_id in llm.encode(text):
        steps = llm.merge_steps(piece_id)
        token = llm.vocab[piece_id]
        if len(token) == 1:
            assert steps == []                                              # a single byte: nothing to merge
            continue
        assert steps[-1].result == token and steps[-1].pieces == (token,)
        assert [s.rank for s in steps] == sorted(s.rank for s in steps)    # earlier-learned merges first
        for s in steps:
            assert s.left + s.right == s.result and s.result in s.pieces
    assert llm.merge_steps(1) == []                                         # <|im_start|>: a special token


def test_bpe_replay_gives_the_tokenizers_own_ids(llm, ref):
    ids_of = {tok: i for i, tok in enumerate(llm.vocab)}
    n = 0
    for item in ref["texts"] + ref["prompts"]:
        text = item["text"].replace("<|", "< |")                            # no control tokens: plain BPE only
        expected = llm.encode(text)
        replayed = []
        for piece, _ in llm.tokenizer.pre_tokenizer.pre_tokenize_str(text):   # e.g. "Ġcapital"
            steps = llm.bpe_steps(piece)
            replayed += [ids_of[p] for p in (steps[-1].pieces if steps else tuple(piece))]
            n += len(steps)
        assert replayed == expected, text
    assert n > 100


def test_token_strings_show_byte_pieces(llm):
    ids = llm.encode("猫 cat")
    pieces = llm.token_strings(ids)
    assert pieces[-1] == " cat"
    assert any(p.startswith("<0x") for p in pieces)                         # 猫 is split into UTF-8 bytes
    assert llm.decode(ids) == "猫 cat"


@pytest.mark.parametrize("text", ["NUL\x00byte", "zero\u200bwidth\u200d", "emoji 🤗👩‍👩‍👧", "\t\n  ", "a" * 3000])
def test_odd_text_round_trips(llm, text):
    ids = llm.encode(text)
    assert llm.decode(ids) == text
    if len(ids) <= 64:
        assert torch.isfinite(llm.next_token_logits(ids)).all()


def test_bad_input_raises_user_input_errors(llm):
    with pytest.raises(UserInputError):
        llm.logits([])
    with pytest.raises(UserInputError):
        llm.encode("x" * (MAX_TEXT_CHARS + 1))
    with pytest.raises(UserInputError) as err:
        llm.logits([42] * (CONTEXT_CAP + 1))
    assert str(CONTEXT_CAP) in err.value.message("en") and str(CONTEXT_CAP) in err.value.message("zh")
    with pytest.raises(UserInputError):
        llm.generate([42] * (CONTEXT_CAP - 3), 10)
    with pytest.raises(UserInputError):
        llm.generate([42], 3, temperature=-1)
    with pytest.raises(ValueError):
        llm.logits([49152])
