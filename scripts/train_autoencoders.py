"""Remake assets/autoencoder_z{2,8,32}.safetensors and their JSON records (fixed seeds, CPU).

    .venv/bin/python scripts/train_autoencoders.py            # all three, about 1-2 minutes on 2 cores
    .venv/bin/python scripts/train_autoencoders.py --latent 2

The seed's autoencoder (seed 000 §3.3, §4.3: 784 -> latent -> 784, ReLU code, dropout 0.5 on the
code while training, sigmoid output, binary cross-entropy, Adam) trained on the shared MNIST split's
4,000 training digits with bigmodel_core.train.fit; the record holds the error on the 1,000 held-out
digits, measured after loading the saved file back.
"""
from __future__ import annotations

import argparse
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bigmodel_core.data import ASSETS, mnist_tensors  # noqa: E402
from bigmodel_core.models.autoencoder import (LATENT_SIZES, AETrainSettings, load_autoencoder,  # noqa: E402
                                              reconstruction_error, save_autoencoder, train_autoencoder)

SETTINGS = AETrainSettings(epochs=40, lr=1e-3, batch_size=64, seed=0)


def train_one(latent_dim: int, assets_dir: Path = ASSETS) -> dict:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    X_train, _, X_test, _ = mnist_tensors(flat=True)
    cpu = torch.device("cpu")
    t0, c0 = time.perf_counter(), time.process_time()
    model, history = train_autoencoder(latent_dim, SETTINGS, X_train=X_train, X_test=X_test, device=cpu)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    record = {
        "model": "seed 000 §3.3/§4.3 autoencoder: Linear(784, latent) + ReLU -> Dropout(0.5) -> "
                 "Linear(latent, 784) + sigmoid; loss binary cross-entropy; Adam",
        "latent_dim": latent_dim,
        "data": "bigmodel_core.data.load_mnist(): 4,000 training / 1,000 held-out MNIST digits (seed 0 split)",
        **asdict(SETTINGS),
        "init": "PyTorch default, then decoder bias = logit(mean training digit), encoder bias = 0.5",
        "steps": history.steps[-1] if history.steps else 0,
        "train_bce_last": history.train_loss[-1],
        "test_bce": None,                      # filled in from the reloaded file below
        "test_bce_by_epoch": [round(e["test_bce"], 5) for e in history.evals],
        "training_seconds": round(seconds, 1),          # wall clock (a shared machine is slower)
        "training_cpu_seconds": round(cpu_seconds, 1),  # CPU time of this process, all threads
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": "cpu",
        "remake": f".venv/bin/python scripts/train_autoencoders.py --latent {latent_dim}",
    }
    save_autoencoder(model, record, assets_dir)
    reloaded = load_autoencoder(latent_dim, device=cpu, assets_dir=assets_dir)
    record["test_bce"] = reconstruction_error(reloaded, X_test)
    record["test_mse"] = float(torch.nn.functional.mse_loss(reloaded(X_test), X_test).item())
    save_autoencoder(reloaded, record, assets_dir)
    return record


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--latent", type=int, choices=LATENT_SIZES, action="append",
                    help="latent size(s) to train (default: all)")
    args = ap.parse_args(argv)
    for d in args.latent or LATENT_SIZES:
        rec = train_one(d)
        print(f"autoencoder z={d}: held-out BCE {rec['test_bce']:.4f}, MSE {rec['test_mse']:.4f}, "
              f"{rec['training_seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
