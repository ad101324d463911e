"""Mail from the auditor: SMTP STARTTLS offered and working; IMAP/POP3 only over TLS.

The SMTP dialogue is EHLO, STARTTLS, then the TLS probe of ``tls.py`` on the same
socket (certificate and trust), so the certificate checks are the portals' ones.
"""

from __future__ import annotations

import imaplib
import poplib
import smtplib
import socket
from dataclasses import dataclass, field
from typing import Any

from auditor.network import tls

EHLO_NAME = "auditor.invalid"


@dataclass
class SmtpReport:
    address: str
    port: int
    listening: bool | None = None
    banner: str = ""
    extensions: list[str] = field(default_factory=list)
    error: str | None = None
    tls: tls.TlsReport | None = None
    transcript: list[str] = field(default_factory=list)


def _read_reply(f: Any) -> tuple[int, list[str]]:
    lines = []
    while True:
        line = f.readline(4096).decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 4 or not line[:3].isdigit():
            raise OSError(f"not an SMTP reply: {line[:80]!r}")
        lines.append(line[4:])
        if line[3] != "-":
            return int(line[:3]), lines


def _starttls_preamble(sock: socket.socket) -> None:
    """Plain SMTP up to '220 ready to start TLS' on ``sock`` (for tls.probe_tls's ``starttls``)."""
    f = sock.makefile("rb")
    try:
        _read_reply(f)
        sock.sendall(f"EHLO {EHLO_NAME}\r\n".encode())
        _read_reply(f)
        sock.sendall(b"STARTTLS\r\n")
        code, lines = _read_reply(f)
        if code != 220:
            raise OSError(f"STARTTLS refused: {code} {' '.join(lines)[:80]}")
    finally:
        f.close()


def probe_smtp(address: str, port: int, server_name: str, ca_file: str | None, timeout: float = 8.0) -> SmtpReport:
    report = SmtpReport(address, port)
    try:
        with smtplib.SMTP(timeout=timeout) as smtp:
            code, banner = smtp.connect(address, port)
            report.listening, report.banner = True, banner.decode("utf-8", "replace")
            report.transcript.append(f"{address}:{port} banner: {code} {report.banner}")
            code, _ = smtp.ehlo(EHLO_NAME)
            report.extensions = sorted(k.upper() for k in smtp.esmtp_features)
            report.transcript.append(f"EHLO: {code}; extensions: {' '.join(report.extensions) or '(none)'}")
    except ConnectionRefusedError:
        report.listening = False
        report.transcript.append(f"{address}:{port}: connection refused")
        return report
    except (OSError, smtplib.SMTPException) as exc:
        report.error = f"SMTP dialogue with {address}:{port} failed: {exc}"
        report.transcript.append(report.error)
        return report
    if "STARTTLS" in report.extensions:
        report.tls = tls.probe_tls(address, port, server_name, ca_file, timeout, starttls=_starttls_preamble)
        report.transcript += [f"STARTTLS: {line}" for line in report.tls.transcript]
    return report


def smtp_facts(report: SmtpReport) -> dict[str, Any]:
    offered = None if report.listening is None else "STARTTLS" in report.extensions
    works = None
    if offered is False:
        works = False
    elif report.tls is not None:
        works = bool(report.tls.modern) if (report.tls.modern or not report.tls.problems) else None
    return {
        "endpoint": f"{report.address}:{report.port}",
        "listening": report.listening,
        "error": report.error or "",
        "starttls_offered": offered,
        "starttls_works": works,
        "extensions": report.extensions,
        "tls": tls.report_facts(report.tls) if report.tls is not None else None,
    }


# --- IMAP / POP3 ------------------------------------------------------------------------------

MAILBOX_TLS = {"imaps": 993, "pop3s": 995}


def cleartext_capabilities(kind: str, address: str, port: int, timeout: float = 5.0) -> tuple[bool | None, str]:
    """Does a clear-text IMAP/POP3 listener offer STARTTLS/STLS? (None, why) when it could not tell."""
    try:
        if kind == "imap":
            imap = imaplib.IMAP4(address, port, timeout=timeout)
            try:
                caps = [c.upper() for c in imap.capabilities]
            finally:
                imap.shutdown()
            return "STARTTLS" in caps, f"IMAP {address}:{port} capabilities: {' '.join(caps)}"
        pop = poplib.POP3(address, port, timeout=timeout)
        try:
            caps = [c.upper() for c in pop.capa()]
        finally:
            pop.quit()
        return "STLS" in caps, f"POP3 {address}:{port} CAPA: {' '.join(caps)}"
    except (OSError, imaplib.IMAP4.error, poplib.error_proto) as exc:
        return None, f"{kind.upper()} {address}:{port}: {exc}"
