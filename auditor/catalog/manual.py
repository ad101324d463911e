"""Manual evidence: the documents a person supplies (``controls/documents.yaml``) and how each plan task
is evidenced (``controls/plan-mapping.yaml``), validated as they load with file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.catalog.checks import iso_ids_schema, validate_iso_ids
from auditor.catalog.controls import MANUAL_SCHEMA
from auditor.errors import CatalogError
from auditor.yamlsource import BILINGUAL_TEXT, load_yaml, schema_errors

DOCUMENTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "roles": {
            "type": "object",
            "propertyNames": {"pattern": "^[A-Z][A-Z0-9-]*$"},
            "additionalProperties": BILINGUAL_TEXT,
        },
        "documents": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "pattern": "^DOC(-[A-Z0-9]+)+$"},
                    "title": BILINGUAL_TEXT,
                    "max_age_days": {"type": "integer", "minimum": 1},
                    "attested_by": {"type": "string"},
                },
                "required": ["id", "title", "max_age_days", "attested_by"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["roles", "documents"],
    "additionalProperties": False,
}

PLAN_MAP_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "task": {"type": "string"},
                    "iso27001": iso_ids_schema(min_items=0),
                    "manual": MANUAL_SCHEMA,
                    "note": BILINGUAL_TEXT,
                },
                "required": ["task", "iso27001"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["tasks"],
    "additionalProperties": False,
}


@dataclass
class Documents:
    roles: dict[str, dict[str, str]]
    documents: dict[str, dict[str, Any]]  # id -> {title, max_age_days, attested_by (role id)}


@dataclass
class PlanMap:
    tasks: dict[str, dict[str, Any]]  # task id -> {iso27001, manual?, note?}
    where: dict[str, str] = field(default_factory=dict)  # task id -> "file:line"


def load_documents(path: Path, display: str) -> Documents:
    doc = load_yaml(path, CatalogError, display)
    if not isinstance(doc.data, dict):
        raise doc.error(CatalogError, (), "expected a mapping with 'roles:' and 'documents:'")
    schema_errors(doc, DOCUMENTS_SCHEMA, doc.data)
    roles = doc.data["roles"]
    documents: dict[str, dict[str, Any]] = {}
    for index, raw in enumerate(doc.data["documents"]):
        if raw["id"] in documents:
            raise doc.error(CatalogError, ("documents", index, "id"), f"document {raw['id']!r} is listed twice")
        if raw["attested_by"] not in roles:
            raise doc.error(
                CatalogError,
                ("documents", index, "attested_by"),
                f"unknown role {raw['attested_by']!r} (known: {', '.join(sorted(roles))})",
            )
        documents[raw["id"]] = raw
    return Documents(roles, documents)


def load_plan_map(
    path: Path, display: str, plan_tasks: set[str], iso_ids: dict[str, set[str]], documents: set[str]
) -> PlanMap:
    doc = load_yaml(path, CatalogError, display)
    if not isinstance(doc.data, dict):
        raise doc.error(CatalogError, (), "expected a mapping with 'tasks:'")
    schema_errors(doc, PLAN_MAP_SCHEMA, doc.data)
    tasks: dict[str, dict[str, Any]] = {}
    where: dict[str, str] = {}
    for index, raw in enumerate(doc.data["tasks"]):
        here = ("tasks", index)
        task = raw["task"]
        if task not in plan_tasks:
            raise doc.error(CatalogError, (*here, "task"), f"unknown plan task {task!r} (see controls/plan-tasks.yaml)")
        if task in tasks:
            raise doc.error(CatalogError, (*here, "task"), f"plan task {task!r} is mapped twice")
        validate_iso_ids(doc, (*here, "iso27001"), raw["iso27001"], iso_ids)
        for pos, name in enumerate(raw.get("manual", {}).get("documents", [])):
            if name not in documents:
                raise doc.error(
                    CatalogError,
                    (*here, "manual", "documents", pos),
                    f"unknown document {name!r} (see controls/documents.yaml)",
                )
        tasks[task] = raw
        where[task] = f"{display}:{doc.line_of(here)}"
    missing = sorted(plan_tasks - set(tasks))
    if missing:
        raise doc.error(CatalogError, ("tasks",), f"plan task(s) not mapped: {', '.join(missing)}")
    return PlanMap(tasks, where)
