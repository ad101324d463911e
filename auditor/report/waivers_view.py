"""What the reports show of waivers, from a results.json document (pure, no markup).

Waived results are shown, never hidden: each one with the verdict it had and the waiver that excused
it; and the run's waivers with their state, so an expired, expiring or unused one is seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditor.scoring import natural_key, outlines

Doc = dict[str, Any]


@dataclass(frozen=True)
class WaivedRow:
    host: str
    check: str
    title: dict[str, str]
    severity: str
    waived_status: str
    reason: str
    waiver: dict[str, str]


def waived_rows(doc: Doc) -> list[WaivedRow]:
    """Every waived result, by check then host."""
    rows = [
        WaivedRow(
            str(h["name"]),
            r["check"],
            r.get("title", {}),
            r["severity"],
            str(r.get("waived_status") or "unknown"),
            r["reason"],
            dict(r.get("waiver") or {}),
        )
        for h in outlines(doc)
        for r in h["results"]
        if r["status"] == "waived"
    ]
    return sorted(rows, key=lambda row: (natural_key(row.check), row.host))


@dataclass(frozen=True)
class WaiverLists:
    items: list[dict[str, Any]]
    expired: list[str]
    expiring: list[str]
    unused: list[str]
    as_of: str
    warn_days: int
    sources: list[str]


def waiver_lists(doc: Doc) -> WaiverLists | None:
    section = doc.get("waivers")
    if not section:
        return None
    return WaiverLists(
        list(section.get("items", [])),
        list(section.get("expired", [])),
        list(section.get("expiring", [])),
        list(section.get("unused", [])),
        str(section.get("as_of", "")),
        int(section.get("warn_days", 0)),
        [str(s) for s in section.get("sources", [])],
    )
