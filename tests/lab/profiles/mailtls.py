"""mailtls: a mail server with STARTTLS (postfix) and IMAP/POP3 (dovecot) over TLS: implicit TLS on
993/995 and STARTTLS on 143/110, all with a lab-CA certificate for its name and address.

Host tasks as ``minimal``.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import network as n
from . import tlslab
from .minimal import EXPECTED, REASONS

NAME = "mailtls"
DAEMONS = ("sshd", "master", "dovecot")
INIT: tuple[str, ...] = ()
__all__ = ["EXPECTED", "REASONS"]
EXPECTED_NETWORK = {"PT-NETWORK": "pass", "PT-MAIL-CRYPTO": "pass"}
EXPECTED_CHECKS = {
    "NET-NO-CLEARTEXT-SERVICES": "pass",
    "NET-MAIL-STARTTLS": "pass",
    "NET-MAIL-CERT-TRUSTED": "pass",
    "NET-MAIL-MAILBOX-TLS": "pass",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    tlslab.install(root, *tlslab.server_cert(ctx.name, ctx.address))
    n.postfix(root, ctx.name, starttls=True)
    n.dovecot(root)
