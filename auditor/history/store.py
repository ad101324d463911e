"""Writing runs into the history store and reading them back.

A run is recorded in three steps, so that a run killed at any moment leaves a consistent store:
``begin`` inserts the run row (not finished, not complete) before any host is contacted; ``add_host``
records each host as it finishes, in its own transaction (a killed run keeps them); ``finish``
replaces them, in one transaction, by the hosts of results.json as written (their evidence may then
refer to ``shared_evidence``) and marks the run finished. Each evidence item is stored once, named
by the SHA-256 of its JSON.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from auditor.history import schema as t
from auditor.history.migrate import ensure_schema
from auditor.history.url import StoreError, parse, scrub, shown

SQLITE_BUSY_TIMEOUT_MS = 30_000
LIST_FIELDS = ("id", "started", "finished", "playbook", "inventory", "score", "coverage", "hosts", "complete")

T = TypeVar("T")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def evidence_hash(item: dict[str, Any]) -> str:
    canonical = json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Store:
    """One history database. Every failure of the database reaches callers as ``StoreError``."""

    def __init__(self, url: str):
        parsed = parse(url)
        self.url = shown(parsed)
        self._raw = parsed
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StoreError(f"history store {self.url}: only sqlite and postgresql databases are supported")
        self.engine = self._guard(lambda: self._engine(parsed, backend))
        self._guard(self._migrate)

    def _engine(self, parsed: Any, backend: str) -> Engine:
        if backend != "sqlite":
            try:
                return create_engine(parsed)
            except ImportError as exc:
                raise StoreError(
                    f"history store {self.url}: its driver is not installed ({exc.name}): "
                    "pip install 'auditor[postgresql]'"
                ) from None
        if parsed.database and parsed.database != ":memory:":
            folder = Path(parsed.database).parent
            if not folder.is_dir():
                folder.mkdir(parents=True, mode=0o700, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            # WAL: readers (history list, a report) never wait for a run that is writing.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine

    def _migrate(self) -> None:
        with self.engine.begin() as conn:
            ensure_schema(conn, self.url)

    def _guard(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"history store {self.url}: {scrub(_first_line(exc), self._raw)}") from None

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except StoreError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"history store {self.url}: {scrub(_first_line(exc), self._raw)}") from None

    def close(self) -> None:
        self.engine.dispose()

    # --- writing ------------------------------------------------------------------------------------------

    def begin(self, run: dict[str, Any]) -> None:
        """The run row, before any host: a run killed from here on is listed, incomplete."""
        with self._tx() as conn:
            conn.execute(
                insert(t.runs).values(
                    id=run["id"],
                    started=run["started"],
                    playbook=run["playbook"],
                    inventory=run["inventory"],
                    hosts=0,
                    complete=False,
                )
            )

    def add_host(self, run_id: str, host: dict[str, Any], position: int) -> None:
        """The ``position``-th finished host (journal-shaped: evidence complete), in its own transaction."""
        with self._tx() as conn:
            self._insert_hosts(conn, run_id, [host], first=position)
            conn.execute(update(t.runs).where(t.runs.c.id == run_id).values(hosts=position + 1))

    def finish(self, document: dict[str, Any]) -> None:
        """The run as results.json has it, replacing what ``add_host`` recorded, in one transaction."""
        run = document["run"]
        shared = document.get("shared_evidence") or {}
        shared_refs = {ref: evidence_hash(item) for ref, item in shared.items()}
        head = {k: ([] if k == "hosts" else shared_refs if k == "shared_evidence" else v) for k, v in document.items()}
        row = {
            "started": run["started"],
            "finished": run["finished"],
            "playbook": run["playbook"],
            "inventory": run["inventory"],
            "score": document["score"]["value"],
            "coverage": document["score"]["coverage"],
            "hosts": len(document["hosts"]),
            "complete": bool(run["complete"]),
            "document": _json(head),
        }
        with self._tx() as conn:
            conn.execute(delete(t.results).where(t.results.c.run_id == run["id"]))
            conn.execute(delete(t.hosts).where(t.hosts.c.run_id == run["id"]))
            if conn.execute(update(t.runs).where(t.runs.c.id == run["id"]).values(**row)).rowcount == 0:
                conn.execute(insert(t.runs).values(id=run["id"], **row))
            self._insert_evidence(conn, {shared_refs[ref]: item for ref, item in shared.items()})
            self._insert_hosts(conn, run["id"], document["hosts"])

    def record(self, document: dict[str, Any]) -> None:
        """A whole results.json at once (an import, a benchmark)."""
        self.finish(document)

    def _insert_hosts(self, conn: Connection, run_id: str, hosts: list[dict[str, Any]], first: int = 0) -> None:
        host_rows, result_rows, evidence = [], [], {}
        for n, host in enumerate(hosts, start=first):
            host_rows.append(
                {
                    "run_id": run_id,
                    "name": host["name"],
                    "position": n,
                    "status": host["status"],
                    "host_key": host.get("host_key"),
                    "score": host.get("score"),
                    "plan_tasks": _json(host.get("plan_tasks", {})),
                    "body": _json({k: ([] if k == "results" else v) for k, v in host.items()}),
                }
            )
            for i, result in enumerate(host["results"]):
                hashes = []
                for item in result["evidence"]:
                    digest = evidence_hash(item)
                    evidence.setdefault(digest, item)
                    hashes.append(digest)
                result_rows.append(
                    {
                        "run_id": run_id,
                        "host": host["name"],
                        "position": i,
                        "check_id": result["check"],
                        "status": result["status"],
                        "severity": result["severity"],
                        "plan": _json(result.get("plan", [])),
                        "body": _json({k: ([] if k == "evidence" else v) for k, v in result.items()}),
                        "evidence": _json(hashes),
                    }
                )
        self._insert_evidence(conn, evidence)
        if host_rows:
            conn.execute(insert(t.hosts), host_rows)
        if result_rows:
            conn.execute(insert(t.results), result_rows)

    def _insert_evidence(self, conn: Connection, items: dict[str, dict[str, Any]]) -> None:
        if not items:
            return
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        rows = [{"sha256": digest, "body": _json(item)} for digest, item in items.items()]
        conn.execute(dialect_insert(t.evidence).on_conflict_do_nothing(index_elements=["sha256"]), rows)

    # --- reading ------------------------------------------------------------------------------------------

    def runs(
        self, playbook: str | None = None, inventory: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Runs newest first, as ``history list`` shows them."""
        query = select(*(t.runs.c[f] for f in LIST_FIELDS)).order_by(t.runs.c.started.desc(), t.runs.c.id.desc())
        if playbook is not None:
            query = query.where(t.runs.c.playbook == playbook)
        if inventory is not None:
            query = query.where(t.runs.c.inventory == inventory)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            return [{**row._asdict(), "complete": bool(row.complete)} for row in conn.execute(query)]

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = conn.execute(select(*(t.runs.c[f] for f in LIST_FIELDS)).where(t.runs.c.id == run_id)).first()
        return None if row is None else {**row._asdict(), "complete": bool(row.complete)}

    def resolve(self, ident: str) -> str:
        """A run id, or the unique run whose id starts with ``ident``."""
        with self._tx() as conn:
            if conn.execute(select(t.runs.c.id).where(t.runs.c.id == ident)).first():
                return ident
            escaped = ident.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found = list(conn.execute(select(t.runs.c.id).where(t.runs.c.id.like(escaped + "%", escape="\\"))))
        if len(found) == 1:
            return str(found[0].id)
        raise LookupError(f"no run {ident!r} in the history" if not found else f"{ident!r} names several runs")

    def document(self, run_id: str) -> dict[str, Any]:
        """The run's results.json, put back together."""
        with self._tx() as conn:
            head_text = conn.execute(select(t.runs.c.document).where(t.runs.c.id == run_id)).scalar()
            if head_text is None:
                raise LookupError(f"run {run_id} did not finish (killed?): it wrote no results.json to export")
            head = json.loads(head_text)
            results: dict[str, list[tuple[dict[str, Any], list[str]]]] = {}
            query = select(t.results.c.host, t.results.c.body, t.results.c.evidence).where(t.results.c.run_id == run_id)
            for row in conn.execute(query.order_by(t.results.c.host, t.results.c.position)):
                results.setdefault(row.host, []).append((json.loads(row.body), json.loads(row.evidence)))
            hosts = list(
                conn.execute(
                    select(t.hosts.c.name, t.hosts.c.body)
                    .where(t.hosts.c.run_id == run_id)
                    .order_by(t.hosts.c.position)
                )
            )
            wanted = set(head.get("shared_evidence", {}).values())
            wanted.update(h for items in results.values() for _, hashes in items for h in hashes)
            evidence = self._evidence(conn, wanted)
        document_hosts = []
        for row in hosts:
            host = json.loads(row.body)
            host["results"] = [
                {**body, "evidence": [evidence[h] for h in hashes]} for body, hashes in results.get(row.name, [])
            ]
            document_hosts.append(host)
        head["hosts"] = document_hosts
        if "shared_evidence" in head:
            head["shared_evidence"] = {ref: evidence[h] for ref, h in head["shared_evidence"].items()}
        return head

    @staticmethod
    def _evidence(conn: Connection, hashes: set[str], batch: int = 500) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        ordered = sorted(hashes)
        for i in range(0, len(ordered), batch):
            query = select(t.evidence.c.sha256, t.evidence.c.body).where(
                t.evidence.c.sha256.in_(ordered[i : i + batch])
            )
            found.update((row.sha256, json.loads(row.body)) for row in conn.execute(query))
        return found

    def statuses(self, run_id: str) -> dict[tuple[str, str], str]:
        """(host, check) -> verdict of one run."""
        query = select(t.results.c.host, t.results.c.check_id, t.results.c.status).where(t.results.c.run_id == run_id)
        with self._tx() as conn:
            return {(row.host, row.check_id): row.status for row in conn.execute(query)}

    def hosts(self, run_id: str) -> dict[str, dict[str, Any]]:
        """name -> status, host_key, plan_tasks of one run's hosts."""
        query = select(t.hosts.c.name, t.hosts.c.status, t.hosts.c.host_key, t.hosts.c.plan_tasks).where(
            t.hosts.c.run_id == run_id
        )
        with self._tx() as conn:
            return {
                row.name: {"status": row.status, "host_key": row.host_key, "plan_tasks": json.loads(row.plan_tasks)}
                for row in conn.execute(query)
            }

    def result_rows(self, run_ids: list[str]) -> list[Any]:
        """(run_id, host, check_id, status, severity, plan JSON) rows of these runs."""
        c = t.results.c
        query = select(c.run_id, c.host, c.check_id, c.status, c.severity, c.plan).where(c.run_id.in_(run_ids))
        with self._tx() as conn:
            return list(conn.execute(query))

    def status_counts(self, run_ids: list[str]) -> dict[str, dict[str, int]]:
        c = t.results.c
        query = select(c.run_id, c.status, func.count()).where(c.run_id.in_(run_ids)).group_by(c.run_id, c.status)
        counts: dict[str, dict[str, int]] = {run_id: {} for run_id in run_ids}
        with self._tx() as conn:
            for run_id, status, n in conn.execute(query):
                counts[run_id][status] = n
        return counts

    # --- removing -----------------------------------------------------------------------------------------

    def delete(self, run_ids: list[str]) -> None:
        """These runs, then the evidence no remaining run refers to, in one transaction."""
        if not run_ids:
            return
        with self._tx() as conn:
            if conn.dialect.name == "postgresql":
                # A run recording meanwhile waits: its evidence cannot be collected between insert and use.
                conn.exec_driver_sql("LOCK TABLE evidence IN SHARE ROW EXCLUSIVE MODE")
            for table, column in ((t.results, t.results.c.run_id), (t.hosts, t.hosts.c.run_id), (t.runs, t.runs.c.id)):
                conn.execute(delete(table).where(column.in_(run_ids)))
            used: set[str] = set()
            for (hashes,) in conn.execute(select(t.results.c.evidence)):
                used.update(json.loads(hashes))
            for (head,) in conn.execute(select(t.runs.c.document).where(t.runs.c.document.is_not(None))):
                used.update(json.loads(head).get("shared_evidence", {}).values())
            stored = [row.sha256 for row in conn.execute(select(t.evidence.c.sha256))]
            unused = [h for h in stored if h not in used]
            for i in range(0, len(unused), 500):
                conn.execute(delete(t.evidence).where(t.evidence.c.sha256.in_(unused[i : i + 500])))


def open_store(url: str) -> Store:
    return Store(url)
