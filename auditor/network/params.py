"""The network parameters of a host, parsed strictly before anything is contacted.

Every parameter that names something to contact (``portal_url``, ``file_server``,
``log_server``, ``smtp_hostname``, ``smtp_port``) or bounds a probe (``scan_ports``,
``scan_probe_wait_ms``, ``log_marker_wait``, ``allowed_ports``), the files the probes
read (``tls_ca_file``, ``file_server_key``) and the paths searched (``log_marker_paths``)
is checked here by ``auditor validate`` and ``auditor run`` before the first connection,
whether or not a check of the host reads it, with the parser of the probe parameter the
project's checks bind it to. Then every run parameter a host's network check binds to a
probe parameter is parsed by that probe type's parser (a check may bind a parameter of
another name). A bad value is an InputError naming where it came from (the inventory, the
playbook or ``--param``), the host and the parameter. Pure apart from looking at the named
files; light imports (no probe libraries).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from auditor.errors import InputError
from auditor.evaluate import params_used
from auditor.model import HostPlan
from auditor.network.probes import REGISTRY

# Run parameters parsed for every host, whether or not a check of the host reads them, by the parser of
# the probe parameter the project's checks bind them to (probe type, parameter); in this order.
BY_NAME: dict[str, tuple[str, str]] = {
    "portal_url": ("https_portal", "url"),
    "smtp_port": ("smtp", "port"),
    "smtp_hostname": ("smtp", "hostname"),
    "file_server": ("file_server", "url"),
    "log_server": ("log_marker", "server"),
    "log_marker_wait": ("log_marker", "wait"),
    "log_marker_paths": ("log_marker", "paths"),
    "tls_ca_file": ("https_portal", "ca_file"),
    "file_server_key": ("file_server", "key"),
    "allowed_ports": ("exposure", "allowed_ports"),
}


def _error(plan: HostPlan, key: str, message: str) -> InputError:
    if plan.origin is not None:
        return plan.origin.error(plan.host, key, message)
    return InputError(f"{message} (host {plan.host.name})", field=key)


def check(plan: HostPlan) -> None:
    """Parse one host's network parameters; InputError for the first bad one."""
    p = plan.params

    def fail(key: str, message: str) -> InputError:
        return _error(plan, key, message)

    def present(key: str) -> bool:
        return p.get(key) not in (None, "", [])

    def parsed(key: str, parse: Callable[[Any], Any]) -> None:
        try:
            parse(p[key])
        except ValueError as exc:  # addresses.AddressError and UnsafeValue are ValueErrors
            raise fail(key, str(exc)) from None

    from auditor.network.scan import nmap_arguments

    for name, (kind, key) in BY_NAME.items():
        if present(name):
            parsed(name, REGISTRY[kind].parsers[key])
    if present("scan_probe_wait_ms"):
        _number(p["scan_probe_wait_ms"], 1, 60000, lambda m: fail("scan_probe_wait_ms", m), whole=True)
    if present("scan_ports"):
        parsed("scan_ports", lambda v: nmap_arguments(str(v), False, 60))
    _check_bound(plan, fail)


def _check_bound(plan: HostPlan, fail: Callable[[str, str], InputError]) -> None:
    """Each run parameter a network check binds to a probe parameter, through that probe's parser."""
    for check in plan.checks:
        for spec in check.facts.values():
            kind = REGISTRY.get(spec.type)
            for key, template in spec.params.items() if kind is not None else ():
                parse = kind.parsers.get(key)
                for name in params_used(template) if parse is not None else ():
                    if plan.params.get(name) in (None, "", []):
                        continue
                    try:
                        parse(plan.params[name])
                    except ValueError as exc:  # addresses.AddressError and UnsafeValue are ValueErrors
                        raise fail(name, str(exc)) from None


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
