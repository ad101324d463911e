"""Writing runs into the history store and reading them back.

A run is recorded in three steps, so that a run killed at any moment leaves a consistent store:
``begin`` inserts the run row (not finished, not complete) before any host is contacted; ``add_host``
records each host as it finishes, as its journal line in one insert of its own (a killed run keeps
them, and the audit barely waits); ``finish`` replaces them, in one transaction, by the hosts and
results of results.json as written (their evidence may then refer to ``shared_evidence``) and marks
the run finished. Each evidence item is stored once, named by the SHA-256 of its JSON.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
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


def canonical(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def evidence_hash(item: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(item).encode("utf-8")).hexdigest()


def _marker(conn: Connection) -> str:
    return "?" if conn.dialect.paramstyle == "qmark" else "%s"


# Hosts inserted at a time when a run is recorded: their evidence is held until the batch is written.
INSERT_BATCH_HOSTS = 50
# A result's own keys; every other key is the check's text, the same on every host (stored once).
OWN_KEYS = ("check", "status", "reason", "evidence")
TEXT_KEYS = ("title", "severity", "iso27001", "plan", "remediation")
# results.json's order of a result's keys, restored on export (JSON equality does not need it; readers do).
RESULT_ORDER = ("check", "title", "status", "severity", "iso27001", "plan", "reason", "remediation", "evidence")


class _CheckTexts:
    """The check texts of a batch of results, hashed once per check unless a result's texts differ."""

    keys = TEXT_KEYS

    def __init__(self) -> None:
        self._seen: dict[str, tuple[dict[str, Any], str, str]] = {}
        self.bodies: dict[str, str] = {}

    def of(self, result: dict[str, Any]) -> tuple[str, str]:
        """(hash of the texts, plan tasks as JSON)."""
        texts = {k: result[k] for k in TEXT_KEYS if k in result}
        seen = self._seen.get(result["check"])
        if seen is not None and seen[0] == texts:
            return seen[1], seen[2]
        body = canonical(texts)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        self.bodies[digest] = body
        plan = _json(texts.get("plan", []))
        self._seen[result["check"]] = (texts, digest, plan)
        return digest, plan


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
            path = Path(parsed.database)
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
            if not path.exists():
                # Hosts' outputs are in there: readable by its owner only (SQLite gives its -wal and -shm
                # files the same mode).
                with contextlib.suppress(FileExistsError):
                    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
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

    def add_host(self, run_id: str, host: dict[str, Any] | str, position: int) -> None:
        """The ``position``-th finished host (its journal line, or the dict of it), in its own transaction."""
        body = host.strip() if isinstance(host, str) else _json(host)
        with self._tx() as conn:
            conn.execute(insert(t.journal).values(run_id=run_id, position=position, body=body))
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
            "inventory": run.get("inventory", ""),
            "score": document["score"]["value"],
            "coverage": document["score"]["coverage"],
            "hosts": len(document["hosts"]),
            "complete": bool(run["complete"]),
            "document": _json(head),
        }
        with self._tx() as conn:
            conn.execute(delete(t.journal).where(t.journal.c.run_id == run["id"]))
            conn.execute(delete(t.results).where(t.results.c.run_id == run["id"]))
            conn.execute(delete(t.hosts).where(t.hosts.c.run_id == run["id"]))
            if conn.execute(update(t.runs).where(t.runs.c.id == run["id"]).values(**row)).rowcount == 0:
                conn.execute(insert(t.runs).values(id=run["id"], **row))
            self._insert_once(conn, "evidence", {shared_refs[ref]: canonical(item) for ref, item in shared.items()})
            batch: list[dict[str, Any]] = []
            for n, host in enumerate(document["hosts"]):  # a batch at a time: never every host's evidence at once
                batch.append(host)
                if len(batch) == INSERT_BATCH_HOSTS:
                    self._insert_hosts(conn, run["id"], batch, first=n + 1 - len(batch))
                    batch = []
            self._insert_hosts(conn, run["id"], batch, first=len(document["hosts"]) - len(batch))

    def record(self, document: dict[str, Any]) -> None:
        """A whole results.json at once (an import, a benchmark)."""
        self.finish(document)

    def _insert_hosts(self, conn: Connection, run_id: str, hosts: list[dict[str, Any]], first: int = 0) -> None:
        host_rows: list[dict[str, Any]] = []
        result_rows: list[tuple[Any, ...]] = []
        evidence: dict[str, str] = {}
        texts = _CheckTexts()
        for n, host in enumerate(hosts, start=first):
            name = host["name"]
            host_rows.append(
                {
                    "run_id": run_id,
                    "name": name,
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
                    body = canonical(item)
                    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
                    evidence.setdefault(digest, body)
                    hashes.append(digest)
                text_hash, plan = texts.of(result)
                extra = {k: v for k, v in result.items() if k not in OWN_KEYS and k not in texts.keys}
                result_rows.append(
                    (run_id, name, i, result["check"], result["status"], result["severity"], result["reason"],
                     plan, text_hash, _json(extra) if extra else None, ",".join(hashes))
                )  # fmt: skip
        self._insert_once(conn, "evidence", evidence)
        self._insert_once(conn, "check_texts", texts.bodies)
        if host_rows:
            conn.execute(insert(t.hosts), host_rows)
        if result_rows:
            # The driver's executemany directly: per-row parameter handling in SQLAlchemy cost more than SQLite.
            columns = [c.name for c in t.results.columns]
            conn.exec_driver_sql(
                f"INSERT INTO results ({', '.join(columns)}) VALUES ({', '.join([_marker(conn)] * len(columns))})",
                result_rows,
            )

    @staticmethod
    def _insert_once(conn: Connection, table: str, rows: dict[str, str]) -> None:
        """Content-addressed rows: one already stored (by this run or another) is left as it is."""
        if not rows:
            return
        m = _marker(conn)
        conflict = "ON CONFLICT (sha256) DO NOTHING"
        conn.exec_driver_sql(f"INSERT INTO {table} (sha256, body) VALUES ({m}, {m}) {conflict}", list(rows.items()))

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
            c = t.results.c
            query = (
                select(c.host, c.check_id, c.status, c.reason, c.check_text, c.extra, c.evidence)
                .where(c.run_id == run_id)
                .order_by(c.host, c.position)
            )
            rows = list(conn.execute(query))
            hosts = list(
                conn.execute(
                    select(t.hosts.c.name, t.hosts.c.body)
                    .where(t.hosts.c.run_id == run_id)
                    .order_by(t.hosts.c.position)
                )
            )
            wanted = set(head.get("shared_evidence", {}).values())
            for row in rows:
                if row.evidence:
                    wanted.update(row.evidence.split(","))
            evidence = self._by_hash(conn, t.evidence, wanted)
            texts = self._by_hash(conn, t.check_texts, {row.check_text for row in rows})
        results: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            merged = {"check": row.check_id, **texts[row.check_text], "status": row.status, "reason": row.reason}
            if row.extra:
                merged.update(json.loads(row.extra))
            merged["evidence"] = [evidence[h] for h in row.evidence.split(",")] if row.evidence else []
            ordered = {k: merged[k] for k in RESULT_ORDER if k in merged}
            results.setdefault(row.host, []).append(ordered | merged)
        document_hosts = []
        for row in hosts:
            host = json.loads(row.body)
            host["results"] = results.get(row.name, [])
            document_hosts.append(host)
        head["hosts"] = document_hosts
        if "shared_evidence" in head:
            head["shared_evidence"] = {ref: evidence[h] for ref, h in head["shared_evidence"].items()}
        return head

    @staticmethod
    def _by_hash(conn: Connection, table: Any, hashes: set[str], batch: int = 500) -> dict[str, Any]:
        found: dict[str, Any] = {}
        ordered = sorted(hashes)
        for i in range(0, len(ordered), batch):
            query = select(table.c.sha256, table.c.body).where(table.c.sha256.in_(ordered[i : i + batch]))
            found.update((row.sha256, json.loads(row.body)) for row in conn.execute(query))
        return found

    @staticmethod
    def _journal(conn: Connection, run_id: str) -> list[dict[str, Any]]:
        """The finished hosts of a run that did not end (killed), as it journaled them."""
        query = select(t.journal.c.body).where(t.journal.c.run_id == run_id).order_by(t.journal.c.position)
        return [json.loads(body) for (body,) in conn.execute(query)]

    def statuses(self, run_id: str) -> dict[tuple[str, str], str]:
        """(host, check) -> verdict of one run."""
        query = select(t.results.c.host, t.results.c.check_id, t.results.c.status).where(t.results.c.run_id == run_id)
        with self._tx() as conn:
            found = {(row.host, row.check_id): row.status for row in conn.execute(query)}
            if not found:
                found = {
                    (h["name"], r["check"]): r["status"] for h in self._journal(conn, run_id) for r in h["results"]
                }
        return found

    def hosts(self, run_id: str) -> dict[str, dict[str, Any]]:
        """name -> status, host_key, plan_tasks of one run's hosts."""
        query = select(t.hosts.c.name, t.hosts.c.status, t.hosts.c.host_key, t.hosts.c.plan_tasks).where(
            t.hosts.c.run_id == run_id
        )
        with self._tx() as conn:
            found = {
                row.name: {"status": row.status, "host_key": row.host_key, "plan_tasks": json.loads(row.plan_tasks)}
                for row in conn.execute(query)
            }
            if not found:
                found = {
                    h["name"]: {"status": h["status"], "host_key": h.get("host_key"), "plan_tasks": h["plan_tasks"]}
                    for h in self._journal(conn, run_id)
                }
        return found

    def outline(self, run_id: str) -> dict[str, Any]:
        """What the report compares with a previous run, without its evidence: run, score, each host's key
        and verdicts. Much cheaper than ``document`` on a large run."""
        with self._tx() as conn:
            head_text = conn.execute(select(t.runs.c.document).where(t.runs.c.id == run_id)).scalar()
            if head_text is None:
                raise LookupError(f"run {run_id} did not finish (killed?)")
            head = json.loads(head_text)
            c = t.results.c
            verdicts: dict[str, list[dict[str, str]]] = {}
            query = select(c.host, c.check_id, c.status).where(c.run_id == run_id).order_by(c.host, c.position)
            for host, check, status in conn.execute(query):
                verdicts.setdefault(host, []).append({"check": check, "status": status})
            query = select(t.hosts.c.name, t.hosts.c.host_key).where(t.hosts.c.run_id == run_id)
            hosts = [
                {"name": name, **({"host_key": key} if key else {}), "results": verdicts.get(name, [])}
                for name, key in conn.execute(query.order_by(t.hosts.c.position))
            ]
        return {"run": head["run"], "score": head["score"], "hosts": hosts}

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
                # A run recording meanwhile waits: its rows cannot be collected between insert and use.
                conn.exec_driver_sql("LOCK TABLE evidence, check_texts IN SHARE ROW EXCLUSIVE MODE")
            for table in (t.results, t.hosts, t.journal):
                conn.execute(delete(table).where(table.c.run_id.in_(run_ids)))
            conn.execute(delete(t.runs).where(t.runs.c.id.in_(run_ids)))
            used: set[str] = set()
            used_texts: set[str] = set()
            for hashes, text in conn.execute(select(t.results.c.evidence, t.results.c.check_text)):
                if hashes:
                    used.update(hashes.split(","))
                used_texts.add(text)
            for (head,) in conn.execute(select(t.runs.c.document).where(t.runs.c.document.is_not(None))):
                used.update(json.loads(head).get("shared_evidence", {}).values())
            for table, keep in ((t.evidence, used), (t.check_texts, used_texts)):
                unused = [row.sha256 for row in conn.execute(select(table.c.sha256)) if row.sha256 not in keep]
                for i in range(0, len(unused), 500):
                    conn.execute(delete(table).where(table.c.sha256.in_(unused[i : i + 500])))


def open_store(url: str) -> Store:
    return Store(url)
