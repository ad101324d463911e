"""A synthetic run of N hosts × M checks, built through the real results builder (auditor.results.build).

The checks are the catalog's, cloned with numbered ids to reach M; verdicts, reasons and
evidence are drawn from a seeded generator so every run of the bench sees the same data.
With ``network=True`` the NET-* checks read one nmap scan of every host, and their evidence is
what the network phase attaches: the scan's command line (every target) and whole output as the
shared source, each host's own port lines as its output.
"""

from __future__ import annotations

import dataclasses
import random
import shlex
from typing import Any

from auditor.catalog import load_catalog
from auditor.model import CheckResult, Evidence, Host, HostResult, Severity, Verdict
from auditor.network import scan
from auditor.results import build

VERDICT_WEIGHTS = {
    Verdict.PASS: 70,
    Verdict.FAIL: 18,
    Verdict.ERROR: 3,
    Verdict.UNKNOWN: 1,
    Verdict.NOT_APPLICABLE: 6,
    Verdict.MANUAL: 1,
    Verdict.WAIVED: 1,
}
REASONS = {
    Verdict.PASS: ["ok"],
    Verdict.FAIL: [
        "daily.cud is {n} days old (limit 7)",
        "input chain loaded = False, expected = True (no input chain is loaded)",
        "syslog daemons running is empty",
        "permitrootlogin = yes, expected = no",
    ],
    Verdict.ERROR: ["sudo: a password is required", "timeout after 30 s"],
    Verdict.UNKNOWN: ["the output does not decide the question"],
    Verdict.NOT_APPLICABLE: ["not applicable: parameter log_server is not set"],
    Verdict.MANUAL: ["a person must supply the evidence"],
    Verdict.WAIVED: ["waived until 2027-01-01 by the CISO"],
}
SEVERITIES = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]


def checks(count: int) -> list[Any]:
    base = list(load_catalog().checks.values())
    out = []
    for i in range(count):
        c = base[i % len(base)]
        out.append(dataclasses.replace(c, id=f"{c.id}-{i:02d}", severity=SEVERITIES[i % 4]))
    return out


def _scan(addresses: list[str], at: str) -> Evidence:
    """One nmap run over every address, as the network phase records it (``phase._scan_record``)."""
    args = scan.nmap_arguments(scan.DEFAULT_TCP_PORTS, True, 60, versiondb="/tmp/auditor-nmap-x/nmap-service-probes")
    command = shlex.join(["nmap", "-oX", "-", *args, "--", *addresses])
    hosts = "".join(
        f'<host><status state="up" reason="echo-reply"/><address addr="{a}" addrtype="ipv4"/><ports>'
        '<port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/>'
        '<service name="ssh" product="OpenSSH" version="9.2p1 Debian 2+deb12u3" method="probed" conf="10"/>'
        "</port></ports></host>\n"
        for a in addresses
    )
    return Evidence(command, 0, f'<?xml version="1.0"?>\n<nmaprun args="{command}">\n{hosts}</nmaprun>\n', at)


def synthetic_hosts(
    hosts: int = 3176, check_count: int = 60, seed: int = 85, network: bool = False
) -> tuple[dict[str, Any], list[HostResult]]:
    """The run's header and its host results, before results.json is built from them."""
    rng = random.Random(seed)
    catalog_checks = checks(check_count)
    verdicts, weights = list(VERDICT_WEIGHTS), list(VERDICT_WEIGHTS.values())
    at = "2026-01-05T08:00:00Z"
    address = [f"10.{h // 65536}.{h // 256 % 256}.{h % 256}" for h in range(hosts)]
    scan_run = _scan(address, at) if network else None
    host_results = []
    for h in range(hosts):
        host = Host(name=f"pc{h:05d}.so-tttt.example.vn", address=address[h])
        host.level = 1 + h % 5
        host.groups = ["desktops" if h % 24 else "servers"]
        if h % 100 == 99:
            reason = "ssh: connection timed out"
            results = [CheckResult(c, Verdict.ERROR, reason, []) for c in catalog_checks]
            host_results.append(HostResult(host, "unreachable", reason, results, at, at))
            continue
        results = []
        for c in catalog_checks:
            v = rng.choices(verdicts, weights)[0]
            reason = rng.choice(REASONS[v]).format(n=rng.randint(8, 40))
            output = "\n".join(f"line {k} of the output of {c.id} on {host.name}" for k in range(rng.randint(3, 12)))
            evidence = [] if v == Verdict.NOT_APPLICABLE else [Evidence("/bin/sh -s: probe " + c.id, 0, output, at)]
            kinds = {spec.type for spec in c.facts.values()}
            if scan_run is not None and "exposure" in kinds and evidence:
                own = "22/tcp open ssh OpenSSH 9.2p1 [conf 10]"
                evidence = [Evidence(scan_run.command, 0, own, at, source=scan_run)]
            elif scan_run is not None and "mailbox" in kinds and evidence:
                command = scan_run.command + "; then IMAP/POP3 capability and TLS probes"
                evidence = [Evidence(command, 0, "no IMAP/POP3 service found", at)]
            results.append(CheckResult(c, v, reason, evidence))
        host_results.append(HostResult(host, "reachable", None, results, at, at))
    run = {"id": f"bench-{seed}", "started": at, "finished": at, "playbook": "baseline", "params": {}}
    return run, host_results


def synthetic_results(
    hosts: int = 3176, check_count: int = 60, seed: int = 85, network: bool = False
) -> dict[str, Any]:
    return build(*synthetic_hosts(hosts, check_count, seed, network))
