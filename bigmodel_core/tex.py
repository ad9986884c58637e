"""Learner text inside a formula: one escaping rule for every KaTeX line that shows typed text.

A typed sentence, a character the RNN predicts or a word-piece token can hold any of LaTeX's ten
special characters (`\\ { } # $ % & _ ^ ~`); put raw into `\\text{...}` they end the group early or
start a command, and KaTeX shows a red parse error instead of the formula. Each becomes the text-mode
command that prints it (the table below, from the LaTeX manual's "special characters", all supported
by KaTeX), control characters become spaces, and every other character (CJK, emoji) is kept.

    tex_text("100% {a}_b")   ->  r"\\text{100\\% \\{a\\}\\_b}"
"""
from __future__ import annotations

TEXT_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "#": r"\#",
    "$": r"\$",
    "%": r"\%",
    "&": r"\&",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
}


def escape_text(s: str) -> str:
    """`s` written so that LaTeX text mode prints it as typed (no \\text{} around it)."""
    return "".join(TEXT_ESCAPES.get(c, " " if ord(c) < 32 or ord(c) == 127 else c) for c in s)


def tex_text(s: str) -> str:
    """`s` as a `\\text{...}` group that prints it as typed, inside any KaTeX formula."""
    return r"\text{" + escape_text(s) + "}"
