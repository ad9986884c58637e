"""The explained attention against torch's, the positional encoding's properties, the by-hand set-up,
the per-head summaries and the page's chart builders."""
import base64
import io
import math

import numpy as np
import pytest
import torch
from PIL import Image
import torch.nn.functional as F

from bigmodel_core.charts import attention as C
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops import attention as A


def _random_bool_mask(g, T):
    m = torch.rand(T, T, generator=g) > 0.4
    m[torch.arange(T), torch.randint(0, T, (T,), generator=g)] = True      # every row keeps a key
    return m


@pytest.mark.parametrize("seed", range(12))
def test_matches_torch_sdpa_for_random_shapes_masks_and_heads(seed):
    g = torch.Generator().manual_seed(seed)
    T = int(torch.randint(1, 13, (1,), generator=g))
    d_k = int(torch.randint(2, 65, (1,), generator=g))
    d_v = int(torch.randint(1, 20, (1,), generator=g))
    lead = () if seed % 3 == 0 else (int(torch.randint(1, 5, (1,), generator=g)),)   # (T, d) or (heads, T, d)
    q, k = torch.randn(*lead, T, d_k, generator=g), torch.randn(*lead, T, d_k, generator=g)
    v = torch.randn(*lead, T, d_v, generator=g)
    kind = seed % 4
    mask = [None, A.causal_mask(T), _random_bool_mask(g, T), torch.randn(T, T, generator=g)][kind]
    scale = seed % 2 == 0
    temperature = [1.0, 0.5, 2.7][seed % 3]
    ours = A.scaled_dot_product_attention_explained(q, k, v, mask=mask, scale=scale, temperature=temperature)
    factor = (1 / math.sqrt(d_k) if scale else 1.0) / temperature
    assert ours.factor == pytest.approx(factor)
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=factor)
    assert torch.allclose(ours.output, theirs, atol=1e-5, rtol=1e-4)
    assert ours.weights.shape == (*lead, T, T) and ours.scores.shape == (*lead, T, T)
    assert torch.allclose(ours.weights.sum(-1), torch.ones(*lead, T), atol=1e-6)
    if mask is not None and mask.dtype == torch.bool:
        assert (ours.weights[..., ~mask] == 0).all()                     # forbidden keys get exactly 0
        assert torch.isinf(ours.scores[..., ~mask]).all()


def test_default_settings_equal_torch_defaults_and_causal_flag():
    g = torch.Generator().manual_seed(1)
    q, k, v = (torch.randn(3, 7, 16, generator=g) for _ in range(3))
    assert torch.allclose(A.scaled_dot_product_attention_explained(q, k, v).output,
                          F.scaled_dot_product_attention(q, k, v), atol=1e-6)
    assert torch.allclose(A.scaled_dot_product_attention_explained(q, k, v, mask=A.causal_mask(7)).output,
                          F.scaled_dot_product_attention(q, k, v, is_causal=True), atol=1e-6)


def test_scores_are_the_scaled_dot_products():
    q = torch.tensor([[1.0, 2.0], [0.0, 1.0]])
    k = torch.tensor([[3.0, 1.0], [1.0, -1.0]])
    r = A.scaled_dot_product_attention_explained(q, k, k)
    assert torch.equal(r.raw_scores, torch.tensor([[5.0, -1.0], [1.0, -1.0]]))
    assert torch.allclose(r.scores, r.raw_scores / math.sqrt(2))
    e = torch.exp(r.scores[0])
    assert r.weights[0, 0].item() == pytest.approx((e[0] / e.sum()).item())


def test_temperature_must_be_positive():
    q = torch.randn(3, 4)
    with pytest.raises(UserInputError):
        A.scaled_dot_product_attention_explained(q, q, q, temperature=0)


def test_temperature_flattens_and_sharpens_rows():
    g = torch.Generator().manual_seed(2)
    q, k = torch.randn(6, 8, generator=g), torch.randn(6, 8, generator=g)
    peak = [A.scaled_dot_product_attention_explained(q, k, k, temperature=tau).weights.max(-1).values.mean()
            for tau in (0.1, 1.0, 10.0)]
    assert peak[0] > peak[1] > peak[2] > 1 / 6


# --- positional encoding -------------------------------------------------------------------------

@pytest.mark.parametrize("P,D", [(10, 16), (50, 64), (7, 5), (1, 2)])
def test_positional_encoding_formula_and_range(P, D):
    pe = A.sinusoidal_positional_encoding(P, D)
    assert pe.shape == (P, D)
    assert pe.abs().max() <= 1 + 1e-6
    assert torch.allclose(pe[0, 0::2], torch.zeros_like(pe[0, 0::2]))        # sin 0
    assert torch.allclose(pe[0, 1::2], torch.ones_like(pe[0, 1::2]))          # cos 0
    rng = np.random.default_rng(P * 100 + D)
    for _ in range(5):
        pos, col = int(rng.integers(P)), int(rng.integers(D))
        i2 = col - col % 2
        angle = pos / 10000 ** (i2 / D)
        assert pe[pos, col].item() == pytest.approx(math.sin(angle) if col % 2 == 0 else math.cos(angle), abs=1e-5)


def test_position_similarity_depends_only_on_the_offset():
    pe = A.sinusoidal_positional_encoding(40, 32)
    sim = A.position_similarity(pe)
    assert torch.allclose(sim, sim.T)
    assert torch.allclose(torch.diagonal(sim), torch.full((40,), 16.0), atol=1e-4)   # sum sin^2+cos^2 = D/2
    for offset in (1, 3, 10):
        diag = torch.diagonal(sim, offset)
        assert torch.allclose(diag, diag[0].expand_as(diag), atol=1e-4)
    assert (sim[0, 1:] < sim[0, 0]).all()                                    # nothing is as alike as itself


# --- the by-hand set-up ----------------------------------------------------------------------------

def test_by_hand_attention_is_x_times_w_then_attention():
    g = torch.Generator().manual_seed(3)
    X = torch.randn(5, A.D_MODEL, generator=g)
    toks = list("abcde")
    bh = A.by_hand_attention(toks, X, d_k=6, n_heads=3, causal=True, positional=True)
    Xp = X + A.sinusoidal_positional_encoding(5, A.D_MODEL)
    assert torch.allclose(bh.Q, Xp @ bh.W_Q) and torch.allclose(bh.V, Xp @ bh.W_V)
    assert bh.Q.shape == (3, 5, 6) and bh.output.shape == (5, 18)
    ref = F.scaled_dot_product_attention(bh.Q, bh.K, bh.V, is_causal=True)
    assert torch.allclose(bh.attn.output, ref, atol=1e-6)
    assert torch.allclose(bh.output[:, 6:12], bh.attn.output[1])               # heads side by side


def test_raising_d_k_keeps_the_earlier_columns_of_w():
    W8 = A.projection_matrices(16, 8, 2)
    W32 = A.projection_matrices(16, 32, 4)
    for a, b in zip(W8, W32):
        assert torch.equal(a, b[:2, :, :8])


@pytest.mark.parametrize("kw", [{"d_k": 1}, {"d_k": 65}, {"n_heads": 0}, {"n_heads": 5}])
def test_by_hand_rejects_out_of_range_settings(kw):
    with pytest.raises(UserInputError):
        A.by_hand_attention(["a"], torch.zeros(1, A.D_MODEL), **kw)


def test_sentence_checks():
    with pytest.raises(UserInputError, match="Type a sentence"):
        A.check_sentence("  ", 0)
    with pytest.raises(UserInputError) as e:
        A.check_sentence("x " * 30, 30)
    assert "30" in e.value.message("zh")
    A.check_sentence("fine", 1)


def test_token_embeddings_random_are_stable_and_pretrained_are_pca():
    a = A.token_embeddings([5, 7, 5], source="random", seed=0)
    assert torch.equal(a[0], a[2]) and not torch.equal(a[0], a[1])
    assert torch.equal(A.token_embeddings([7], source="random", seed=0)[0], a[1])
    g = torch.Generator().manual_seed(4)
    table = torch.randn(2000, 24, generator=g) @ torch.randn(24, 24, generator=g)
    mean, proj = A.embedding_projection(table, 8)
    Z = (table - mean) @ proj                                                  # the whole vocabulary, projected
    assert torch.allclose(Z.var(0), torch.ones(8), atol=1e-3)                  # unit variance per dimension
    assert (Z.var(0, unbiased=True)[:-1] >= 0).all()
    cov = torch.cov(Z.T)
    assert torch.allclose(cov, torch.diag(torch.diagonal(cov)), atol=1e-3)    # decorrelated: principal axes
    X = A.token_embeddings([3, 9], source="pretrained", table=table, d_model=8)
    assert torch.allclose(X, Z[[3, 9]], atol=1e-4)


def test_sentence_pieces_and_embeddings_use_the_models_own_tokenizer_and_table():
    from bigmodel_core.models import bert
    model = bert.load_minilm()
    sentence = A.sentence_pieces(model, "The cat sat 👍")
    assert sentence.tokens == ["the", "cat", "sat", "[UNK]"] and sentence.n_unk == 1
    assert sentence.ids[:3] == [model.tokenizer.token_to_id(w) for w in ("the", "cat", "sat")]
    with pytest.raises(UserInputError):
        A.sentence_pieces(model, "word " * (A.MAX_TOKENS + 1))
    with pytest.raises(UserInputError):
        A.sentence_pieces(model, "   ")
    X = A.sentence_embeddings(model, sentence, source="pretrained")
    table = model.emb.tok.weight.detach().float()
    mean, proj = A.embedding_projection(table)
    assert X.shape == (4, A.D_MODEL)
    assert torch.allclose(X, (table[sentence.ids] - mean) @ proj, atol=1e-4)   # PCA of the model's own rows
    assert torch.allclose(A.sentence_embeddings(model, sentence, source="pretrained",
                                                projection=A.pretrained_projection(model)), X)
    assert torch.equal(A.sentence_embeddings(model, sentence, source="random"),
                       A.token_embeddings(sentence.ids, source="random"))


# --- why sqrt(d_k), and heads' summaries ------------------------------------------------------------

def test_softmax_saturates_without_scaling():
    df = A.softmax_saturation(trials=50)
    scaled, unscaled = df[df.scaled].set_index("d_k"), df[~df.scaled].set_index("d_k")
    assert np.allclose(scaled.score_std, 1.0, atol=0.1)
    assert np.allclose(unscaled.score_std, np.sqrt(unscaled.index), rtol=0.1)
    assert unscaled.max_weight.is_monotonic_increasing and unscaled.max_weight[64] > 0.8
    assert (scaled.max_weight < 0.4).all()
    assert (unscaled.entropy[64] < scaled.entropy[64] / 3)


def test_saturation_at_reads_the_nearest_measured_d_k_and_mean_max_weight_is_the_rows_peak():
    df = A.softmax_saturation(d_ks=(4, 16), trials=20)
    at = A.saturation_at(df, 13)
    assert at["d_k"] == 16
    row = df[(df.d_k == 16) & ~df.scaled].iloc[0]
    assert at["w_unscaled"] == row.max_weight and at["std_unscaled"] == row.score_std
    assert at["w_unscaled"] > at["w_scaled"]
    g = torch.Generator().manual_seed(2)
    bh = A.by_hand_attention(list("abcd"), torch.randn(4, A.D_MODEL, generator=g), n_heads=2, causal=True)
    peaks = [max(bh.attn.weights[h, i].tolist()) for h in range(2) for i in range(4)]
    assert bh.mean_max_weight == pytest.approx(sum(peaks) / 8)
    assert peaks[0] == 1.0                                                   # causal row 0 sees itself only


def test_head_extremes_name_the_sharpest_and_flattest_head():
    T = 5
    eye = torch.eye(T)                                               # looks at itself only: entropy 0
    flat = torch.full((T, T), 1 / T)                                 # looks everywhere: entropy log T
    shift = torch.roll(torch.eye(T), 1, dims=1)                      # the next token (the last row: the first)
    att = torch.stack([torch.stack([flat, shift]), torch.stack([eye, flat])])   # (L=2, H=2, T, T)
    ends = A.head_extremes(A.head_summaries(att))
    assert ends["sharp"][2] == pytest.approx(0.0, abs=1e-9) and ends["sharp"][:2] in ((1, 2), (2, 1))
    assert ends["flat"][2] == pytest.approx(math.log(T)) and ends["flat"][:2] in ((1, 1), (2, 2))
    assert ends["distance"] == (pytest.approx(0.0), pytest.approx(1.6))   # eye 0; flat and the shift both 1.6


def test_head_summaries_on_known_patterns():
    T = 5
    one_hot_prev = torch.zeros(T, T)
    one_hot_prev[0, 0] = 1
    one_hot_prev[torch.arange(1, T), torch.arange(T - 1)] = 1                  # look at the previous token
    uniform = torch.full((T, T), 1 / T)
    att = torch.stack([one_hot_prev, uniform])[None]                           # (1 layer, 2 heads, T, T)
    s = A.head_summaries(att)
    assert list(s["head"]) == [1, 2] and list(s["layer"]) == [1, 1]
    assert s.entropy[0] == pytest.approx(0.0, abs=1e-9)
    assert s.entropy[1] == pytest.approx(math.log(T))
    assert s.distance[0] == pytest.approx(4 / 5)
    assert s.distance[1] == pytest.approx(np.mean([np.mean(np.abs(i - np.arange(T))) for i in range(T)]))
    padded = torch.zeros(1, 1, T + 2, T + 2)
    padded[0, 0, :T, :T] = uniform
    assert A.head_summaries(padded, torch.tensor([True] * T + [False] * 2)).entropy[0] == pytest.approx(math.log(T))


# --- chart builders ---------------------------------------------------------------------------------

def test_matrix_spec_marks_masked_cells_and_selects_cells():
    scores = torch.tensor([[0.5, float("-inf")], [1.0, -2.0]])
    spec = C.matrix_spec(scores, row_labels=["a", "b"], col_labels=["a", "b"], kind="diverging", select="cell", row=1)
    rows = spec["data"]["values"]
    assert sum(r["masked"] for r in rows) == 1 and len(rows) == 4 and rows[1]["value"] is None
    assert spec["params"][0]["name"] == "cell" and spec["params"][0]["views"] == ["cells"]
    assert spec["autosize"]["type"] == "pad"
    assert spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [-2.0, 2.0]     # centred on 0
    assert spec["layer"][-1]["data"]["values"] == [{"r0": 1, "r1": 2, "c0": 0, "c1": 2}]  # row 1 outlined
    import altair as alt
    alt.LayerChart.from_dict(spec, validate=True)                           # a valid Vega-Lite spec
    named = C.matrix_spec(scores, kind="diverging", row=1, box_data="box")
    assert named["data"] == {"name": "matrix"} and named["datasets"]["box"] == [{"r0": 1, "r1": 2, "c0": 0, "c1": 2}]


def test_model_view_is_one_picture_with_a_clickable_square_per_head():
    att = torch.softmax(torch.randn(6, 12, 9, 9) * 3, -1)
    spec = C.model_view_spec(att, selected=(2, 3), head_px=50)
    picture, hit, outline = spec["layer"]
    assert {(r["layer"], r["head"]) for r in hit["data"]["values"]} == {(l, h) for l in range(1, 7) for h in range(1, 13)}
    assert spec["params"][0]["views"] == [hit["name"]] and spec["params"][0]["select"]["fields"] == ["layer", "head"]
    assert outline["data"]["values"] == [{"cx": 2.5, "cy": 1.5}]                # head 3 of layer 2
    url = picture["data"]["values"][0]["url"]
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))))
    step = 50 + 8
    assert png.shape == (6 * step, 12 * step, 3) and (spec["height"], spec["width"]) == (6 * step, 12 * step)
    # the pixel at cell (i, j) of head (l, h) is that weight's colour: 50 px over 9 cells, nearest
    for l, h, i, j in [(0, 0, 0, 0), (1, 2, 4, 7), (5, 11, 8, 8)]:
        py, px = l * step + 4 + (i * 50 + 25) // 9, h * step + 4 + (j * 50 + 25) // 9
        assert png[py, px].tolist() == C._blues(att[l, h, i:i + 1, j].numpy())[0].tolist()
    assert png[0, 0].tolist() == [255, 255, 255]                               # the margin
    import altair as alt
    alt.LayerChart.from_dict(spec, validate=True)                           # a valid Vega-Lite spec
