"""A transport runs one script on one host and returns what it printed.

Failures to reach or log in to a host are raised as ``HostError`` with a plain
reason; they become the host's ``status``/``error`` and every check's ``error``.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from auditor.batch import MARKER

MB = 1024 * 1024
HOST_OUTPUT_LIMIT = 64 * MB  # bytes read from one host before its batch is cut off
RUN_OUTPUT_LIMIT = 256 * MB  # bytes of host output the whole run holds at once


@dataclass(frozen=True)
class ExecResult:
    rc: int | None  # None when the command was cut off by the timeout or an output limit
    stdout: str
    stderr: str
    duration_ms: float
    cut: str | None = None  # why the output was cut short by a limit: "output cut at 64 MB (…)"
    held: int = field(default=0, compare=False)  # bytes taken from an OutputBudget, to give back


class OutputBudget:
    """The bytes of host output a run may hold at once, shared by its hosts.

    A host takes from it as its output arrives and gives it back once its facts are read, so a
    few hosts sending without end cannot take the auditor's memory, whatever the number of hosts.
    """

    def __init__(self, limit: int = RUN_OUTPUT_LIMIT):
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    def take(self, n: int) -> int:
        """Up to ``n`` bytes: what is left of the budget when that is less (then the output is cut there)."""
        with self._lock:
            granted = max(0, min(n, self.limit - self._used))
            self._used += granted
            return granted

    def give_back(self, n: int) -> None:
        with self._lock:
            self._used = max(0, self._used - n)


def cut_reason(limit: int, whole_run: bool) -> str:
    size = f"{limit / MB:g} MB"
    who = (
        f"the run's hosts together sent more than the {size} the auditor holds at once"
        if whole_run
        else f"the host sent more than the {size} the auditor reads from one host"
    )
    return f"output cut at {size} ({who}): this fact's output did not come back whole"


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

    #: the run's shared bound on host output held at once; None: only the per-host limit
    budget: OutputBudget | None = None

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
    if result.rc not in (0, None) and MARKER not in result.stdout:
        text = result.stderr.strip()
        if any(s in text for s in SUDO_REFUSALS) or text.startswith("sudo:"):
            return "sudo refused: " + text.splitlines()[0][:200]
    return None
