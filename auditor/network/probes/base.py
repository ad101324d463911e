"""What a network probe type is, and the registry the catalog and the network phase look probe types up in.

A probe type reads one fact of a target host from this machine (the TLS of its portal, its SMTP, a marker
in the log server's files). It declares its parameters in ``params_schema``; a check binds each one to a
run parameter (``log_marker: {server: "{{ log_server }}"}``), so the plan's missing-parameter check sees
the required ones and the run's strict gate (``network/params.py``) vets every value before any contact.
``probe()`` reads the fact of one target; a type whose reading needs every target at once (one search per
log server, one listing per file server) returns ``Later`` and completes in ``finish()``.

Light to import on purpose: the catalog looks probe types up here on every start to validate NET-* checks,
so a probe's clients (TLS, SMTP, SSH, nmap) are imported inside ``probe()``, when a run needs them.
"""

from __future__ import annotations

import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from auditor import addresses
from auditor.facts.base import TEMPLATE
from auditor.model import Evidence, Host

if TYPE_CHECKING:
    from auditor.network.scan import HostScan, ScanRun
    from auditor.transports import ConnectOptions


def params_schema(required: list[str], optional: list[str]) -> dict[str, Any]:
    """Each parameter bound to a run parameter (``"{{ name }}"``): a value written in a check would pass
    no gate, so none is accepted. An optional one whose run parameter is unset is left out (its default)."""
    return {
        "type": "object",
        "properties": {name: TEMPLATE for name in [*required, *optional]},
        "required": required,
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class Reading:
    """What a probe read: the fact's value, or why it could not (never a pass), and what it ran and saw."""

    value: dict[str, Any] | None
    error: str | None
    command: str
    output: str | list[str]
    rc: int | None = 0
    source: Evidence | None = None  # the record this reading is a part of (the run's nmap output)


@dataclass(frozen=True)
class Later:
    """A reading ``finish()`` completes once every target has been probed (a marker sent, say)."""

    state: Any = None


@dataclass(frozen=True)
class Run:
    """What the probes of one run share."""

    connect: ConnectOptions
    timeout: float  # per probe, seconds
    inventory_hosts: list[Host]  # to find a log server among them
    run_token: str  # in every marker this run sends
    stop: threading.Event
    scan_run: ScanRun | None = None  # the run's nmap, when a probe type of the run reads it
    scan_record: Evidence | None = None  # its command and whole output, which every target's evidence shares


@dataclass(frozen=True)
class Target:
    host: Host
    params: dict[str, Any]  # the fact's parameters rendered for this host; an unset optional one is absent
    run: Run
    scan: HostScan | None = None  # this host's part of the run's nmap


class ProbeType(ABC):
    name: ClassVar[str]
    params_schema: ClassVar[dict[str, Any]] = params_schema([], [])
    # Strict parsers of parameter values (raising ValueError, addresses.AddressError included), for values a
    # check binds to a run parameter the run's gate does not already know by name.
    parsers: ClassVar[dict[str, Callable[[Any], Any]]] = {}
    reads_scan: ClassVar[bool] = False  # the target's part of the run's nmap scan is given to probe()

    def scan_ports(self, host: Host, params: dict[str, Any]) -> list[int]:
        """TCP ports the run's nmap must include for this probe."""
        return []

    def contacts(self, host: Host, params: dict[str, Any]) -> dict[str, str]:
        """Hosts other than the target that probe() contacts, by the parameter naming each: vetted as
        scan targets are before anything is contacted."""
        return {}

    def reaches(self, host: Host, params: dict[str, Any], inventory_hosts: list[Host]) -> dict[str, str]:
        """Every address probe() and finish() connect to, by what names it (``address``: the target's own):
        a machine that may reach only some networks (a distributed run's worker) refuses the probe when one
        of them is outside, before anything is contacted."""
        return {"address": host.address, **self.contacts(host, params)}

    @abstractmethod
    def probe(self, target: Target) -> Reading | Later | None:
        """The fact of one target (None: nothing to read, as when a parameter it needs is empty)."""

    def finish(self, later: list[tuple[Target, Later]], run: Run) -> dict[str, Reading]:
        """Readings by host name of the targets probe() left for later, once every target was probed."""
        return {}


REGISTRY: dict[str, ProbeType] = {}

_T = TypeVar("_T", bound=type[ProbeType])


def register(cls: _T) -> _T:
    REGISTRY[cls.name] = cls()
    return cls


def required_params(type_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a fact of this probe type a check cannot run without (the plan's missing check)."""
    required = set(REGISTRY[type_name].params_schema.get("required", []))
    return {key: value for key, value in params.items() if key in required}


# --- helpers shared by probe types ------------------------------------------------


def url_host(address: str) -> str:
    return address.partition("%")[0]  # a scope id is for the socket, not for a URL's Host or a server name


def portal_url(host: Host | None, params: dict[str, Any]) -> addresses.Url:
    """The portal's ``url`` parameter, or https://<the host's address>/ when it is unset."""
    value = params.get("url") or (f"https://{addresses.bracket(host.address)}/" if host is not None else "")
    return addresses.url(value, ("https",))


def parse_portal_url(value: Any) -> addresses.Url:
    return portal_url(None, {"url": value})


def readable_file(value: Any) -> str:
    path = os.path.expanduser(str(value))
    if not os.path.isfile(path):
        raise ValueError(f"{value!r} is not a readable file")
    return path
