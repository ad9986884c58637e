"""Adversarially fine-tune the bundled CNN (FGSM, Goodfellow et al. 2015) and record what it bought.

    .venv/bin/python -m scripts.train_robust_cnn         # about 1-2 minutes on 2 CPU cores

Starts from assets/cnn_mnist.safetensors, fine-tunes on load_mnist()'s 4,000 training digits mixed
with FGSM copies made against the current weights (bigmodel_core.robustness.adversarial_finetune,
which trains through bigmodel_core.train.fit), and writes assets/cnn_mnist_adv.safetensors plus
cnn_mnist_adv.json: the settings, and the held-out accuracy of both models, clean and under FGSM and
PGD at several eps, on the same held-out digits. Fixed seeds. (scripts/train_assets.py runs the
train_*.py scripts in name order, so this one runs after train_cnn.py, whose weights it starts from.)
"""
from __future__ import annotations

import json
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bigmodel_core.data import load_mnist  # noqa: E402
from bigmodel_core.models.cnn import load_cnn  # noqa: E402
from bigmodel_core.data import ASSETS, mnist_tensors  # noqa: E402
from bigmodel_core.robustness import AdvTrainConfig, adversarial_finetune, robustness_report  # noqa: E402

OUT = ASSETS / "cnn_mnist_adv.safetensors"
RECORD = ASSETS / "cnn_mnist_adv.json"
CONFIG = AdvTrainConfig(eps=0.2, epochs=3, lr=3e-4, batch_size=64, regenerate_every=8, seed=0)
EPS_REPORT = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)   # FGSM on all 1,000 held-out digits
EPS_PGD = (0.0, 0.1, 0.2, 0.3)                          # PGD (10 steps each) on the first 500
PGD_DIGITS = 500
PGD_STEPS = 10


def main(argv: list[str] | None = None) -> dict:
    from safetensors.torch import save_file

    torch.manual_seed(CONFIG.seed)
    split = load_mnist()
    X_train, y_train, X_test, y_test = mnist_tensors()
    cpu = torch.device("cpu")
    base = load_cnn(device=cpu)
    model = load_cnn(device=cpu)
    t0 = time.time()
    res = adversarial_finetune(model, X_train, y_train, CONFIG,
                               on_progress=lambda i, n, loss: print(f"chunk {i}/{n}: loss {loss:.4f}", flush=True)
                               if i % 20 == 0 else None)
    seconds = time.time() - t0
    if res.reason != "finished":
        raise SystemExit(f"adversarial fine-tune ended early: {res.reason} at step {res.diverged_at}")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(OUT))
    before = robustness_report(base, X_test, y_test, EPS_REPORT, EPS_PGD, PGD_DIGITS, PGD_STEPS)
    after = robustness_report(model, X_test, y_test, EPS_REPORT, EPS_PGD, PGD_DIGITS, PGD_STEPS)
    record = {
        "model": "bigmodel_core.models.cnn.CNN, adversarially fine-tuned from cnn_mnist.safetensors",
        "method": "FGSM adversarial training (Goodfellow et al. 2015): batches of clean digits and FGSM copies "
                  "made against the current weights, re-made every regenerate_every steps",
        "data": {"source": split.source, "train_size": len(y_train), "test_size": len(y_test)},
        "training": {"loop": "bigmodel_core.train.fit via bigmodel_core.robustness.adversarial_finetune",
                     **CONFIG.__dict__, "optimizer": "Adam", "steps": res.steps,
                     "seconds": round(seconds, 1), "device": "cpu", "reason": res.reason},
        "evaluation": {"fgsm_digits": len(y_test), "pgd_digits": PGD_DIGITS, "pgd_steps": PGD_STEPS,
                       "pgd_alpha": "2.5 eps / steps",
                       "standard": before, "adversarial": after},
        "torch_version": torch.__version__,
        "python_version": platform.python_version(),
        "weights": OUT.name,
        "remake": "python -m scripts.train_robust_cnn  (or scripts/train_assets.py, which calls main())",
    }
    RECORD.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    fmt = lambda r: " ".join(f"{row['eps']:g}:{row['accuracy']:.3f}" for row in r)  # noqa: E731
    print(f"standard: clean {before['clean_accuracy']:.4f} FGSM {fmt(before['fgsm'])} PGD {fmt(before['pgd'])}")
    print(f"adversarial: clean {after['clean_accuracy']:.4f} FGSM {fmt(after['fgsm'])} PGD {fmt(after['pgd'])}")
    print(f"{seconds:.0f} s; wrote {OUT.name} and {RECORD.name}")
    return record


if __name__ == "__main__":
    main(sys.argv[1:])
