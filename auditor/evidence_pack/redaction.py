"""Evidence masked before it is packed, with the reports' own rule (``redact``) on the same values: the
excerpts of what a host printed. In JSON those are the ``output`` and ``stderr`` values of evidence
records (results.json, hosts.jsonl, drill.json), masked value by value so the file stays valid; in
HTML the text of ``<pre class="evidence-output">`` blocks, where the report shows them. Commands,
reasons and the catalog's remediation texts are ours, not the host's, and are left alone (the rule
would otherwise mangle "passwd -l NAME"). Other text files are masked whole; bytes that are not
UTF-8 text are packed as they are."""

from __future__ import annotations

import json
import re
from typing import Any

from auditor.engine import redact

EVIDENCE_KEYS = frozenset({"output", "stderr"})
_EVIDENCE_BLOCK = re.compile(r'(<pre\b[^>]*\bclass="[^"]*\bevidence-output\b[^"]*"[^>]*>)(.*?)(</pre\s*>)', re.S | re.I)


def _masked(value: Any) -> Any:
    if isinstance(value, list):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: redact(v) if k in EVIDENCE_KEYS and isinstance(v, str) else _masked(v) for k, v in value.items()}
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
            masked = redact(body)  # a line that is not JSON: masked as text
        elif masked != body:
            masked = json.dumps(json.loads(masked), ensure_ascii=False)
        lines.append(masked + line[len(body) :])
    return "".join(lines)


def _html(text: str) -> str:
    return _EVIDENCE_BLOCK.sub(lambda m: m.group(1) + redact(m.group(2)) + m.group(3), text)


def redacted(name: str, data: bytes) -> bytes:
    """``data`` of the file ``name`` with secret-looking values in host output masked."""
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
