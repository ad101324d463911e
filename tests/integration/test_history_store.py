"""The history store against SQLite and a real PostgreSQL server (the same tests, parametrized by
``store_url``): recording, putting results.json back together, diff, trend, prune, migrations."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from auditor.catalog import load_catalog
from auditor.history import schema as t
from auditor.history.diff import diff_runs, drift, last_two, previous_run
from auditor.history.migrate import upgrade
from auditor.history.prune import prune
from auditor.history.store import Store
from auditor.history.trend import trend
from auditor.history.url import StoreError
from auditor.model import CheckResult, Evidence, Host, HostResult, Verdict
from auditor.results import build, dump
from bench.synthetic import synthetic_hosts

CHECKS = ("LNX-SSH-ROOT-LOGIN-DISABLED", "LNX-AV-INSTALLED", "LNX-FIREWALL-EFFECTIVE")
KEY_A = "ssh-ed25519 SHA256:" + "A" * 43
KEY_B = "ssh-ed25519 SHA256:" + "B" * 43


def document(
    run_id: str,
    started: str,
    verdicts: dict[str, dict[str, str]],
    keys: dict[str, str] | None = None,
    inventory: str = "hosts.ini",
) -> dict[str, Any]:
    """results.json of a run whose hosts got these verdicts, built by the real builder and as written."""
    catalog = load_catalog().checks
    hosts = [
        HostResult(
            Host(name, f"10.9.0.{n + 1}"),
            "reachable",
            None,
            [
                CheckResult(catalog[c], Verdict(v), f"{c} is {v}", [Evidence(f"probe {c}", 0, f"{name}: {v}", started)])
                for c, v in by_check.items()
            ],
            started,
            started,
        )
        for n, (name, by_check) in enumerate(verdicts.items())
    ]
    run = {"id": run_id, "started": started, "finished": started, "playbook": "baseline", "params": {},
           "inventory": inventory}  # fmt: skip
    doc = build(run, hosts, host_keys=lambda h: (keys or {}).get(h.host.name))
    out = io.StringIO()
    dump(doc, out)
    return json.loads(out.getvalue())


def evidence_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.evidence)).scalar() or 0)


def test_results_json_comes_back_equal(store_url: str) -> None:
    run, hosts = synthetic_hosts(40, 12, network=True)
    doc = json.loads(json.dumps(build({**run, "inventory": "big.ini"}, hosts)))
    assert doc["shared_evidence"], "the network evidence is shared: the store must put it back"
    store = Store(store_url)
    store.record(doc)
    assert store.document(run["id"]) == doc


def test_evidence_is_stored_once(store_url: str) -> None:
    store = Store(store_url)
    verdicts = {"web01": {c: "pass" for c in CHECKS}, "db01": {c: "fail" for c in CHECKS}}
    store.record(document("r1", "2026-01-01T00:00:00Z", verdicts))
    once = evidence_rows(store)
    store.record(document("r2", "2026-01-01T00:00:00Z", verdicts))  # same outputs, same times: same items
    assert once == 6 and evidence_rows(store) == once


def test_list_is_newest_first_with_the_contract_fields(store_url: str) -> None:
    store = Store(store_url)
    for n in range(3):
        store.record(document(f"r{n}", f"2026-01-0{n + 1}T00:00:00Z", {"web01": {CHECKS[0]: "pass"}}))
    runs = store.runs()
    assert [r["id"] for r in runs] == ["r2", "r1", "r0"]
    assert runs[0] == {"id": "r2", "started": "2026-01-03T00:00:00Z", "finished": "2026-01-03T00:00:00Z",
                       "playbook": "baseline", "inventory": "hosts.ini", "score": 100.0, "coverage": 1.0,
                       "hosts": 1, "complete": True}  # fmt: skip


def test_diff_lists_only_what_differs(store_url: str) -> None:
    store = Store(store_url)
    a = {"web01": {CHECKS[0]: "pass", CHECKS[1]: "fail"}, "old01": {CHECKS[0]: "pass"}, "db01": {CHECKS[0]: "pass"}}
    b = {"web01": {CHECKS[0]: "fail", CHECKS[1]: "fail"}, "new01": {CHECKS[0]: "pass"}, "db01": {CHECKS[0]: "pass"}}
    store.record(document("a", "2026-01-01T00:00:00Z", a, {"web01": KEY_A, "db01": KEY_A}))
    store.record(document("b", "2026-01-02T00:00:00Z", b, {"web01": KEY_A, "db01": KEY_B}))
    assert diff_runs(store, "a", "b") == {
        "from": "a",
        "to": "b",
        "changes": [{"host": "web01", "check": CHECKS[0], "before": "pass", "after": "fail"}],
        "plan_task_changes": [{"host": "web01", "plan_task": "PT-AUTH", "before": "pass", "after": "fail"}],
        "hosts_added": ["new01"],
        "hosts_removed": ["old01"],
        "host_keys_changed": [{"host": "db01", "before": KEY_A, "after": KEY_B}],
    }
    assert last_two(store) == ("a", "b")
    assert drift(diff_runs(store, "a", "b")) == {
        "new_failures": [{"host": "web01", "check": CHECKS[0], "before": "pass", "after": "fail"}],
        "fixed": [],
        "new_errors": [],
        "host_keys_changed": [{"host": "db01", "before": KEY_A, "after": KEY_B}],
    }


def test_previous_run_is_of_the_same_playbook_and_inventory(store_url: str) -> None:
    store = Store(store_url)
    one = {"web01": {CHECKS[0]: "pass"}}
    store.record(document("a", "2026-01-01T00:00:00Z", one))
    store.record(document("other", "2026-01-02T00:00:00Z", one, inventory="other.ini"))
    store.record(document("b", "2026-01-03T00:00:00Z", one))
    assert previous_run(store, "b") == "a"
    assert previous_run(store, "a") is None
    assert previous_run(store, "other") is None


def test_a_killed_run_is_listed_incomplete_with_its_finished_hosts(store_url: str) -> None:
    store = Store(store_url)
    doc = document("k", "2026-01-01T00:00:00Z", {"web01": {CHECKS[0]: "fail"}, "db01": {CHECKS[0]: "pass"}})
    store.begin(doc["run"])
    store.add_host("k", doc["hosts"][0], 0)  # then the process dies: finish never comes
    assert store.runs() == [{"id": "k", "started": "2026-01-01T00:00:00Z", "finished": None, "playbook": "baseline",
                             "inventory": "hosts.ini", "score": None, "coverage": None, "hosts": 1,
                             "complete": False}]  # fmt: skip
    assert store.statuses("k") == {("web01", CHECKS[0]): "fail"}
    with pytest.raises(LookupError, match="did not finish"):
        store.document("k")
    store.finish(doc)  # a run that does end replaces what it recorded on the way by results.json
    assert store.document("k") == doc


def test_trend_per_run_and_filtered(store_url: str) -> None:
    store = Store(store_url)
    store.record(document("a", "2026-01-01T00:00:00Z", {"web01": {CHECKS[0]: "fail", CHECKS[1]: "pass"}}))
    store.record(document("b", "2026-01-02T00:00:00Z", {"web01": {CHECKS[0]: "pass", CHECKS[1]: "pass"}}))
    points = trend(store, last=10)
    assert [(p["id"], p["score"], p["counts"]) for p in points] == [
        ("a", pytest.approx(points[0]["score"]), {"fail": 1, "pass": 1}),
        ("b", 100.0, {"pass": 2}),
    ]
    assert points[0]["score"] < 100
    only = trend(store, last=10, check=CHECKS[0])
    assert [(p["score"], p["counts"]) for p in only] == [(0.0, {"fail": 1}), (100.0, {"pass": 1})]
    assert [p["id"] for p in trend(store, last=1)] == ["b"]
    assert [p["counts"] for p in trend(store, last=10, host="nobody")] == [{}, {}]


def test_prune_never_removes_the_newest_and_collects_unused_evidence(store_url: str) -> None:
    store = Store(store_url)
    for n in range(4):
        store.record(document(f"r{n}", f"2026-01-0{n + 1}T00:00:00Z", {"web01": {CHECKS[0]: ["pass", "fail"][n % 2]}}))
    assert [r["id"] for r in prune(store, keep_last=2, dry_run=True)] == ["r1", "r0"]
    assert len(store.runs()) == 4
    assert [r["id"] for r in prune(store, keep_last=2)] == ["r1", "r0"]
    assert [r["id"] for r in store.runs()] == ["r3", "r2"]
    assert evidence_rows(store) == 2
    assert [r["id"] for r in prune(store, keep_days=0)] == ["r2"]  # everything is old: all but the newest
    assert [r["id"] for r in store.runs()] == ["r3"]
    assert store.document("r3")["hosts"][0]["results"][0]["evidence"]


def test_an_older_store_is_upgraded_in_place(store_url: str) -> None:
    engine = create_engine(store_url)
    with engine.begin() as conn:
        upgrade(conn, "0001")
    engine.dispose()
    store = Store(store_url)  # 0001 -> head
    doc = document("r", "2026-01-01T00:00:00Z", {"web01": {CHECKS[0]: "pass"}})
    store.record(doc)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == t.HEAD_REVISION
    assert store.document("r") == doc


def test_an_older_store_keeps_its_runs_through_the_upgrade(store_url: str) -> None:
    engine = create_engine(store_url)
    with engine.begin() as conn:
        upgrade(conn, "0001")
        conn.execute(t.runs.insert().values(id="old", started="2025-01-01T00:00:00Z", playbook="baseline",
                                            inventory="hosts.ini", hosts=0, complete=False))  # fmt: skip
    engine.dispose()
    assert [r["id"] for r in Store(store_url).runs()] == ["old"]


def test_a_newer_store_is_refused_and_left_alone(store_url: str) -> None:
    Store(store_url).close()
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreError, match=r"revision 9999\).* newer than this auditor's"):
        Store(store_url)


def test_the_migrations_build_the_schema_the_code_uses(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(store_url)
    with engine.begin() as conn:
        upgrade(conn, "head")
        differences = compare_metadata(MigrationContext.configure(conn), t.metadata)
    engine.dispose()
    assert differences == []


def test_the_outline_gives_the_report_the_same_changes_as_the_whole_run(store_url: str) -> None:
    from auditor.report.view import diff

    store = Store(store_url)
    a = document("a", "2026-01-01T00:00:00Z", {"web01": {CHECKS[0]: "pass", CHECKS[1]: "fail"}}, {"web01": KEY_A})
    b = document("b", "2026-01-02T00:00:00Z", {"web01": {CHECKS[0]: "fail", CHECKS[1]: "pass"}}, {"web01": KEY_B})
    store.record(a)
    assert diff(store.outline("a"), b) == diff(a, b)
    assert diff(a, b).host_keys_changed and diff(a, b).new_failures and diff(a, b).fixed


def test_a_new_sqlite_store_is_readable_by_its_owner_only(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'new' / 'history.db'}")
    store.record(document("r", "2026-01-01T00:00:00Z", {"web01": {CHECKS[0]: "pass"}}))
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700
    for path in (tmp_path / "new").iterdir():  # the database, its -wal and -shm
        assert path.stat().st_mode & 0o077 == 0, path
