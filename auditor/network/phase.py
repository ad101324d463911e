"""The network phase of a run: NET-* checks, probed from the auditor, merged into the host results.

    host_plans, net_plans = split(plans)        # network/plans.py: NET-* checks leave the engine's plans
    job = prepare(net_plans, options)            # vets every target (InputError: exit 2) before contact
    results = run(job)                           # one nmap over all targets, then per-host probes
    hosts = merge(host_results, results)

The verdicts come from the same pure ``engine.judge`` as host checks: each probe makes
``Fact`` objects (a value, or the reason it could not be read, and its evidence) and
the check's expectation is evaluated on them. A probe that cannot tell leaves the
fact unreadable (``error``) or a field ``None`` (``unknown``); neither can pass.

Hosts audited through the ``local`` transport are not probed across the network.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from auditor import addresses
from auditor.errors import InputError
from auditor.evaluate import judge, parameter_evidence
from auditor.evaluate import not_applicable_reason as applicability
from auditor.evidence import now, redact
from auditor.evidence import stored_excerpt as excerpt
from auditor.model import Check, CheckResult, Evidence, Fact, FactSpec, Host, HostPlan, HostResult, Verdict
from auditor.network import fileserver, http, logmarker, mail, scan, targets, tls
from auditor.network import judge as netjudge
from auditor.network import params as netparams
from auditor.transports import ConnectOptions

DEFAULT_SMTP_PORT = netparams.DEFAULT_SMTP_PORT


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


@dataclass
class Job:
    plans: list[HostPlan]
    options: NetworkOptions
    scan_targets: dict[str, str]  # host name -> vetted nmap target
    portal_urls: dict[str, addresses.Url]  # host name -> parsed URL
    smtp_ports: dict[str, int]
    nmap_args: list[str]  # as vetted; run() adds --versiondb (a copy of nmap's probes with capped waits)
    scan_ports: str = scan.DEFAULT_TCP_PORTS
    probe_wait_ms: int = 1000
    checked: dict[str, netparams.Checked] = field(default_factory=dict)


def _fact_types(plan: HostPlan) -> set[str]:
    return {spec.type for c in plan.checks if applicability(c, plan.params) is None for spec in c.facts.values()}


def portal_url(host: Host, params: dict[str, Any]) -> str:
    return str(params.get("portal_url") or netparams.default_portal_url(host))


def prepare(plans: list[HostPlan], options: NetworkOptions) -> Job:
    """Decide every target and parameter before anything is contacted; InputError for what may not be."""
    scan_targets: dict[str, str] = {}
    urls: dict[str, addresses.Url] = {}
    smtp_ports: dict[str, int] = {}
    checked: dict[str, netparams.Checked] = {}
    ports: list[str] = []
    for plan in plans:
        host = plan.host
        where = f"host {host.name}"
        scan_targets[host.name] = targets.vet(host.address, options.allow_wide_scan, where)
        values = checked[host.name] = netparams.check(plan)
        types = _fact_types(plan)
        if "https_portal" in types or "portal_http" in types:
            url = values.portal_url or addresses.url(netparams.default_portal_url(host), ("https",))
            targets.vet(url.host, options.allow_wide_scan, f"{where}: portal_url")
            urls[host.name] = url
            ports.append(str(url.port))
        if "smtp" in types:
            smtp_ports[host.name] = values.smtp_port
            ports.append(str(values.smtp_port))
        if "file_server" in types and values.file_server is not None:
            targets.vet(values.file_server.host, options.allow_wide_scan, f"{where}: file_server")
    base = str(next((p.params["scan_ports"] for p in plans if p.params.get("scan_ports")), scan.DEFAULT_TCP_PORTS))
    spec = base if not ports else _add_tcp_ports(base, ports)
    try:
        wait = int(next((p.params["scan_probe_wait_ms"] for p in plans if p.params.get("scan_probe_wait_ms")), 1000))
        args = scan.nmap_arguments(spec, scan.is_root(), options.host_timeout)
    except ValueError as exc:
        raise InputError(f"scan_ports / scan_probe_wait_ms: {exc}") from None
    return Job(plans, options, scan_targets, urls, smtp_ports, args, spec, wait, checked)


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


@dataclass
class _Facts:
    """Facts of one host, by fact type (every check's spec of that type reads the same fact)."""

    by_type: dict[str, tuple[Any, str | None, Evidence]] = field(default_factory=dict)

    def put(self, kind: str, value: Any, error: str | None, evidence: Evidence) -> None:
        self.by_type[kind] = (value, error, evidence)


def run(job: Job, on_progress: Callable[[str], None] | None = None) -> dict[str, list[CheckResult]]:
    """Probe every target; returns host name -> NET-* check results (in plan order)."""
    note = on_progress or (lambda _msg: None)
    facts: dict[str, _Facts] = {p.host.name: _Facts() for p in job.plans}
    needs = {p.host.name: _fact_types(p) for p in job.plans}

    scans: dict[str, scan.HostScan] = {}
    scan_run: scan.ScanRun | None = None
    scanned = [p for p in job.plans if needs[p.host.name] & {"exposure", "mailbox"}]
    if scanned:
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

    scan_record = _scan_record(scan_run) if scan_run else None
    run_token = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)
    markers: dict[str, logmarker.Sent] = {}
    lock = threading.Lock()

    def per_host(plan: HostPlan) -> None:
        if job.options.stop.is_set():
            return
        name = plan.host.name
        kinds = needs[name]
        host_facts = facts[name]
        if "exposure" in kinds:
            _exposure(plan, scan_run, scans.get(name), host_facts, job.options.probe_timeout, scan_record)
        if "https_portal" in kinds:
            _https_portal(plan, job.portal_urls[name], host_facts, job.options.probe_timeout)
        if "portal_http" in kinds:
            _portal_http(plan, job.portal_urls[name], host_facts, job.options.probe_timeout)
        if "smtp" in kinds:
            _smtp(plan, job.smtp_ports[name], host_facts, job.options.probe_timeout)
        if "mailbox" in kinds:
            _mailbox(plan, scan_run, scans.get(name), host_facts, job.options.probe_timeout)
        if "log_marker" in kinds and plan.params.get("log_server") not in (None, "", []):
            server = str(plan.params["log_server"])
            if _find_host(job.options.inventory_hosts, server) is None:
                why = f"log_server {server} is not a host of the inventory: its logs cannot be searched"
                host_facts.put(
                    "log_marker",
                    {"log_server_in_inventory": False, "found": None, "where": why},
                    None,
                    _ev("log marker (not sent)", why),
                )
            else:
                sent = logmarker.send(plan.host, job.options.connect, logmarker.new_marker(run_token, name))
                with lock:
                    markers[name] = sent

    with ThreadPoolExecutor(max_workers=max(1, job.options.jobs), thread_name_prefix="network") as pool:
        list(pool.map(per_host, job.plans))
    if markers:
        note(f"log markers: {len(markers)} host(s)")
        _log_markers(job, markers, facts)
    if not job.options.stop.is_set():
        _file_servers(job, facts, needs)

    out: dict[str, list[CheckResult]] = {}
    for plan in job.plans:
        out[plan.host.name] = [_result(check, plan, facts[plan.host.name]) for check in plan.checks]
    return out


def _result(check: Check, plan: HostPlan, host_facts: _Facts) -> CheckResult:
    at = now()
    why_not = applicability(check, plan.params)
    if why_not:
        return CheckResult(
            check, Verdict.NOT_APPLICABLE, f"not applicable: {why_not}", [parameter_evidence(check, plan.params, at)]
        )
    facts: dict[str, Fact] = {}
    for local, spec in check.facts.items():
        value, error, evidence = host_facts.by_type.get(
            spec.type, (None, "the network phase did not run (interrupted)", Evidence("network phase", None, "", at))
        )
        facts[local] = Fact(FactSpec(spec.type, spec.params), value, error, evidence)
    verdict, reason = judge(check, facts, plan.params)
    evidence = list({id(f.evidence): f.evidence for f in facts.values()}.values())
    return CheckResult(check, verdict, reason, evidence)


def merge(hosts: list[HostResult], network: dict[str, list[CheckResult]]) -> list[HostResult]:
    """Host results with each host's NET-* results appended (a host with only NET-* checks still appears)."""
    for result in hosts:
        result.results.extend(network.get(result.host.name, []))
    return hosts


# --- probes -> facts ---------------------------------------------------------------------------


def _ev(command: str, lines: list[str] | str, rc: int | None = 0, source: Evidence | None = None) -> Evidence:
    text = lines if isinstance(lines, str) else "\n".join(lines)
    return Evidence(command=command, rc=rc, output=excerpt(text), at=now(), source=source)


def _scan_record(run_: scan.ScanRun) -> Evidence:
    """The nmap run as every target's evidence shares it: its command line and its whole output, which
    results.json stores once; each host's evidence shows only its own lines of it."""
    return Evidence(
        command=run_.command, rc=None if run_.error else 0, output=redact(run_.xml or run_.error or ""), at=now()
    )


def _exposure(
    plan: HostPlan,
    run_: scan.ScanRun | None,
    result: scan.HostScan | None,
    out: _Facts,
    timeout: float,
    record: Evidence | None = None,
) -> None:
    command = run_.command if run_ else "nmap (not run)"
    if run_ is None or run_.error:
        out.put("exposure", None, run_.error if run_ else "nmap did not run", _ev(command, "", None, record))
        return
    if result is None or not result.up:
        why = result.reason if result else "not in nmap's results"
        out.put("exposure", None, f"{plan.host.address}: {why}", _ev(command, why, None, record))
        return
    logins: dict[int, str] = {}
    lines = [p.line() for p in result.open_ports()]
    for p in result.open_ports():
        if p.proto == "tcp" and netjudge.is_plain_http(p):
            page = addresses.Url("http", _url_host(plan.host.address), p.port, "/")
            answer = http.fetch(page, plan.host.address, timeout)
            lines.append(answer.line())
            why = http.login_in_clear(answer)
            if why:
                logins[p.port] = why
    allowed = netjudge.parse_allowed_ports(plan.params.get("allowed_ports"))
    value = netjudge.exposure_facts(result, logins, allowed)
    out.put("exposure", value, None, _ev(command, lines or ["no open port among those scanned"], source=record))


def _url_host(address: str) -> str:
    return address.partition("%")[0]  # a scope id is for the socket, not for a URL's Host


def _https_portal(plan: HostPlan, url: addresses.Url, out: _Facts, timeout: float) -> None:
    name = url.host
    ca = plan.params.get("tls_ca_file")
    report = tls.probe_tls(plan.host.address, url.port, name, os.path.expanduser(str(ca)) if ca else None, timeout)
    command = f"TLS probe {plan.host.address}:{url.port} (server name {name}; CA: system store" + (
        f" + {ca})" if ca else ")"
    )
    value = tls.report_facts(report)
    if report.listening is None:
        out.put("https_portal", None, f"{url}: could not tell: {value['problems']}", _ev(command, report.transcript))
        return
    out.put("https_portal", value, None, _ev(command, report.transcript))


def _portal_http(plan: HostPlan, url: addresses.Url, out: _Facts, timeout: float) -> None:
    secure = http.fetch(url, plan.host.address, timeout)
    if secure.status is None:
        out.put("portal_http", None, f"{url}: {secure.error}", _ev(f"GET {url}", [secure.line()], None))
        return
    clear_url = addresses.Url("http", url.host, 80, url.path)
    clear = http.fetch(clear_url, plan.host.address, timeout)
    lines = [secure.line(), clear.line()]
    out.put("portal_http", http.portal_facts(secure, clear), None, _ev(f"GET {url}; GET {clear_url}", lines))


def _smtp(plan: HostPlan, port: int, out: _Facts, timeout: float) -> None:
    ca = plan.params.get("tls_ca_file")
    name = _url_host(str(plan.params.get("smtp_hostname") or plan.host.address))
    report = mail.probe_smtp(plan.host.address, port, name, os.path.expanduser(str(ca)) if ca else None, timeout)
    command = f"SMTP {plan.host.address}:{port}: EHLO, STARTTLS, TLS probe (server name {name})"
    if report.error:
        out.put("smtp", None, report.error, _ev(command, report.transcript, None))
        return
    out.put("smtp", mail.smtp_facts(report), None, _ev(command, report.transcript))


def _mailbox(
    plan: HostPlan, run_: scan.ScanRun | None, result: scan.HostScan | None, out: _Facts, timeout: float
) -> None:
    command = (run_.command if run_ else "nmap") + "; then IMAP/POP3 capability and TLS probes"
    if run_ is None or run_.error or result is None or not result.up:
        why = (run_.error if run_ else None) or (result.reason if result else "not scanned")
        out.put("mailbox", None, f"{plan.host.address}: {why}", _ev(command, why, None))
        return
    ca = plan.params.get("tls_ca_file")
    ca = os.path.expanduser(str(ca)) if ca else None
    name = _url_host(str(plan.params.get("smtp_hostname") or plan.host.address))
    services, cleartext, encrypted, problems, lines = [], [], [], [], []
    for p in netjudge.mailbox_services(result):
        kind = p.name.removesuffix("s") if p.name in ("imaps", "pop3s") else p.name
        secure = p.tunnel == "ssl" or p.name in ("imaps", "pop3s")
        services.append(f"{p.label} {'ssl/' if secure else ''}{kind}")
        if secure:
            report = tls.probe_tls(plan.host.address, p.port, name, ca, timeout)
            lines += [f"{p.label}: {t}" for t in report.transcript]
            facts = tls.report_facts(report)
            if not report.modern:
                (problems if report.problems else cleartext).append(f"{p.label} {kind}: no TLS 1.2+ handshake")
            elif None in (facts["issuer_trusted"], facts["expired"], facts["hostname_match"]):
                problems.append(f"{p.label} {kind}: certificate could not be judged: {facts['problems']}")
            elif facts["issuer_trusted"] and not facts["expired"] and facts["hostname_match"]:
                encrypted.append(f"{p.label} {kind} over TLS ({report.protocol})")
            else:
                why = facts["trust_error"] or (
                    "certificate expired"
                    if facts["expired"]
                    else f"certificate not valid for {name} ({facts['names']})"
                )
                cleartext.append(f"{p.label} {kind} over TLS but {why}")
        else:
            upgraded, line = mail.cleartext_upgrade(kind, plan.host.address, p.port, name, timeout)
            lines.append(line)
            if upgraded is None:
                problems.append(line)
            elif not upgraded:
                cleartext.append(f"{p.label} {kind} stays in clear text ({line})")
    value = {
        "services": services,
        "encrypted": encrypted,
        "cleartext": cleartext if not problems or cleartext else None,
        "summary": "; ".join(services) or "no IMAP/POP3 service found",
        "problems": "; ".join(problems),
    }
    out.put("mailbox", value, None, _ev(command, lines or [value["summary"]]))


def _find_host(hosts: list[Host], name_or_address: str) -> Host | None:
    return next((h for h in hosts if name_or_address in (h.name, h.address)), None)


def _log_markers(job: Job, sent: dict[str, logmarker.Sent], facts: dict[str, _Facts]) -> None:
    by_server: dict[str, list[str]] = {}
    params = {p.host.name: p.params for p in job.plans}
    for name in sent:
        by_server.setdefault(str(params[name]["log_server"]), []).append(name)
    for server, names in by_server.items():
        log_host = _find_host(job.options.inventory_hosts, server)
        ok = [n for n in names if sent[n].ok]
        for n in names:
            if not sent[n].ok:
                facts[n].put(
                    "log_marker",
                    None,
                    f"logger on {n} failed: {sent[n].detail[:300]}",
                    _ev(f"{n}: logger -t {logmarker.TAG} {sent[n].marker}", sent[n].detail, 1),
                )
        if log_host is None or not ok:
            continue
        p0 = params[ok[0]]
        paths = p0.get("log_marker_paths") or ["/var/log"]
        paths = paths if isinstance(paths, list) else str(paths).split(",")
        wait = job.checked[ok[0]].log_marker_wait if ok[0] in job.checked else netparams.DEFAULT_LOG_MARKER_WAIT
        markers = [sent[n].marker for n in ok]
        found, error, searches = logmarker.search(
            log_host, job.options.connect, markers, paths, wait, job.options.stop.is_set
        )
        for n in ok:
            marker = sent[n].marker
            search_cmd = (
                f"{log_host.name}: find {' '.join(paths)} -type f -mmin -120 | grep -HoF <marker> "
                f"(every 1 s, {searches} search(es), up to {wait:g} s)"
            )
            command = f"{n}: logger -t {logmarker.TAG} {marker}; {search_cmd}"
            if marker in found:
                value = {
                    "log_server_in_inventory": True,
                    "found": True,
                    "where": f"{log_host.name}:{found[marker]}",
                    "marker": marker,
                }
                facts[n].put("log_marker", value, None, _ev(command, f"{found[marker]}:{marker}"))
            elif error:
                facts[n].put("log_marker", None, error, _ev(command, error, None))
            else:
                value = {
                    "log_server_in_inventory": True,
                    "found": False,
                    "where": f"not on {log_host.name} after {wait:g} s",
                    "marker": marker,
                }
                facts[n].put("log_marker", value, None, _ev(command, value["where"], 1))


def _file_servers(job: Job, facts: dict[str, _Facts], needs: dict[str, set[str]]) -> None:
    reports: dict[tuple[str, str | None], fileserver.FileServerReport] = {}
    for plan in job.plans:
        url = plan.params.get("file_server")
        if "file_server" not in needs[plan.host.name] or url in (None, ""):
            continue
        key = plan.params.get("file_server_key")
        key = os.path.expanduser(str(key)) if key else None
        if (str(url), key) not in reports:
            reports[(str(url), key)] = fileserver.probe(str(url), key, job.options.connect, job.options.probe_timeout)
        report = reports[(str(url), key)]
        command = f"sftp listing of {url}" + (f" with key {key}" if key else "")
        if report.listed is None:
            facts[plan.host.name].put(
                "file_server", None, report.error or "no answer", _ev(command, report.transcript, None)
            )
        else:
            value = {
                "answered": report.answered,
                "listed": report.listed,
                "entries": len(report.entries),
                "detail": report.error or f"{len(report.entries)} entries",
            }
            facts[plan.host.name].put("file_server", value, None, _ev(command, report.transcript))


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
