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

# Not \b: DB_PASSWORD and app.secret are secrets too (an underscore is a word character for \b); but
# not inside a word either: sudo's NOPASSWD is no key. The value is on the word's line: sshd's
# "permitrootlogin without-password" must not mask the next line. Also: PGPASSWORD, Redis's
# requirepass/masterauth, keepalived's auth_pass, a quoted key ("password": "x", 'token' => 'x') and
# an XML element (<password>x</password>).
_SECRET = re.compile(
    r"(?i)(?<![a-z0-9])"
    r"(password|passwd|passphrase|secret|token|api[_-]?key|pgpassword|requirepass|masterauth|[a-z0-9]+_pass)"
    r"([\"']?[ \t]*(?:=>|[=:])[ \t]*|>|[ \t]+)(\S+)"
)
_SECRET_WORDS = ("pass", "secret", "token", "api", "auth")  # every match of _SECRET holds one, casefolded
# A password in a URL's user part (postgresql://app:PASSWORD@db/app), as inventory.redact masks it.
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/@:\s]*:)[^@/\s]+@")


def now() -> str:
    """The time of a reading, as evidence records it: ISO 8601 UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def redact(text: str) -> str:
    """Mask values that look like secrets before output leaves the host's evidence for a report."""
    if "://" in text:
        text = _URL_PASSWORD.sub(r"\1********@", text)
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
