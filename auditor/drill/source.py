"""The drill source: a second address on the auditor's machine, brought up for the drill and removed after.

Attacks (failed logins, connections to a closed port) come from it, not from the address the
auditor connects from, so a defence that bans the source does not lock the auditor out and a
whitelist of the auditor does not hide the reaction. It is added as a /32 on the interface the
route to the host leaves by; an address the machine already has is refused (it may be the
auditor's own). Needs root on the auditor's machine.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from dataclasses import dataclass, field

from auditor import addresses
from auditor.drill.actions.base import DrillError

IP = shutil.which("ip") or "/usr/sbin/ip"


def _ip(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IP, *args], capture_output=True, text=True, timeout=15, check=False)


@dataclass
class DrillSource:
    address: str
    device: str | None = None
    added: bool = False
    log: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, value: object) -> DrillSource:
        try:
            text = addresses.host(value)
        except addresses.AddressError as exc:
            raise DrillError(f"drill_source: {exc}") from None
        if addresses.ip(text) is None or ":" in text:
            raise DrillError(f"drill_source: {text!r} must be an IPv4 address")
        return cls(text)

    def up(self, toward: str) -> None:
        """Add the address on the interface toward ``toward`` (an inventory host's address)."""
        if self.added:
            return
        shown = _ip("-o", "addr", "show", "to", f"{self.address}/32")
        if shown.returncode != 0:
            raise DrillError(f"cannot read this machine's addresses: {shown.stderr.strip()}")
        if shown.stdout.strip():
            raise DrillError(
                f"drill source {self.address} is already an address of this machine (maybe the auditor's own): "
                "choose a free address in the hosts' network"
            )
        route = _ip("-o", "route", "get", addresses.host(toward))
        words = route.stdout.split()
        if route.returncode != 0 or "dev" not in words:
            raise DrillError(f"no route to {toward}: {route.stderr.strip() or route.stdout.strip()}")
        self.device = words[words.index("dev") + 1]
        added = _ip("addr", "add", f"{self.address}/32", "dev", self.device)
        self.log.append(f"ip addr add {self.address}/32 dev {self.device} -> {added.returncode} {added.stderr.strip()}")
        if added.returncode != 0:
            raise DrillError(f"cannot bring up drill source {self.address} on {self.device}: {added.stderr.strip()}")
        self.added = True

    def down(self) -> tuple[bool, str]:
        if not self.added or self.device is None:
            return True, "drill source was not brought up"
        removed = _ip("addr", "del", f"{self.address}/32", "dev", self.device)
        text = f"ip addr del {self.address}/32 dev {self.device} -> {removed.returncode} {removed.stderr.strip()}"
        self.log.append(text)
        if removed.returncode == 0:
            self.added = False
        return removed.returncode == 0, text

    def connect(self, host: str, port: int, timeout: float) -> socket.socket | str:
        """A TCP connection from the drill source, or why there is none ("timed out", "refused", ...)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.bind((self.address, 0))
            sock.connect((host, port))
        except TimeoutError:
            sock.close()
            return "timed out"
        except ConnectionRefusedError:
            sock.close()
            return "refused"
        except OSError as exc:
            sock.close()
            return exc.strerror or str(exc)
        return sock
