"""Run the batch on this machine (the embedded default: ``auditor run`` with no inventory)."""

from __future__ import annotations

import shlex
import subprocess
import time

from auditor.transports.base import ExecResult, Transport


class LocalTransport(Transport):
    def __init__(self, shell_command: str = Transport.shell_command):
        self.shell_command = shell_command
        self.proc: subprocess.Popen[bytes] | None = None

    def connect(self) -> None:
        pass

    def run(self, script: str, timeout: float) -> ExecResult:
        # This machine is the auditor's own: its output is not bounded like a remote host's.
        start = time.monotonic()
        self.proc = subprocess.Popen(
            shlex.split(self.shell_command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            out, err = self.proc.communicate(script.encode(), timeout=timeout)
            rc: int | None = self.proc.returncode
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            rc = None
        return ExecResult(
            rc,
            out.decode("utf-8", "replace"),
            err.decode("utf-8", "replace"),
            (time.monotonic() - start) * 1000,
        )

    def abort(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
