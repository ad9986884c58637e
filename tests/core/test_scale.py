"""The size calculator against published parameter counts, the app's own tensors, and the scaling laws."""
import math

import numpy as np
import pytest
import torch

from bigmodel_core.errors import UserInputError
from bigmodel_core.scale import (CNN_SHAPE, PARTS, PRESETS, TransformerShape, budget_allocations, chinchilla_loss,
                                 compute_optimal,
                                 conv_net_parameter_count, count_elements, gguf_counts, kaplan_optimal,
                                 kv_cache_bytes, parameter_breakdown, parameter_count, training_bytes,
                                 training_flops, weight_bytes, with_changes)

# Published totals. GPT-2: the Hugging Face model cards' safetensors parameter counts (openai-community/gpt2,
# -medium, -large, -xl), i.e. GPT2Model with its tied head. BERT: google-bert/bert-base-uncased and
# bert-large-uncased cards (BertModel, pooler included, MLM head excluded). all-MiniLM-L6-v2: the
# sentence-transformers card's 22.7M = 22,713,216 (BertModel incl. pooler). SmolLM2-135M: the
# HuggingFaceTB/SmolLM2-135M card (134,515,008; tied embeddings). LLaMA-2-7B: meta-llama/Llama-2-7b-hf card
# (6,738,415,616; untied head). Each was re-derived by hand from the architecture in the paper.
PUBLISHED = {
    "gpt2": 124_439_808,
    "gpt2-medium": 354_823_168,
    "gpt2-large": 774_030_080,
    "gpt2-xl": 1_557_611_200,
    "bert-base-uncased": 109_482_240,
    "bert-large-uncased": 335_141_888,
    "all-MiniLM-L6-v2": 22_713_216,
    "SmolLM2-135M": 134_515_008,
    "llama-2-7b": 6_738_415_616,
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_preset_counts_equal_the_published_ones(name):
    assert parameter_count(PRESETS[name]) == PUBLISHED[name]


def test_gpt3_is_175_billion_as_published():
    # Brown et al. 2020, Table 2.1: "GPT-3 175B", n_params 175.0B, 96 layers, d_model 12288, 96 heads,
    # d_head 128, context 2048 (GPT-2's 50,257-token vocabulary). The paper gives only "175.0B";
    # the exact count of that architecture is 174.6B, which rounds to it within 0.3 %.
    n = parameter_count(PRESETS["gpt3-175b"])
    assert abs(n - 175.0e9) / 175.0e9 < 0.003
    assert PRESETS["gpt3-175b"].head_dim == 128


def test_gpt2_small_by_hand():
    # wte 50257*768 + wpe 1024*768 + 12 * (12 d^2 + 13 d) + ln_f 2d, d = 768
    d = 768
    assert parameter_count(PRESETS["gpt2"]) == 50257 * d + 1024 * d + 12 * (12 * d * d + 13 * d) + 2 * d


def test_breakdown_sums_and_bert_pooler_is_its_own_part():
    for c in PRESETS.values():
        parts = parameter_breakdown(c)
        assert tuple(parts) == PARTS and sum(parts.values()) == parameter_count(c)
    bert = parameter_breakdown(PRESETS["bert-base-uncased"])
    assert bert["pooler"] == 768 * 768 + 768 and bert["head"] == 0
    llama = parameter_breakdown(PRESETS["llama-2-7b"])
    assert llama["head"] == 32000 * 4096 == llama["embeddings"]      # untied: the head is a second table


def test_minilm_counted_from_its_tensors():
    from safetensors import safe_open
    from bigmodel_core.models.bert import load_minilm, minilm_dir
    model = load_minilm("cpu")
    no_pooler = with_changes(PRESETS["all-MiniLM-L6-v2"], pooler=False)
    assert sum(p.numel() for p in model.parameters()) == parameter_count(no_pooler)   # what the app runs
    with safe_open(str(minilm_dir() / "model.safetensors"), "pt") as f:              # the file, pooler included
        shapes = [f.get_slice(k).get_shape() for k in f.keys() if k != "embeddings.position_ids"]
    assert count_elements(shapes) == parameter_count(PRESETS["all-MiniLM-L6-v2"])


def test_cnn_counted_from_its_tensors():
    from bigmodel_core.models.cnn import load_cnn
    model = load_cnn(device=torch.device("cpu"))
    assert sum(p.numel() for p in model.parameters()) == conv_net_parameter_count(CNN_SHAPE) == 421_642


def test_smollm2_gguf_tensors_equal_the_calculator():
    shape, from_tensors = gguf_counts()
    assert shape == PRESETS["SmolLM2-135M"]            # the file's own metadata is the preset's shape
    assert from_tensors == parameter_count(shape) == 134_515_008


def test_memory_numbers():
    n = PUBLISHED["llama-2-7b"]
    w = weight_bytes(n)
    assert w["float16"] == 2 * n and w["int4"] == n / 2
    assert training_bytes(n) == 16 * n
    # LLaMA-2-7B, 4,096 tokens, fp16: 2 * 32 layers * 32 heads * 128 * 4096 * 2 bytes = 2 GiB exactly
    assert kv_cache_bytes(PRESETS["llama-2-7b"], 4096, 1, 2) == 2 * 1024**3
    # grouped-query attention: SmolLM2 keeps 3 of 9 heads' keys/values
    smol = PRESETS["SmolLM2-135M"]
    assert kv_cache_bytes(smol, 100, 2, 4) == 3 * kv_cache_bytes(with_changes(smol, n_kv_head=1), 100, 2, 4)


def test_gpt3_training_compute_matches_the_paper():
    # Brown et al. 2020, Table D.1: GPT-3 175B took 3.14e23 training FLOPs (6 N D with D = 300B tokens)
    assert training_flops(175e9, 300e9) == pytest.approx(3.14e23, rel=0.01)


def test_chinchilla_loss_at_chinchilla():
    # Hoffmann et al. 2022, Approach 3 constants; Chinchilla itself is N = 70B, D = 1.4T.
    expected = 1.69 + 406.4 / 70e9**0.34 + 410.7 / 1.4e12**0.28
    assert chinchilla_loss(70e9, 1.4e12) == pytest.approx(expected, rel=1e-12)
    assert chinchilla_loss(70e9, 1.4e12) == pytest.approx(1.9366, abs=1e-4)
    assert chinchilla_loss(1e30, 1e30) == pytest.approx(1.69, abs=1e-5)     # E: the irreducible loss


@pytest.mark.parametrize("flops", [1e19, 5.76e23, 1e26])
def test_compute_optimal_is_the_minimum_on_its_iso_flop_line(flops):
    n_opt, d_opt = compute_optimal(flops)
    assert 6 * n_opt * d_opt == pytest.approx(flops, rel=1e-12)
    n = n_opt * np.logspace(-1, 1, 2001)                   # every split of the same budget
    losses = chinchilla_loss(n, flops / (6 * n))
    assert abs(np.log10(n[losses.argmin()] / n_opt)) < 2e-3
    assert losses.min() >= chinchilla_loss(n_opt, d_opt) - 1e-12


@pytest.mark.parametrize("log_c", [17.0, 21.25, 23.5, 27.0])
def test_budget_allocations_spend_the_budget_and_the_fit_is_best(log_c):
    flops = 10 ** log_c
    rows = budget_allocations(flops)
    for n, d, loss in rows.values():
        assert 6 * n * d == pytest.approx(flops, rel=1e-9)                  # every row spends exactly C
        assert loss == pytest.approx(1.69 + 406.4 / n**0.34 + 410.7 / d**0.28, rel=1e-12)
    n, d, _ = rows["rule"]
    assert d / n == pytest.approx(20) and n == pytest.approx(math.sqrt(flops / 120))
    assert rows["fit"][2] <= min(rows["rule"][2], rows["kaplan"][2])       # the optimum of L on 6ND = C


def test_kaplan_spends_more_on_parameters_than_chinchilla():
    for flops in (1e21, 1e24):
        assert kaplan_optimal(flops)[0] > compute_optimal(flops)[0]


@pytest.mark.parametrize("changes, key", [
    ({"n_head": 7}, "scale.errors.heads"),                 # 768 is not a multiple of 7
    ({"n_layer": 0}, "scale.errors.positive"),
    ({"n_kv_head": 5}, "scale.errors.kv_heads"),           # 12 query heads cannot share 5 KV heads
    ({"d_model": 10**7}, "scale.errors.too_big"),
    ({"mlp": "relu6"}, "scale.errors.choice"),
])
def test_bad_shapes_are_learner_errors(changes, key):
    with pytest.raises(UserInputError) as e:
        parameter_count(TransformerShape(**{**TransformerShape().__dict__, **changes}))
    assert e.value.key == key
    assert e.value.message("zh") != key


def test_absurd_token_counts_are_learner_errors():
    with pytest.raises(UserInputError):
        training_flops(1e9, 1e15)
    with pytest.raises(UserInputError):
        kv_cache_bytes(PRESETS["gpt2"], 10**15)
    with pytest.raises(UserInputError):
        kv_cache_bytes(PRESETS["bert-base-uncased"], 100)   # an encoder keeps no cache
