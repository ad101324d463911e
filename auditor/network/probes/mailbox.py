"""``mailbox``: IMAP/POP3 found by the run's nmap, only over TLS (IMAPS/POP3S) or with STARTTLS."""

from __future__ import annotations

import os
from typing import Any

from auditor import addresses
from auditor.network.probes.base import ProbeType, Reading, Target, params_schema, readable_file, register, url_host


@register
class Mailbox(ProbeType):
    name = "mailbox"
    params_schema = params_schema([], ["hostname", "ca_file"])
    parsers = {"hostname": addresses.host, "ca_file": readable_file}
    reads_scan = True

    def probe(self, target: Target) -> Reading:
        from auditor.network import mail, tls, values

        run, result, address, timeout = target.run, target.scan, target.host.address, target.run.timeout
        command = (run.scan_run.command if run.scan_run else "nmap") + "; then IMAP/POP3 capability and TLS probes"
        if run.scan_run is None or run.scan_run.error or result is None or not result.up:
            why = (run.scan_run.error if run.scan_run else None) or (result.reason if result else "not scanned")
            return Reading(None, f"{address}: {why}", command, why, None)
        ca = target.params.get("ca_file")
        ca = os.path.expanduser(str(ca)) if ca else None
        name = url_host(str(target.params.get("hostname") or address))
        services: list[str] = []
        cleartext: list[str] = []
        encrypted: list[str] = []
        problems: list[str] = []
        lines: list[str] = []
        for p in values.mailbox_services(result):
            kind = p.name.removesuffix("s") if p.name in ("imaps", "pop3s") else p.name
            secure = p.tunnel == "ssl" or p.name in ("imaps", "pop3s")
            services.append(f"{p.label} {'ssl/' if secure else ''}{kind}")
            if secure:
                report = tls.probe_tls(address, p.port, name, ca, timeout)
                lines += [f"{p.label}: {t}" for t in report.transcript]
                facts: dict[str, Any] = tls.report_facts(report)
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
                upgraded, line = mail.cleartext_upgrade(kind, address, p.port, name, timeout)
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
        return Reading(value, None, command, lines or [value["summary"]])
