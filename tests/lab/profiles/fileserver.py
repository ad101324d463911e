"""fileserver: the agency's file server that replaces USB drives: SFTP (OpenSSH's sftp-server)
with a shared folder /srv/share that the auditor account may list.

Host tasks as ``minimal``; the network phase's NET-FILESERVER-LISTING passes against it.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from .minimal import EXPECTED, REASONS

NAME = "fileserver"
DAEMONS = ("sshd",)
INIT: tuple[str, ...] = ()
__all__ = ["EXPECTED", "REASONS"]
EXPECTED_NETWORK = {"PT-NETWORK": "pass"}
EXPECTED_CHECKS = {"NET-NO-CLEARTEXT-SERVICES": "pass"}
SHARE = "/srv/share"


def configure(root: Path, ctx: c.HostContext) -> None:
    c.write(root, f"{SHARE}/README.txt", "Thu muc chia se cua co quan (lab)\n")
    c.write(root, f"{SHARE}/bao-cao-2026.txt", "lab\n")
