"""POSIX extended regular expressions (``grep -E`` in the C locale) as Python byte patterns.

Why: ``config_grep`` facts that read the same host share one ``grep`` (one process instead of one
a fact; bench/README.md), so the auditor must tell which fact's pattern each line matched. It does
so with this translation, which accepts only the part of ERE whose meaning it reproduces exactly
and raises :class:`Unsupported` for the rest (GNU escapes such as ``\\w`` or ``\\<``, back-references,
equivalence classes, a repetition of a repetition, a leading ``*``...). A pattern it refuses is not
merged: its fact runs its own ``grep`` on the host, as before.

Matching is on bytes, as ``grep`` does with ``LC_ALL=C`` (the batch sets it): ``.`` is one byte,
``[[:alpha:]]`` is ASCII letters, and a non-ASCII character in a bracket stands for its bytes.
``tests/unit/test_ere.py`` compares every translation with a real ``grep -E`` line by line.
"""

from __future__ import annotations

import re
from functools import cache

# POSIX character classes in the C locale, as contents of a Python byte class.
_CLASSES = {
    "alpha": "A-Za-z",
    "digit": "0-9",
    "alnum": "0-9A-Za-z",
    "upper": "A-Z",
    "lower": "a-z",
    "space": " \\t\\n\\r\\f\\v",
    "blank": " \\t",
    "xdigit": "0-9A-Fa-f",
    "punct": re.escape("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
    "cntrl": "\\x00-\\x1f\\x7f",
    "print": "\\x20-\\x7e",
    "graph": "\\x21-\\x7e",
}
_INTERVAL = re.compile(r"\{(\d*)(,(\d*))?\}")
_QUANTIFIERS = "*+?{"


class Unsupported(ValueError):
    """The pattern uses ERE this module does not reproduce exactly."""


def _bytes(char: str) -> str:
    """A literal character as escaped bytes (a non-ASCII one is several: C-locale grep sees bytes)."""
    return "".join(re.escape(chr(b)) if b < 0x80 else f"\\x{b:02x}" for b in char.encode("utf-8"))


def _bracket(pattern: str, i: int) -> tuple[str, int]:
    """The bracket expression starting at pattern[i] == "[": (Python class, index after its "]")."""
    i += 1
    out = "["
    if pattern[i : i + 1] == "^":
        out += "^"
        i += 1
    first = True
    while True:
        if i >= len(pattern):
            raise Unsupported("unterminated bracket expression")
        char = pattern[i]
        if char == "]" and not first:
            return out + "]", i + 1
        first = False
        if pattern.startswith("[:", i):
            end = pattern.find(":]", i + 2)
            name = pattern[i + 2 : end] if end > 0 else ""
            if name not in _CLASSES:
                raise Unsupported(f"character class [:{name}:]")
            out += _CLASSES[name]
            i = end + 2
            if pattern[i : i + 1] == "-" and pattern[i + 1 : i + 2] != "]":
                raise Unsupported("a range that starts with a character class")
            continue
        if pattern.startswith(("[.", "[="), i):
            raise Unsupported("collating elements and equivalence classes")
        if pattern[i + 1 : i + 2] == "-" and pattern[i + 2 : i + 3] not in ("", "]"):
            low, high = char, pattern[i + 2]
            if not (low.isascii() and high.isascii()) or high == "[" or ord(low) > ord(high):
                raise Unsupported(f"range {low}-{high}")
            out += f"{re.escape(low)}-{re.escape(high)}"
            i += 3
            continue
        out += _bytes(char)  # "\" is literal in a POSIX bracket; re.escape keeps it so in Python
        i += 1


@cache
def translate(pattern: str) -> re.Pattern[bytes]:
    """The compiled Python equivalent of an ERE, or :class:`Unsupported`."""
    out: list[str] = []
    i = 0
    can_repeat = False  # is there an atom for a quantifier to apply to?
    while i < len(pattern):
        char = pattern[i]
        if char in _QUANTIFIERS:
            if char == "{":
                interval = _INTERVAL.match(pattern, i)
                if interval is None or (not interval[1] and not interval[3]):
                    raise Unsupported("a '{' that does not start an interval")
                low, high = interval[1], interval[3]
                if high and int(high) < int(low or 0):
                    raise Unsupported("an interval whose end is below its start")
                token, i = interval[0], interval.end()
            else:
                token, i = char, i + 1
            if not can_repeat:
                raise Unsupported(f"{token!r} with nothing to repeat, or a repetition of a repetition")
            out.append(token)
            can_repeat = False
            continue
        if char == "\\":
            escaped = pattern[i + 1 : i + 2]
            if not escaped or escaped.isalnum() or escaped in "<>`'":
                raise Unsupported(f"the escape \\{escaped} (GNU extensions and back-references)")
            out.append(_bytes(escaped))
            i += 2
        elif char == "[":
            piece, i = _bracket(pattern, i)
            out.append(piece)
        elif char in "().|^$":
            # Empty groups and alternatives are refused, not reasoned about.
            if char in ")|" and (not out or out[-1] in ("(", "|")):
                raise Unsupported("an empty group or alternative")
            out.append(char)
            i += 1
            can_repeat = char in ".)"
            continue
        else:
            out.append(_bytes(char))
            i += 1
        can_repeat = True
    if out and out[-1] == "|":
        raise Unsupported("an empty alternative")
    try:
        return re.compile("".join(out).encode("ascii"))
    except re.error as exc:
        raise Unsupported(str(exc)) from None


def as_bytes(text: str) -> bytes:
    """Text back to the bytes grep saw (exact for UTF-8; other bytes arrive as U+FFFD and may differ)."""
    return text.encode("utf-8", "surrogateescape")
