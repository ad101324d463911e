"""Run the batch on this machine (the embedded default: ``auditor run`` with no inventory)."""

from __future__ import annotations

import shlex
import subprocess
import time

from auditor.transports.base import ExecResult, Transport, shell_command


class LocalTransport(Transport):
    def __init__(self, become: bool = False):
        self.shell_command = shell_command(become)

    def connect(self) -> None:
        pass

    def run(self, script: str, timeout: float) -> ExecResult:
        start = time.monotonic()
        try:
            proc = subprocess.run(
                shlex.split(self.shell_command), input=script.encode(), capture_output=True, timeout=timeout
            )
            rc: int | None = proc.returncode
            out, err = proc.stdout, proc.stderr
        except subprocess.TimeoutExpired as exc:
            rc, out, err = None, exc.stdout or b"", exc.stderr or b""
        return ExecResult(rc, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                          (time.monotonic() - start) * 1000)
