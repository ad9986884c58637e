"""Train the seeds' CNN on the fixed MNIST split and write assets/cnn_mnist.safetensors + cnn_mnist.json.

    .venv/bin/python -m scripts.train_cnn            # about 2-4 minutes on 2 CPU cores

Fixed seeds everywhere (split, initialization, augmentation, shuffling), so a rerun with the same torch
version on the same kind of device gives the same weights. The training set is load_mnist()'s 4,000
digits plus AUG_COPIES randomly rotated / scaled / shifted copies of each (made once, with a fixed
seed, before training), the same augmentation idea as the seeds' data-preprocessing step. Training
uses bigmodel_core.train.fit, the loop every page uses; the learning rate decays linearly to 10%.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bigmodel_core.data import MNIST_SPLIT_SEED, MNIST_TEST_PER_CLASS, load_mnist  # noqa: E402
from bigmodel_core.models.cnn import RECORD_PATH, WEIGHTS_PATH, new_cnn  # noqa: E402
from bigmodel_core.data import mnist_tensors  # noqa: E402
from bigmodel_core.train import TrainConfig, accuracy, fit, make_optimizer  # noqa: E402

SEED = 0
AUG_COPIES = 4          # augmented copies per training digit (plus the original)
CONFIG = TrainConfig(epochs=3, lr=1e-3, batch_size=64, optimizer="adam", seed=SEED, report_every=50)


def augment(X: torch.Tensor, copies: int, seed: int) -> torch.Tensor:
    """`copies` random affine versions of every image: rotation +-12 deg, scale 0.9-1.1, shift +-2 px.

    X: (N, 1, 28, 28) -> (copies * N, 1, 28, 28), made with torch's affine_grid + grid_sample.
    """
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(copies):
        N = X.shape[0]
        angle = (torch.rand(N, generator=gen) * 2 - 1) * math.radians(12)
        scale = 0.9 + 0.2 * torch.rand(N, generator=gen)
        shift = (torch.rand(N, 2, generator=gen) * 2 - 1) * (2 / 14)        # 2 px in [-1, 1] coordinates
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                             torch.stack([sin, cos, shift[:, 1]], 1)], 1)  # (N, 2, 3)
        grid = F.affine_grid(theta, list(X.shape), align_corners=False)     # (N, 28, 28, 2)
        out.append(F.grid_sample(X, grid, align_corners=False, padding_mode="zeros"))
    return torch.cat(out)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=CONFIG.epochs)
    parser.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    args = parser.parse_args(argv if argv is not None else [])   # main() from train_assets.py: defaults
    from safetensors.torch import save_file

    torch.manual_seed(SEED)
    split = load_mnist()
    X_train, y_train, X_test, y_test = mnist_tensors()
    X_aug = torch.cat([X_train, augment(X_train, AUG_COPIES, SEED)])          # (5 * 4000, 1, 28, 28)
    y_aug = y_train.repeat(AUG_COPIES + 1)
    config = TrainConfig(**{**CONFIG.__dict__, "epochs": args.epochs})
    model = new_cnn(SEED)
    opt = make_optimizer(model.parameters(), config)
    total = config.epochs * math.ceil(len(X_aug) / config.batch_size)
    step = [0]

    def decay_lr(_model):                                  # linear decay to 10% of lr over the run
        step[0] += 1
        for group in opt.param_groups:
            group["lr"] = config.lr * (1 - 0.9 * step[0] / total)

    def evaluate(m):
        return {"test_acc": accuracy(m, X_test, y_test)}

    def progress(ev):
        if ev.metrics:
            print(f"epoch {ev.epoch + 1}: step {ev.step}/{ev.total_steps} loss {ev.train_loss:.4f} "
                  f"test acc {ev.metrics['test_acc']:.4f} ({ev.elapsed_s:.0f} s)", flush=True)

    t0 = time.time()
    hist = fit(model, (X_aug, y_aug), config, loss_fn=F.cross_entropy, evaluate=evaluate,
               on_progress=progress, optimizer=opt, after_step=decay_lr, device=torch.device("cpu"))
    model = model.cpu().eval()
    test_acc = accuracy(model, X_test, y_test)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(args.out))
    record = {
        "model": "bigmodel_core.models.cnn.CNN (seed 002 §4.1): Conv32-Pool-Conv64-Pool-FC128-FC10",
        "parameters": sum(p.numel() for p in model.parameters()),
        "data": {"source": split.source, "split_seed": MNIST_SPLIT_SEED, "train_size": len(y_train),
                 "test_size": len(y_test), "test_per_class": MNIST_TEST_PER_CLASS,
                 "augmentation": f"{AUG_COPIES} copies per digit: rotation ±12°, scale 0.9-1.1, shift ±2 px "
                                 f"(seed {SEED}); {len(y_aug)} training images in all"},
        "training": {"loop": "bigmodel_core.train.fit", "epochs": config.epochs, "optimizer": "Adam",
                     "lr": config.lr, "lr_schedule": "linear decay to 10%", "batch_size": config.batch_size,
                     "loss": "cross-entropy", "seed": SEED, "steps": hist.steps[-1] if hist.steps else 0,
                     "seconds": round(time.time() - t0, 1), "device": "cpu", "reason": hist.reason},
        "test_accuracy": round(test_acc, 4),
        "epoch_test_accuracy": [round(e["test_acc"], 4) for e in hist.evals],
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "weights": args.out.name,
        "remake": "python -m scripts.train_cnn  (or scripts/train_assets.py, which calls main())",
    }
    out_json = args.out.with_suffix(".json") if args.out != WEIGHTS_PATH else RECORD_PATH
    out_json.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"test accuracy {test_acc:.4f}; wrote {args.out} and {out_json.name}")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
