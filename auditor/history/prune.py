"""Which runs ``auditor history prune`` removes: older than N days, or beyond the N newest; never the newest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from auditor.history.store import Store


def _started(run: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(run["started"].replace("Z", "+00:00"))


def select_runs(
    store: Store, keep_days: int | None = None, keep_last: int | None = None, now: datetime | None = None
) -> list[dict[str, Any]]:
    runs = store.runs()  # newest first
    if not runs:
        return []
    candidates = runs[1:]  # the newest run is never removed
    if keep_last is not None:
        return candidates[max(keep_last - 1, 0) :]
    assert keep_days is not None
    limit = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    return [r for r in candidates if _started(r) < limit]


def prune(
    store: Store, keep_days: int | None = None, keep_last: int | None = None, dry_run: bool = False
) -> list[dict[str, Any]]:
    """The runs removed (or that would be, with ``dry_run``), newest first."""
    doomed = select_runs(store, keep_days, keep_last)
    if not dry_run:
        store.delete([r["id"] for r in doomed])
    return doomed
