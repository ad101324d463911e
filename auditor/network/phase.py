"""The network phase of a run: NET-* checks, probed from this machine, merged into the host results.

A local run probes from the auditor; a distributed run probes each segment's hosts from the worker
that audits them (``NetworkOptions.refuse``: its ``--allow-net``, checked on every address a probe
would contact).

    host_plans, net_plans = split(plans)        # network/plans.py: NET-* checks leave the engine's plans
    job = prepare(net_plans, options)            # vets every target (InputError: exit 2) before contact
    results = run(job)                           # one nmap over all targets, then per-host probes
    hosts = merge(host_results, results)

This module schedules; the probe types (``network/probes/``, one module each) read. Each
fact of a host's applicable checks is read once (checks asking alike share it): the types
that read the scan get this host's part of one nmap run over all targets, then every host's
probes run in a pool, then the types that need every target at once finish. The verdicts
come from the same pure ``judge`` as host checks. A probe that cannot tell leaves the fact
unreadable (``error``) or a field ``None`` (``unknown``); neither can pass.

Hosts audited through the ``local`` transport are not probed across the network.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor.errors import InputError
from auditor.evaluate import judge, not_applicable_reason, parameter_evidence, params_used, render
from auditor.evidence import now, redact, stored_excerpt
from auditor.model import Check, CheckResult, Evidence, Fact, FactSpec, Host, HostPlan, HostResult, Verdict
from auditor.network import params as netparams
from auditor.network import scan, targets
from auditor.network.probes import REGISTRY, Later, Reading, Run, Target
from auditor.transports import ConnectOptions


@dataclass
class NetworkOptions:
    connect: ConnectOptions
    allow_wide_scan: bool = False
    jobs: int = 10
    probe_timeout: float = 5.0
    host_timeout: int = 60  # nmap --host-timeout (seconds)
    scan_timeout: float = 900.0  # the whole nmap run
    inventory_hosts: list[Host] = field(default_factory=list)  # to find log_server among them
    stop: threading.Event = field(default_factory=threading.Event)
    # Why an address may not be contacted from here (a worker's --allow-net), None when it may: a probe
    # reaching such an address is not run and its fact is unreadable with that reason.
    refuse: Callable[[str], str | None] | None = None


@dataclass(frozen=True)
class Probe:
    """One fact to read on one host: its probe type and parameters rendered for the host."""

    type: str
    params: dict[str, Any]

    @property
    def key(self) -> str:
        return repr((self.type, sorted(self.params.items())))


@dataclass
class Job:
    plans: list[HostPlan]
    options: NetworkOptions
    scan_targets: dict[str, str]  # host name -> vetted nmap target
    probes: dict[str, list[Probe]]  # host name -> the facts its applicable checks read, once each
    nmap_args: list[str]  # as vetted; run() adds --versiondb (a copy of nmap's probes with capped waits)
    scan_ports: str = scan.DEFAULT_TCP_PORTS
    probe_wait_ms: int = 1000


def _unset(value: Any) -> bool:
    return value in (None, "", [])


def probe_of(spec: FactSpec, params: dict[str, Any]) -> Probe:
    """The fact's parameters for this host; one bound to an unset run parameter is left out (its default)."""
    bound = {k: v for k, v in spec.params.items() if not any(_unset(params.get(p)) for p in params_used(v))}
    return Probe(spec.type, render(bound, params))


def _probes(plan: HostPlan) -> list[Probe]:
    """The facts of the plan's applicable checks, in registry order (the order the probes run)."""
    found = {
        (p := probe_of(spec, plan.params)).key: p
        for check in plan.checks
        if not_applicable_reason(check, plan.params) is None
        for spec in check.facts.values()
    }
    order = list(REGISTRY)
    return sorted(found.values(), key=lambda p: order.index(p.type))


def inventory_contacts(plans: list[HostPlan], hosts: list[Host]) -> list[Host]:
    """The inventory hosts the probes of ``plans`` (NET-* plans) contact besides their targets (a log server): a
    machine given only these plans' hosts (a distributed run's worker) needs them to find a log server in
    the inventory as a run over the whole inventory does."""
    wanted: set[str] = set()
    for plan in plans:
        for check in plan.checks:
            if not_applicable_reason(check, plan.params) is not None:
                continue
            for spec in check.facts.values():
                probe = probe_of(spec, plan.params)
                reached = REGISTRY[probe.type].reaches(plan.host, probe.params, hosts)
                wanted |= {address for what, address in reached.items() if what != "address"}
    return [h for h in hosts if h.address in wanted]


def _bound_name(plan: HostPlan, kind: str, key: str) -> str:
    """The run parameter a probe parameter is bound to in the plan's checks (to name it in an error)."""
    for check in plan.checks:
        for spec in check.facts.values():
            if spec.type == kind and (names := params_used(spec.params.get(key))):
                return sorted(names)[0]
    return key


def prepare(plans: list[HostPlan], options: NetworkOptions) -> Job:
    """Decide every target and parameter before anything is contacted; InputError for what may not be."""
    scan_targets: dict[str, str] = {}
    probes: dict[str, list[Probe]] = {}
    ports: list[str] = []
    for plan in plans:
        host = plan.host
        where = f"host {host.name}"
        scan_targets[host.name] = targets.vet(host.address, options.allow_wide_scan, where)
        netparams.check(plan)
        probes[host.name] = _probes(plan)
        for probe in probes[host.name]:
            kind = REGISTRY[probe.type]
            for key, other in kind.contacts(host, probe.params).items():
                targets.vet(other, options.allow_wide_scan, f"{where}: {_bound_name(plan, probe.type, key)}")
            ports += [str(port) for port in kind.scan_ports(host, probe.params)]
    base = str(next((p.params["scan_ports"] for p in plans if p.params.get("scan_ports")), scan.DEFAULT_TCP_PORTS))
    spec = base if not ports else _add_tcp_ports(base, ports)
    try:
        wait = int(next((p.params["scan_probe_wait_ms"] for p in plans if p.params.get("scan_probe_wait_ms")), 1000))
        args = scan.nmap_arguments(spec, scan.is_root(), options.host_timeout)
    except ValueError as exc:
        raise InputError(f"scan_ports / scan_probe_wait_ms: {exc}") from None
    return Job(plans, options, scan_targets, probes, args, spec, wait)


def _add_tcp_ports(spec: str, extra: list[str]) -> str:
    if "T:" not in spec and "U:" not in spec:
        have = set(spec.split(","))
        return ",".join([spec, *sorted(set(extra) - have, key=int)]) if set(extra) - have else spec
    head, sep, rest = spec.partition("T:")
    tcp, sep2, udp = rest.partition(",U:")
    have = set(tcp.split(","))
    tcp = ",".join([tcp, *sorted(set(extra) - have, key=int)]) if set(extra) - have else tcp
    return head + sep + tcp + (sep2 + udp if sep2 else "")


# --- the run ---------------------------------------------------------------------------------


def run(job: Job, on_progress: Callable[[str], None] | None = None) -> dict[str, list[CheckResult]]:
    """Probe every target; returns host name -> NET-* check results (in plan order)."""
    note = on_progress or (lambda _msg: None)
    facts: dict[str, dict[str, Fact]] = {p.host.name: {} for p in job.plans}

    refused = refusals(job)
    scans: dict[str, scan.HostScan] = {}
    scan_run: scan.ScanRun | None = None
    scanned = [
        p
        for p in job.plans
        if any(
            REGISTRY[probe.type].reads_scan and probe.key not in refused[p.host.name]
            for probe in job.probes[p.host.name]
        )
    ]
    if scanned and not job.options.stop.is_set():  # a run stopped already (a shard's time limit) starts no scan
        note(f"nmap: {len(scanned)} target(s)")
        scan_run, _ = scan.run_scan(
            sorted({job.scan_targets[p.host.name] for p in scanned}),
            job.scan_ports,
            job.options.host_timeout,
            job.probe_wait_ms,
            job.options.scan_timeout,
            job.options.stop,
        )
        if scan_run.error is None:
            scans = scan.parse(
                scan_run.result, {p.host.name: job.scan_targets[p.host.name] for p in scanned}, scan_run.xml
            )

    shared = Run(
        connect=job.options.connect,
        timeout=job.options.probe_timeout,
        inventory_hosts=job.options.inventory_hosts,
        run_token=datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2),
        stop=job.options.stop,
        scan_run=scan_run,
        scan_record=_scan_record(scan_run) if scan_run else None,
    )
    later: dict[str, dict[str, tuple[Target, Later]]] = {}  # probe key -> host name -> what finish() completes
    lock = threading.Lock()

    def per_host(plan: HostPlan) -> None:
        if job.options.stop.is_set():
            return
        name = plan.host.name
        for probe in job.probes[name]:
            if probe.key in refused[name]:
                facts[name][probe.key] = _refused(probe, plan.host, refused[name][probe.key])
                continue
            kind = REGISTRY[probe.type]
            target = Target(plan.host, probe.params, shared, scans.get(name) if kind.reads_scan else None)
            reading = kind.probe(target)
            if isinstance(reading, Later):
                with lock:
                    later.setdefault(probe.type, {})[name] = (target, reading)
            elif reading is not None:
                facts[name][probe.key] = _fact(probe, reading)

    with ThreadPoolExecutor(max_workers=max(1, job.options.jobs), thread_name_prefix="network") as pool:
        list(pool.map(per_host, job.plans))
    for kind_name in REGISTRY:  # the run-wide steps, in registry order, each with its targets in plan order
        pending = later.get(kind_name, {})
        if not pending:
            continue
        note(f"{kind_name}: {len(pending)} host(s)")
        ordered = [pending[p.host.name] for p in job.plans if p.host.name in pending]
        for name, reading in REGISTRY[kind_name].finish(ordered, shared).items():
            target = pending[name][0]
            probe = Probe(kind_name, target.params)
            facts[name][probe.key] = _fact(probe, reading)

    out: dict[str, list[CheckResult]] = {}
    for plan in job.plans:
        out[plan.host.name] = [_result(check, plan, facts[plan.host.name]) for check in plan.checks]
    return out


def refusals(job: Job) -> dict[str, dict[str, str]]:
    """Host name -> probe key -> why the probe may not run: an address it would contact is refused by
    ``options.refuse`` (the target's own, or one a parameter names: the portal, the file or log server)."""
    refuse = job.options.refuse
    out: dict[str, dict[str, str]] = {p.host.name: {} for p in job.plans}
    if refuse is None:
        return out
    known: dict[str, str | None] = {}  # an address is judged once (a name is resolved once)
    for plan in job.plans:
        for probe in job.probes[plan.host.name]:
            reached = REGISTRY[probe.type].reaches(plan.host, probe.params, job.options.inventory_hosts)
            for what, address in reached.items():
                if address not in known:
                    known[address] = refuse(address)
                why = known[address]
                if why:
                    named = "" if what == "address" else f"{_bound_name(plan, probe.type, what)}: "
                    out[plan.host.name][probe.key] = f"{named}{why}; nothing was contacted"
                    break
    return out


def _refused(probe: Probe, host: Host, why: str) -> Fact:
    evidence = Evidence(f"{probe.type} probe of {host.name} (not run: refused)", None, why, now())
    return Fact(FactSpec(probe.type, probe.params), None, why, evidence)


def _fact(probe: Probe, reading: Reading) -> Fact:
    text = reading.output if isinstance(reading.output, str) else "\n".join(reading.output)
    evidence = Evidence(
        command=reading.command, rc=reading.rc, output=stored_excerpt(text), at=now(), source=reading.source
    )
    return Fact(FactSpec(probe.type, probe.params), reading.value, reading.error, evidence)


def _result(check: Check, plan: HostPlan, host_facts: dict[str, Fact]) -> CheckResult:
    at = now()
    why_not = not_applicable_reason(check, plan.params)
    if why_not:
        return CheckResult(
            check, Verdict.NOT_APPLICABLE, f"not applicable: {why_not}", [parameter_evidence(check, plan.params, at)]
        )
    facts: dict[str, Fact] = {}
    for local, spec in check.facts.items():
        probe = probe_of(spec, plan.params)
        fact = host_facts.get(probe.key)
        if fact is None:
            why = "the network phase did not run (interrupted)"
            fact = Fact(FactSpec(probe.type, probe.params), None, why, Evidence("network phase", None, "", at))
        facts[local] = fact
    verdict, reason = judge(check, facts, plan.params)
    evidence = list({id(f.evidence): f.evidence for f in facts.values()}.values())
    return CheckResult(check, verdict, reason, evidence)


def merge(hosts: list[HostResult], network: dict[str, list[CheckResult]]) -> list[HostResult]:
    """Host results with each host's NET-* results appended (a host with only NET-* checks still appears)."""
    for result in hosts:
        result.results.extend(network.get(result.host.name, []))
    return hosts


def _scan_record(run_: scan.ScanRun) -> Evidence:
    """The nmap run as every target's evidence shares it: its command line and its whole output, which
    results.json stores once; each host's evidence shows only its own lines of it."""
    return Evidence(
        command=run_.command, rc=None if run_.error else 0, output=redact(run_.xml or run_.error or ""), at=now()
    )


class Background:
    """The network phase in a thread, alongside the engine's host phase (nmap mostly waits on the network)."""

    def __init__(self, job: Job):
        self.job = job
        self._results: dict[str, list[CheckResult]] | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name="network-phase", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._results = run(self.job)
        except Exception as exc:  # a probe bug must never become a verdict, nor sink the host phase
            self._error = f"internal error in the network phase: {exc!r}"

    def wait(self, timeout: float) -> bool:
        """True once the phase has ended; a caller that must stop waiting polls this instead of results()."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def results(self) -> dict[str, list[CheckResult]]:
        """Wait for the phase; if it broke, every NET-* check of every target is ``error`` with the reason."""
        self._thread.join()
        if self._results is not None:
            return self._results
        reason = self._error or "the network phase did not finish"
        return {p.host.name: [CheckResult(c, Verdict.ERROR, reason, []) for c in p.checks] for p in self.job.plans}
