"""The tables of the history store (SQLAlchemy Core). A change here needs a migration in ``migrations``.

A run's results.json is kept in pieces that can be queried (runs, hosts, results by verdict) and
put back together exactly. What many results share is stored once, named by the SHA-256 of its
JSON: evidence items in ``evidence``, the catalog's texts of a check in ``check_texts``.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

# The newest migration; a new store is created from this metadata and stamped with it.
HEAD_REVISION = "0002"

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("started", String(40), nullable=False),
    Column("finished", String(40)),  # null: the run did not end (killed)
    Column("playbook", Text, nullable=False),
    Column("inventory", Text, nullable=False),
    Column("score", Float),
    Column("coverage", Float),
    Column("hosts", Integer, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("document", Text),  # results.json without hosts; shared_evidence as evidence hashes
    Index("runs_series", "playbook", "inventory", "started"),
    Index("runs_started", "started"),
)

# A running run's finished hosts, each as its journal line (one insert per host, nothing to compute):
# what a killed run keeps. The run's end replaces them by hosts and results.
journal = Table(
    "journal",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
)

hosts = Table(
    "hosts",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("name", Text, primary_key=True),
    Column("position", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("host_key", Text),
    Column("score", Float),
    Column("plan_tasks", Text, nullable=False),  # JSON object
    Column("body", Text, nullable=False),  # the host's results.json entry without its results
    ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE"),
    Index("hosts_name", "name"),
)

results = Table(
    "results",
    metadata,
    Column("run_id", String(80), primary_key=True),
    Column("host", Text, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("check_id", String(120), nullable=False),
    Column("status", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("plan", Text, nullable=False),  # JSON list of plan tasks
    Column("check_text", String(64), nullable=False),  # check_texts.sha256: title, controls, remediation…
    Column("extra", Text),  # JSON of any other key the result has, or null
    Column("evidence", Text, nullable=False),  # evidence.sha256 of each item, comma-separated
    ForeignKeyConstraint(["run_id", "host"], ["hosts.run_id", "hosts.name"], ondelete="CASCADE"),
    Index("results_check", "check_id"),
    Index("results_status", "run_id", "status"),
)

# What every host's result of a check repeats (title, severity, ISO controls, plan tasks, remediation in
# two languages): most of a result's bytes, stored once.
check_texts = Table(
    "check_texts",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("body", Text, nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("body", Text, nullable=False),
)
