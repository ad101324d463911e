"""SSH to a Windows host (OpenSSH for Windows): the same connection and host-key rules as ``ssh``,
but the command is the PowerShell 5.1 bootstrap of ``auditor.winbatch`` instead of ``/bin/sh -s``.

There is no sudo on Windows: the audit runs with the rights of the SSH account (an administrator
account gets a full token over OpenSSH key authentication), so ``become`` is ignored here.
"""

from __future__ import annotations

from auditor import winbatch
from auditor.transports.ssh import SshTransport


class WindowsSshTransport(SshTransport):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.shell_command = winbatch.shell_command()
