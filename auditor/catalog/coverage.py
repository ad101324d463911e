"""Pure views of the catalog: which checks serve each control and plan task, and the coverage counts.

A control (or plan task) is *automated* when at least one check names it, *manual* when no check
does but it lists the documents a person supplies. ``automated + manual == in_catalog``.
"""

from __future__ import annotations

from typing import Any

from auditor.catalog import EDITIONS, Catalog


def checks_by_control(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    out: dict[str, dict[str, list[str]]] = {ed: {} for ed in EDITIONS}
    for check in catalog.checks.values():
        for edition in EDITIONS:
            for cid in check.iso27001[edition]:
                out[edition].setdefault(cid, []).append(check.id)
    return out


def checks_by_task(catalog: Catalog) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for check in catalog.checks.values():
        for task in check.plan:
            out.setdefault(task, []).append(check.id)
    return out


def _counts(total: int, entries: dict[str, dict[str, Any]], automated: set[str]) -> dict[str, int]:
    auto = [k for k in entries if k in automated]
    manual = [k for k, e in entries.items() if k not in automated and e.get("manual")]
    return {"total": total, "in_catalog": len(auto) + len(manual), "automated": len(auto), "manual": len(manual)}


def coverage(catalog: Catalog) -> dict[str, dict[str, int]]:
    """The numbers ``auditor controls coverage`` prints (a fixed shape: scripts read it)."""
    by_control = checks_by_control(catalog)
    out = {
        f"iso27001:{ed}": _counts(
            int(catalog.annexes[ed].header["counts"]["controls"]), catalog.controls[ed], set(by_control[ed])
        )
        for ed in EDITIONS
    }
    tasks = catalog.plan_map.tasks if catalog.plan_map else {}
    out["plan_tasks"] = _counts(len(catalog.plan_tasks), tasks, set(checks_by_task(catalog)))
    return out


def unmapped(catalog: Catalog) -> dict[str, list[str]]:
    """Controls and plan tasks that are neither automated nor manual (the lint test wants none)."""
    by_control = checks_by_control(catalog)
    by_task = checks_by_task(catalog)
    out = {
        f"iso27001:{ed}": [
            cid for cid, c in catalog.controls[ed].items() if cid not in by_control[ed] and not c.get("manual")
        ]
        for ed in EDITIONS
    }
    tasks = catalog.plan_map.tasks if catalog.plan_map else {}
    out["plan_tasks"] = [t for t in catalog.plan_tasks if t not in by_task and not tasks.get(t, {}).get("manual")]
    return out
