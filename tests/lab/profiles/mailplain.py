"""mailplain: a mail server without STARTTLS (postfix, smtpd_tls_security_level = none) and no
IMAP/POP3. It runs rsyslog but forwards nowhere, so a logger marker never reaches the log server.

Host tasks as ``minimal`` (PT-LOG fails on configuration: no forwarding rule).
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import network as n
from .minimal import EXPECTED, REASONS

NAME = "mailplain"
DAEMONS = ("rsyslogd", "sshd", "master")
INIT: tuple[str, ...] = ()
__all__ = ["EXPECTED", "REASONS"]
EXPECTED_NETWORK = {"PT-NETWORK": "pass", "PT-MAIL-CRYPTO": "fail", "PT-LOG": "fail"}
EXPECTED_CHECKS = {
    "NET-MAIL-STARTTLS": "fail",  # EHLO lists no STARTTLS
    "NET-MAIL-CERT-TRUSTED": "not_applicable",  # no TLS to judge
    "NET-MAIL-MAILBOX-TLS": "not_applicable",  # no IMAP/POP3 service
    "NET-LOG-MARKER-ARRIVES": "fail",  # logged locally, never forwarded
}
NETWORK_REASONS = {"PT-MAIL-CRYPTO": "SMTP without STARTTLS", "PT-LOG": "the marker stays on the host"}


def configure(root: Path, ctx: c.HostContext) -> None:
    n.postfix(root, ctx.name, starttls=False)
