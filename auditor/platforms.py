"""What differs between the operating systems the auditor reads: one object per ``os`` of the inventory.

A platform says which command reads the batch on the host (through sudo or not), how a host's
snippets become one batch, and how the batch's output is split back per snippet. The engine and the
transports ask a host's platform (``platform_of``) instead of each branching on ``host.os``. A new
operating system = one batch module and one entry in ``PLATFORMS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor import batch, winbatch
from auditor.batch import Batch
from auditor.facts.base import RawOutput
from auditor.model import Host


@dataclass(frozen=True)
class Platform:
    name: str

    def shell_command(self, become: bool) -> str:
        """The command that reads the batch script on stdin (shown in every fact's evidence)."""
        raise NotImplementedError

    def build(self, snippets: list[str], timeout: int, parallel: bool) -> Batch:
        """One script for distinct snippets (deduplicate first); ``timeout`` bounds each snippet."""
        raise NotImplementedError

    def split(self, built: Batch, stdout: str) -> dict[int, RawOutput]:
        """Raw output per snippet id; a snippet that never reached its end marker is absent."""
        raise NotImplementedError


class Linux(Platform):
    """``/bin/sh`` with the POSIX batch (``auditor.batch``)."""

    def shell_command(self, become: bool) -> str:
        # sudo -n: never prompt. A refused sudo exits before reading the script.
        return "sudo -n -- /bin/sh -s" if become else "/bin/sh -s"

    def build(self, snippets: list[str], timeout: int, parallel: bool) -> Batch:
        return batch.build(snippets, timeout, parallel=parallel)

    def split(self, built: Batch, stdout: str) -> dict[int, RawOutput]:
        return batch.split(built, stdout)


class Windows(Platform):
    """PowerShell 5.1 with its batch (``auditor.winbatch``). There is no sudo: the audit has the rights of
    the SSH account, so ``become`` changes nothing; snippets run one after the other."""

    def shell_command(self, become: bool) -> str:
        return winbatch.shell_command()

    def build(self, snippets: list[str], timeout: int, parallel: bool) -> Batch:
        return winbatch.build(snippets, timeout=timeout)

    def split(self, built: Batch, stdout: str) -> dict[int, RawOutput]:
        return winbatch.split(built, stdout)


PLATFORMS: dict[str, Platform] = {"linux": Linux("linux"), "windows": Windows("windows")}


def platform_of(host: Host) -> Platform:
    """The host's platform; the inventory admits only the operating systems listed in PLATFORMS."""
    return PLATFORMS[host.os]
