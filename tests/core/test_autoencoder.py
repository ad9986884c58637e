"""The seed's autoencoder (seed 000 §3.3, §4.3): architecture, dropout, shipped weights, decoding."""
import base64
import io
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import bigmodel_core
from tests.conftest import tolerance
from bigmodel_core.charts.autoencoder import PICK, digit_sheet, error_by_latent, latent_map, upscale
from bigmodel_core.data import mnist_tensors
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.autoencoder import (LATENT_SIZES, AETrainSettings, Autoencoder, AutoencoderConfig,
                                              add_noise, autoencoder_from_state, decode_grid, denoise, decode_point,
                                              decoder_weights, first_of_each_digit, first_off_axis, init_autoencoder,
                                              map_domain, encode_digits, latent_walk,
                                              load_autoencoder, load_record, mean_digit_error,
                                              pixel_blend, reconstruct, reconstruction_error, save_autoencoder,
                                              train_autoencoder)


@pytest.fixture(scope="module")
def data():
    return mnist_tensors(flat=True)


@pytest.mark.parametrize("latent", [1, 2, 5, 32])
def test_architecture_matches_the_seed_formula(latent):
    model = Autoencoder(AutoencoderConfig(latent_dim=latent)).eval()
    assert model.encoder.weight.shape == (latent, 784) and model.encoder.bias.shape == (latent,)
    assert model.decoder.weight.shape == (784, latent) and model.decoder.bias.shape == (784,)
    assert model.dropout.p == 0.5
    assert sum(p.numel() for p in model.parameters()) == 784 * latent + latent + latent * 784 + 784
    x = torch.rand(7, 784)
    W, b, W2, b2 = model.encoder.weight, model.encoder.bias, model.decoder.weight, model.decoder.bias
    z = torch.clamp(x @ W.T + b, min=0)                      # z = ReLU(Wx + b)
    x_hat = 1 / (1 + torch.exp(-(z @ W2.T + b2)))             # x_hat = sigmoid(W'z + b')
    assert torch.allclose(model.encode(x), z, atol=1e-6)
    assert torch.allclose(model(x), x_hat, atol=1e-6)
    assert (model.encode(x) >= 0).all() and ((x_hat > 0) & (x_hat < 1)).all()


def test_dropout_is_active_in_training_and_off_in_eval():
    torch.manual_seed(1)
    model = Autoencoder(AutoencoderConfig(latent_dim=64))
    with torch.no_grad():
        model.encoder.bias.fill_(1.0)                        # every code unit > 0 so drops are visible
    x = torch.rand(16, 784)
    model.train()
    captured = []
    handle = model.dropout.register_forward_hook(lambda m, i, o: captured.append((i[0], o)))
    out1, out2 = model(x), model(x)
    z, dropped = captured[0]
    share_zeroed = (dropped == 0).float().mean().item()
    assert 0.4 < share_zeroed < 0.6                          # about half the code is dropped
    kept = dropped != 0
    assert torch.allclose(dropped[kept], 2 * z[kept])        # kept units scaled by 1 / (1 - p)
    assert not torch.allclose(out1, out2)                    # a fresh mask every call
    model.eval()
    captured.clear()
    e1, e2 = model(x), model(x)
    handle.remove()
    assert torch.equal(e1, e2)
    assert torch.equal(captured[0][1], captured[0][0])       # identity in eval
    assert torch.allclose(e1, model.decode(model.encode(x)))


def test_bce_is_torch_reference(data):
    model = Autoencoder(AutoencoderConfig(latent_dim=3)).eval()
    X = data[2][:50]
    x_hat = model(X)
    ref = -(X * torch.log(x_hat) + (1 - X) * torch.log(1 - x_hat)).mean().item()
    assert reconstruction_error(model, X) == pytest.approx(ref, rel=1e-5)
    assert reconstruction_error(model, X) == pytest.approx(F.binary_cross_entropy(x_hat, X).item(), rel=1e-6)


def test_shipped_error_falls_with_latent_size_and_matches_records(data):
    X_train, _, X_test, _ = data
    errors = {}
    for d in LATENT_SIZES:
        model = load_autoencoder(d)
        assert not model.training and model.config.latent_dim == d
        assert next(model.parameters()).device == bigmodel_core.get_device()
        rec = load_record(d)
        errors[d] = reconstruction_error(model, X_test)
        assert errors[d] == pytest.approx(rec["test_bce"], abs=tolerance(1e-5))   # recorded on a CPU
        assert rec["latent_dim"] == d and rec["seed"] == 0 and rec["epochs"] > 0
        assert "train_autoencoders.py" in rec["remake"] and rec["torch"]
        codes = encode_digits(model, X_test)
        assert (codes.max(0) > 0).all(), "a code unit is dead for every held-out digit"
    assert errors[2] > errors[8] > errors[32]
    assert errors[2] < mean_digit_error(X_train, X_test)        # every code beats drawing the average digit


def test_decoding_the_encoding_gives_the_reconstruction(data):
    X_test = data[2][:20]
    for d in LATENT_SIZES:
        model = load_autoencoder(d)
        dev = next(model.parameters()).device                    # get_device(): BIGMODEL_DEVICE
        recon = reconstruct(model, X_test)                       # (20, 28, 28)
        with torch.no_grad():
            ref = model(X_test.to(dev)).reshape(-1, 28, 28).cpu().numpy()   # eval: dropout off
        assert np.allclose(recon, ref, atol=tolerance(1e-6))
        z = encode_digits(model, X_test)
        for i in (0, 7, 19):
            assert np.allclose(decode_point(model, z[i]), recon[i], atol=tolerance(1e-6))


def test_latent_walk_endpoints_and_linearity(data):
    model = load_autoencoder(8)
    x_a, x_b = data[2][0], data[2][1]
    alphas = np.linspace(0, 1, 5)
    codes, images = latent_walk(model, x_a, x_b, alphas)
    z_a, z_b = encode_digits(model, torch.stack([x_a, x_b]))
    assert np.allclose(codes[0], z_a, atol=1e-6) and np.allclose(codes[-1], z_b, atol=1e-6)
    assert np.allclose(codes[2], (z_a + z_b) / 2, atol=1e-5)
    recon = reconstruct(model, torch.stack([x_a, x_b]))
    assert np.allclose(images[0], recon[0], atol=1e-6) and np.allclose(images[-1], recon[1], atol=1e-6)
    blend = pixel_blend(x_a, x_b, [0.25])
    assert np.allclose(blend[0], (0.75 * x_a + 0.25 * x_b).reshape(28, 28).numpy(), atol=1e-6)


def test_noise_is_seeded_clipped_and_checked():
    x = torch.rand(3, 784)
    a, b = add_noise(x, 0.3, seed=4), add_noise(x, 0.3, seed=4)
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1
    assert torch.equal(add_noise(x, 0.0), x)
    assert (a - x).abs().mean() > 0.1
    with pytest.raises(UserInputError):
        add_noise(x, 1.5)
    with pytest.raises(UserInputError):
        decode_point(load_autoencoder(2), [1.0, 2.0, 3.0])
    with pytest.raises(UserInputError):
        load_autoencoder(5)


def test_training_through_fit_lowers_the_error_and_can_stop(data, tmp_path):
    X_train, _, X_test, _ = data
    settings = AETrainSettings(epochs=2, lr=3e-3, batch_size=32, seed=3)
    model, hist = train_autoencoder(4, settings, X_train=X_train[:1000], X_test=X_test[:200])
    assert hist.reason == "finished" and hist.steps[-1] == 64
    untrained = init_autoencoder(AutoencoderConfig(latent_dim=4), X_train[:1000], seed=3)
    assert hist.evals[-1]["test_bce"] < reconstruction_error(untrained, X_test[:200]) - 0.002
    runs = []
    for _ in range(2):                                        # stopped after 5 steps, twice: same weights
        calls = iter(range(100))
        runs.append(train_autoencoder(4, settings, X_train=X_train[:1000], X_test=X_test[:200],
                                      should_stop=lambda: next(calls) >= 5))
    (m1, stopped), (m2, _) = runs
    assert stopped.reason == "stopped" and stopped.steps[-1] == 5
    assert all(torch.equal(p, q) for p, q in zip(m1.state_dict().values(), m2.state_dict().values()))
    # save / load round trip through safetensors with a record
    model.config = AutoencoderConfig(latent_dim=2)            # file name only; weights stay latent-4
    save_autoencoder(model, {"test_bce": 1.0}, tmp_path)
    assert json.loads((tmp_path / "autoencoder_z2.json").read_text()) == {"test_bce": 1.0}


def test_latent_map_chart_spec():
    codes = np.random.default_rng(0).random((300, 2)) * 5
    labels = np.arange(300) % 10
    spec = latent_map(codes, labels, marker=(1.0, 2.0), path=codes[:3]).to_dict()
    digits = spec["layer"][0]
    assert digits["mark"]["type"] == "text" and digits["encoding"]["text"]["field"] == "digit"
    assert any(p["name"] == PICK and p["select"]["nearest"] for p in spec["params"])
    data = spec["datasets"][digits["data"]["name"]]
    assert len(data) == 300 and data[12]["idx"] == 12 and data[12]["digit"] == "2"
    assert len(spec["layer"]) == 5                            # digits, path line + dots, ring, cross
    with pytest.raises(ValueError):
        latent_map(np.zeros((5001, 2)), np.zeros(5001))


def test_digit_sheet_holds_every_digit_exactly(data):
    X = data[2][:45].numpy()                                  # 45 digits: a second, partly empty row
    sheet = np.asarray(Image.open(io.BytesIO(base64.b64decode(digit_sheet(X, cols=40).split(",", 1)[1]))))
    assert sheet.shape == (56, 1120) and sheet.dtype == np.uint8
    for i in (0, 39, 40, 44):
        tile = sheet[28 * (i // 40):28 * (i // 40 + 1), 28 * (i % 40):28 * (i % 40 + 1)]
        assert np.array_equal(tile, np.rint(X[i].reshape(28, 28) * 255))
    assert not sheet[28:, 28 * 5:].any()                      # the unused places stay black


def test_decoder_weights_decode_grid_and_a_model_from_its_state(data):
    model = load_autoencoder(2)
    W, b = decoder_weights(model)
    assert W.shape == (784, 2) and b.shape == (784,) and W.dtype == np.float32
    z = np.array([1.3, 0.4], np.float32)
    by_hand = 1 / (1 + np.exp(-(W.astype(np.float64) @ z + b)))                     # sigmoid(W'z + b')
    assert np.abs(by_hand - decode_point(model, z).ravel()).max() < 1e-6
    grid = decode_grid(model, 3, 4.0, 6.0)                                          # z2 high at the top
    assert grid.shape == (9, 28, 28)
    assert np.allclose(grid[0], decode_point(model, (0.0, 6.0)), atol=1e-6)
    assert np.allclose(grid[5], decode_point(model, (4.0, 3.0)), atol=1e-6)
    with pytest.raises(UserInputError):
        decode_grid(load_autoencoder(8), 3, 1.0, 1.0)
    twin = autoencoder_from_state(2, {k: v.cpu().clone() for k, v in model.state_dict().items()})
    assert not twin.training
    X = data[2][:5]
    assert np.allclose(reconstruct(twin, X), reconstruct(model, X), atol=1e-6)


def test_denoise_measures_each_reconstruction_against_the_clean_digit(data):
    models = [load_autoencoder(n) for n in (2, 32)]
    x = data[2][4]
    d = denoise(models, x, 0.5, seed=3)
    noisy = add_noise(x.reshape(1, -1), 0.5, seed=3)
    assert np.array_equal(d.noisy, noisy.reshape(28, 28).numpy())
    assert np.allclose(d.outputs[1], reconstruct(models[1], noisy)[0])
    assert d.mse[0] == pytest.approx(float(((noisy - x) ** 2).mean()), rel=1e-6)
    assert d.mse[2] < d.mse[0]                                # latent 32 cleans it up
    assert denoise(models, x, 0.0).mse[0] == 0.0               # no noise: the input is the digit


def test_map_domain_start_digit_and_one_of_each():
    codes = np.array([[0.0, 3.0], [0.6, 0.2], [0.7, 0.9], [4.6, 1.0]])
    assert map_domain(codes) == (5.0, 4.0)                    # ceil(1.08 * max)
    assert first_off_axis(codes) == 2
    labels = np.array([3, 1, 0, 2, 1, 0, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5, 6, 7, 8, 9])
    assert first_of_each_digit(labels).tolist() == [2, 1, 3, 0, 6, 7, 8, 9, 10, 11]
    assert first_of_each_digit(labels, shift=1).tolist() == [5, 4, 12, 13, 14, 15, 16, 17, 18, 19]
    assert first_of_each_digit(labels, shift=2).tolist() == first_of_each_digit(labels).tolist()   # wraps


def test_error_chart_and_upscale():
    spec = error_by_latent({2: 0.24, 8: 0.2, 32: 0.15}, baseline=0.26, highlight=8,
                           extra={"yours": (4, 0.22)}).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert [(r["latent"], r["series"]) for r in rows] == [(2, "shipped"), (8, "shipped"), (32, "shipped"), (4, "yours")]
    img = np.eye(28)
    big = upscale(img, 4)
    assert big.shape == (112, 112) and big[5, 5] == 1 and big[5, 9] == 0
