"""The network parameters of a host, parsed strictly before anything is contacted.

Every parameter that names something to contact (``portal_url``, ``file_server``,
``log_server``, ``smtp_hostname``, ``smtp_port``) or bounds a probe (``scan_ports``,
``scan_probe_wait_ms``, ``log_marker_wait``, ``allowed_ports``) and the files the probes
read (``tls_ca_file``, ``file_server_key``) is checked here, by ``auditor validate`` and
by ``auditor run`` before the first connection. A bad value is an InputError naming where
it came from (the inventory, the playbook or ``--param``), the host and the parameter.
Pure apart from looking at the named files; light imports (no probe libraries).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from auditor import addresses
from auditor.errors import InputError
from auditor.model import Host, HostPlan

DEFAULT_SMTP_PORT = 25
DEFAULT_LOG_MARKER_WAIT = 20.0
MAX_LOG_MARKER_WAIT = 3600.0


@dataclass(frozen=True)
class Checked:
    """The parsed values phase.py uses (None: not set)."""

    portal_url: addresses.Url | None
    smtp_port: int
    smtp_hostname: str | None
    file_server: addresses.Url | None
    log_servers: list[str]
    log_marker_wait: float


def _error(plan: HostPlan, key: str, message: str) -> InputError:
    if plan.origin is not None:
        return plan.origin.error(plan.host, key, message)
    return InputError(f"{message} (host {plan.host.name})", field=key)


def default_portal_url(host: Host) -> str:
    return f"https://{addresses.bracket(host.address)}/"


def check(plan: HostPlan) -> Checked:
    """Parse one host's network parameters; InputError for the first bad one."""
    p = plan.params

    def fail(key: str, message: str) -> InputError:
        return _error(plan, key, message)

    def present(key: str) -> bool:
        return p.get(key) not in (None, "", [])

    def parsed(key: str, parse: Callable[[Any], Any], hint: str = "") -> Any:
        try:
            return parse(p[key])
        except addresses.AddressError as exc:
            raise fail(key, f"{exc}{hint}") from None

    portal = parsed("portal_url", lambda v: addresses.url(v, ("https",))) if present("portal_url") else None
    smtp_port = parsed("smtp_port", addresses.port) if present("smtp_port") else DEFAULT_SMTP_PORT
    smtp_hostname = parsed("smtp_hostname", addresses.host) if present("smtp_hostname") else None
    file_server = None
    if present("file_server"):
        file_server = parsed(
            "file_server",
            lambda v: addresses.url(v, ("sftp", "smb", "ftps"), allow_user=True),
            " (expected sftp://[user@]host[:port]/path)",
        )
    log_servers: list[str] = []
    if present("log_server"):  # one server or several
        log_servers = parsed(
            "log_server",
            lambda v: [addresses.host(x) for x in (v if isinstance(v, list) else [v])],
            " (the log server's address or inventory name)",
        )
    wait = DEFAULT_LOG_MARKER_WAIT
    if present("log_marker_wait"):
        wait = _number(p["log_marker_wait"], 1, MAX_LOG_MARKER_WAIT, lambda m: fail("log_marker_wait", m))
    if present("scan_probe_wait_ms"):
        _number(p["scan_probe_wait_ms"], 1, 60000, lambda m: fail("scan_probe_wait_ms", m), whole=True)
    for key in ("tls_ca_file", "file_server_key"):
        if present(key) and not os.path.isfile(os.path.expanduser(str(p[key]))):
            raise fail(key, f"{p[key]!r} is not a readable file")
    from auditor.network.judge import parse_allowed_ports
    from auditor.network.scan import nmap_arguments

    try:
        parse_allowed_ports(p.get("allowed_ports"))
    except ValueError as exc:
        raise fail("allowed_ports", str(exc)) from None
    if present("scan_ports"):
        try:
            nmap_arguments(str(p["scan_ports"]), False, 60)
        except ValueError as exc:
            raise fail("scan_ports", str(exc)) from None
    return Checked(portal, smtp_port, smtp_hostname, file_server, log_servers, wait)


def _number(value: Any, low: float, high: float, fail: Callable[[str], InputError], whole: bool = False) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise fail(f"{value!r} is not a number") from None
    if not low <= number <= high or (whole and not number.is_integer()):
        raise fail(f"{value!r}: expected {'a whole number' if whole else 'a number'} from {low:g} to {high:g}")
    return number


def check_all(plans: list[HostPlan]) -> None:
    """Every host's network parameters (``validate``, and ``run`` before any host is contacted)."""
    for plan in plans:
        check(plan)
