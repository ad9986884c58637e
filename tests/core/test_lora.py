"""LoRA on SmolLM2: only the adapters change, the merged weight is W + (alpha/r) B A, the split is held out."""
import json
from pathlib import Path

import pytest
import torch

from bigmodel_core.lora import (LoRAConfig, LoRALinear, add_lora, adapters_of, answer_loss, batch_tensors,
                                lora_parameter_table, prompt_parts, trainable_count)
from bigmodel_core.models.llm import load_llm
from bigmodel_core.scale import PRESETS, kv_cache_bytes
from bigmodel_core.sentiment import load_reviews, make_split

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tuned():
    llm = load_llm.__wrapped__()                     # a private copy: adapters change it
    add_lora(llm.model, LoRAConfig(r=4, alpha=8.0))
    return llm


def test_one_step_changes_only_the_adapters(tuned):
    model = tuned.model
    frozen = {n: b.clone() for n, b in model.named_buffers() if n.endswith("blocks")}
    norms = {n: p.clone() for n, p in model.named_parameters() if not p.requires_grad}
    trainable = {n: p.clone() for n, p in model.named_parameters() if p.requires_grad}
    assert set(n.rsplit(".", 1)[-1] for n in trainable) == {"A", "B"}
    assert sum(p.numel() for p in trainable.values()) == 30 * (4 * (576 + 576) + 4 * (192 + 576))
    prefix, _ = prompt_parts(tuned, "")
    ids, tgt = batch_tensors(tuned, ["很好", "太差"], [1, 0])
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    answer_loss(model, prefix[-4:], ids, tgt).backward()     # a short prefix keeps the test cheap
    opt.step()
    opt.zero_grad()
    for n, b in model.named_buffers():
        if n in frozen:
            assert torch.equal(b, frozen[n]), n               # the 4-bit weights did not move
    for n, p in model.named_parameters():
        if n in norms:
            assert torch.equal(p, norms[n]), n
    moved = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, trainable[n])]
    assert any(n.endswith(".B") for n in moved)               # B left zero: the model has changed


def test_merged_weight_is_w_plus_scaled_ba(tuned):
    layer = tuned.model.blocks[5].attn.wv
    assert isinstance(layer, LoRALinear)
    with torch.no_grad():
        layer.B.normal_()                                     # any B: check the algebra, not training
        W, A, B = layer.base.weight(), layer.A, layer.B       # (192, 576), (4, 576), (192, 4)
        merged = layer.merged_weight()
        assert torch.allclose(merged, W + (8.0 / 4) * B @ A, atol=1e-6)
        x = torch.randn(3, 576)
        assert torch.allclose(layer(x), x @ merged.T, atol=1e-4)
        layer.B.zero_()


def test_lora_arithmetic():
    assert trainable_count(576, 576, 8) == 9_216
    rows = lora_parameter_table(8)
    assert rows[-1]["trainable"] == 30 * (8 * 1152 + 8 * 768) == 460_800
    assert rows[-1]["share"] == pytest.approx(460_800 / 134_515_008)


def test_kv_cache_formula_equals_the_cache_generate_keeps():
    llm = load_llm()
    prompt = llm.encode("The sky is")
    out = llm.generate(prompt, 3, temperature=0.0, stop_at_eos=False)   # prompt + 3 new tokens
    cached = len(out) - 1                                     # the last new token is never fed back
    assert llm.last_cache_bytes == kv_cache_bytes(PRESETS["SmolLM2-135M"], cached, 1, 4)


def test_shipped_record_keeps_held_out_reviews_out_of_training():
    rec = json.loads((ROOT / "assets" / "lora_sentiment.json").read_text())
    reviews = load_reviews()
    split = make_split(reviews)
    assert rec["split"]["held_out"] == list(split.held_out)
    trained = {reviews[i].text for i in rec["train_examples"]}
    held = {reviews[i].text for i in rec["split"]["held_out"]}
    assert len(rec["train_examples"]) == rec["steps_done"] * rec["settings"]["batch"]
    assert not trained & held
    assert set(rec["split"]["evaluated_held_out"]) <= set(rec["split"]["held_out"])
    assert 0.0 <= rec["held_out_accuracy"] <= 1.0 and len(rec["losses"]) == rec["steps_done"]
