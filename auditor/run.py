"""One audit run, from inputs to written files: ``audit(...) -> RunResult``.

The command line parses arguments, calls ``audit`` and prints; everything between is here: the
output folder taken (locked) before any host is contacted, the journal of finished hosts, the
host and network phases, stopping on request, and the files written without following a link.

Stopping is asked through ``Cancel`` (a signal handler of the caller, a scheduler, a test): the
first request stops starting hosts, aborts those in flight (listed as ``aborted``) and asks the
network phase to stop; the second stops waiting for it. Either way the files written agree with
each other: results.json with ``complete: false``, or no results.json and the journal.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor import organisation, runlock, scoring
from auditor import results as results_mod
from auditor import waivers as waivers_mod
from auditor.catalog import Catalog, load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.engine import RunOptions, run_plans
from auditor.evidence import now
from auditor.inventory import Inventory, load_inventory, local_inventory, redact
from auditor.model import CheckResult, Host, HostPlan, HostResult, Verdict
from auditor.network import params as network_params
from auditor.network.plans import join as join_network
from auditor.network.plans import split as split_network
from auditor.output import OutputError, OutputFolder, describe
from auditor.report.html import html_parts
from auditor.spill import Spill, hydrate
from auditor.transports import ConnectOptions

EXIT_OK, EXIT_FAILURES, EXIT_BAD_INPUT, EXIT_INCOMPLETE, EXIT_BUSY = 0, 1, 2, 3, 4
NETWORK_ABORTED = "aborted: the run was stopped before the network probes finished"


class Interrupted(Exception):
    """Stopped before any host was contacted: nothing was written."""


@dataclass
class Cancel:
    """How a caller stops a run: ``request`` once to stop, twice to stop waiting."""

    stop: threading.Event = field(default_factory=threading.Event)
    force: threading.Event = field(default_factory=threading.Event)
    reason: str | None = None

    def request(self, reason: str) -> None:
        if self.stop.is_set():
            self.force.set()
        else:
            self.reason = reason
            self.stop.set()


@dataclass
class Hooks:
    cancel: Cancel = field(default_factory=Cancel)
    on_start: Callable[[int], None] | None = None  # the number of hosts, once known
    on_host: Callable[[HostResult], None] | None = None  # each finished host (whole), after its journal line
    # Who audits the host plans: None is this machine's engine; a distributed run hands them to workers.
    # Same arguments and result as engine.run_plans, which keeps what on_done returns in a finished
    # host's place (the run's small copy of it).
    run_hosts: Callable[..., list[HostResult]] | None = None
    # run_hosts also probes its hosts' NET-* checks (given in the same plans, after the host checks): a
    # distributed run's workers, each inside its segment. This machine then vets them and probes none.
    network_with_hosts: bool = False
    # Every host's result once both phases are merged, before waivers (a worker sends these back).
    on_merged: Callable[[list[HostResult]], None] | None = None


@dataclass
class AuditOptions:
    known_hosts: str | None = None
    trust_on_first_use: bool = False
    connect_timeout: float = 10.0
    fact_timeout: int = 30
    jobs: int = 10
    output: Path | None = None  # default reports/<run id>
    force: bool = False  # replace a previous run's files in ``output``
    lang: str = "vi"
    allow_wide_scan: bool = False
    no_network: bool = False
    lock: str | None = None  # a named run lock held for the whole run (a schedule's name)
    output_root: Path | None = None  # a fresh <run id> folder under it (default: reports/)
    waivers: str | None = None  # a waivers file (--waivers), beside the playbook's and the evidence folder's
    history: str | None = None  # the history store's URL; None: the run is not recorded
    # Why the network probes may not contact an address (a worker's --allow-net); None: no such limit.
    refuse_address: Callable[[str], str | None] | None = None
    # Hosts outside the inventory the network probes may look up (a worker's shard: its log servers).
    network_hosts: list[Host] = field(default_factory=list)


@dataclass
class RunResult:
    document: dict[str, Any]
    out_dir: Path
    exit_code: int
    learned: list[str]  # hosts whose key was trusted on first use
    stopped: bool  # threads of aborted hosts may still be winding down
    problem: str | None = None  # an output that failed while the run went on (the run then stopped)
    history_problem: str | None = None  # the history store failed: the files are written, the run not recorded
    since_previous: dict[str, Any] | None = None  # the diff against the previous run of this playbook and inventory


def prepare(
    inventory: str | None, playbook: str, params: dict[str, Any]
) -> tuple[Catalog, Inventory, Any, list[HostPlan]]:
    catalog = load_catalog()
    inv = load_inventory(Path(inventory)) if inventory else local_inventory()
    book = load_playbook(playbook, catalog)
    plans = plan_run(book, catalog, inv, params)
    network_params.check_all(plans)  # before any host is contacted
    return catalog, inv, book, plans


def connect_options(known_hosts: str | None, tofu: bool, connect_timeout: float) -> ConnectOptions:
    path = Path(known_hosts).expanduser() if known_hosts else Path("~/.ssh/known_hosts").expanduser()
    return ConnectOptions(known_hosts=path, trust_on_first_use=tofu, connect_timeout=connect_timeout)


def exit_code(document: dict[str, Any]) -> int:
    statuses = set(organisation.status_of(document))
    unreached = False
    for h in scoring.outlines(document):  # only verdicts count here: no evidence read back
        unreached = unreached or h["status"] != "reachable"
        statuses.update(r["status"] for r in h["results"])
    if not document["run"]["complete"] or unreached or Verdict.ERROR in statuses:
        return EXIT_INCOMPLETE
    return EXIT_FAILURES if Verdict.FAIL in statuses else EXIT_OK


def audit(
    inventory: str | None, playbook: str, params: dict[str, Any], options: AuditOptions, hooks: Hooks | None = None
) -> RunResult:
    """Raises InputError (exit 2) before anything is contacted or written, OutputError (exit 3; FolderBusy 4)."""
    hooks = hooks or Hooks()
    cancel = hooks.cancel
    catalog, inv, book, plans = prepare(inventory, playbook, params)
    org = organisation.prepare(catalog, {**book.params, **params})
    waivers = waivers_mod.prepare(catalog, book.doc, {**book.params, **params}, options.waivers)
    plans, net_plans = split_network(plans)  # NET-* checks run from this machine, beside the host phase
    connect = connect_options(options.known_hosts, options.trust_on_first_use, options.connect_timeout)
    net_job = None
    if net_plans and not options.no_network:
        from auditor.network import phase as network  # the probes' imports only when a run needs them

        net_job = network.prepare(net_plans, network.NetworkOptions(
            connect=connect, allow_wide_scan=options.allow_wide_scan, jobs=options.jobs,
            inventory_hosts=[*inv.hosts.values(), *options.network_hosts], stop=cancel.stop,
            refuse=options.refuse_address))  # fmt: skip
        if hooks.network_with_hosts:  # vetted here all the same: a bad target is exit 2 before any contact
            plans, net_job = join_network(plans, net_plans), None
    if cancel.stop.is_set():
        raise Interrupted("interrupted before any host was contacted; nothing written")

    started = now()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)
    run_lock = runlock.take(options.lock, run_id) if options.lock else None
    try:
        folder = OutputFolder.take(
            options.output or (options.output_root or Path("reports")) / run_id, run_id, options.force
        )
        try:
            return _run(
                folder, run_id, started, inv, book, params, plans, net_job, org, waivers, connect, options, hooks
            )
        finally:
            folder.release()
    finally:
        if run_lock is not None:
            run_lock.release()


def _run(
    folder: OutputFolder,
    run_id: str,
    started: str,
    inv: Inventory,
    book: Any,
    params: dict[str, Any],
    plans: list[HostPlan],
    net_job: Any,
    org: Any,
    waivers: waivers_mod.Waivers | None,
    connect: ConnectOptions,
    options: AuditOptions,
    hooks: Hooks,
) -> RunResult:
    cancel = hooks.cancel
    recorder = None
    if options.history:
        from auditor.history.recorder import Recorder  # the store's libraries only for a run that records

        recorder = Recorder(options.history)
    if recorder is not None:
        recorder.begin({"id": run_id, "started": started, "playbook": book.name, "inventory": inv.source})
    journal = folder.journal()
    spill = Spill(folder.scratch())
    problems: list[str] = []
    lock = threading.Lock()

    def on_done(result: HostResult) -> HostResult | None:
        # Each finished host at once: a run killed outright still leaves what it finished.
        host = results_mod.host_to_dict(result, host_key=connect.host_key(result.host))
        line = json.dumps(host, ensure_ascii=False) + "\n"
        del host
        with lock:
            if problems:
                return None
            try:
                journal.append(line)
            except OutputError as exc:  # nothing more can be recorded: stop auditing
                problems.append(str(exc))
                cancel.stop.set()
                return None
            if recorder is not None:
                recorder.host(line)
        del line
        if hooks.on_host:
            hooks.on_host(result)
        try:
            return spill.keep(result)  # what the run holds of the host until its files are written
        except OSError as exc:  # a full disk: this host stays whole, and auditing stops as when the journal fails
            with lock:
                problems.append(f"cannot keep finished hosts' evidence in {folder.path}: {describe(exc)}")
            cancel.stop.set()
            return None

    run_options = RunOptions(connect=connect, jobs=options.jobs, fact_timeout=options.fact_timeout)
    background = None
    if net_job is not None:
        from auditor.network import phase as network

        background = network.Background(net_job)
    if hooks.on_start:
        hooks.on_start(len(plans))
    try:
        hosts = (hooks.run_hosts or run_plans)(plans, run_options, on_done, cancel.stop)
        if background is not None:
            while not background.wait(0.2) and not cancel.force.is_set():
                pass
            if background.wait(0):
                hosts = network.merge(hosts, background.results())
            else:  # a second request: stop waiting for the probes
                hosts = network.merge(
                    hosts,
                    {
                        p.host.name: [CheckResult(c, Verdict.ERROR, NETWORK_ABORTED, []) for c in p.checks]
                        for p in net_job.plans
                    },
                )
    finally:
        journal.close()
    if hooks.on_merged:
        hooks.on_merged(hosts)

    stopped = cancel.stop.is_set()
    run_info: dict[str, Any] = {
        "id": run_id,
        "started": started,
        "finished": now(),
        "playbook": book.name,
        "params": redact({**book.params, **params}),  # what was given, secrets never recorded
        "inventory": inv.source,
    }
    if problems:
        run_info["interrupted_by"] = f"output failed: {problems[0]}"
    elif stopped:
        run_info["interrupted_by"] = cancel.reason or "stop requested"
    complete = not stopped and len(hosts) == len(plans)
    # After judging, before anything is counted: a waived result is left out of every score and roll-up.
    waiver_section = waivers_mod.apply(hosts, waivers) if waivers is not None else None
    document = results_mod.build(
        run_info, hosts, complete=complete, host_keys=lambda h: connect.host_key(h.host), hydrate=hydrate
    )
    if org is not None:
        document["organisation"] = org.section()
    if waiver_section is not None:
        document["waivers"] = waiver_section
    results_mod.validate_shape(document)
    folder.write("results.json", lambda fh: results_mod.dump(document, fh))
    previous, trend, since_previous = None, [], None
    findings: dict[tuple[str, str], dict[str, Any]] = {}
    if recorder is not None:
        recorder.finish(document)
        previous, trend = recorder.report_history(run_id)
        findings = recorder.findings(run_id)
        since_previous = recorder.changes_since_previous(run_id)
        recorder.close()
    page = html_parts(document, options.lang, previous, trend=trend, findings=findings)
    folder.write("report.html", lambda fh: fh.writelines(page))
    folder.unlink("hosts.jsonl")  # results.json now holds every host the journal had
    learned = connect.host_keys.learned if connect._host_keys else []
    history_problem = recorder.problem if recorder is not None else None
    code = EXIT_INCOMPLETE if problems or history_problem else exit_code(document)
    return RunResult(
        document,
        folder.path,
        code,
        learned,
        stopped,
        problems[0] if problems else None,
        history_problem,
        since_previous,
    )
