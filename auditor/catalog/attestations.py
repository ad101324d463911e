"""``attestations.yaml`` in an evidence folder: which file proves which document, control or plan task.

    attestations:
      - documents: [DOC-ISMS-POLICY]          # documents of controls/documents.yaml it proves, and/or
        plan: [PT-ISMS]                       # plan tasks, and/or
        iso27001: {"2013": [A.5.1.1], "2022": ["5.1"]}   # controls it evidences directly
        file: policy/isms-policy-2025.pdf     # relative to the evidence folder, never outside it
        sha256: 3f1c…                         # of the file as attested
        date: 2025-03-01                      # when the document was issued or signed
        valid_until: 2026-03-01
        attested_by: "Nguyễn Văn A, Phó Giám đốc Sở"

Bad input (unknown key, unknown document, a path leaving the folder, a date that is not a date,
``valid_until`` before ``date``) is an InputError naming file, line and field: exit 2, before any host
is contacted. Whether a file still matches its hash is judged later (``auditor.organisation``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from auditor.catalog import Catalog
from auditor.errors import CatalogError, InputError
from auditor.yamlsource import dates_as_text, load_yaml, schema_errors

FILE_NAME = "attestations.yaml"
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_IDS = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1, "uniqueItems": True}

ATTESTATIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "attestations": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "documents": _IDS,
                    "plan": _IDS,
                    "iso27001": {
                        "type": "object",
                        "properties": {"2013": _IDS, "2022": _IDS},
                        "minProperties": 1,
                        "additionalProperties": False,
                    },
                    "file": {"type": "string", "minLength": 1},
                    "sha256": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                    "date": _DATE,
                    "valid_until": _DATE,
                    "attested_by": {"type": "string", "minLength": 1},
                    "note": {"type": "string"},
                },
                "required": ["file", "sha256", "date", "valid_until", "attested_by"],
                "anyOf": [{"required": ["documents"]}, {"required": ["plan"]}, {"required": ["iso27001"]}],
                "additionalProperties": False,
            },
        }
    },
    "required": ["attestations"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Attestation:
    file: str  # relative to the evidence folder, "/"-separated
    sha256: str  # lower case
    date: dt.date
    valid_until: dt.date
    attested_by: str
    documents: tuple[str, ...] = ()
    plan: tuple[str, ...] = ()
    iso27001: dict[str, tuple[str, ...]] = field(default_factory=dict)
    note: str = ""
    where: str = ""  # "attestations.yaml:12"

    def names(self, kind: str, ident: str, edition: str | None = None) -> bool:
        """Does this attestation name the plan task / control directly?"""
        if kind == "plan_task":
            return ident in self.plan
        return ident in self.iso27001.get(edition or "", ())


def _safe_relative(name: str) -> str | None:
    """The path with "/" separators when it stays inside the folder, else None."""
    for flavour in (PurePosixPath, PureWindowsPath):
        path = flavour(name)
        if path.is_absolute() or path.anchor or ".." in path.parts:
            return None
    return PurePosixPath(*PureWindowsPath(name).parts).as_posix()


def load_attestations(evidence_dir: Path, catalog: Catalog) -> list[Attestation]:
    path = evidence_dir / FILE_NAME
    if not evidence_dir.is_dir():
        raise InputError(f"evidence folder {evidence_dir} does not exist", field="evidence_dir")
    if not path.is_file():
        raise InputError(f"no {FILE_NAME} in the evidence folder {evidence_dir}", file=str(path))
    doc = load_yaml(path, CatalogError)
    data = dates_as_text(doc.data if doc.data is not None else {"attestations": []})
    if not isinstance(data, dict):
        raise doc.error(CatalogError, (), "expected a mapping with 'attestations:'")
    schema_errors(doc, ATTESTATIONS_SCHEMA, data)
    documents = set(catalog.documents.documents) if catalog.documents else set()
    out: list[Attestation] = []
    for index, raw in enumerate(data["attestations"]):
        here = ("attestations", index)
        for pos, name in enumerate(raw.get("documents", [])):
            if name not in documents:
                raise doc.error(CatalogError, (*here, "documents", pos), f"unknown document {name!r}")
        for pos, task in enumerate(raw.get("plan", [])):
            if task not in catalog.plan_tasks:
                raise doc.error(CatalogError, (*here, "plan", pos), f"unknown plan task {task!r}")
        for edition, ids in raw.get("iso27001", {}).items():
            for pos, cid in enumerate(ids):
                if cid not in catalog.controls[edition]:
                    raise doc.error(
                        CatalogError,
                        (*here, "iso27001", edition, pos),
                        f"{cid!r} is not a control of ISO/IEC 27001:{edition} Annex A",
                    )
        relative = _safe_relative(raw["file"])
        if relative is None:
            raise doc.error(CatalogError, (*here, "file"), "must be a path inside the evidence folder")
        dates = {}
        for key in ("date", "valid_until"):
            try:
                dates[key] = dt.date.fromisoformat(raw[key])
            except ValueError:
                raise doc.error(CatalogError, (*here, key), f"{raw[key]!r} is not a calendar date") from None
        if dates["valid_until"] < dates["date"]:
            raise doc.error(CatalogError, (*here, "valid_until"), "is before the document's date")
        out.append(
            Attestation(
                file=relative,
                sha256=raw["sha256"].lower(),
                date=dates["date"],
                valid_until=dates["valid_until"],
                attested_by=raw["attested_by"],
                documents=tuple(raw.get("documents", ())),
                plan=tuple(raw.get("plan", ())),
                iso27001={ed: tuple(ids) for ed, ids in raw.get("iso27001", {}).items()},
                note=raw.get("note", ""),
                where=f"{doc.file}:{doc.line_of(here)}",
            )
        )
    return out
