"""Score and verdict counts per run over a series of runs: ``auditor trend``."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from auditor.history.store import Store
from auditor.scoring import score


def series(
    store: Store,
    last: int,
    playbook: str | None = None,
    inventory: str | None = None,
    until: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The last finished runs of one playbook and inventory (by default the newest run's), oldest first;
    with ``until`` (started, id), none after that run."""
    if playbook is None or inventory is None:
        newest = store.runs(playbook=playbook, inventory=inventory, limit=1)
        if not newest:
            return []
        playbook, inventory = newest[0]["playbook"], newest[0]["inventory"]
    runs = [
        r
        for r in store.runs(playbook=playbook, inventory=inventory)
        if r["finished"] is not None and (until is None or (r["started"], r["id"]) <= until)
    ][:last]
    return list(reversed(runs))


def trend(
    store: Store,
    last: int = 10,
    plan_task: str | None = None,
    host: str | None = None,
    check: str | None = None,
    playbook: str | None = None,
    inventory: str | None = None,
    until: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """``[{"id", "started", "score", "coverage", "counts"}]`` oldest first. Without a filter, the run's
    score and the counts of all its results; with one, the score of the results it selects (a plan
    task's checks, one host's, one check on every host) by the same formula, and their counts."""
    runs = series(store, last, playbook, inventory, until)
    ids = [r["id"] for r in runs]
    if not ids:
        return []
    if plan_task is None and host is None and check is None:
        counts = store.status_counts(ids)
        return [
            {
                "id": r["id"],
                "started": r["started"],
                "score": r["score"],
                "coverage": r["coverage"],
                "counts": dict(sorted(counts[r["id"]].items())),
            }
            for r in runs
        ]
    selected: dict[str, list[tuple[str, str]]] = {run_id: [] for run_id in ids}
    for run_id, row_host, row_check, status, severity, plan in store.result_rows(ids):
        if host is not None and row_host != host:
            continue
        if check is not None and row_check != check:
            continue
        if plan_task is not None and plan_task not in json.loads(plan):
            continue
        selected[run_id].append((status, severity))
    out = []
    for r in runs:
        s = score(selected[r["id"]])
        counts = Counter(status for status, _ in selected[r["id"]])
        out.append(
            {
                "id": r["id"],
                "started": r["started"],
                "score": s.value,
                "coverage": s.coverage,
                "counts": dict(sorted(counts.items())),
            }
        )
    return out
