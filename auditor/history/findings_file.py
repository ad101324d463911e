"""The officer's findings file: who owns a finding and when it is due.

    findings:
      - id: F-3FA2C19B07                # as ``auditor findings`` prints it
        owner: "Nguyễn Văn A, Phòng CNTT"
        due: 2027-01-31
        note: "Chờ ngân sách quý 1"

An id listed twice, a key the file does not know, a due date that is no calendar date are bad input
naming file, line and field (exit 2). An id that is no finding of the register is listed as unused: the
finding may have been pruned with its runs, or the file may be shared by several stores.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from auditor.errors import InputError
from auditor.yamlsource import NONBLANK_TEXT, load_yaml, schema_errors

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^F-[0-9A-F]{10}$"},
                    "owner": NONBLANK_TEXT,
                    "due": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                    "note": {"type": "string"},
                },
                "required": ["id"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["findings"],
    "additionalProperties": False,
}


def load_assignments(path: Path) -> dict[str, dict[str, Any]]:
    """finding id -> {"owner", "due"} (None where the file says nothing), in the file's order."""
    doc = load_yaml(path, InputError)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(InputError, (), "expected a mapping with 'findings:'")
    data = dict(data)
    entries = data.get("findings")
    if isinstance(entries, list):
        # YAML reads a bare 2027-01-31 as a date: it travels as text.
        data["findings"] = [
            {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in e.items()} if isinstance(e, dict) else e
            for e in entries
        ]
    schema_errors(doc, SCHEMA, data, error_type=InputError)
    assigned: dict[str, dict[str, Any]] = {}
    where: dict[str, int | None] = {}
    for index, entry in enumerate(data["findings"] or []):
        fid = entry["id"]
        if fid in assigned:
            raise doc.error(InputError, ("findings", index, "id"), f"{fid} is already listed at line {where[fid]}")
        if "due" in entry:
            try:
                dt.date.fromisoformat(entry["due"])
            except ValueError:
                raise doc.error(
                    InputError, ("findings", index, "due"), f"{entry['due']!r} is not a calendar date"
                ) from None
        where[fid] = doc.line_of(("findings", index, "id"))
        assigned[fid] = {"owner": entry.get("owner"), "due": entry.get("due")}
    return assigned
