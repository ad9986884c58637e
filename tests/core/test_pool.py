"""pool2d_explained against F.max_pool2d / F.avg_pool2d; arg-max positions; translation invariance."""
import random

import pytest
import torch
import torch.nn.functional as F

from bigmodel_core import pool2d_explained
from bigmodel_core.errors import UserInputError
from bigmodel_core.ops.pool import (global_avg_pool, pool_output_size, shift_image,
                                    translation_invariance)


@pytest.mark.parametrize("seed", range(30))
def test_equals_torch_pooling_for_random_shapes(seed):
    rng = random.Random(seed)
    k, s = rng.randint(2, 4), rng.randint(1, 4)
    H, W = rng.randint(k, 21), rng.randint(k, 21)                 # non-square
    x = torch.randn(H, W)
    if seed % 3 == 0:
        x = torch.randint(0, 3, (H, W)).float()                   # many ties
    for kind, ref_fn in (("max", F.max_pool2d), ("avg", F.avg_pool2d)):
        ref = ref_fn(x[None, None], k, s)[0, 0]
        fast = pool2d_explained(x, kind=kind, size=k, stride=s)
        loop = pool2d_explained(x, kind=kind, size=k, stride=s, fast=False)
        assert fast.output.shape == ref.shape == (pool_output_size(H, k, s), pool_output_size(W, k, s))
        assert torch.allclose(fast.output, ref, atol=1e-6)
        assert torch.allclose(loop.output, ref, atol=1e-6)
    # arg-max: the loop agrees with PyTorch's return_indices, and each winner holds the max
    fast = pool2d_explained(x, kind="max", size=k, stride=s)
    loop = pool2d_explained(x, kind="max", size=k, stride=s, fast=False)
    _, idx = F.max_pool2d(x[None, None], k, s, return_indices=True)
    assert torch.equal(fast.argmax[..., 0] * W + fast.argmax[..., 1], idx[0, 0])
    assert torch.equal(fast.argmax, loop.argmax)
    for r in range(fast.output.shape[0]):
        for c in range(fast.output.shape[1]):
            win = fast.window(r, c)
            i, j = win.winner
            assert x[i, j] == fast.output[r, c] == win.values.max()
            assert win.top <= i < win.top + k and win.left <= j < win.left + k


def test_default_stride_is_the_window_and_75_percent_is_discarded():
    res = pool2d_explained(torch.rand(28, 28), size=2)
    assert res.stride == 2 and res.output.shape == (14, 14)
    assert res.share_discarded == 0.75
    assert res.share_never_win == 0.75                             # one winner per 2x2 window
    assert pool2d_explained(torch.rand(6, 6), kind="avg").share_never_win is None


def test_window_by_hand():
    x = torch.tensor([[1., 2, 0, 0], [3, 4, 0, 9], [0, 0, 5, 0], [0, 7, 0, 0]])
    res = pool2d_explained(x, size=2)
    assert res.output.tolist() == [[4, 9], [7, 5]]
    assert res.argmax.tolist() == [[[1, 1], [1, 3]], [[3, 1], [2, 2]]]
    win = res.window(0, 1)
    assert win.extent == (0, 2, 2, 4) and win.winner == (1, 3) and win.result == 9
    avg = pool2d_explained(x, kind="avg", size=2)
    assert avg.output.tolist() == [[2.5, 2.25], [1.75, 1.25]] and avg.window(0, 0).winner is None


def test_global_average_pooling():
    x = torch.rand(3, 7, 5)
    assert torch.allclose(global_avg_pool(x), F.adaptive_avg_pool2d(x[None], 1)[0, :, 0, 0])
    assert torch.allclose(global_avg_pool(x[0]), x[0].mean())


def test_window_too_large_is_a_user_error():
    with pytest.raises(UserInputError) as e:
        pool2d_explained(torch.zeros(3, 3), size=4)
    assert e.value.key == "pooling.errors.no_output" and "3×3" in e.value.message("zh")


def test_shift_and_translation_invariance():
    x = torch.zeros(8, 8)
    x[2, 2] = 1.0                                                   # one bright dot
    assert shift_image(x, dx=1)[2, 3] == 1 and shift_image(x, dx=1).sum() == 1
    inv = translation_invariance(x, 1, kind="max", size=2)
    # the dot moves from column 2 to 3: still in the same 2x2 window, so max pooling is unchanged
    assert inv.share_unchanged == 1.0 and inv.share_unchanged_raw == 0.0
    assert torch.equal(inv.pooled, inv.pooled_shifted)
    inv2 = translation_invariance(x, 2, kind="max", size=2)         # a whole stride: it moves
    assert inv2.share_unchanged == 0.0 and inv2.unchanged.sum() == 14
    assert translation_invariance(x, 0).share_unchanged == 1.0


def test_max_pooling_keeps_more_of_real_digits_than_raw_pixels():
    from bigmodel_core.data import load_mnist
    X = torch.from_numpy(load_mnist().x_test[:30]).float() / 255
    pooled = sum(translation_invariance(x, 1, kind="max").share_unchanged for x in X) / 30
    raw = sum(translation_invariance(x, 1, kind="max").share_unchanged_raw for x in X) / 30
    assert pooled > raw + 0.1
