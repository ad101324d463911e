"""The history of one ``audit`` as it runs. The store failing never costs the run: the audit goes on,
its files are written, and the failure is reported once (the run then exits 3: the environment failed)."""

from __future__ import annotations

from typing import Any

from auditor.history.diff import diff_runs, previous_run
from auditor.history.findings import report_findings
from auditor.history.store import Store
from auditor.history.trend import trend
from auditor.history.url import StoreError

TREND_RUNS = 12


class Recorder:
    def __init__(self, url: str):
        self.url = url
        self.store: Store | None = None
        self.problem: str | None = None
        self.run_id: str | None = None
        self.recorded = 0

    def _fail(self, exc: StoreError) -> None:
        self.problem = self.problem or f"{exc}; the run was not recorded in the history"
        self.store = None

    def begin(self, run: dict[str, Any]) -> None:
        try:
            self.store = Store(self.url)
            self.store.begin(run)
            self.run_id = run["id"]
        except StoreError as exc:
            self._fail(exc)

    def host(self, host: dict[str, Any] | str) -> None:
        """A finished host: its journal line (or its dict)."""
        if self.store is None or self.run_id is None:
            return
        try:
            self.store.add_host(self.run_id, host, self.recorded)
            self.recorded += 1
        except StoreError as exc:
            self._fail(exc)

    def finish(self, document: dict[str, Any]) -> None:
        if self.store is None:
            return
        try:
            self.store.finish(document)
        except StoreError as exc:
            self._fail(exc)

    def report_history(self, run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """The previous run's outline (its verdicts and keys) and the score trend up to this run, for the report."""
        if self.store is None:
            return None, []
        try:
            return report_history(self.store, run_id)
        except (StoreError, LookupError) as exc:
            if isinstance(exc, StoreError):
                self._fail(exc)
            return None, []

    def findings(self, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
        """(host, check) -> its finding in the register as of this run (id, open_days), for the report."""
        if self.store is None:
            return {}
        try:
            return report_findings(self.store, run_id)
        except StoreError as exc:
            self._fail(exc)
            return {}

    def changes_since_previous(self, run_id: str) -> dict[str, Any] | None:
        """``auditor diff`` of the previous run of the same playbook and inventory and this one (None: no such
        run, or the store failed), which drift notices read."""
        if self.store is None:
            return None
        try:
            before = previous_run(self.store, run_id)
            return None if before is None else diff_runs(self.store, before, run_id)
        except (StoreError, LookupError) as exc:
            if isinstance(exc, StoreError):
                self._fail(exc)
            return None

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def report_history(store: Store, run_id: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    before = previous_run(store, run_id)
    if before is None:
        return None, []
    run = store.run(run_id)
    assert run is not None
    points = trend(
        store, TREND_RUNS, playbook=run["playbook"], inventory=run["inventory"], until=(run["started"], run_id)
    )
    return store.outline(before), points
