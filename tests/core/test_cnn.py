"""The seeds' CNN: architecture vs torch.nn.functional, shipped weights, live training, MNIST-like input."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bigmodel_core import CNN, load_cnn
from bigmodel_core.data import load_mnist
from bigmodel_core.errors import UserInputError
from bigmodel_core.models.cnn import (LAYERS, MNIST_MEAN, MNIST_STD, RECORD_PATH, center_of_mass, cnn_activations,
                                      confusion_matrix, count_parameters, layer_table, new_cnn,
                                      preprocess_digit)
from bigmodel_core.data import load_record, mnist_tensors
from bigmodel_core.train import TrainConfig, accuracy, fit


def test_parameter_count_is_the_seeds():
    model = CNN()
    assert count_parameters(model) == 421_642
    assert sum(row["params"] for row in layer_table(model)) == 421_642
    assert [(n, tuple(p.shape)) for n, p in model.named_parameters()] == [
        ("conv1.weight", (32, 1, 3, 3)), ("conv1.bias", (32,)), ("conv2.weight", (64, 32, 3, 3)),
        ("conv2.bias", (64,)), ("fc1.weight", (128, 3136)), ("fc1.bias", (128,)),
        ("fc2.weight", (10, 128)), ("fc2.bias", (10,))]


@pytest.mark.parametrize("n", [1, 3, 7])
def test_activations_match_functional_reference(n):
    torch.manual_seed(n)
    model = new_cnn(seed=n).eval()
    x = torch.rand(n, 1, 28, 28)
    acts = cnn_activations(model, x)
    assert list(acts)[:len(LAYERS)] == list(LAYERS)
    expected = {"conv1": (32, 28, 28), "relu1": (32, 28, 28), "pool1": (32, 14, 14), "conv2": (64, 14, 14),
                "relu2": (64, 14, 14), "pool2": (64, 7, 7), "fc1": (128,), "logits": (10,)}
    assert {k: tuple(v.shape[1:]) for k, v in acts.items() if k in expected} == expected
    # an independent forward pass with torch.nn.functional
    h = (x - MNIST_MEAN) / MNIST_STD
    c1 = F.conv2d(h, model.conv1.weight, model.conv1.bias, padding=1)
    p1 = F.max_pool2d(F.relu(c1), 2)
    c2 = F.conv2d(p1, model.conv2.weight, model.conv2.bias, padding=1)
    p2 = F.max_pool2d(F.relu(c2), 2)
    f1 = F.relu(p2.reshape(n, -1) @ model.fc1.weight.T + model.fc1.bias)
    logits = f1 @ model.fc2.weight.T + model.fc2.bias
    for name, ref in [("conv1", c1), ("pool1", p1), ("conv2", c2), ("pool2", p2), ("fc1", f1), ("logits", logits)]:
        torch.testing.assert_close(acts[name], ref, atol=1e-5, rtol=1e-4)
    with torch.no_grad():
        torch.testing.assert_close(model(x), logits, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(acts["probs"].sum(-1), torch.ones(n))


def test_shipped_weights_reach_97_percent_on_the_held_out_digits():
    model = load_cnn()
    assert not model.training
    _, _, X_test, y_test = mnist_tensors()
    assert len(y_test) == 1000
    acc = accuracy(model, X_test, y_test)
    assert acc >= 0.97
    record = load_record(RECORD_PATH)
    assert record["test_accuracy"] == pytest.approx(acc, abs=1e-4)
    split = load_mnist()
    assert record["data"]["split_seed"] == split.seed
    assert (record["data"]["train_size"], record["data"]["test_size"]) == (len(split.y_train), len(split.y_test))
    assert record["torch_version"] and "scripts.train_cnn" in record["remake"]
    cm = confusion_matrix(model, X_test, y_test)
    assert cm.sum() == 1000 and (cm.sum(1) == 100).all()           # 100 of each digit, stratified
    assert np.trace(cm) / 1000 == pytest.approx(acc)


def test_one_epoch_of_training_lowers_the_loss():
    X_train, y_train, X_test, y_test = mnist_tensors()
    X, y = X_train[:640], y_train[:640]
    model = new_cnn(seed=0)
    with torch.no_grad():
        before = F.cross_entropy(model(X_test[:300]), y_test[:300]).item()
    hist = fit(model, (X, y), TrainConfig(epochs=1, lr=1e-3, batch_size=64, optimizer="adam", report_every=2),
               loss_fn=F.cross_entropy, device=torch.device("cpu"))
    with torch.no_grad():
        after = F.cross_entropy(model(X_test[:300]), y_test[:300]).item()
    assert hist.reason == "finished" and hist.samples_seen == 640
    assert before == pytest.approx(math.log(10), abs=0.3)            # untrained: near-uniform guesses
    assert after < before - 0.5
    assert hist.train_loss[-1] < hist.train_loss[0]


def test_a_huge_learning_rate_is_reported_as_diverged():
    X_train, y_train, _, _ = mnist_tensors()
    model = new_cnn(seed=0)
    hist = fit(model, (X_train[:1024], y_train[:1024]), TrainConfig(epochs=1, lr=1000.0, batch_size=64,
                                                                    optimizer="sgd"),
               loss_fn=F.cross_entropy, device=torch.device("cpu"))
    assert hist.reason == "diverged"
    assert 1 <= hist.diverged_at <= 16
    assert all(torch.isfinite(p).all() for p in model.parameters())  # the last finite weights are kept


def _stroke_canvas(size=200, offset=(30, -40), dark_on_light=True):
    """A thick '7' drawn off-centre on a size x size canvas."""
    img = np.zeros((size, size), dtype=np.float32)
    r0, c0 = size // 2 - 50 + offset[0], size // 2 - 30 + offset[1]
    img[r0:r0 + 14, c0:c0 + 70] = 1.0                                # the bar
    for i in range(100):                                             # the diagonal
        r, c = r0 + i, c0 + 70 - int(i * 0.5)
        img[r:r + 12, max(0, c - 12):c] = 1.0
    img = img[:size, :size]
    return 1.0 - img if dark_on_light else img


@pytest.mark.parametrize("dark_on_light", [True, False])
@pytest.mark.parametrize("offset", [(30, -40), (-60, 50), (0, 0)])
def test_preprocessing_centres_the_mass_and_fits_20x20(offset, dark_on_light):
    x = preprocess_digit((_stroke_canvas(offset=offset, dark_on_light=dark_on_light) * 255).astype(np.uint8))
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0 and x.max() > 0.9       # ink bright on black, like MNIST
    r, c = center_of_mass(x)
    assert abs(r - 13.5) <= 0.5 and abs(c - 13.5) <= 0.5
    rows, cols = np.flatnonzero(x.max(1) > 0.05), np.flatnonzero(x.max(0) > 0.05)
    assert rows[-1] - rows[0] + 1 <= 21 and cols[-1] - cols[0] + 1 <= 21
    assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 >= 19     # the longer side is scaled to 20


def test_preprocessing_reads_an_rgba_canvas_and_refuses_an_empty_one():
    rgba = np.zeros((160, 160, 4), dtype=np.uint8)                   # transparent: the background
    rgba[40:120, 70:85] = (255, 255, 255, 255)                        # a white '1'
    x = preprocess_digit(rgba)
    assert abs(center_of_mass(x)[1] - 13.5) <= 0.5
    with pytest.raises(UserInputError):
        preprocess_digit(np.zeros((160, 160, 4), dtype=np.uint8))
    with pytest.raises(UserInputError):
        preprocess_digit(np.full((50, 50), 255, dtype=np.uint8))


def test_real_digits_drawn_large_on_paper_are_still_recognised():
    # MNIST test digits printed dark-on-light at 8x size and off-centre, then preprocessed back
    model = load_cnn()
    split = load_mnist()
    correct = 0
    for i in range(0, 1000, 25):                                       # 40 digits of every class
        big = np.kron(split.x_test[i], np.ones((8, 8), dtype=np.uint8))   # (224, 224)
        paper = np.full((300, 300), 255, dtype=np.uint8)
        paper[50:274, 20:244] = 255 - big
        x = torch.from_numpy(preprocess_digit(paper)).view(1, 1, 28, 28)
        x = x.to(next(model.parameters()).device)                      # load_cnn: the accelerator if any
        with torch.no_grad():
            correct += int(model(x).argmax() == split.y_test[i])
    assert correct >= 36
