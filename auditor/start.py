"""``auditor run`` between its parsed options and what it prints: ``start(request, watch) -> Started``.

The options are checked in the order a user meets them (distributed settings, output folder, lock
name, notices, store, parameters), before anything is contacted; Ctrl-C and SIGTERM stop the audit
(not the notices sent after it); a distributed run hands its hosts to the workers; the notices go out
once the files are written. What comes back is the run, the exit code and the lines for stderr.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from auditor import runlock
from auditor.catalog.playbook import parse_cli_params
from auditor.distributed.startup import DistributedRun, DistributedSettings, distributed_settings, worker_dispatcher
from auditor.drift_notices import NoticeOptions, send_drift_notices
from auditor.errors import InputError
from auditor.history.url import chosen_url
from auditor.model import HostResult
from auditor.run import AuditOptions, Cancel, Hooks, RunResult, audit


@dataclass
class RunRequest:
    """The options of ``auditor run`` as given on the command line."""

    inventory: str | None = None
    playbook: str = "baseline"
    params: tuple[str, ...] = ()
    known_hosts: str | None = None
    trust_on_first_use: bool = False
    connect_timeout: float = 10.0
    fact_timeout: int = 30
    output: str | None = None
    force: bool = False
    jobs: int = 10
    lang: str = "vi"
    allow_wide_scan: bool = False
    no_network: bool = False
    output_root: str | None = None
    lock: str | None = None
    waivers: str | None = None
    db: str | None = None
    no_history: bool = False
    notices: NoticeOptions = field(default_factory=NoticeOptions)
    distributed: DistributedRun = field(default_factory=DistributedRun)


@dataclass
class Watch:
    """How the caller shows a run as it goes; every callback may be left out."""

    on_start: Callable[[int], None] | None = None  # the number of hosts, once known
    on_host: Callable[[HostResult], None] | None = None  # each finished host
    on_segments: Callable[[str], None] | None = None  # a distributed run's progress, a line per change
    on_stop: Callable[[bool], None] | None = None  # a signal asked to stop (True the first time); a handler's context


@dataclass
class Started:
    result: RunResult
    exit_code: int
    messages: list[str]  # for stderr, in order: what failed while the files were written, then the notices


def audit_options(request: RunRequest) -> AuditOptions:
    """The run's options but its history store, the output folder and lock name checked (InputError, exit 2)."""
    if request.output is not None and not request.output.strip():
        raise InputError("--output: an empty folder name (leave the option out for reports/<time>/)")
    if request.output is not None and request.output_root is not None:
        raise InputError("--output and --output-root: give one", field="--output-root")
    if request.lock is not None:
        runlock.check_name(request.lock)
    return AuditOptions(
        request.known_hosts,
        request.trust_on_first_use,
        request.connect_timeout,
        request.fact_timeout,
        request.jobs,
        None if request.output is None else Path(request.output),
        request.force,
        request.lang,
        request.allow_wide_scan,
        request.no_network,
        request.lock,
        None if request.output_root is None else Path(request.output_root),
        request.waivers,
    )


def history_url(request: RunRequest, distributed: DistributedSettings | None) -> str | None:
    """Where the run is recorded; None with --no-history. A distributed run's store may come from its
    credentials file (a password never on the command line)."""
    if request.no_history:
        return None
    return chosen_url(request.db or (distributed.db if distributed is not None else None))


def problems_said(result: RunResult) -> list[str]:
    """What failed while the run's files were written (they are written all the same)."""
    said = []
    if result.problem:
        said.append(f"error: {result.problem}")
    if result.history_problem:
        said.append(f"error: {result.history_problem} (its files are in {result.out_dir})")
    return said


def start(request: RunRequest, watch: Watch | None = None) -> Started:
    """Check the options, audit, send the drift notices; InputError, OutputError, FolderBusy as ``audit``."""
    watch = watch or Watch()
    distributed = distributed_settings(request.distributed, request.db)
    options = audit_options(request)
    notices = request.notices.settings()
    options.history = history_url(request, distributed)
    params = parse_cli_params(request.params)
    with stop_on_signals(watch.on_stop) as cancel:
        hooks = Hooks(cancel, on_start=watch.on_start, on_host=watch.on_host)
        if distributed is not None:
            hooks.run_hosts = worker_dispatcher(
                distributed,
                request.inventory,
                request.playbook,
                params,
                request.connect_timeout,
                request.fact_timeout,
                watch.on_segments,
            )
            hooks.network_with_hosts = True  # each segment's NET-* probes run on its worker
        result = audit(request.inventory, request.playbook, params, options, hooks)
    messages = problems_said(result)
    code = result.exit_code
    if notices is not None:
        sent = send_drift_notices(notices, result.since_previous, code)
        code = sent.exit_code
        messages += sent.messages
    return Started(result, code, messages)


@contextmanager
def stop_on_signals(on_stop: Callable[[bool], None] | None = None) -> Iterator[Cancel]:
    """Ctrl-C or SIGTERM once: stop the run and write what finished. Twice: stop waiting for the probes."""
    cancel = Cancel()

    def on_signal(signum: int, _frame: Any) -> None:
        first = not cancel.stop.is_set()
        cancel.request(signal.Signals(signum).name)
        if on_stop is not None:
            on_stop(first)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield cancel
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
