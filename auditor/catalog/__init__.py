"""The catalog: plan tasks, Annex A control indexes and the checks, loaded and validated together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.catalog.checks import load_check_file
from auditor.catalog.yamlsource import load_yaml
from auditor.errors import CatalogError
from auditor.model import Check
from auditor.paths import controls_dir

EDITIONS = ("2013", "2022")


@dataclass
class Catalog:
    checks: dict[str, Check]
    plan_tasks: dict[str, dict[str, Any]]
    controls: dict[str, dict[str, dict[str, Any]]]  # edition -> control id -> {title, title_vi}


def _display(path: Path) -> str:
    """Relative to the working folder when below it, else absolute: what a user can paste."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def load_catalog(root: Path | None = None) -> Catalog:
    root = root or controls_dir()
    tasks_doc = load_yaml(root / "plan-tasks.yaml", CatalogError, _display(root / "plan-tasks.yaml"))
    plan_tasks = {t["id"]: t for t in (tasks_doc.data or {}).get("tasks", [])}
    if not plan_tasks:
        raise CatalogError("no plan tasks found under 'tasks:'", file=tasks_doc.file)
    controls: dict[str, dict[str, dict[str, Any]]] = {}
    for edition in EDITIONS:
        path = root / "iso27001" / f"annex-a-{edition}.yaml"
        doc = load_yaml(path, CatalogError, _display(path))
        controls[edition] = {c["id"]: c for c in (doc.data or {}).get("controls", [])}
    iso_ids = {edition: set(ids) for edition, ids in controls.items()}
    checks: dict[str, Check] = {}
    for path in sorted((root / "iso27001" / "checks").glob("*.yaml")):
        for check in load_check_file(path, _display(path), set(plan_tasks), iso_ids):
            if check.id in checks:
                raise CatalogError(
                    f"check id {check.id!r} is declared twice (first at {checks[check.id].source})",
                    file=check.source.rsplit(":", 1)[0],
                    line=int(check.source.rsplit(":", 1)[1]),
                )
            checks[check.id] = check
    return Catalog(checks=checks, plan_tasks=plan_tasks, controls=controls)
