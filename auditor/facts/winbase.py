"""Helpers shared by the Windows fact types (not a fact type itself).

Every Windows snippet returns PowerShell objects; ``auditor.winbatch`` prints them as
``ConvertTo-Json -InputObject @(...)``, so a snippet's stdout is always a JSON array. Windows
PowerShell 5.1 writes a DateTime as ``"\\/Date(1700000000000)\\/"`` and an enum as its number
unless the snippet casts it to ``[string]``; the helpers accept both.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from auditor.facts.base import FactUnreadable, RawOutput, ScriptFact, first_line, require_rc

WINDOWS = frozenset({"windows"})
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def json_items(raw: RawOutput, what: str) -> list[Any]:
    """The snippet's objects; FactUnreadable when it failed or printed something that is not JSON."""
    require_rc(raw, what)
    text = raw.stdout.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        raise FactUnreadable(f"{what}: output is not JSON ({first_line(text, 80)!r})") from None
    return data if isinstance(data, list) else [data]


def json_object(raw: RawOutput, what: str) -> dict[str, Any]:
    """The snippet's one object; FactUnreadable when there is none."""
    items = json_items(raw, what)
    if not items or not isinstance(items[0], dict):
        raise FactUnreadable(f"{what} printed nothing")
    return items[0]


class PowerShellFact(ScriptFact):
    """A Windows fact read by one PowerShell snippet (``script``) whose objects come back as JSON."""

    os = WINDOWS


def error_text(raw: RawOutput) -> str:
    return first_line(raw.stderr) or first_line(raw.stdout) or f"exit {raw.rc}"


def epoch(value: Any) -> float | None:
    """Seconds since 1970 from ``/Date(ms)/``, an ISO 8601 text, or a number of seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        m = _MS_DATE.match(value.strip())
        if m:
            return int(m.group(1)) / 1000
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.timestamp()
    return None


def enum_name(value: Any, names: dict[int, str]) -> str | None:
    """An enum written as its name (``[string]`` cast) or as its number."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return names.get(value, str(value))
    return str(value)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
