"""The findings register (the nonconformities of ISO/IEC 27001 clause 10.2), derived from the history store.

A finding is one (host, check) that failed in some recorded run. Its id is derived from the host's name
and the check id alone, so it is the same in every run and every store. ``first_seen`` and ``last_seen``
are the first and the last finished run in which it failed (a waived result counts by the verdict it had:
a waiver accepts a gap, it does not close it). Its status is read from the newest run of the same
playbook and inventory as its last failure that holds a result for it:

``fixed``   that result is a pass;
``waived``  that result is waived;
``open``    anything else (still failing, or undecided since: an audit that cannot tell closes nothing).

A finding that fails again after a pass reopens under the same id, ``first_seen`` unchanged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from auditor.history import schema as t
from auditor.history.store import Store

STATUSES = ("open", "waived", "fixed")
FIELDS = ("id", "host", "check", "title", "severity", "status", "first_seen", "last_seen", "open_days",
          "owner", "due", "waiver")  # fmt: skip
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")


def finding_id(host: str, check: str) -> str:
    """Pure: ``F-`` and 10 hex digits of SHA-256 over the host's name and the check id."""
    digest = hashlib.sha256(f"{host}\n{check}".encode()).hexdigest()
    return f"F-{digest[:10].upper()}"


@dataclass(frozen=True)
class RunInfo:
    id: str
    started: str
    finished: str
    series: tuple[str, str]  # (playbook, inventory)


@dataclass(frozen=True)
class Observation:
    run: str
    host: str
    check: str
    status: str
    waived_status: str | None = None
    waiver: dict[str, Any] | None = None


def failing(o: Observation) -> bool:
    return o.status == "fail" or (o.status == "waived" and o.waived_status == "fail")


def _time(stamp: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def days_between(start: str, end: str) -> int:
    """Pure: whole days from one recorded time to another (never negative)."""
    return max(0, (_time(end) - _time(start)).days)


def derive(
    runs: list[RunInfo],
    observations: list[Observation],
    now: str,
    texts: dict[str, dict[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Pure: the register from finished runs (any order) and their results. ``now`` ends the open time of an
    open or waived finding; a fixed one was open until the run that found it passing. ``texts``: check id ->
    {"title", "severity"}. Sorted open first, then waived, then fixed; most severe first; then host, check."""
    order = {r.id: n for n, r in enumerate(sorted(runs, key=lambda r: (r.started, r.id)))}
    info = {r.id: r for r in runs}
    by_key: dict[tuple[str, str], list[Observation]] = {}
    for o in observations:
        if o.run in order:
            by_key.setdefault((o.host, o.check), []).append(o)
    register = []
    for (host, check), seen in by_key.items():
        seen.sort(key=lambda o: order[o.run])
        failed = [o for o in seen if failing(o)]
        if not failed:
            continue
        first, last = failed[0], failed[-1]
        series = info[last.run].series
        latest = [o for o in seen if info[o.run].series == series][-1]
        if latest.status == "pass":
            # Open until the first run after its last failure that passed it.
            fixed_by = next(o for o in seen if order[o.run] > order[last.run] and info[o.run].series == series)
            status, until = "fixed", info[fixed_by.run].started
        else:
            status, until = ("waived" if latest.status == "waived" else "open"), now
        text = (texts or {}).get(check, {})
        register.append(
            {
                "id": finding_id(host, check),
                "host": host,
                "check": check,
                "title": text.get("title", check),
                "severity": text.get("severity"),
                "status": status,
                "first_seen": {"run": first.run, "time": info[first.run].started},
                "last_seen": {"run": last.run, "time": info[last.run].started},
                "open_days": days_between(info[first.run].started, until),
                "owner": None,
                "due": None,
                "waiver": latest.waiver if latest.status == "waived" else None,
            }
        )
    rank = {s: n for n, s in enumerate(SEVERITY_ORDER)}
    register.sort(
        key=lambda f: (STATUSES.index(f["status"]), rank.get(f["severity"] or "", len(rank)), f["host"], f["check"])
    )
    return register


def assign(register: list[dict[str, Any]], assigned: dict[str, dict[str, Any]]) -> list[str]:
    """Owner and due date from the officer's file onto the register (in place); the ids it names that are no
    finding of the register, in the file's order."""
    known = {f["id"] for f in register}
    for f in register:
        entry = assigned.get(f["id"])
        if entry:
            f["owner"], f["due"] = entry.get("owner"), entry.get("due")
    return [fid for fid in assigned if fid not in known]


# --- reading the store --------------------------------------------------------------------------------------------


def _finished_runs(store: Store, until: tuple[str, str] | None) -> list[RunInfo]:
    c = t.runs.c
    query = select(c.id, c.started, c.finished, c.playbook, c.inventory).where(c.finished.is_not(None))
    with store._tx() as conn:
        rows = list(conn.execute(query))
    return [
        RunInfo(r.id, r.started, r.finished, (r.playbook, r.inventory))
        for r in rows
        if until is None or (r.started, r.id) <= until
    ]


def _observations(store: Store, run_ids: set[str], lang: str) -> tuple[list[Observation], dict[str, dict[str, Any]]]:
    """Every result of the checks that failed somewhere, and those checks' titles and severities."""
    c = t.results.c
    with store._tx() as conn:
        failed = {
            row.check_id
            for row in conn.execute(select(c.run_id, c.check_id).where(c.status.in_(("fail", "waived"))).distinct())
            if row.run_id in run_ids
        }
        rows = []
        ordered = sorted(failed)
        for i in range(0, len(ordered), 500):
            query = select(c.run_id, c.host, c.check_id, c.status, c.severity, c.extra, c.check_text).where(
                c.check_id.in_(ordered[i : i + 500])
            )
            rows += [row for row in conn.execute(query) if row.run_id in run_ids]
        wanted = sorted({row.check_text for row in rows})
        bodies: dict[str, dict[str, Any]] = {}
        for i in range(0, len(wanted), 500):
            query = select(t.check_texts.c.sha256, t.check_texts.c.body).where(
                t.check_texts.c.sha256.in_(wanted[i : i + 500])
            )
            bodies.update((row.sha256, json.loads(row.body)) for row in conn.execute(query))
    observations = []
    texts: dict[str, dict[str, Any]] = {}
    for row in rows:
        extra = json.loads(row.extra) if row.extra and row.status == "waived" else {}
        observations.append(
            Observation(row.run_id, row.host, row.check_id, row.status, extra.get("waived_status"), extra.get("waiver"))
        )
        title = bodies.get(row.check_text, {}).get("title") or {}
        shown = title.get(lang) or title.get("en") or row.check_id if isinstance(title, dict) else str(title)
        texts.setdefault(row.check_id, {"title": shown, "severity": row.severity})
    return observations, texts


def register_of(store: Store, now: str, until: tuple[str, str] | None = None, lang: str = "vi") -> list[dict[str, Any]]:
    """The register of every finished run in the store (with ``until`` (started, id): none after that run)."""
    runs = _finished_runs(store, until)
    observations, texts = _observations(store, {r.id for r in runs}, lang)
    return derive(runs, observations, now, texts)


def report_findings(store: Store, run_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(host, check) -> {"id", "open_days"} of each failure of ``run_id``, as of that run's end: what the
    report's failure section shows. Computed in the database (the first failure of each (host, check) up to
    this run), as it runs after every audit: reading every result of every run would cost more than the
    audit on a large inventory."""
    c, r = t.results.c, t.runs.c
    # A waived failure is still a failure; the store keeps waived_status in a result's compact JSON extra.
    failed = (c.status == "fail") | ((c.status == "waived") & c.extra.like('%"waived_status":"fail"%'))
    with store._tx() as conn:
        run = conn.execute(select(r.started, r.finished).where(r.id == run_id)).first()
        if run is None or run.finished is None:
            return {}
        keys = {
            (row.host, row.check_id)
            for row in conn.execute(select(c.host, c.check_id).where(c.run_id == run_id, failed))
        }
        if not keys:
            return {}
        up_to_this_run = (r.started < run.started) | ((r.started == run.started) & (r.id <= run_id))
        first = (
            select(c.host, c.check_id, func.min(r.started).label("first"))
            .select_from(t.results.join(t.runs, r.id == c.run_id))
            .where(r.finished.is_not(None), failed, up_to_this_run)
            .group_by(c.host, c.check_id)
        )
        firsts = {
            (row.host, row.check_id): row.first for row in conn.execute(first) if (row.host, row.check_id) in keys
        }
    return {
        key: {"id": finding_id(*key), "open_days": days_between(firsts.get(key, run.started), run.finished)}
        for key in keys
    }
