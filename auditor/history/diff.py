"""What changed between two recorded runs: the ``auditor diff`` JSON, also used by drift notices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from auditor.history import schema as t
from auditor.history.store import Store


def previous_run(store: Store, run_id: str) -> str | None:
    """The newest run of the same playbook and inventory that started before ``run_id`` and finished."""
    with store._tx() as conn:
        run = conn.execute(
            select(t.runs.c.playbook, t.runs.c.inventory, t.runs.c.started).where(t.runs.c.id == run_id)
        ).first()
        if run is None:
            raise LookupError(f"no run {run_id!r} in the history")
        c = t.runs.c
        query = (
            select(c.id)
            .where(c.playbook == run.playbook, c.inventory == run.inventory, c.finished.is_not(None), c.id != run_id)
            .where((c.started < run.started) | ((c.started == run.started) & (c.id < run_id)))
            .order_by(c.started.desc(), c.id.desc())
            .limit(1)
        )
        return conn.execute(query).scalar()


def last_two(store: Store) -> tuple[str, str]:
    """The newest run and the one before it of the same playbook and inventory (``auditor diff`` alone)."""
    newest = store.runs(limit=1)
    if not newest:
        raise LookupError("the history holds no run")
    before = previous_run(store, newest[0]["id"])
    if before is None:
        raise LookupError(f"run {newest[0]['id']} has no earlier run of the same playbook and inventory")
    return before, newest[0]["id"]


def diff_runs(store: Store, run_a: str, run_b: str) -> dict[str, Any]:
    """``{"from", "to", "changes", "plan_task_changes", "hosts_added", "hosts_removed", "host_keys_changed"}``;
    only what differs is listed, hosts and checks in name order."""
    for run_id in (run_a, run_b):
        if store.run(run_id) is None:
            raise LookupError(f"no run {run_id!r} in the history")
    before, after = store.statuses(run_a), store.statuses(run_b)
    hosts_before, hosts_after = store.hosts(run_a), store.hosts(run_b)
    changes = [
        {"host": host, "check": check, "before": before[(host, check)], "after": after[(host, check)]}
        for host, check in sorted(before.keys() & after.keys())
        if before[(host, check)] != after[(host, check)]
    ]
    plan_task_changes = []
    keys_changed = []
    for name in sorted(hosts_before.keys() & hosts_after.keys()):
        old, new = hosts_before[name], hosts_after[name]
        tasks_old, tasks_new = old["plan_tasks"], new["plan_tasks"]
        for task in sorted(tasks_old.keys() & tasks_new.keys()):
            if tasks_old[task] != tasks_new[task]:
                plan_task_changes.append(
                    {"host": name, "plan_task": task, "before": tasks_old[task], "after": tasks_new[task]}
                )
        # A host seen with no key (unreachable) proves no change; two different keys always do.
        if old["host_key"] and new["host_key"] and old["host_key"] != new["host_key"]:
            keys_changed.append({"host": name, "before": old["host_key"], "after": new["host_key"]})
    return {
        "from": run_a,
        "to": run_b,
        "changes": changes,
        "plan_task_changes": plan_task_changes,
        "hosts_added": sorted(hosts_after.keys() - hosts_before.keys()),
        "hosts_removed": sorted(hosts_before.keys() - hosts_after.keys()),
        "host_keys_changed": keys_changed,
    }


UNDECIDED = ("error", "unknown")


def drift(changes: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """What a drift notice reports of a ``diff_runs`` result: new failures, fixed, new errors, changed keys.
    Empty lists everywhere: nothing drifted."""
    moved = changes["changes"]
    return {
        "new_failures": [c for c in moved if c["after"] == "fail"],
        "fixed": [c for c in moved if c["before"] == "fail" and c["after"] == "pass"],
        "new_errors": [c for c in moved if c["after"] in UNDECIDED and c["before"] not in UNDECIDED],
        "host_keys_changed": list(changes["host_keys_changed"]),
    }
