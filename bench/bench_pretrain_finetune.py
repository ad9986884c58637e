"""Compute benchmarks of the pre-training / fine-tuning page: the digit comparison for N = 100 (three
classifiers trained), and one review classified by the LoRA-fine-tuned SmolLM2."""
from __future__ import annotations

import time

import numpy as np
import torch

from bench.record import record
from bigmodel_core.data import ASSETS, mnist_tensors
from bigmodel_core.pretrain import compare


def main() -> None:
    X_train, y_train, X_test, y_test = mnist_tensors(flat=True)
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = compare(100, X_train, y_train, X_test, y_test)
        runs.append(time.perf_counter() - t0)
    med = float(np.median(runs))
    record("pretrain_digits_n100", page="pretrain_finetune",
           what="digits: scratch vs linear probe vs fine-tune-all on N = 100 labels (3 x 200 Adam steps + held-out eval), median of 3",
           value=med, unit="s", target="<= 20 s", ok=med <= 20,
           detail={"threads": torch.get_num_threads(), "acc": {r["method"]: r["test_acc"] for r in res}})

    from safetensors.torch import load_file
    from bigmodel_core.lora import add_lora, classify, load_lora_state, prefix_cache, prompt_parts
    from bigmodel_core.models.llm import load_llm
    llm = load_llm.__wrapped__()
    add_lora(llm.model)
    load_lora_state(llm.model, load_file(str(ASSETS / "lora_sentiment.safetensors")))
    cache = prefix_cache(llm.model, prompt_parts(llm, "")[0])
    times = []
    for text in ("质量很好，推荐购买", "太差了，再也不来了", "物流很快，包装完好", "房间很小而且很吵"):
        t0 = time.perf_counter()
        classify(llm, llm.model, cache, text)
        times.append((time.perf_counter() - t0) * 1000)
    med = float(np.median(times))
    record("lora_classify_review", page="pretrain_finetune",
           what="fine-tuned SmolLM2 (LoRA) classifies one review after the cached prompt prefix, median of 4",
           value=med, unit="ms", target="<= 300 ms", ok=med <= 300, detail={"threads": torch.get_num_threads()})


if __name__ == "__main__":
    main()
