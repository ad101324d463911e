"""``exposure``: this target's part of the run's nmap scan: services, clear-text logins, anonymous FTP, SNMP."""

from __future__ import annotations

from auditor import addresses
from auditor.network.probes.base import ProbeType, Reading, Target, params_schema, register, url_host
from auditor.network.values import parse_allowed_ports


@register
class Exposure(ProbeType):
    name = "exposure"
    params_schema = params_schema([], ["allowed_ports"])
    parsers = {"allowed_ports": parse_allowed_ports}
    reads_scan = True

    def probe(self, target: Target) -> Reading:
        from auditor.network import http, values

        run, result, address = target.run, target.scan, target.host.address
        command = run.scan_run.command if run.scan_run else "nmap (not run)"
        if run.scan_run is None or run.scan_run.error:
            why = run.scan_run.error if run.scan_run else "nmap did not run"
            return Reading(None, why, command, "", None, run.scan_record)
        if result is None or not result.up:
            why = result.reason if result else "not in nmap's results"
            return Reading(None, f"{address}: {why}", command, why, None, run.scan_record)
        logins: dict[int, str] = {}
        lines = [p.line() for p in result.open_ports()]
        for p in result.open_ports():
            if p.proto == "tcp" and values.is_plain_http(p):
                answer = http.fetch(addresses.Url("http", url_host(address), p.port, "/"), address, run.timeout)
                lines.append(answer.line())
                why = http.login_in_clear(answer)
                if why:
                    logins[p.port] = why
        allowed = parse_allowed_ports(target.params.get("allowed_ports"))
        value = values.exposure_facts(result, logins, allowed)
        return Reading(value, None, command, lines or ["no open port among those scanned"], source=run.scan_record)
