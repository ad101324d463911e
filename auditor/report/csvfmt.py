"""CSV: one row per host × check, for spreadsheets and scripts (a waived result with the verdict it had
and its waiver in the last columns).

Cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR first)
get a leading apostrophe: host data must not become a formula (OWASP "CSV injection").
The text starts with a UTF-8 byte-order mark so that Excel shows Vietnamese correctly
(Python reads it with ``encoding="utf-8-sig"``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from auditor.report.evidence import evidence_of
from auditor.report.i18n import check_language
from auditor.scoring import WEIGHTS

COLUMNS = [
    "run_id", "host", "address", "host_status", "level", "host_score",
    "check", "title", "status", "severity", "weight", "plan_tasks",
    "iso27001_2013", "iso27001_2022", "reason", "remediation", "evidence_commands", "evidence_at",
    "waived_status", "waiver_id", "waiver_type", "waiver_approved_by", "waiver_expires",
]  # fmt: skip
BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def rows(results: dict[str, Any], lang: str) -> Iterator[list[str]]:
    run_id = results["run"]["id"]
    for host in results["hosts"]:
        head = [run_id, host["name"], host["address"], host["status"], host.get("level"), host.get("score")]
        for r in host["results"]:
            evidence = evidence_of(results, r)
            waiver = r.get("waiver") or {}
            yield [
                neutralize(v)
                for v in [
                    *head,
                    r["check"],
                    r.get("title", {}).get(lang) or r.get("title", {}).get("en", ""),
                    r["status"],
                    r["severity"],
                    WEIGHTS[r["severity"]],
                    " ".join(r["plan"]),
                    " ".join(r["iso27001"].get("2013", [])),
                    " ".join(r["iso27001"].get("2022", [])),
                    r["reason"],
                    r.get("remediation", {}).get(lang) or r.get("remediation", {}).get("en", ""),
                    " ;; ".join(e["command"] for e in evidence),
                    " ".join(e["at"] for e in evidence),
                    r.get("waived_status", ""),
                    *(waiver.get(k, "") for k in ("id", "type", "approved_by", "expires")),
                ]
            ]


def render_csv(results: dict[str, Any], lang: str = "vi", previous: dict[str, Any] | None = None) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(results, check_language(lang)))
    return buffer.getvalue()
