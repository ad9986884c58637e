"""Learner text in formulas: what tex_text writes reads back as the typed text under LaTeX's own
text-mode rules (a small independent reader below), with every group closed."""
import random
import re

import pytest

from bigmodel_core.tex import escape_text, tex_text

SPECIAL = "\\{}#$%&_^~"
# LaTeX text mode: a control word (letters) swallows the spaces after it and an empty {} ends it;
# a control symbol (\ and one non-letter) prints that character. Only these words are allowed.
WORDS = {"textbackslash": "\\", "textasciicircum": "^", "textasciitilde": "~"}


def read_text_mode(tex: str) -> str:
    """What LaTeX prints for the body of a \\text{...} (the subset tex_text may produce)."""
    out, i = [], 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+)(\{\})?", tex[i:])
            if m:
                assert m.group(1) in WORDS, m.group(0)
                assert m.group(2), "a control word must be closed by {} or the next letters join it"
                out.append(WORDS[m.group(1)])
                i += m.end()
            else:
                assert tex[i + 1] in "{}#$%&_", tex[i:i + 2]
                out.append(tex[i + 1])
                i += 2
        else:
            assert c not in SPECIAL, f"unescaped {c!r} in {tex!r}"
            out.append(c)
            i += 1
    return "".join(out)


CASES = ["100% {a}_b\\c #&$^~", "hello", "", "\\text{x}", "}}}{{{", "a^2_3", "~~", "\\\\", "\\{", "我爱你",
         "👍 ok", "tab\there", "it's \"quoted\""]


@pytest.mark.parametrize("s", CASES)
def test_escaped_text_reads_back_as_typed(s):
    expected = "".join(" " if ord(c) < 32 else c for c in s)
    assert read_text_mode(escape_text(s)) == expected
    assert tex_text(s) == r"\text{" + escape_text(s) + "}"


def test_random_strings_of_special_characters_read_back():
    rng = random.Random(0)
    alphabet = SPECIAL + "ab 1é中😀'\""
    for _ in range(500):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert read_text_mode(escape_text(s)) == s


def test_control_characters_become_spaces():
    assert escape_text("a\nb\x7fc") == "a b c"
