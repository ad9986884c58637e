"""conv2d_explained against torch.nn.functional.conv2d; the window's arithmetic; kernel parsing."""
import random

import pytest
import torch
import torch.nn.functional as F

from bigmodel_core import conv2d_explained
from bigmodel_core.errors import UserInputError
from bigmodel_core.i18n import t
from bigmodel_core.ops.conv import (KERNEL_PRESETS, image_to_tensor, kernel_preset, output_size,
                                    parse_kernel_grid)


def _reference(x, w, bias, stride, padding, dilation):
    x3 = x if x.dim() == 3 else x[None]
    w3 = w if w.dim() == 3 else w.expand(x3.shape[0], *w.shape)
    return F.conv2d(x3[None], w3[None], torch.tensor([bias]), stride=stride, padding=padding,
                    dilation=dilation)[0, 0]


def _random_case(rng: random.Random):
    """Every setting the page allows: stride 1-4, padding 0-3, dilation 1-3, odd and even kernels."""
    while True:
        C = rng.choice([None, 1, 3])
        H, W = rng.randint(5, 23), rng.randint(5, 23)            # non-square images
        kh, kw = rng.choice([(3, 3), (5, 5), (2, 2), (4, 4), (2, 3), (1, 1), (3, 5)])
        s, p, d = rng.randint(1, 4), rng.randint(0, 3), rng.randint(1, 3)
        if output_size(H, kh, stride=s, padding=p, dilation=d) >= 1 and \
                output_size(W, kw, stride=s, padding=p, dilation=d) >= 1:
            return C, H, W, kh, kw, s, p, d


@pytest.mark.parametrize("seed", range(40))
def test_equals_F_conv2d_for_random_shapes_and_settings(seed):
    rng = random.Random(seed)
    C, H, W, kh, kw, s, p, d = _random_case(rng)
    x = torch.rand(H, W) if C is None else torch.rand(C, H, W)
    w = torch.randn(kh, kw) if (C is None or rng.random() < 0.3) else torch.randn(C, kh, kw)
    b = rng.uniform(-2, 2)
    ref = _reference(x, w, b, s, p, d)
    fast = conv2d_explained(x, w, bias=b, stride=s, padding=p, dilation=d)
    loop = conv2d_explained(x, w, bias=b, stride=s, padding=p, dilation=d, fast=False)
    assert fast.output.shape == ref.shape == loop.output.shape
    assert fast.output.shape == (output_size(H, kh, stride=s, padding=p, dilation=d),
                                 output_size(W, kw, stride=s, padding=p, dilation=d))
    assert torch.allclose(fast.output, ref, atol=1e-5)
    assert torch.allclose(loop.output, ref, atol=1e-5)           # the readable loop is the same maths
    # every pixel's window: products sum (plus b) to the output pixel
    for r in range(ref.shape[0]):
        for c in range(ref.shape[1]):
            win = fast.window(r, c)
            assert win.products.shape == win.patch.shape == win.kernel.shape
            assert torch.allclose(win.products, win.kernel * win.patch)
            assert abs(win.total + b - win.result) < 1e-6
            assert abs(win.result - float(ref[r, c])) < 1e-4


def test_window_position_taps_and_padding_by_hand():
    x = torch.arange(25.0).view(5, 5)                                # x(r, c) = 5r + c
    res = conv2d_explained(x, torch.ones(2, 2), stride=2, padding=1, dilation=2)
    # padded is 7x7; output size floor((5 + 2 - 2 - 1) / 2) + 1 = 3
    assert res.output.shape == (3, 3) and res.padded.shape == (1, 7, 7)
    win = res.window(1, 2)
    assert (win.top, win.left) == (2, 4)
    assert win.extent == (2, 4, 5, 7)
    assert win.taps() == [(2, 4), (2, 6), (4, 4), (4, 6)]
    # padded (2,4) = x(1,3) = 8, (2,6) = pad 0, (4,4) = x(3,3) = 18, (4,6) = pad 0
    assert win.patch.flatten().tolist() == [8.0, 0.0, 18.0, 0.0]
    assert win.result == 26.0


def test_rgb_slices_are_summed_into_one_map():
    x = torch.rand(3, 9, 11)
    w = torch.randn(3, 3, 3)
    res = conv2d_explained(x, w, bias=0.5)
    per_channel = sum(conv2d_explained(x[c], w[c]).output for c in range(3))
    assert torch.allclose(res.output, per_channel + 0.5, atol=1e-5)
    win = res.window(2, 3)
    assert win.patch.shape == (3, 3, 3)
    assert abs(sum(float(win.products[c].sum()) for c in range(3)) + 0.5 - float(res.output[2, 3])) < 1e-5


def test_presets_do_what_their_names_say():
    x = torch.rand(12, 12)
    assert torch.allclose(conv2d_explained(x, kernel_preset("identity"), padding=1).output, x)
    for blur in ("box_blur", "gaussian_blur"):
        assert abs(float(kernel_preset(blur).sum()) - 1) < 1e-6           # blurs keep brightness
    flat = torch.full((8, 8), 0.7)
    for name in ("edge", "sobel_x", "sobel_y"):                            # no response on flat areas
        assert conv2d_explained(flat, kernel_preset(name)).output.abs().max() < 1e-6
    step = torch.zeros(8, 8)
    step[:, 4:] = 1.0                                                      # a vertical edge
    assert conv2d_explained(step, kernel_preset("sobel_x")).output.abs().max() == 4.0
    assert conv2d_explained(step, kernel_preset("sobel_y")).output.abs().max() == 0.0
    assert set(KERNEL_PRESETS) == {"identity", "box_blur", "gaussian_blur", "sharpen", "edge",
                                   "sobel_x", "sobel_y", "emboss"}


@pytest.mark.parametrize("i,k,s,p,d,expected", [
    (28, 3, 1, 0, 1, 26), (28, 3, 2, 0, 1, 13), (28, 3, 1, 1, 1, 28), (28, 5, 1, 2, 1, 28),
    (28, 3, 1, 0, 2, 24), (7, 3, 3, 1, 1, 3), (5, 4, 1, 0, 1, 2)])
def test_output_size_formula(i, k, s, p, d, expected):
    assert output_size(i, k, stride=s, padding=p, dilation=d) == expected
    assert conv2d_explained(torch.zeros(i, i), torch.zeros(k, k), stride=s, padding=p,
                            dilation=d).output.shape == (expected, expected)


def test_kernel_that_does_not_fit_is_a_user_error():
    with pytest.raises(UserInputError) as e:
        conv2d_explained(torch.zeros(4, 4), torch.zeros(5, 5), dilation=3)
    assert e.value.key == "convolution.errors.no_output"
    assert "4×4" in e.value.message("en") and "4×4" in e.value.message("zh")


def test_window_outside_the_map_is_an_index_error():
    res = conv2d_explained(torch.zeros(5, 5), torch.zeros(3, 3))
    with pytest.raises(IndexError):
        res.window(3, 0)


# -- the custom kernel grid ---------------------------------------------------------------------

def test_grid_parses_numbers_decimals_fractions():
    k = parse_kernel_grid([["1/9", "0,5", "-2"], [1, 2.5, "−1"], ["0", " 3 ", "1e-1"]])
    assert k.shape == (3, 3)
    assert torch.allclose(k, torch.tensor([[1 / 9, 0.5, -2], [1, 2.5, -1], [0, 3, 0.1]]))
    assert parse_kernel_grid([["0"] * 5 for _ in range(5)]).shape == (5, 5)


@pytest.mark.parametrize("cell,key", [
    ("", "convolution.errors.empty_cell"), (None, "convolution.errors.empty_cell"),
    (float("nan"), "convolution.errors.empty_cell"), ("abc", "convolution.errors.not_number"),
    ("1/0", "convolution.errors.not_number"), ("2+2", "convolution.errors.not_number"),
    ("1e9", "convolution.errors.absurd_cell"), ("inf", "convolution.errors.absurd_cell"),
    ("-101", "convolution.errors.absurd_cell")])
def test_bad_cells_name_the_cell_in_both_languages(cell, key):
    grid = [["0"] * 3 for _ in range(3)]
    grid[1][2] = cell
    with pytest.raises(UserInputError) as e:
        parse_kernel_grid(grid)
    assert e.value.key == key
    for lang in ("en", "zh"):
        msg = e.value.message(lang)
        assert "2" in msg and "3" in msg and msg != key               # row 2, column 3
    assert e.value.message("en") != e.value.message("zh")


def test_grid_must_be_3x3_or_5x5():
    for grid in ([["1"] * 4] * 4, [["1"] * 3] * 2, []):
        with pytest.raises(UserInputError) as e:
            parse_kernel_grid(grid)
        assert e.value.key == "convolution.errors.kernel_shape"
    assert t("convolution.errors.kernel_shape", "zh", sizes="3×3") != "convolution.errors.kernel_shape"


def test_image_to_tensor_shrinks_and_says_so():
    from PIL import Image
    img = Image.new("RGB", (300, 150), (255, 0, 0))
    x, resized = image_to_tensor(img, rgb=True, max_side=64)
    assert resized and x.shape == (3, 32, 64) and float(x[0].mean()) > 0.99
    g, resized = image_to_tensor(Image.new("L", (20, 10)), max_side=64)
    assert not resized and g.shape == (10, 20)


def test_feature_map_is_the_sobel_x_convolution():
    """The pooling page's feature map: Sobel x, stride 1, no padding (F.conv2d as the reference)."""
    from bigmodel_core.ops.conv import feature_map
    x = torch.rand(9, 12, generator=torch.Generator().manual_seed(3))
    want = F.conv2d(x[None, None], torch.tensor([[-1., 0, 1], [-2, 0, 2], [-1, 0, 1]])[None, None])[0, 0]
    got = feature_map(x)
    assert got.shape == (7, 10) and torch.allclose(got, want, atol=1e-6)


def test_custom_kernel_cells_from_a_link_or_the_preset_centred():
    from bigmodel_core.ops.conv import custom_kernel_cells, identity_kernel
    assert custom_kernel_cells(3, "1, 2,3,4,5,6,7,8,x") == [["1", "2", "3"], ["4", "5", "6"], ["7", "8", "x"]]
    cells = custom_kernel_cells(5, "1,2,3", "sobel_y")                 # wrong count: the preset, centred
    grid = parse_kernel_grid(cells)
    assert torch.equal(grid[1:4, 1:4], kernel_preset("sobel_y")) and grid.abs().sum() == kernel_preset("sobel_y").abs().sum()
    x = torch.rand(6, 7)
    assert torch.equal(conv2d_explained(x, identity_kernel(5), padding=2).output, x)   # y = x
