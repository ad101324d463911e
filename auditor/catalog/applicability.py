"""The applicability file of a Statement of Applicability: which Annex A controls apply, and why.

    soa:
      edition: "2022"                        # the Annex A numbering the ids below use
      version: "1.2"
      owner: "Nguyễn Văn A, Trưởng phòng CNTT"
      approver: "Trần Thị B, Phó Giám đốc Sở"
      date: 2026-11-15
    controls:
      - id: "5.7"
        applicable: true
        reasons: [risk, legal]               # risk | legal | contract | business
        note: "Nghị định 85/2016/NĐ-CP"
      - id: "7.5"
        applicable: false
        exclusion: "Không có trung tâm dữ liệu riêng: hạ tầng thuê của nhà cung cấp"

A control the file does not list is applicable, for the plan tasks that require it (if any). A control
excluded without a reason, an id that is no control of the edition, a control listed twice, or an
``edition`` other than the one asked for is bad input naming file, line and field (exit 2).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.catalog import Catalog
from auditor.errors import CatalogError
from auditor.yamlsource import NONBLANK_TEXT, load_yaml, schema_errors

REASONS = ("risk", "legal", "contract", "business")
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "soa": {
            "type": "object",
            "properties": {
                "edition": {"enum": ["2013", "2022"]},
                "version": {"type": ["string", "number"]},
                "owner": NONBLANK_TEXT,
                "approver": NONBLANK_TEXT,
                "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "title": NONBLANK_TEXT,
                "organisation": NONBLANK_TEXT,
            },
            "required": ["edition", "version", "owner", "approver", "date"],
            "additionalProperties": False,
        },
        "controls": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "applicable": {"type": "boolean"},
                    "reasons": {"type": "array", "items": {"enum": list(REASONS)}, "uniqueItems": True},
                    "plan": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                    "exclusion": NONBLANK_TEXT,
                    "note": {"type": "string"},
                },
                "required": ["id", "applicable"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["soa"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Decision:
    applicable: bool
    reasons: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()  # plan tasks the file names as requiring the control
    exclusion: str = ""
    note: str = ""
    where: str = ""


@dataclass
class Applicability:
    edition: str
    header: dict[str, str] = field(default_factory=dict)  # version, owner, approver, date (+ title, organisation)
    decisions: dict[str, Decision] = field(default_factory=dict)  # control id -> what the file says
    source: str | None = None


def _text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def load_applicability(path: Path, catalog: Catalog, edition: str) -> Applicability:
    doc = load_yaml(path, CatalogError)
    data = doc.data
    if not isinstance(data, dict):
        raise doc.error(CatalogError, (), "expected a mapping with 'soa:' and 'controls:'")
    # YAML reads a date as a date and a bare 2022 as a number: both travel as text.
    data = dict(data)
    if isinstance(data.get("soa"), dict):
        data["soa"] = {k: _text(v) for k, v in data["soa"].items()}
    for index, raw in enumerate(data.get("controls") or []):
        if isinstance(raw, dict) and isinstance(raw.get("id"), int | float) and not isinstance(raw["id"], bool):
            raise doc.error(
                CatalogError,
                ("controls", index, "id"),
                f"write the control id in quotes: YAML reads it as the number {raw['id']!r} (5.10 would be 5.1)",
            )
    schema_errors(doc, SCHEMA, data)
    header = {k: str(v) for k, v in data["soa"].items()}
    if header["edition"] != edition:
        raise doc.error(
            CatalogError, ("soa", "edition"), f"this file is for the {header['edition']} edition, not {edition}"
        )
    try:
        dt.date.fromisoformat(header["date"])
    except ValueError:
        raise doc.error(CatalogError, ("soa", "date"), f"{header['date']!r} is not a calendar date") from None
    decisions: dict[str, Decision] = {}
    for index, raw in enumerate(data.get("controls") or []):
        here = ("controls", index)
        cid = raw["id"]
        if cid not in catalog.controls[edition]:
            raise doc.error(CatalogError, (*here, "id"), f"{cid!r} is not a control of ISO/IEC 27001:{edition} Annex A")
        if cid in decisions:
            raise doc.error(CatalogError, (*here, "id"), f"control {cid} is already listed at {decisions[cid].where}")
        if not raw["applicable"] and "exclusion" not in raw:
            raise doc.error(CatalogError, (*here, "exclusion"), "required when a control is not applicable")
        if raw["applicable"] and "exclusion" in raw:
            raise doc.error(CatalogError, (*here, "exclusion"), "only an excluded control (applicable: false) has one")
        for pos, task in enumerate(raw.get("plan", [])):
            if task not in catalog.plan_tasks:
                raise doc.error(CatalogError, (*here, "plan", pos), f"unknown plan task {task!r}")
        decisions[cid] = Decision(
            applicable=raw["applicable"],
            reasons=tuple(raw.get("reasons", ())),
            plan=tuple(raw.get("plan", ())),
            exclusion=raw.get("exclusion", "").strip(),
            note=raw.get("note", ""),
            where=f"{doc.file}:{doc.line_of(here)}",
        )
    return Applicability(edition, header, decisions, doc.file)
