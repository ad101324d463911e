"""Starting the Celery side from the command line: a distributed run's settings and its dispatcher,
and a worker. Celery and redis are imported only here, when one of them is started: a local run
never loads them, and without the ``distributed`` extra the user reads how to install it."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor.errors import InputError


@dataclass
class DistributedRun:
    """The --distributed options of ``auditor run`` as given."""

    distributed: bool = False
    broker: str | None = None
    credentials: str | None = None
    shard_size: int = 100
    segment_timeout: float = 300.0
    visibility_timeout: float = 3600.0


@dataclass
class DistributedSettings:
    broker: str
    db: str | None  # the history store's URL from $AUDITOR_DB or the credentials file
    sizes: dict[str, Any] = field(default_factory=dict)  # shard size and timeouts, as the coordinator takes them


def distributed_settings(given: DistributedRun, db: str | None = None) -> DistributedSettings | None:
    """The checked settings of a distributed run; None for a local run (InputError for a stray option).
    A distributed run's ``--db`` (``db``) holds no password either: that comes from $AUDITOR_DB or the
    credentials file."""
    from auditor.distributed import credentials

    if not given.distributed:
        for name, value in (("broker", given.broker), ("credentials", given.credentials)):
            if value is not None:
                raise InputError("only with --distributed", field=f"--{name}")
        return None
    broker = credentials.resolve("broker", given.broker, given.credentials)
    if broker is None:
        raise InputError("a distributed run needs a broker: --broker URL or $AUDITOR_BROKER", field="--broker")
    if db is not None:
        credentials.resolve("db", db, None)
    # The history store's URL: $AUDITOR_DB or the credentials file (the run's --db is the history store's own).
    store = credentials.resolve("db", None, given.credentials)
    sizes = {
        "shard_size": given.shard_size,
        "segment_timeout": given.segment_timeout,
        "visibility_timeout": given.visibility_timeout,
    }
    return DistributedSettings(broker, store, sizes)


def celery_module(name: str) -> Any:
    """A module of the Celery side; without the ``distributed`` extra, an OSError saying how to install it."""
    try:
        return importlib.import_module(f"auditor.distributed.{name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("celery", "kombu", "redis"):
            raise OSError(
                f"distributed runs need Celery and redis: pip install 'auditor[distributed]' ({exc.name} is missing)"
            ) from None
        raise


def segments_line(counts: dict[str, tuple[int, int]]) -> str:
    """A distributed run's progress: hosts done per segment."""
    return " · ".join(f"segment {segment}: {done}/{total} hosts done" for segment, (done, total) in counts.items())


def worker_dispatcher(
    settings: DistributedSettings,
    inventory: str | None,
    playbook: str,
    params: dict[str, Any],
    connect_timeout: float,
    fact_timeout: int,
    on_segments: Callable[[str], None] | None = None,
) -> Any:
    """How a distributed run audits its hosts: shards to the workers, each segment's progress to ``on_segments``."""
    coordinator = celery_module("coordinator")

    def counts_changed(counts: dict[str, tuple[int, int]]) -> None:
        if on_segments is not None:
            on_segments(segments_line(counts))

    options = coordinator.DistributedOptions(broker=settings.broker, **settings.sizes)
    return coordinator.dispatcher(options, inventory, playbook, params, connect_timeout, fact_timeout, counts_changed)


@dataclass
class WorkerRequest:
    """The options of ``auditor worker`` as given."""

    broker: str | None
    db: str | None
    credentials: str | None
    queues: tuple[str, ...]
    allow_nets: tuple[str, ...]
    jobs: int
    identity: str
    known_hosts: str
    visibility_timeout: float
    name: str | None


def start_worker(request: WorkerRequest) -> None:
    """Every input checked before anything connects, then the worker serves its queues until stopped."""
    from auditor.distributed import allow
    from auditor.distributed import credentials as creds
    from auditor.distributed.shards import check_segment

    for queue in request.queues:
        check_segment(queue, "--queue")
    url = creds.resolve("broker", request.broker, request.credentials)
    if url is None:
        raise InputError("a worker needs a broker: --broker URL or $AUDITOR_BROKER", field="--broker")
    creds.resolve("db", request.db, request.credentials)
    networks = allow.parse_networks(request.allow_nets)
    worker_mod = celery_module("worker")
    settings = worker_mod.WorkerSettings(
        networks, Path(request.identity).expanduser(), Path(request.known_hosts).expanduser(), request.jobs
    )
    worker_mod.serve(url, list(request.queues) or ["default"], settings, request.visibility_timeout, request.name)
