"""``https_portal``: the TLS of the portal (``url``, default https://<address>/): certificate, versions, ciphers."""

from __future__ import annotations

import os
from typing import Any

from auditor.model import Host
from auditor.network.probes.base import (
    ProbeType,
    Reading,
    Target,
    params_schema,
    parse_portal_url,
    portal_url,
    readable_file,
    register,
)


@register
class HttpsPortal(ProbeType):
    name = "https_portal"
    params_schema = params_schema([], ["url", "ca_file"])
    parsers = {"url": parse_portal_url, "ca_file": readable_file}

    def scan_ports(self, host: Host, params: dict[str, Any]) -> list[int]:
        return [portal_url(host, params).port]

    def contacts(self, host: Host, params: dict[str, Any]) -> dict[str, str]:
        return {"url": portal_url(host, params).host}

    def probe(self, target: Target) -> Reading:
        from auditor.network import tls

        url, address, ca = portal_url(target.host, target.params), target.host.address, target.params.get("ca_file")
        ca_path = os.path.expanduser(str(ca)) if ca else None
        report = tls.probe_tls(address, url.port, url.host, ca_path, target.run.timeout)
        command = f"TLS probe {address}:{url.port} (server name {url.host}; CA: system store" + (
            f" + {ca})" if ca else ")"
        )
        value = tls.report_facts(report)
        if report.listening is None:
            return Reading(None, f"{url}: could not tell: {value['problems']}", command, report.transcript)
        return Reading(value, None, command, report.transcript)
