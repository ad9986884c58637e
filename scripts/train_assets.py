"""Remake every trained asset in assets/ (`make assets`): runs main() of each scripts/train_*.py.

Each script trains with a fixed seed on the fixed MNIST split (bigmodel_core.data.load_mnist) and
writes its weights as safetensors plus a JSON record of how they were made.

    python scripts/train_assets.py            # all
    python scripts/train_assets.py cnn        # only scripts whose name contains "cnn"
"""
import importlib.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    only = argv[0] if argv else ""
    scripts = sorted(p for p in (ROOT / "scripts").glob("train_*.py")
                     if p.name != "train_assets.py" and only in p.stem)
    for path in scripts:
        spec = importlib.util.spec_from_file_location(f"scripts.{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        t0 = time.perf_counter()
        print(f"== {path.name}", flush=True)
        module.main()
        print(f"== {path.name}: {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
