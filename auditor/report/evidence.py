"""A result's evidence as it ran, read from either version of results.json.

``auditor.results/1`` items carry their own command. ``auditor.results/2`` stores what many
items share once, in the run-level ``shared_evidence``: an item with ``"shared": ID`` takes its
command from ``shared_evidence[ID]``, and keeps its own output (for the nmap scan, this host's
lines; the record's ``output`` is the whole scan). Renderers read evidence only through here.
"""

from __future__ import annotations

import shlex
from typing import Any


def command_text(command: str | list[str]) -> str:
    """A command as one line of text: a shell text as it is, an argument vector quoted as a shell would."""
    return command if isinstance(command, str) else shlex.join(command)


def resolve(document: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The item as version 1 wrote it, whichever way it is stored: its ``command`` (as text) inline."""
    if "shared" not in item:
        return {**item, "command": command_text(item["command"])}
    record = document.get("shared_evidence", {})[item["shared"]]
    return {"command": command_text(record["command"]), **{k: v for k, v in item.items() if k != "shared"}}


def evidence_of(document: dict[str, Any], result: dict[str, Any]) -> list[dict[str, Any]]:
    return [resolve(document, e) for e in result.get("evidence", [])]


def whole_output(document: dict[str, Any], item: dict[str, Any]) -> str | None:
    """The whole output of the run the item's own output is a part of (the nmap scan), if any."""
    if "shared" not in item:
        return None
    return document.get("shared_evidence", {})[item["shared"]].get("output")
