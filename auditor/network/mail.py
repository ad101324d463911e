"""Mail from the auditor: SMTP STARTTLS offered and working; IMAP/POP3 only over TLS.

The SMTP dialogue is EHLO, STARTTLS, then the TLS probe of ``tls.py`` on the same
socket (certificate and trust), so the certificate checks are the portals' ones.
"""

from __future__ import annotations

import contextlib
import imaplib
import poplib
import smtplib
import socket
import ssl
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
    """Plain SMTP up to '220 ready to start TLS' on ``sock`` (for tls.probe_tls's ``starttls``).
    A 4xx/5xx answer to STARTTLS is the server's refusal (UpgradeRefused); anything else unexpected
    leaves the question open (OSError)."""
    f = sock.makefile("rb")
    try:
        code, lines = _read_reply(f)
        if code != 220:
            raise OSError(f"greeting {code} {' '.join(lines)[:120]}")
        sock.sendall(f"EHLO {EHLO_NAME}\r\n".encode())
        code, lines = _read_reply(f)
        if code != 250:
            raise OSError(f"EHLO answered {code} {' '.join(lines)[:120]}")
        sock.sendall(b"STARTTLS\r\n")
        code, lines = _read_reply(f)
        if 400 <= code < 600:
            raise tls.UpgradeRefused(f"{code} {' '.join(lines)[:200]}")
        if code != 220:
            raise OSError(f"STARTTLS answered {code} {' '.join(lines)[:120]}")
    finally:
        f.close()


def probe_smtp(address: str, port: int, server_name: str, ca_file: str | None, timeout: float = 8.0) -> SmtpReport:
    report = SmtpReport(address, port)
    try:
        with smtplib.SMTP(timeout=timeout) as smtp:
            code, banner = smtp.connect(address, port)
            report.listening, report.banner = True, banner.decode("utf-8", "replace")
            report.transcript.append(f"{address}:{port} banner: {code} {report.banner}")
            if code != 220:  # 421/554: the server turned us away; what it offers is unknown
                report.error = f"SMTP {address}:{port} did not accept the session: {code} {report.banner[:200]}"
                return report
            code, answer = smtp.ehlo(EHLO_NAME)
            if code != 250:  # without EHLO's list, "no STARTTLS" would be a guess
                report.error = (
                    f"SMTP {address}:{port} refused EHLO: {code} "
                    f"{answer.decode('utf-8', 'replace')[:200]}; its extensions are unknown"
                )
                return report
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
    finally:
        if report.error and report.error not in report.transcript:
            report.transcript.append(report.error)
    if "STARTTLS" in report.extensions:
        report.tls = tls.probe_tls(address, port, server_name, ca_file, timeout, starttls=_starttls_preamble)
        report.transcript += [f"STARTTLS: {line}" for line in report.tls.transcript]
        if report.tls.upgrade_refused is None and not report.tls.modern and report.tls.problems:
            # Advertised, then the connection broke or timed out: whether mail could be encrypted is open.
            report.error = f"SMTP {address}:{port}: STARTTLS advertised, TLS could not be tried: " + "; ".join(
                report.tls.problems
            )
    return report


def smtp_facts(report: SmtpReport) -> dict[str, Any]:
    """``starttls_works``: True when a TLS 1.2+ handshake followed STARTTLS; False when STARTTLS is not
    offered, is refused (4xx/5xx: mail then travels in clear) or no TLS 1.2+ handshake is accepted."""
    offered = None if report.listening is None else "STARTTLS" in report.extensions
    works: bool | None = None
    detail = ""
    if offered is False:
        works, detail = False, "STARTTLS not offered: mail travels in clear text"
    elif report.tls is not None and report.tls.upgrade_refused is not None:
        works = False
        detail = f"STARTTLS advertised but refused ({report.tls.upgrade_refused}): mail travels in clear text"
    elif report.tls is not None:
        works = bool(report.tls.modern) if (report.tls.modern or not report.tls.problems) else None
        detail = (
            f"TLS handshake after STARTTLS: {', '.join(report.tls.modern)}"
            if report.tls.modern
            else "no TLS 1.2+ handshake accepted after STARTTLS"
            if works is False
            else "could not tell: " + "; ".join(report.tls.problems)
        )
    return {
        "endpoint": f"{report.address}:{report.port}",
        "listening": report.listening,
        "error": report.error or "",
        "starttls_offered": offered,
        "starttls_works": works,
        "starttls_detail": detail,
        "extensions": report.extensions,
        "tls": tls.report_facts(report.tls) if report.tls is not None else None,
    }


# --- IMAP / POP3 ------------------------------------------------------------------------------

MAILBOX_TLS = {"imaps": 993, "pop3s": 995}


def cleartext_upgrade(
    kind: str, address: str, port: int, server_name: str, timeout: float = 5.0
) -> tuple[bool | None, str]:
    """Can a clear-text IMAP/POP3 session be upgraded to TLS 1.2+? True when STARTTLS/STLS is offered and
    the handshake after it works; False when it is not offered, is refused (NO/BAD/-ERR) or no TLS 1.2+
    handshake is accepted (the session stays in clear text); None, with why, when it could not tell."""
    where = f"{kind.upper()} {address}:{port}"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # the certificate is judged on IMAPS/POP3S
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        if kind == "imap":
            imap = imaplib.IMAP4(address, port, timeout=timeout)
            try:
                caps = [c.upper() for c in imap.capabilities]
                line = f"{where} capabilities: {' '.join(caps)}"
                if "STARTTLS" not in caps:
                    return False, line
                typ, data = imap._simple_command("STARTTLS")  # the answer's text, which starttls() drops
                if typ != "OK":
                    return False, f"{line}; STARTTLS refused: {typ} {_text(data)}"
                imap.sock = ctx.wrap_socket(imap.sock, server_hostname=server_name)
                imap.file = imap.sock.makefile("rb")
                return True, f"{line}; STARTTLS: {imap.sock.version()} handshake ok"
            finally:
                with contextlib.suppress(OSError, imaplib.IMAP4.error):
                    imap.shutdown()
        pop = poplib.POP3(address, port, timeout=timeout)
        try:
            caps = [c.upper() for c in pop.capa()]
            line = f"{where} CAPA: {' '.join(caps)}"
            if "STLS" not in caps:
                return False, line
            try:
                pop.stls(ctx)
            except poplib.error_proto as exc:
                return False, f"{line}; STLS refused: {_text(exc.args)}"
            return True, f"{line}; STLS: {pop.sock.version()} handshake ok"  # type: ignore[attr-defined]
        finally:
            with contextlib.suppress(OSError, poplib.error_proto):
                pop.quit()
    except ssl.SSLError as exc:  # the server took the upgrade, then no TLS 1.2+ handshake
        return False, f"{where}: no TLS 1.2+ handshake after STARTTLS: {exc.reason or exc}"
    except imaplib.IMAP4.abort as exc:  # connection broken mid-dialogue
        return None, f"{where}: {exc}"
    except imaplib.IMAP4.error as exc:  # BAD to STARTTLS (or to CAPABILITY): refused
        return False, f"{where}: refused: {exc}"
    except (OSError, poplib.error_proto) as exc:
        return None, f"{where}: {exc}"


def _text(data: Any) -> str:
    items = data if isinstance(data, list | tuple) else [data]
    return " ".join(x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x) for x in items if x)[:200]
