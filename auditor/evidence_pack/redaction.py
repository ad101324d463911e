"""Evidence masked before it is packed, with the reports' own rule (``redact``), applied so that each
file stays what it was: JSON is masked value by value (a masked value must not swallow a closing
quote), HTML text between tags (tags, inline scripts and styles are kept: the report's CSP hashes
cover them), other text as a whole. Bytes that are not UTF-8 text are packed as they are."""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.engine import redact

_HTML_KEPT = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)", re.S | re.I)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    return value


def _json(text: str) -> str | None:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return None
    masked = _masked(document)
    if masked == document:
        return text  # byte for byte the file the officer holds
    return json.dumps(masked, ensure_ascii=False, indent=1) + "\n"


def _json_lines(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        masked = _json(body) if body.strip() else body
        if masked is None:
            masked = redact(body)
        elif masked != body:
            masked = json.dumps(json.loads(masked), ensure_ascii=False)
        lines.append(masked + line[len(body) :])
    return "".join(lines)


def _html(text: str) -> str:
    parts = _HTML_KEPT.split(text)
    # split() with one group alternates text, kept markup, text, …
    return "".join(part if i % 2 else redact(part) for i, part in enumerate(parts))


def redacted(name: str, data: bytes) -> bytes:
    """``data`` of the file ``name`` with secret-looking values masked."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data
    lowered = name.lower()
    if lowered.endswith(".json"):
        masked = _json(text)
        out = masked if masked is not None else redact(text)
    elif lowered.endswith(".jsonl"):
        out = _json_lines(text)
    elif lowered.endswith((".html", ".htm")):
        out = _html(text)
    else:
        out = redact(text)
    return data if out == text else out.encode("utf-8")
