"""A transport runs one script on one host and returns what it printed.

Failures to reach or log in to a host are raised as ``HostError`` with a plain
reason; they become the host's ``status``/``error`` and every check's ``error``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True)
class ExecResult:
    rc: int | None  # None when the command was cut off by the timeout
    stdout: str
    stderr: str
    duration_ms: float


class HostError(Exception):
    """The host could not be audited at all. ``status`` is ``unreachable`` or ``error``."""

    def __init__(self, reason: str, status: str = "error"):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Transport(ABC):
    #: the command that reads the batch script on stdin (shown in evidence)
    shell_command: str = "/bin/sh -s"

    @abstractmethod
    def connect(self) -> None: ...

    @abstractmethod
    def run(self, script: str, timeout: float) -> ExecResult: ...

    def close(self) -> None:  # noqa: B027  (optional hook)
        pass

    def abort(self) -> None:
        """Called from another thread when the run is interrupted: make blocking calls return now."""
        self.close()

    def __enter__(self) -> Transport:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def shell_command(become: bool) -> str:
    # sudo -n: never prompt. A refused sudo exits before reading the script.
    return "sudo -n -- /bin/sh -s" if become else "/bin/sh -s"


SUDO_REFUSALS = (
    "a password is required",
    "is not in the sudoers",
    "not allowed to execute",
    "a terminal is required",
    "sudo: command not found",
    "sudo: not found",
    "may not run sudo",
)


def sudo_refusal(result: ExecResult) -> str | None:
    """The reason if sudo refused to run the batch (no marker was printed at all)."""
    if result.rc not in (0, None) and "@@AUDITOR-" not in result.stdout:
        text = result.stderr.strip()
        if any(s in text for s in SUDO_REFUSALS) or text.startswith("sudo:"):
            return "sudo refused: " + text.splitlines()[0][:200]
    return None
