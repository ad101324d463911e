"""``file_age``: the age of the newest and the oldest of the paths that match, by the host's clock."""

from __future__ import annotations

from typing import Any

from auditor.clock import Dated, evidence_line, newest, oldest, show, upper
from auditor.facts.base import FactType, FactUnreadable, RawOutput, register
from auditor.facts.file import PATHS_SCHEMA, parse_stat, stat_clock, stat_snippet


@register
class FileAgeFact(FactType):
    name = "file_age"
    params_schema = PATHS_SCHEMA

    def snippets(self, params: dict[str, Any]) -> list[str]:
        return [stat_snippet(params["paths"])]

    def parse(self, outputs: list[RawOutput], params: dict[str, Any]) -> dict[str, Any]:
        host, entries, unreadable = parse_stat(outputs[0])
        if unreadable and not entries:
            raise FactUnreadable("cannot stat " + ", ".join(unreadable) + " (permission denied?)")
        if not entries:
            return {"count": 0, "newest_days": None, "oldest_days": None, "newest_path": None, "clock": host.as_dict()}
        dated = [Dated(e["age_days"], e["undated"]) for e in entries]
        young = newest(dated)
        youngest = min(
            (e for e in entries if e["age_days"] is not None), key=lambda e: upper(e["age_days"]), default=None
        )
        notes = [f"{e['path']} {e['undated']}" for e in entries if e["undated"]]
        if host.off or notes:
            notes.append(host.describe())
        return {
            "count": len(entries),
            "newest_days": young.age,
            "newest_path": youngest["path"] if youngest else None,
            "oldest_days": oldest(dated).age,
            "clock": host.as_dict(),
            "summary": "; ".join(
                [f"{youngest['path']}: {show(youngest['age_days'])}" if youngest else "no datable file", *notes]
            ),
        }

    def evidence(self, outputs: list[RawOutput], params: dict[str, Any]) -> str:
        return outputs[0].stdout.rstrip("\n") + "\n" + evidence_line(stat_clock(outputs[0]))
