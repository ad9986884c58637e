"""The course texts' autoencoder: squeeze a digit into a few numbers, then rebuild it from them.

Course text 1 §3.3 gives the two halves and §4.3 the model (Keras: Dense(latent, relu) -> Dropout(0.5)
-> Dense(784, sigmoid), Adam, binary cross-entropy):

    encoder   z     = f(W x + b)       f = ReLU,    W: (latent, 784)
    decoder   x_hat = g(W' z + b')     g = sigmoid, W': (784, latent)
    loss      BCE(x, x_hat) = -mean( x log x_hat + (1 - x) log(1 - x_hat) )

Dropout(0.5) sits on the code z, so it is active while training and off in evaluation (PyTorch
scales the kept units by 2 in training, as Keras does). The shipped models (latent 2, 8 and 32) are
made by scripts/train_autoencoders.py with fixed seeds; `load_autoencoder(latent_dim)` reads them.

Two training details the course text leaves open, chosen so that no code unit dies (a ReLU that is 0 for
every digit never learns again): the decoder bias b' starts at the average digit (its logit), so the
untrained model already draws the mean image instead of pushing z towards 0, and the encoder bias
b starts slightly positive (0.5), so every unit begins "on".
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.data import ASSETS, load_record as _read_record, mnist_tensors
from bigmodel_core.device import device_for
from bigmodel_core.errors import UserInputError

LATENT_SIZES = (2, 8, 32)                       # the shipped models
ENCODER_BIAS_INIT = 0.5                         # every code unit starts switched on


@dataclass(frozen=True)
class AutoencoderConfig:
    input_dim: int = 784     # 28 x 28 pixels, flattened
    latent_dim: int = 32     # size of the code z (the course text uses 32)
    dropout: float = 0.5     # dropout on z while training (course text 1 §4.3)


class Autoencoder(nn.Module):
    """784 -> latent -> 784: one ReLU layer in, one sigmoid layer out (course text 1 §3.3, §4.3)."""

    def __init__(self, config: AutoencoderConfig = AutoencoderConfig()):
        super().__init__()
        self.config = config
        self.encoder = nn.Linear(config.input_dim, config.latent_dim)   # W (latent, 784), b (latent,)
        self.dropout = nn.Dropout(config.dropout)
        self.decoder = nn.Linear(config.latent_dim, config.input_dim)   # W' (784, latent), b' (784,)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """z = f(Wx + b), f = ReLU. x: (B, 784) in [0, 1] -> z: (B, latent), every entry >= 0."""
        return F.relu(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """x_hat = g(W'z + b'), g = sigmoid. z: (B, latent) -> x_hat: (B, 784) in (0, 1)."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.dropout(self.encode(x))        # (B, latent); half the units zeroed in training
        return self.decode(z)                   # (B, 784)


def init_autoencoder(config: AutoencoderConfig, X_train: torch.Tensor, seed: int = 0) -> Autoencoder:
    """A fresh model with seeded weights, b' = logit(mean digit) and b = ENCODER_BIAS_INIT."""
    torch.manual_seed(seed)
    model = Autoencoder(config)
    with torch.no_grad():
        mean_digit = X_train.float().mean(0).cpu().clamp(1e-3, 1 - 1e-3)    # (784,)
        model.decoder.bias.copy_(torch.logit(mean_digit))
        model.encoder.bias.fill_(ENCODER_BIAS_INIT)
    return model


# ---------------------------------------------------------------------------------------------
# Data and the error we report

@torch.no_grad()
def reconstruction_error(model: Autoencoder, X: torch.Tensor) -> float:
    """Mean binary cross-entropy per pixel between X (N, 784) and its reconstruction, in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    X = X.to(device)
    err = F.binary_cross_entropy(model(X), X).item()
    model.train(was_training)
    return err


@torch.no_grad()
def per_digit_error(model: Autoencoder, X: torch.Tensor) -> np.ndarray:
    """BCE per pixel of each digit: X (N, 784) -> (N,)."""
    device = next(model.parameters()).device
    X = X.to(device)
    return F.binary_cross_entropy(model(X), X, reduction="none").mean(1).cpu().numpy()


def mean_digit_error(X_train: torch.Tensor, X_test: torch.Tensor) -> float:
    """The "no code" baseline: BCE per pixel of always drawing the average training digit."""
    mean_digit = X_train.float().mean(0, keepdim=True).clamp(1e-3, 1 - 1e-3)     # (1, 784)
    return F.binary_cross_entropy(mean_digit.expand_as(X_test), X_test.float()).item()


# ---------------------------------------------------------------------------------------------
# Training (through the shared loop) and the shipped weights

@dataclass(frozen=True)
class AETrainSettings:
    epochs: int = 40         # passes over the 4,000 training digits
    lr: float = 1e-3         # Adam, as in the course text (Keras' default rate)
    batch_size: int = 64     # 63 steps per epoch
    seed: int = 0            # initial weights and shuffling


def train_autoencoder(latent_dim: int, settings: AETrainSettings = AETrainSettings(), *,
                      X_train: torch.Tensor | None = None, X_test: torch.Tensor | None = None,
                      on_progress: Callable | None = None, should_stop: Callable[[], bool] | None = None,
                      eval_every: int | None = None, device: torch.device | None = None):
    """Train the course text's autoencoder with bigmodel_core.train.fit; returns (model, TrainHistory).

    The target is the input itself: fit(model, (X, X), ..., loss_fn=BCE). The held-out BCE is
    evaluated as "test_bce" after each epoch (or every `eval_every` steps).
    """
    from bigmodel_core.train import TrainConfig, fit
    if latent_dim < 1 or latent_dim > 784:
        raise UserInputError("autoencoder.errors.latent", latent=latent_dim)
    if X_train is None or X_test is None:
        X_train, _, X_test, _ = mnist_tensors(flat=True)
    model = init_autoencoder(AutoencoderConfig(latent_dim=latent_dim), X_train, seed=settings.seed)
    config = TrainConfig(epochs=settings.epochs, lr=settings.lr, batch_size=settings.batch_size,
                         optimizer="adam", seed=settings.seed, report_every=20, eval_every=eval_every)
    history = fit(model, (X_train, X_train), config, loss_fn=F.binary_cross_entropy,
                  evaluate=lambda m: {"test_bce": reconstruction_error(m, X_test)},
                  on_progress=on_progress, should_stop=should_stop, device=device)
    model.eval()
    return model, history


def asset_paths(latent_dim: int, assets_dir: Path = ASSETS) -> tuple[Path, Path]:
    """(weights .safetensors, record .json) of one shipped model."""
    return (assets_dir / f"autoencoder_z{latent_dim}.safetensors",
            assets_dir / f"autoencoder_z{latent_dim}.json")


def save_autoencoder(model: Autoencoder, record: dict, assets_dir: Path = ASSETS) -> None:
    from safetensors.torch import save_file
    weights, rec = asset_paths(model.config.latent_dim, assets_dir)
    assets_dir.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(weights),
              metadata={"latent_dim": str(model.config.latent_dim), "dropout": str(model.config.dropout)})
    rec.write_text(json.dumps(record, indent=2) + "\n")


def load_record(latent_dim: int, assets_dir: Path = ASSETS) -> dict:
    """The JSON record of a shipped model (held-out error, epochs, seed, torch version, how to remake)."""
    return _read_record(asset_paths(latent_dim, assets_dir)[1])


def load_autoencoder(latent_dim: int = 2, device: torch.device | None = None,
                     assets_dir: Path = ASSETS) -> Autoencoder:
    """A shipped autoencoder (latent 2, 8 or 32) in eval mode on get_device()."""
    from safetensors.torch import load_file
    if latent_dim not in LATENT_SIZES:
        raise UserInputError("autoencoder.errors.latent", latent=latent_dim)
    weights, _ = asset_paths(latent_dim, assets_dir)
    model = Autoencoder(AutoencoderConfig(latent_dim=latent_dim))
    model.load_state_dict(load_file(str(weights)))
    return model.to(device or device_for("autoencoder")).eval()


# ---------------------------------------------------------------------------------------------
# What the page shows: codes, decoded points, walks, denoising

@torch.no_grad()
def encode_digits(model: Autoencoder, X: torch.Tensor) -> np.ndarray:
    """Codes of many digits: X (N, 784) -> z (N, latent) as a NumPy array (eval mode: no dropout)."""
    device = next(model.parameters()).device
    return model.encode(X.to(device)).cpu().numpy()


@torch.no_grad()
def decode_point(model: Autoencoder, z) -> np.ndarray:
    """One code (latent,) -> the decoded image (28, 28) in [0, 1]."""
    device = next(model.parameters()).device
    z = torch.as_tensor(np.asarray(z, dtype=np.float32), device=device).reshape(1, -1)   # (1, latent)
    if z.shape[1] != model.config.latent_dim:
        raise UserInputError("autoencoder.errors.code_size", got=z.shape[1], want=model.config.latent_dim)
    return model.decode(z).reshape(28, 28).cpu().numpy()


@torch.no_grad()
def reconstruct(model: Autoencoder, X: torch.Tensor) -> np.ndarray:
    """x_hat = decode(encode(x)) in eval mode: X (N, 784) -> (N, 28, 28)."""
    device = next(model.parameters()).device
    return model.decode(model.encode(X.to(device))).reshape(-1, 28, 28).cpu().numpy()


@torch.no_grad()
def latent_walk(model: Autoencoder, x_a: torch.Tensor, x_b: torch.Tensor, alphas) -> tuple[np.ndarray, np.ndarray]:
    """Walk from digit a to digit b in latent space: z(alpha) = (1 - alpha) z_a + alpha z_b.

    x_a, x_b: (784,). alphas: (S,) in [0, 1]. Returns (codes (S, latent), decoded images (S, 28, 28)).
    """
    device = next(model.parameters()).device
    z_a = model.encode(x_a.reshape(1, -1).to(device))                   # (1, latent)
    z_b = model.encode(x_b.reshape(1, -1).to(device))                   # (1, latent)
    alpha = torch.as_tensor(np.asarray(alphas, dtype=np.float32), device=device).reshape(-1, 1)  # (S, 1)
    z = (1 - alpha) * z_a + alpha * z_b                                  # (S, latent)
    return z.cpu().numpy(), model.decode(z).reshape(-1, 28, 28).cpu().numpy()


def pixel_blend(x_a: torch.Tensor, x_b: torch.Tensor, alphas) -> np.ndarray:
    """The same walk in pixel space, for contrast: (1 - alpha) x_a + alpha x_b -> (S, 28, 28)."""
    alpha = np.asarray(alphas, dtype=np.float32).reshape(-1, 1)          # (S, 1)
    return ((1 - alpha) * x_a.cpu().numpy().reshape(1, -1) + alpha * x_b.cpu().numpy().reshape(1, -1)).reshape(-1, 28, 28)


def add_noise(x: torch.Tensor, strength: float, seed: int = 0) -> torch.Tensor:
    """x + strength * N(0, 1) per pixel, clipped to [0, 1]. x: (..., 784) -> same shape."""
    if not 0.0 <= strength <= 1.0:
        raise UserInputError("autoencoder.errors.noise", strength=strength)
    gen = torch.Generator().manual_seed(seed)
    noise = torch.randn(x.shape, generator=gen).to(x.device)
    return (x + strength * noise).clamp(0.0, 1.0)


# ---------------------------------------------------------------------------------------------
# The latent-2 map: what the page's explorable needs, and the models a learner trains

def decoder_weights(model: Autoencoder) -> tuple[np.ndarray, np.ndarray]:
    """The decoder's parameters as float32 arrays: W' (784, latent) and b' (784,). With them
    x_hat = sigmoid(W' z + b') can be computed anywhere (the browser decodes the map's points)."""
    return (model.decoder.weight.detach().cpu().numpy().astype(np.float32),
            model.decoder.bias.detach().cpu().numpy().astype(np.float32))


@torch.no_grad()
def decode_grid(model: Autoencoder, n: int, z1_hi: float, z2_hi: float) -> np.ndarray:
    """Decoded images of an n x n grid of codes over [0, z1_hi] x [0, z2_hi], row by row with z2
    high at the top (like the map): (n * n, 28, 28). A latent-2 model only."""
    if model.config.latent_dim != 2:
        raise UserInputError("autoencoder.errors.code_size", got=2, want=model.config.latent_dim)
    z1 = np.linspace(0, z1_hi, n)
    z2 = np.linspace(z2_hi, 0, n)
    grid = np.stack(np.meshgrid(z1, z2), -1).reshape(-1, 2).astype(np.float32)   # (n*n, 2): (z1, z2)
    device = next(model.parameters()).device
    return model.decode(torch.as_tensor(grid, device=device)).reshape(-1, 28, 28).cpu().numpy()


def map_domain(codes: np.ndarray) -> tuple[float, float]:
    """The map's upper ends (z1_hi, z2_hi): 8 % above the largest codes, rounded up to a whole number
    (the codes are ReLU outputs, so the map starts at 0)."""
    hi = np.asarray(codes).max(0) * 1.08
    return float(np.ceil(hi[0])), float(np.ceil(hi[1]))


def first_off_axis(codes: np.ndarray, margin: float = 0.5) -> int:
    """The first digit whose code is at least `margin` off both axes (ReLU puts many exactly on one)."""
    return int(np.flatnonzero((np.asarray(codes) > margin).all(1))[0])


def first_of_each_digit(labels: np.ndarray, shift: int = 0) -> np.ndarray:
    """Indices of the (shift)-th example of each class 0..9 (wrapping around a class's count): (10,)."""
    labels = np.asarray(labels)
    return np.array([np.flatnonzero(labels == d)[shift % int((labels == d).sum())] for d in range(10)])


def autoencoder_from_state(latent_dim: int, state: dict) -> Autoencoder:
    """A model rebuilt from a state_dict (a learner's trained weights, kept between reruns), in eval mode."""
    model = Autoencoder(AutoencoderConfig(latent_dim=latent_dim))
    model.load_state_dict(state)
    return model.eval()


@dataclass(frozen=True)
class Denoised:
    """One digit, its noisy copy and each model's reconstruction of the noisy copy, with each one's
    mean squared error against the clean digit."""
    clean: np.ndarray                  # (28, 28)
    noisy: np.ndarray                  # (28, 28)
    outputs: tuple[np.ndarray, ...]    # (28, 28) per model
    mse: tuple[float, ...]             # noisy first, then one per model


def denoise(models: list[Autoencoder], x: torch.Tensor, strength: float, seed: int = 0) -> Denoised:
    """Add noise to one digit x (784,) and let each model rebuild it: how far is each from the clean one?"""
    clean = x.reshape(1, -1)                                        # (1, 784)
    noisy = add_noise(clean, strength, seed=seed)                   # (1, 784)
    outputs = tuple(reconstruct(m, noisy)[0] for m in models)       # (28, 28) each
    c = clean.reshape(28, 28).cpu().numpy()
    n = noisy.reshape(28, 28).cpu().numpy()
    return Denoised(c, n, outputs, tuple(float(((img - c) ** 2).mean()) for img in (n, *outputs)))
