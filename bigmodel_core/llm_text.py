"""Text for the LLM pages: the learner's prompt checked, and tokens shown as the characters they make.

A byte-level BPE (Radford et al. 2019, GPT-2 §2.2) works on UTF-8 bytes, so one Chinese character
(3 bytes) or one emoji (4 bytes) may be split over several tokens, none of which is a character on
its own. To colour generated text token by token, consecutive tokens are grouped until their bytes
decode (token_spans). Invisible characters cost tokens too: check_text counts them so the page can
say so, and removes control characters such as NUL that no tokenizer should see.

    check_text(text, max_chars) -> CheckedText     # UserInputError: empty, too long
    token_spans(pieces) -> [(text, [token indices])]
    repeated_ngram_share(ids, n) -> float          # why greedy text repeats itself
    visible(piece) -> str                          # spaces and newlines drawn as ␣ ↵ ⇥
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bigmodel_core.errors import UserInputError

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")   # zero-width space / non-joiner / joiner, word joiner, BOM
KEEP_CONTROLS = frozenset("\n\t")


@dataclass(frozen=True)
class CheckedText:
    text: str               # what the tokenizer reads: control characters removed
    removed_controls: int   # NUL and other C0/C1 control characters taken out (newline and tab stay)
    zero_width: int         # invisible characters kept (each costs tokens)
    emoji: int              # characters outside the Basic Multilingual Plane or symbols (4 UTF-8 bytes)


def _is_emoji(ch: str) -> bool:
    return ord(ch) >= 0x1F000 or (unicodedata.category(ch) == "So" and ord(ch) >= 0x2600)


def check_text(text: str, max_chars: int, *, key: str = "llm_text") -> CheckedText:
    """The learner's text, refused when empty or longer than max_chars (a 1 MB paste is never tokenized).

    Raises UserInputError(f"{key}.errors.empty" / ".too_long"); control characters are removed and
    counted, zero-width characters and emoji are counted (the page explains what they cost).
    """
    if len(text) > max_chars:
        raise UserInputError(f"{key}.errors.too_long_chars", n_chars=f"{len(text):,}", max_chars=f"{max_chars:,}")
    kept = [ch for ch in text if ch in KEEP_CONTROLS or unicodedata.category(ch) != "Cc"]
    clean = "".join(kept)
    if not clean.strip() or all(ch in ZERO_WIDTH or ch.isspace() for ch in clean):
        raise UserInputError(f"{key}.errors.empty")
    return CheckedText(text=clean, removed_controls=len(text) - len(clean),
                       zero_width=sum(ch in ZERO_WIDTH for ch in clean),
                       emoji=sum(_is_emoji(ch) for ch in clean))


def token_spans(pieces: list[bytes]) -> list[tuple[str, list[int]]]:
    """Group consecutive tokens' bytes until they decode as UTF-8: [(text, [indices of its tokens])].

    A Chinese character split over two tokens becomes one span with both indices. Bytes that never
    complete a character (the text was cut mid-character) are shown with U+FFFD.
    """
    spans, buf, idx = [], b"", []
    for i, piece in enumerate(pieces):
        buf += piece
        idx.append(i)
        try:
            spans.append((buf.decode("utf-8"), idx))
            buf, idx = b"", []
        except UnicodeDecodeError:
            if len(buf) > 8:                      # longer than any character: not going to complete
                spans.append((buf.decode("utf-8", errors="replace"), idx))
                buf, idx = b"", []
    if idx:
        spans.append((buf.decode("utf-8", errors="replace"), idx))
    return spans


def short_label(text: str, columns: int) -> str:
    """`text` cut to fit `columns` character cells, a wide (CJK, emoji) character taking two, with "…"
    when cut: a button label that fits a phone's column in any language."""
    width = 0
    for i, ch in enumerate(text):
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
        if width > columns:
            return text[:i] + "…"
    return text


def repeated_ngram_share(ids: list[int], n: int = 4) -> float:
    """Share of the n-grams in ids that already appeared earlier in ids (0: no repeats, near 1: a loop).

    Greedy decoding (T = 0) always takes the argmax, so once a phrase makes itself the most likely
    continuation it comes back again and again (Holtzman et al. 2020, §3).
    """
    grams = [tuple(ids[i:i + n]) for i in range(len(ids) - n + 1)]
    if not grams:
        return 0.0
    seen, repeats = set(), 0
    for g in grams:
        repeats += g in seen
        seen.add(g)
    return repeats / len(grams)


def visible(piece: str) -> str:
    """A token's text with its whitespace made visible: ' the' -> '␣the', '\\n' -> '↵'."""
    return piece.replace(" ", "␣").replace("\n", "↵").replace("\t", "⇥")


# ---------------------------------------------------------------------------------------------
# Two tokenizers side by side: byte-level BPE (the LLM) and WordPiece (MiniLM)

@dataclass(frozen=True)
class Tokenization:
    pieces: list[str]       # each token's text as the tokenizer shows it
    ids: list[int]
    n_chars: int            # characters of the text
    n_bytes: int            # its UTF-8 bytes
    n_unk: int = 0          # [UNK] tokens (WordPiece only: byte-level BPE never needs one)

    @property
    def n_tokens(self) -> int:
        return len(self.ids)

    @property
    def tokens_per_char(self) -> float:
        return self.n_tokens / max(1, self.n_chars)


def bpe_tokenization(llm, text: str) -> Tokenization:
    """The LLM's byte-level BPE: pieces of a multi-byte character show as their bytes (<0xE4>)."""
    ids = llm.encode(text)
    return Tokenization(pieces=llm.token_strings(ids), ids=ids, n_chars=len(text),
                        n_bytes=len(text.encode("utf-8")))


def wordpiece_tokenization(tokenizer, text: str) -> Tokenization:
    """MiniLM's WordPiece (a `tokenizers.Tokenizer`), without [CLS]/[SEP]: pieces, ids, [UNK] count."""
    enc = tokenizer.encode(text, add_special_tokens=False)
    unk = tokenizer.token_to_id("[UNK]")
    return Tokenization(pieces=list(enc.tokens), ids=list(enc.ids), n_chars=len(text),
                        n_bytes=len(text.encode("utf-8")), n_unk=sum(i == unk for i in enc.ids))
