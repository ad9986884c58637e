"""The course texts' CNN for 28x28 digits (course text 3 §4.1 and course text 4 §4.1), its activations, and MNIST-like input.

    Conv(1->32, 3x3, pad 1) -> ReLU -> MaxPool 2      1x28x28 -> 32x28x28 -> 32x14x14
    Conv(32->64, 3x3, pad 1) -> ReLU -> MaxPool 2     32x14x14 -> 64x14x14 -> 64x7x7
    Linear(64*7*7 -> 128) -> ReLU -> Linear(128 -> 10)  3136 -> 128 -> 10 logits

421,642 parameters. Input: (N, 1, 28, 28) floats in [0, 1], ink bright on a dark background, like
MNIST; the model normalizes with MNIST's mean and standard deviation itself, so callers never do.

- `CNN`: the module, exactly the course text's layers (names conv1, conv2, pool, fc1, fc2).
- `cnn_activations(model, x)`: every intermediate tensor, named like the layers a learner sees.
- `load_cnn()`: the bundled trained weights (assets/cnn_mnist.safetensors), eval mode, on get_device().
- `preprocess_digit(image)`: a drawn or uploaded digit made to look like MNIST (grey, inverted if the
  background is light, cropped, scaled to fit 20x20, centred by mass in 28x28).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from bigmodel_core.data import ASSETS
from bigmodel_core.device import device_for
from bigmodel_core.errors import UserInputError

WEIGHTS_PATH = ASSETS / "cnn_mnist.safetensors"
RECORD_PATH = ASSETS / "cnn_mnist.json"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081   # of the full MNIST training set (the usual constants)
CLASSES = tuple(str(d) for d in range(10))
LAYERS = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "fc1", "logits")


class CNN(nn.Module):
    """Course text 3 §4.1: two conv-ReLU-pool blocks, then two fully connected layers."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels=1, out_channels=32, kernel_size=3, stride=1, padding=1)
        self.conv2 = nn.Conv2d(in_channels=32, out_channels=64, kernel_size=3, stride=1, padding=1)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2)
        self.fc1 = nn.Linear(in_features=64 * 7 * 7, out_features=128)
        self.fc2 = nn.Linear(in_features=128, out_features=10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - MNIST_MEAN) / MNIST_STD                  # (N, 1, 28, 28), pixels in [0, 1] -> standardized
        x = self.pool(F.relu(self.conv1(x)))              # (N, 32, 14, 14)
        x = self.pool(F.relu(self.conv2(x)))              # (N, 64, 7, 7)
        x = x.flatten(1)                                  # (N, 3136); the course text's x.view(-1, 64 * 7 * 7)
        x = F.relu(self.fc1(x))                           # (N, 128)
        return self.fc2(x)                                # (N, 10) logits


@torch.no_grad()
def cnn_activations(model: CNN, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """The forward pass written out layer by layer, keeping every intermediate tensor.

    x: (N, 1, 28, 28) in [0, 1]. Returns {name: tensor} in LAYERS order plus "probs" (softmax).
    """
    acts = {}
    h = (x - MNIST_MEAN) / MNIST_STD                      # (N, 1, 28, 28)
    acts["conv1"] = h = model.conv1(h)                    # (N, 32, 28, 28)
    acts["relu1"] = h = F.relu(h)                         # (N, 32, 28, 28)
    acts["pool1"] = h = model.pool(h)                     # (N, 32, 14, 14)
    acts["conv2"] = h = model.conv2(h)                    # (N, 64, 14, 14)
    acts["relu2"] = h = F.relu(h)                         # (N, 64, 14, 14)
    acts["pool2"] = h = model.pool(h)                     # (N, 64, 7, 7)
    acts["fc1"] = h = F.relu(model.fc1(h.flatten(1)))     # (N, 128), after its ReLU
    acts["logits"] = h = model.fc2(h)                     # (N, 10)
    acts["probs"] = h.softmax(-1)                         # (N, 10)
    return acts


def layer_table(model: nn.Module | None = None) -> list[dict]:
    """One row per layer: name, output shape (C x H x W for one digit) and parameter count."""
    model = model or CNN()
    p = count_parameters                                            # short, for the table below
    return [
        {"layer": "input", "shape": "1×28×28", "params": 0},
        {"layer": "conv1", "shape": "32×28×28", "params": p(model.conv1)},  # 32*1*3*3 + 32 = 320
        {"layer": "relu1", "shape": "32×28×28", "params": 0},
        {"layer": "pool1", "shape": "32×14×14", "params": 0},
        {"layer": "conv2", "shape": "64×14×14", "params": p(model.conv2)},  # 64*32*3*3 + 64 = 18,496
        {"layer": "relu2", "shape": "64×14×14", "params": 0},
        {"layer": "pool2", "shape": "64×7×7", "params": 0},
        {"layer": "fc1", "shape": "128", "params": p(model.fc1)},           # 3136*128 + 128 = 401,536
        {"layer": "logits", "shape": "10", "params": p(model.fc2)},         # 128*10 + 10 = 1,290
    ]


def count_parameters(model: nn.Module) -> int:
    return sum(t.numel() for t in model.parameters())


def new_cnn(seed: int = 0) -> CNN:
    """A freshly initialized CNN (PyTorch's default init) with a fixed seed."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    model = CNN()
    torch.random.set_rng_state(gen_state)                 # do not disturb the caller's random stream
    return model


def load_cnn(path: str | Path = WEIGHTS_PATH, device: torch.device | None = None) -> CNN:
    """The trained CNN from safetensors (never pickle), in eval mode on `device` (get_device())."""
    from safetensors.torch import load_file
    model = CNN()
    model.load_state_dict(load_file(str(path)))
    return model.to(device or device_for("attributions")).eval()


@torch.no_grad()
def confusion_matrix(model: nn.Module, X: torch.Tensor, y: torch.Tensor, n_classes: int = 10) -> np.ndarray:
    """(true, predicted) counts: row i, column j = digits of class i the model called j."""
    device = next(model.parameters()).device
    pred = torch.cat([model(X[i:i + 1000].to(device)).argmax(-1).cpu() for i in range(0, len(X), 1000)])
    cm = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    cm.index_put_((y.cpu(), pred), torch.ones_like(pred), accumulate=True)
    return cm.numpy()


# ---------------------------------------------------------------------------------------------
# Making a drawn or uploaded digit look like MNIST (LeCun et al.: size-normalized to fit a 20x20
# box keeping the aspect ratio, then centred in 28x28 by the centre of mass of its pixels)

INK_THRESHOLD = 0.15   # a pixel at least this bright (after inversion) counts as ink when cropping


def _to_grey(image) -> np.ndarray:
    """PIL image or array (H, W), (H, W, 3) or (H, W, 4) -> float (H, W) in [0, 1].

    Transparent pixels of an RGBA array (a drawing canvas) count as the dark background.
    """
    if isinstance(image, Image.Image):
        if image.mode in ("RGBA", "LA"):
            image = np.asarray(image.convert("RGBA"))
        else:
            return np.asarray(image.convert("L"), dtype=np.float32) / 255.0
    a = np.asarray(image, dtype=np.float32)
    if a.max() > 1.0:
        a = a / 255.0
    if a.ndim == 2:
        return a
    if a.ndim == 3 and a.shape[2] in (3, 4):
        grey = a[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)   # ITU-R 601 luma
        if a.shape[2] == 4:
            grey = grey * a[..., 3]                       # over black: transparent = background
        return grey
    raise UserInputError("cnn_anatomy.errors.bad_image")


def _border(a: np.ndarray) -> np.ndarray:
    """The outermost pixels of an (H, W) image, as one flat array: where the background shows."""
    return np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])


def preprocess_digit(image) -> np.ndarray:
    """A drawing or photo of one digit -> the (28, 28) float32 array in [0, 1] the CNN expects.

    1. grey; 2. invert if the background (the border) is light, so ink is bright like MNIST;
    3. crop to the ink's bounding box; 4. scale the longer side to 20 pixels, keeping the aspect;
    5. paste into 28x28 so the centre of mass of the ink lands on the centre (13.5, 13.5).
    Raises UserInputError when there is no ink at all (an empty canvas, a blank photo).
    """
    grey = _to_grey(image)                                                   # (H, W) in [0, 1]
    if np.median(_border(grey)) > 0.5:                                       # dark ink on light paper
        grey = 1.0 - grey
    background = float(np.median(_border(grey)))
    grey = np.clip((grey - background) / max(1.0 - background, 1e-6), 0, 1)  # background -> 0
    ink = grey >= INK_THRESHOLD * max(float(grey.max()), 1e-6)
    if grey.max() < 0.05 or not ink.any():
        raise UserInputError("cnn_anatomy.errors.empty_digit")
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    crop = grey[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]                  # (h, w) around the ink
    h, w = crop.shape
    scale = 20.0 / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((crop * 255).astype(np.uint8)).resize((new_w, new_h), Image.Resampling.LANCZOS)
    small = np.asarray(small, dtype=np.float32) / 255.0                      # (<=20, <=20)
    canvas = np.zeros((28, 28), dtype=np.float32)
    top, left = (28 - new_h) // 2, (28 - new_w) // 2
    canvas[top:top + new_h, left:left + new_w] = small
    return center_by_mass(canvas)


def center_of_mass(a: np.ndarray) -> tuple[float, float]:
    """(row, col) of the brightness-weighted mean pixel position."""
    total = float(a.sum())
    r, c = np.indices(a.shape)
    return float((r * a).sum() / total), float((c * a).sum() / total)


def center_by_mass(a: np.ndarray) -> np.ndarray:
    """Shift a (28, 28) image by whole pixels so its centre of mass is as close as possible to 13.5."""
    cr, cc = center_of_mass(a)
    H, W = a.shape
    dr, dc = int(round((H - 1) / 2 - cr)), int(round((W - 1) / 2 - cc))
    rows, cols = np.flatnonzero(a.any(1)), np.flatnonzero(a.any(0))
    dr = int(np.clip(dr, -rows[0], H - 1 - rows[-1]))                        # never push ink off the edge
    dc = int(np.clip(dc, -cols[0], W - 1 - cols[-1]))
    out = np.zeros_like(a)
    out[max(0, dr):H + min(0, dr), max(0, dc):W + min(0, dc)] = a[max(0, -dr):H - max(0, dr),
                                                                  max(0, -dc):W - max(0, dc)]
    return out
