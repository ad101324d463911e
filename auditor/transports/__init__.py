"""Transports by name. A new transport = one module + one entry in FACTORIES."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from auditor.model import Host
from auditor.platforms import platform_of
from auditor.transports.base import ExecResult, HostError, OutputBudget, Transport, sudo_refusal
from auditor.transports.local import LocalTransport
from auditor.transports.ssh import HostKeys, SshTransport


@dataclass
class ConnectOptions:
    known_hosts: Path
    trust_on_first_use: bool = False
    connect_timeout: float = 10.0
    _host_keys: HostKeys | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def host_keys(self) -> HostKeys:
        """The one known_hosts store of the run, read once (worker threads ask for it concurrently)."""
        with self._lock:
            if self._host_keys is None:
                self._host_keys = HostKeys(self.known_hosts, self.trust_on_first_use)
            return self._host_keys


# (host, options, the command of the host's platform that reads the batch) -> a transport
FACTORIES: dict[str, Callable[[Host, ConnectOptions, str], Transport]] = {
    "local": lambda host, opts, shell: LocalTransport(shell),
    "ssh": lambda host, opts, shell: SshTransport(
        host.address, host.port, host.user, host.key_file, shell, opts.host_keys, opts.connect_timeout
    ),
}


def open_transport(host: Host, options: ConnectOptions) -> Transport:
    try:
        factory = FACTORIES[host.transport]
    except KeyError:
        raise HostError(f"unknown transport {host.transport!r}") from None
    return factory(host, options, platform_of(host).shell_command(host.become))


__all__ = [
    "ConnectOptions",
    "ExecResult",
    "HostError",
    "OutputBudget",
    "Transport",
    "open_transport",
    "sudo_refusal",
]
