"""Which checks of a run are network probes (NET-*), and for which hosts.

Kept apart from ``phase`` so that a run without NET-* checks (``--no-network``, a local audit)
never imports the probe clients (TLS, mail, HTTP, nmap): about 40 ms of every start-up.
"""

from __future__ import annotations

import ipaddress
from dataclasses import replace

from auditor.model import Check, Host, HostPlan


def is_network(check: Check) -> bool:
    return check.applies.get("probe") == "network"


def in_groups(check: Check, host: Host) -> bool:
    groups = check.applies.get("groups")
    return not groups or bool(set(groups) & set(host.groups))


def is_this_machine(host: Host) -> bool:
    """Audited locally or at a loopback address: its own listeners are not probed across the network."""
    if host.transport == "local" or host.address in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.address).is_loopback
    except ValueError:
        return False


def split(plans: list[HostPlan]) -> tuple[list[HostPlan], list[HostPlan]]:
    """(plans for the engine without NET-* checks, plans of NET-* checks for hosts that get them)."""
    host_plans = [replace(p, checks=[c for c in p.checks if not is_network(c)]) for p in plans]
    net_plans = []
    for p in plans:
        if is_this_machine(p.host):
            continue
        checks = [c for c in p.checks if is_network(c) and in_groups(c, p.host)]
        if checks:
            net_plans.append(replace(p, checks=checks))
    return host_plans, net_plans


def join(host_plans: list[HostPlan], net_plans: list[HostPlan]) -> list[HostPlan]:
    """Each host's plan with its NET-* checks after its host checks, the order a local run's results have:
    for a machine that runs both phases of these hosts itself (a distributed run's worker)."""
    network = {p.host.name: p.checks for p in net_plans}
    return [replace(p, checks=[*p.checks, *network.get(p.host.name, [])]) for p in host_plans]
