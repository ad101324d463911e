"""Evidence text: the time a reading was taken, secrets masked, and the excerpts kept and shown.

Two excerpts, for two readers: ``stored_excerpt`` is what a verdict's evidence keeps of a command's
output (secrets masked, cut at STORED_EXCERPT_CHARS with a note of what was cut); ``shown_excerpt``
is the head of stored evidence that a report prints (so many lines and characters, and how many
characters it left out, for the report to point at results.json).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

STORED_EXCERPT_CHARS = 4000
SHOWN_EXCERPT_CHARS = 1200
SHOWN_EXCERPT_LINES = 25

# Not \b: DB_PASSWORD and app.secret are secrets too (an underscore is a word character for \b).
# The value is on the word's line: sshd's "permitrootlogin without-password" must not mask the next line.
_SECRET = re.compile(
    r"(?i)(?<![a-z0-9])(password|passwd|passphrase|secret|token|api[_-]?key)([ \t]*[=:][ \t]*|[ \t]+)(\S+)"
)
_SECRET_WORDS = ("pass", "secret", "token", "api")  # every match of _SECRET holds one, casefolded


def now() -> str:
    """The time of a reading, as evidence records it: ISO 8601 UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def redact(text: str) -> str:
    """Mask values that look like secrets before output leaves the host's evidence for a report."""
    folded = text.casefold()
    if not any(word in folded for word in _SECRET_WORDS):  # most output: the regex never runs
        return text
    return _SECRET.sub(
        lambda m: (
            m.group(1) + m.group(2) + "********" if m.group(3).lower() not in ("no", "yes", "none") else m.group(0)
        ),
        text,
    )


def stored_excerpt(text: str, limit: int = STORED_EXCERPT_CHARS) -> str:
    """What evidence keeps of an output: secrets masked, at most ``limit`` characters and a note of the rest."""
    text = redact(text)
    return text if len(text) <= limit else text[:limit] + f"\n… [{len(text) - limit} more characters]"


def shown_excerpt(text: str, chars: int = SHOWN_EXCERPT_CHARS, lines: int = SHOWN_EXCERPT_LINES) -> tuple[str, int]:
    """The head of ``text`` a report shows and how many characters were left out."""
    head = "\n".join(text.splitlines()[:lines])[:chars]
    return head, max(0, len(text) - len(head))
