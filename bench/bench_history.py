"""The history store: recording a synthetic run, diff of two, `history list` over many runs; print times.

    python -m bench.bench_history [--hosts 3176] [--checks 60] [--runs 365] [--pg-url URL | --no-postgres]

Each measurement runs against SQLite (a file in a temporary folder) and PostgreSQL: the server at
``--pg-url``, else a throwaway PostgreSQL 15 started like the tests' (tests/postgres.py; root or the
binaries needed), else SQLite only. The run is bench/synthetic.py's (the real results builder).
Measured:

  record        store.record(results.json) in one transaction (a whole run at once)
  as a run      begin + one transaction per finished host + finish (what `auditor run` does)
  export        the run's results.json put back together (what the report's previous run costs)
  diff          diff_runs of two such runs (different verdicts drawn)
  list          store.runs() over --runs runs, and `auditor history list --format json` as a process

The overhead of recording on a real audit is bench_audit.py's ``history_overhead`` (lab hosts).
No assertion on time: the numbers are for reading (bench/README.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from auditor.history.diff import diff_runs
from auditor.history.store import Store
from auditor.results import build
from bench.synthetic import synthetic_hosts

T = TypeVar("T")


def timed(label: str, fn: Callable[[], T]) -> T:
    t0 = time.perf_counter()
    value = fn()
    print(f"  {label:<44}{time.perf_counter() - t0:>9.2f} s", flush=True)
    return value


def run_document(hosts: int, checks: int, seed: int, run_id: str, started: str) -> dict[str, Any]:
    run, host_results = synthetic_hosts(hosts, checks, seed=seed, network=True)
    run = {**run, "id": run_id, "started": started, "finished": started, "inventory": "bench.ini"}
    return json.loads(json.dumps(build(run, host_results)))  # as read back from results.json


def as_a_run(store: Store, document: dict[str, Any]) -> None:
    store.begin(document["run"])
    for n, host in enumerate(document["hosts"]):
        store.add_host(document["run"]["id"], host, n)
    store.finish(document)


def bench_store(url: str, shown: str, args: argparse.Namespace, docs: list[dict[str, Any]]) -> None:
    print(f"\n{shown}: {args.hosts} hosts x {args.checks} checks", flush=True)
    store = Store(url)
    first, second = docs
    timed("record (one transaction)", lambda: store.record(first))
    timed("as a run (per host, then results.json)", lambda: as_a_run(store, second))
    exported = timed("export (results.json back)", lambda: store.document(first["run"]["id"]))
    assert exported == first, "the store must give results.json back unchanged"
    changes = timed("diff of the two runs", lambda: diff_runs(store, first["run"]["id"], second["run"]["id"]))
    print(f"  ({len(changes['changes'])} changed results, {len(changes['plan_task_changes'])} plan-task changes)")
    small = [run_document(5, 10, 1000 + n, f"list-{n:04d}", f"2025-{1 + n % 12:02d}-01T00:00:{n % 60:02d}Z")
             for n in range(min(args.runs, 3))]  # fmt: skip
    t0 = time.perf_counter()
    for n in range(args.runs):
        doc = small[n % len(small)]
        store.record({**doc, "run": {**doc["run"], "id": f"list-{n:04d}"}})
    print(f"  {'(recording ' + str(args.runs) + ' small runs for the list)':<44}{time.perf_counter() - t0:>9.2f} s")
    listed = timed(f"list: store.runs() over {args.runs + 2} runs", store.runs)
    assert len(listed) == args.runs + 2
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    command = [sys.executable, "-m", "auditor", "history", "list", "--format", "json", "--db", url]
    proc = timed(
        "list: `auditor history list` (a process)", lambda: subprocess.run(command, capture_output=True, env=env)
    )
    assert proc.returncode == 0, proc.stderr.decode()[-500:]
    store.close()


@contextlib.contextmanager
def postgres(args: argparse.Namespace) -> Iterator[tuple[str, str] | None]:
    if args.pg_url:
        yield args.pg_url, "PostgreSQL (--pg-url)"
        return
    if args.no_postgres:
        yield None
        return
    try:
        from tests.postgres import running_postgres, unavailable_reason
    except ImportError:
        yield None
        return
    reason = unavailable_reason()
    if reason:
        print(f"\nPostgreSQL skipped: {reason}")
        yield None
        return
    with running_postgres() as server:
        yield server.new_database(), "PostgreSQL 15 (throwaway server, fsync off)"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hosts", type=int, default=3176)
    ap.add_argument("--checks", type=int, default=60)
    ap.add_argument("--runs", type=int, default=365, help="runs in the store for `history list`")
    ap.add_argument("--pg-url", help="a PostgreSQL database to use (its contents are added to)")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that a throwaway server is stopped
    docs = [
        run_document(args.hosts, args.checks, 85, "big-1", "2026-01-01T00:00:00Z"),
        run_document(args.hosts, args.checks, 86, "big-2", "2026-01-02T00:00:00Z"),
    ]
    with tempfile.TemporaryDirectory(prefix="auditor-bench-history-") as tmp:
        bench_store(f"sqlite:///{Path(tmp) / 'history.db'}", "SQLite (WAL, synchronous=NORMAL)", args, docs)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
        print(f"  (SQLite files: {size / 1e6:.0f} MB)")
    with postgres(args) as pg:
        if pg is not None:
            bench_store(pg[0], pg[1], args, docs)


if __name__ == "__main__":
    main()
