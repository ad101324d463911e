"""The catalog: plan tasks, Annex A control indexes, the crosswalk, manual evidence and the checks,
loaded and validated together. Every Annex A control must be automated (a check names it), manual
(it lists the documents a person supplies), or both; none is dropped. The same rule for plan tasks
is enforced by the catalog lint test (tests/unit/test_catalog_lint.py) and shown by
``auditor controls coverage``, so that a catalog reduced to a few checks still loads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.catalog.checks import load_check_file
from auditor.catalog.controls import Annex, Crosswalk, load_annex, load_crosswalk
from auditor.catalog.manual import Documents, PlanMap, load_documents, load_plan_map
from auditor.errors import CatalogError
from auditor.model import Check
from auditor.paths import controls_dir
from auditor.yamlsource import load_yaml

EDITIONS = ("2013", "2022")  # the editions checks and verdicts use
INDEX_EDITIONS = ("2005",)  # indexes only (TCVN ISO/IEC 27001:2009): no verdicts in this numbering


@dataclass
class Catalog:
    checks: dict[str, Check]
    plan_tasks: dict[str, dict[str, Any]]
    controls: dict[str, dict[str, dict[str, Any]]]  # edition -> control id -> {title, title_vi, manual, ...}
    annexes: dict[str, Annex] = field(default_factory=dict)  # "2005", "2013", "2022" -> header + controls
    crosswalk: Crosswalk | None = None
    documents: Documents | None = None
    plan_map: PlanMap | None = None


def _display(path: Path) -> str:
    """Relative to the working folder when below it, else absolute: what a user can paste."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


_INSTALLED: list[Catalog] = []  # the installed catalog, read once a process (nothing mutates a Catalog)


def load_catalog(root: Path | None = None) -> Catalog:
    """The catalog under ``root``; without one, the installed catalog, read once a process: a run and
    the report it renders share it (reading and validating it again cost 0.1 s a report)."""
    if root is None:
        if not _INSTALLED:
            _INSTALLED.append(_load(controls_dir()))
        return _INSTALLED[0]
    return _load(root)


def _load(root: Path) -> Catalog:
    tasks_doc = load_yaml(root / "plan-tasks.yaml", CatalogError, _display(root / "plan-tasks.yaml"))
    plan_tasks = {t["id"]: t for t in (tasks_doc.data or {}).get("tasks", [])}
    if not plan_tasks:
        raise CatalogError("no plan tasks found under 'tasks:'", file=tasks_doc.file)
    documents = load_documents(root / "documents.yaml", _display(root / "documents.yaml"))
    annexes: dict[str, Annex] = {}
    for edition in (*INDEX_EDITIONS, *EDITIONS):
        path = root / "iso27001" / f"annex-a-{edition}.yaml"
        annexes[edition] = load_annex(path, _display(path), edition, set(documents.documents))
    controls = {edition: annexes[edition].controls for edition in EDITIONS}
    crosswalk_path = root / "iso27001" / "crosswalk.yaml"
    crosswalk = load_crosswalk(crosswalk_path, _display(crosswalk_path), set(controls["2013"]), annexes["2022"])
    iso_ids = {edition: set(ids) for edition, ids in controls.items()}
    plan_map_path = root / "plan-mapping.yaml"
    plan_map = load_plan_map(plan_map_path, _display(plan_map_path), set(plan_tasks), iso_ids, set(documents.documents))
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
    catalog = Catalog(checks, plan_tasks, controls, annexes, crosswalk, documents, plan_map)
    _require_evidence(catalog)
    return catalog


def _require_evidence(catalog: Catalog) -> None:
    """None dropped: a control no check serves must say which documents evidence it."""
    automated = {ed: {cid for c in catalog.checks.values() for cid in c.iso27001[ed]} for ed in EDITIONS}
    for edition in EDITIONS:
        annex = catalog.annexes[edition]
        for cid, control in annex.controls.items():
            if cid not in automated[edition] and "manual" not in control:
                file, line = annex.where[cid].rsplit(":", 1)
                raise CatalogError(
                    f"control {cid} has no check and no manual evidence: add `manual: {{documents: [...]}}`",
                    file=file,
                    line=int(line),
                )
