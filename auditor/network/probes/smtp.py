"""``smtp``: SMTP on ``port`` (default 25): STARTTLS offered and working, its certificate for ``hostname``."""

from __future__ import annotations

import os
from typing import Any

from auditor import addresses
from auditor.model import Host
from auditor.network.probes.base import ProbeType, Reading, Target, params_schema, readable_file, register, url_host

DEFAULT_PORT = 25


def smtp_port(params: dict[str, Any]) -> int:
    return addresses.port(params["port"]) if "port" in params else DEFAULT_PORT


@register
class Smtp(ProbeType):
    name = "smtp"
    params_schema = params_schema([], ["port", "hostname", "ca_file"])
    parsers = {"port": addresses.port, "hostname": addresses.host, "ca_file": readable_file}

    def scan_ports(self, host: Host, params: dict[str, Any]) -> list[int]:
        return [smtp_port(params)]

    def probe(self, target: Target) -> Reading:
        from auditor.network import mail

        port, address, ca = smtp_port(target.params), target.host.address, target.params.get("ca_file")
        name = url_host(str(target.params.get("hostname") or address))
        ca_path = os.path.expanduser(str(ca)) if ca else None
        report = mail.probe_smtp(address, port, name, ca_path, target.run.timeout)
        command = f"SMTP {address}:{port}: EHLO, STARTTLS, TLS probe (server name {name})"
        if report.error:
            return Reading(None, report.error, command, report.transcript, None)
        return Reading(mail.smtp_facts(report), None, command, report.transcript)
