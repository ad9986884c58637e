"""Remake assets/compression.json and assets/compression_students.safetensors (fixed seeds, CPU).

    .venv/bin/python scripts/train_compression.py        # about 5-10 minutes on 2 busy cores

Runs bigmodel_core.compress_results on the shipped CNN (assets/cnn_mnist.safetensors) and the shared
MNIST split: the quantization table (2..8 bits, per tensor / per channel, whole CNN and one layer at a
time), the pruning curves (global / per layer, 0-99 %, with and without a 30-step fine-tune), the
distillation grid (the 3,322-weight student at T in 1..16, alpha in 0.5, 0.9, 1, and on hard labels),
and the speed of teacher and student on the 1,000 held-out digits.
"""
from __future__ import annotations

import json
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

from bigmodel_core.compress_results import (FINETUNE, RESULTS_PATH, STUDENTS_PATH, distillation_grid,  # noqa: E402
                                            load_student, ms_per_digit, pruning_curve, quantization_table)
from bigmodel_core.models.cnn import count_parameters, load_cnn  # noqa: E402
from bigmodel_core.data import mnist_tensors  # noqa: E402


def main() -> None:
    torch.set_num_threads(1)                      # small models; a busy shared machine
    cpu = torch.device("cpu")
    X_train, y_train, X_test, y_test = mnist_tensors()
    teacher = load_cnn(device=cpu)
    t0 = time.perf_counter()
    out = {"record": {
        "script": "scripts/train_compression.py",
        "teacher": "assets/cnn_mnist.safetensors (bigmodel_core.models.cnn.CNN)",
        "data": "bigmodel_core.data.load_mnist(): 4,000 training / 1,000 held-out digits (seed 0 split)",
        "finetune": asdict(FINETUNE), "torch": torch.__version__, "python": platform.python_version(),
        "device": "cpu, 1 thread"}}
    print("quantization ...", flush=True)
    out["quantization"] = quantization_table(teacher, X_test, y_test)
    print("distillation ...", flush=True)
    distill, tensors = distillation_grid(teacher, X_train, y_train, X_test, y_test)
    save_file(tensors, str(STUDENTS_PATH))
    hard = load_student("hard")
    distill["teacher_params"] = count_parameters(teacher)
    distill["student_params"] = count_parameters(hard)
    distill["teacher_ms_per_digit"] = ms_per_digit(teacher, X_test)
    distill["student_ms_per_digit"] = ms_per_digit(hard, X_test)
    out["distillation"] = distill
    print("pruning ...", flush=True)
    out["pruning"] = pruning_curve(teacher, (X_train, y_train), X_test, y_test)
    out["record"]["seconds"] = round(time.perf_counter() - t0, 1)
    RESULTS_PATH.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {RESULTS_PATH.name} and {STUDENTS_PATH.name} in {out['record']['seconds']} s", flush=True)


if __name__ == "__main__":
    main()
