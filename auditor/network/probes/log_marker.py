"""``log_marker``: a unique marker logged on the host (``logger``) and looked for over SSH on the log
``server`` (an inventory host) in the files under ``paths`` (default /var/log), for up to ``wait`` seconds.

Every marker is sent first; then each log server is searched once for all the markers sent to it.
"""

from __future__ import annotations

from typing import Any

from auditor import addresses
from auditor.facts.base import check_path
from auditor.model import Host
from auditor.network.probes.base import Later, ProbeType, Reading, Run, Target, params_schema, register

DEFAULT_PATHS = ["/var/log"]
DEFAULT_WAIT = 20.0
MAX_WAIT = 3600.0


def path_list(value: Any) -> list[str]:
    """A path-list parameter as its paths: a YAML list, or one string with commas between paths."""
    return [str(v) for v in value] if isinstance(value, list) else str(value).split(",")


def wait_seconds(value: Any) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not 1 <= number <= MAX_WAIT:
        raise ValueError(f"{value!r}: expected a number from 1 to {MAX_WAIT:g}")
    return number


def _servers(value: Any) -> list[str]:
    """One log server or several."""
    try:
        return [addresses.host(x) for x in (value if isinstance(value, list) else [value])]
    except addresses.AddressError as exc:
        raise addresses.AddressError(f"{exc} (the log server's address or inventory name)") from None


def _paths(value: Any) -> list[str]:
    return [check_path(p) for p in path_list(value)]  # find has no "--": no operand may read as an option


def find_host(hosts: list[Host], name_or_address: str) -> Host | None:
    return next((h for h in hosts if name_or_address in (h.name, h.address)), None)


@register
class LogMarker(ProbeType):
    name = "log_marker"
    params_schema = params_schema(["server"], ["paths", "wait"])
    parsers = {"server": _servers, "paths": _paths, "wait": wait_seconds}

    def reaches(self, host: Host, params: dict[str, Any], inventory_hosts: list[Host]) -> dict[str, str]:
        found = find_host(inventory_hosts, str(params["server"])) if "server" in params else None
        return {"address": host.address, **({"server": found.address} if found is not None else {})}

    def probe(self, target: Target) -> Reading | Later | None:
        from auditor.network import logmarker

        if "server" not in target.params:
            return None
        server, name = str(target.params["server"]), target.host.name
        if find_host(target.run.inventory_hosts, server) is None:
            why = f"log_server {server} is not a host of the inventory: its logs cannot be searched"
            value = {"log_server_in_inventory": False, "found": None, "where": why}
            return Reading(value, None, "log marker (not sent)", why)
        marker = logmarker.new_marker(target.run.run_token, name)
        return Later(logmarker.send(target.host, target.run.connect, marker))

    def finish(self, later: list[tuple[Target, Later]], run: Run) -> dict[str, Reading]:
        from auditor.network import logmarker

        out: dict[str, Reading] = {}
        by_server: dict[str, list[tuple[Target, logmarker.Sent]]] = {}
        for target, pending in later:
            by_server.setdefault(str(target.params["server"]), []).append((target, pending.state))
        for server, sent in by_server.items():
            log_host = find_host(run.inventory_hosts, server)
            for target, s in sent:
                if not s.ok:
                    name = target.host.name
                    command = f"{name}: logger -t {logmarker.TAG} {s.marker}"
                    out[name] = Reading(None, f"logger on {name} failed: {s.detail[:300]}", command, s.detail, 1)
            ok = [(t, s) for t, s in sent if s.ok]
            if log_host is None or not ok:
                continue
            first = ok[0][0].params
            paths = path_list(first.get("paths") or DEFAULT_PATHS)
            wait = wait_seconds(first["wait"]) if "wait" in first else DEFAULT_WAIT
            found, error, searches = logmarker.search(
                log_host, run.connect, [s.marker for _, s in ok], paths, wait, run.stop.is_set
            )
            for target, s in ok:
                search = (
                    f"{log_host.name}: find {' '.join(paths)} -type f -mmin -120 | grep -HoF <marker> "
                    f"(every 1 s, {searches} search(es), up to {wait:g} s)"
                )
                command = f"{target.host.name}: logger -t {logmarker.TAG} {s.marker}; {search}"
                if s.marker in found:
                    where = f"{log_host.name}:{found[s.marker]}"
                    value = {"log_server_in_inventory": True, "found": True, "where": where, "marker": s.marker}
                    out[target.host.name] = Reading(value, None, command, f"{found[s.marker]}:{s.marker}")
                elif error:
                    out[target.host.name] = Reading(None, error, command, error, None)
                else:
                    where = f"not on {log_host.name} after {wait:g} s"
                    value = {"log_server_in_inventory": True, "found": False, "where": where, "marker": s.marker}
                    out[target.host.name] = Reading(value, None, command, where, 1)
        return out
