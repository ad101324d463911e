"""SMTP and IMAP/POP3 STARTTLS verdicts against scripted servers on loopback: a refusal of STARTTLS
after it was advertised is a definite "mail travels in clear" (fail), a broken dialogue is "could not tell"."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from auditor.network import mail, tls


@contextmanager
def server(answers: dict[bytes, bytes], greeting: bytes, close_on: bytes | None = None) -> Iterator[int]:
    """A line server on 127.0.0.1: the greeting, then for each line the answer of the first matching prefix."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.sendall(greeting)
                f = conn.makefile("rb")
                for raw in f:
                    if close_on is not None and raw.upper().startswith(close_on):
                        break
                    reply = next(
                        (
                            a
                            for p, a in answers.items()
                            if raw.upper().split(b" ", 1)[-1].startswith(p) or raw.upper().startswith(p)
                        ),
                        b"500 what\r\n",
                    )
                    conn.sendall(reply.replace(b"TAG", raw.split(b" ", 1)[0]))  # IMAP: echo the client's tag
                    if raw.upper().startswith(b"QUIT") or b" LOGOUT" in raw.upper():
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        done.set()
        listener.close()


SMTP_EHLO = b"250-mx.lab\r\n250-PIPELINING\r\n250 STARTTLS\r\n"


def test_smtp_starttls_refused_is_fail_with_the_answer() -> None:
    answers = {b"EHLO": SMTP_EHLO, b"STARTTLS": b"454 4.7.0 TLS currently unavailable\r\n", b"QUIT": b"221 bye\r\n"}
    with server(answers, b"220 mx.lab ESMTP\r\n") as port:
        report = mail.probe_smtp("127.0.0.1", port, "mx.lab", None, timeout=5)
    facts = mail.smtp_facts(report)
    assert report.error is None
    assert facts["starttls_offered"] is True and facts["starttls_works"] is False
    assert "454 4.7.0 TLS currently unavailable" in facts["starttls_detail"]
    assert "clear text" in facts["starttls_detail"]


def test_smtp_starttls_5xx_is_fail() -> None:
    answers = {b"EHLO": SMTP_EHLO, b"STARTTLS": b"502 5.5.1 not implemented\r\n", b"QUIT": b"221 bye\r\n"}
    with server(answers, b"220 mx.lab ESMTP\r\n") as port:
        facts = mail.smtp_facts(mail.probe_smtp("127.0.0.1", port, "mx.lab", None, timeout=5))
    assert facts["starttls_works"] is False and "502" in facts["starttls_detail"]


def test_smtp_connection_broken_after_starttls_is_error() -> None:
    with server({b"EHLO": SMTP_EHLO, b"QUIT": b"221 bye\r\n"}, b"220 mx.lab ESMTP\r\n", close_on=b"STARTTLS") as port:
        report = mail.probe_smtp("127.0.0.1", port, "mx.lab", None, timeout=5)
    assert report.error and "could not be tried" in report.error


def test_smtp_ehlo_refused_is_not_no_starttls() -> None:
    answers = {b"EHLO": b"554 5.7.1 go away\r\n", b"HELO": b"554 go away\r\n", b"QUIT": b"221 bye\r\n"}
    with server(answers, b"220 mx.lab ESMTP\r\n") as port:
        report = mail.probe_smtp("127.0.0.1", port, "mx.lab", None, timeout=5)
    assert report.error and "EHLO" in report.error


def test_smtp_greeting_refused_is_error() -> None:
    with server({b"QUIT": b"221 bye\r\n"}, b"554 5.3.2 no service\r\n") as port:
        report = mail.probe_smtp("127.0.0.1", port, "mx.lab", None, timeout=5)
    assert report.error and "554" in report.error


def test_imap_starttls_refused_stays_in_clear() -> None:
    answers = {
        b"CAPABILITY": b"* CAPABILITY IMAP4rev1 STARTTLS\r\nTAG OK done\r\n",
        b"STARTTLS": b"TAG NO TLS currently unavailable\r\n",
        b"LOGOUT": b"* BYE\r\nTAG OK bye\r\n",
    }
    with server(answers, b"* OK IMAP ready\r\n") as port:
        upgraded, line = mail.cleartext_upgrade("imap", "127.0.0.1", port, "mx.lab", timeout=5)
    assert upgraded is False and "TLS currently unavailable" in line


def test_pop3_stls_refused_stays_in_clear() -> None:
    answers = {
        b"CAPA": b"+OK\r\nUSER\r\nSTLS\r\n.\r\n",
        b"STLS": b"-ERR TLS currently unavailable\r\n",
        b"QUIT": b"+OK bye\r\n",
    }
    with server(answers, b"+OK POP3 ready\r\n") as port:
        upgraded, line = mail.cleartext_upgrade("pop3", "127.0.0.1", port, "mx.lab", timeout=5)
    assert upgraded is False and "TLS currently unavailable" in line


def test_trust_not_verified_is_unknown_not_trusted() -> None:
    """A certificate was read but the verifying handshake broke: trust is unknown, never True."""
    report = tls.TlsReport(
        "10.0.0.5",
        443,
        "web",
        listening=True,
        modern=["TLSv1.3"],
        certificate={"expired": False, "san_dns": ["web"], "san_ip": []},
        problems=["chain verification: could not tell: timed out"],
    )
    assert tls.report_facts(report)["issuer_trusted"] is None
    report.trust_checked = True
    assert tls.report_facts(report)["issuer_trusted"] is True
    report.trust_error = "self-signed certificate"
    assert tls.report_facts(report)["issuer_trusted"] is False
