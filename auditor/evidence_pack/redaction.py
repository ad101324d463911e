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

from auditor.evidence import redact

EVIDENCE_KEYS = frozenset({"output", "stderr"})
_EVIDENCE_BLOCK = re.compile(r'(<pre\b[^>]*\bclass="[^"]*\bevidence-output\b[^"]*"[^>]*>)(.*?)(</pre\s*>)', re.S | re.I)


def _mask(value: Any) -> int:
    """Mask the evidence values inside ``value`` in place; how many changed."""
    changed = 0
    if isinstance(value, list):
        for item in value:
            changed += _mask(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key in EVIDENCE_KEYS and isinstance(item, str):
                masked = redact(item)
                if masked != item:
                    value[key] = masked
                    changed += 1
            elif isinstance(item, list | dict):
                changed += _mask(item)
    return changed


def _json(text: str) -> str | None:
    try:
        document = json.loads(text)
        changed = _mask(document)
    except (ValueError, RecursionError):
        return None
    if not changed:
        return text  # byte for byte the file the officer holds
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


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
