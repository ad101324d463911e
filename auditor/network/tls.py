"""TLS endpoints seen from the auditor: certificate, protocol versions, weak ciphers.

Two kinds of handshake:

- Python's ``ssl`` (the local OpenSSL) for TLS 1.2/1.3: does a modern handshake work,
  which certificate is served, and does its issuer chain up to a trusted CA (the
  system store plus ``tls_ca_file``)? Time is left out of that verification
  (``X509_V_FLAG_NO_CHECK_TIME``) so "untrusted" and "expired" are told apart.
- Hand-built ClientHellos for SSLv3, TLS 1.0, TLS 1.1 and for weak cipher suites.
  The local OpenSSL refuses to *offer* those, which would say nothing about the
  server; a raw hello asks the server itself, and its ServerHello (or alert) is the
  answer. The builder and the parser are pure functions over bytes.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import socket
import ssl
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

NO_CHECK_TIME = 0x200000  # X509_V_FLAG_NO_CHECK_TIME: verify the chain, not the dates
SSL3, TLS10, TLS11, TLS12 = 0x0300, 0x0301, 0x0302, 0x0303
VERSION_NAMES = {SSL3: "SSLv3", TLS10: "TLSv1.0", TLS11: "TLSv1.1", TLS12: "TLSv1.2", 0x0304: "TLSv1.3"}
LEGACY_VERSIONS = (SSL3, TLS10, TLS11)

# What a normal client offers, so that a refusal of the *version* is not a refusal of our ciphers.
BROAD_SUITES = (
    0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC009, 0xC013, 0xC00A, 0xC014, 0x009E, 0x009F,
    0x0033, 0x0039, 0x009C, 0x009D, 0x002F, 0x0035, 0x000A, 0xC012, 0xC008, 0x0016, 0x0005, 0x0004,
)  # fmt: skip
# Weak suites: NULL encryption, anonymous key exchange, export grade, RC4, DES and 3DES.
WEAK_SUITES: dict[int, str] = {
    0x0001: "NULL-MD5", 0x0002: "NULL-SHA", 0x003B: "NULL-SHA256", 0xC006: "ECDHE-ECDSA-NULL-SHA",
    0xC010: "ECDHE-RSA-NULL-SHA", 0xC015: "AECDH-NULL-SHA", 0x0003: "EXP-RC4-MD5", 0x0006: "EXP-RC2-CBC-MD5",
    0x0008: "EXP-DES-CBC-SHA", 0x0011: "EXP-EDH-DSS-DES-CBC-SHA", 0x0014: "EXP-EDH-RSA-DES-CBC-SHA",
    0x0004: "RC4-MD5", 0x0005: "RC4-SHA", 0xC007: "ECDHE-ECDSA-RC4-SHA", 0xC011: "ECDHE-RSA-RC4-SHA",
    0x0018: "ADH-RC4-MD5", 0x0009: "DES-CBC-SHA", 0x0012: "EDH-DSS-DES-CBC-SHA", 0x0015: "EDH-RSA-DES-CBC-SHA",
    0x000A: "DES-CBC3-SHA", 0x0013: "EDH-DSS-DES-CBC3-SHA", 0x0016: "EDH-RSA-DES-CBC3-SHA",
    0xC008: "ECDHE-ECDSA-DES-CBC3-SHA", 0xC012: "ECDHE-RSA-DES-CBC3-SHA", 0x001B: "ADH-DES-CBC3-SHA",
    0x0034: "ADH-AES128-SHA", 0x003A: "ADH-AES256-SHA", 0x006C: "ADH-AES128-SHA256", 0x006D: "ADH-AES256-SHA256",
    0x00A6: "ADH-AES128-GCM-SHA256", 0x00A7: "ADH-AES256-GCM-SHA384", 0xC018: "AECDH-AES128-SHA",
    0xC019: "AECDH-AES256-SHA",
}  # fmt: skip
SCSV_RENEGOTIATION = 0x00FF
ALERTS = {0: "close_notify", 10: "unexpected_message", 40: "handshake_failure", 47: "illegal_parameter",
          50: "decode_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
          86: "inappropriate_fallback", 112: "unrecognized_name"}  # fmt: skip


class ProbeError(Exception):
    """The probe could not tell (no connection, timeout): never a verdict by itself."""


class UpgradeRefused(Exception):
    """The server advertised STARTTLS and then refused it (a 4xx/5xx answer): a definite answer, the
    connection stays in clear text. The message is the server's answer."""


# --- raw ClientHello / ServerHello (pure) ---------------------------------------------------


def _ext(kind: int, body: bytes) -> bytes:
    return struct.pack("!HH", kind, len(body)) + body


def client_hello(
    version: int, suites: tuple[int, ...] | list[int], server_name: str | None = None, random: bytes | None = None
) -> bytes:
    """One TLS record holding a ClientHello for ``version`` offering ``suites``."""
    random = random if random is not None else os.urandom(32)
    ciphers = b"".join(struct.pack("!H", s) for s in (*suites, SCSV_RENEGOTIATION))
    body = struct.pack("!H", version) + random + b"\x00" + struct.pack("!H", len(ciphers)) + ciphers + b"\x01\x00"
    if version > SSL3:
        exts = b""
        if server_name and not _is_ip(server_name):
            name = server_name.encode("idna")
            entry = b"\x00" + struct.pack("!H", len(name)) + name
            exts += _ext(0x0000, struct.pack("!H", len(entry)) + entry)
        groups = struct.pack("!HHHH", 0x001D, 0x0017, 0x0018, 0x0019)
        exts += _ext(0x000A, struct.pack("!H", len(groups)) + groups)
        exts += _ext(0x000B, b"\x01\x00")
        sigs = struct.pack("!10H", 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601, 0x0203, 0x0201)
        exts += _ext(0x000D, struct.pack("!H", len(sigs)) + sigs)
        body += struct.pack("!H", len(exts)) + exts
    handshake = b"\x01" + struct.pack("!I", len(body))[1:] + body
    record_version = SSL3 if version == SSL3 else TLS10
    return b"\x16" + struct.pack("!HH", record_version, len(handshake)) + handshake


@dataclass(frozen=True)
class HelloAnswer:
    outcome: str  # accepted | alert | closed | garbage
    version: int | None = None
    suite: int | None = None
    alert: str | None = None

    @property
    def version_name(self) -> str | None:
        return VERSION_NAMES.get(self.version, f"0x{self.version:04x}") if self.version is not None else None


def parse_server_answer(data: bytes) -> HelloAnswer:
    """What the server said to a ClientHello: its ServerHello (version, suite), an alert, or nothing."""
    if not data:
        return HelloAnswer("closed")
    pos, handshake = 0, b""
    while pos + 5 <= len(data):
        kind, _version, length = struct.unpack("!BHH", data[pos : pos + 5])
        payload = data[pos + 5 : pos + 5 + length]
        pos += 5 + length
        if kind == 21 and len(payload) >= 2:
            return HelloAnswer("alert", alert=ALERTS.get(payload[1], f"alert {payload[1]}"))
        if kind != 22:
            return HelloAnswer("garbage")
        handshake += payload
        if len(handshake) >= 4 and handshake[0] == 2:
            body = handshake[4:]
            if len(body) < 35:
                continue
            sid = body[34]
            if len(body) < 35 + sid + 2:
                continue
            version = struct.unpack("!H", body[0:2])[0]
            suite = struct.unpack("!H", body[35 + sid : 37 + sid])[0]
            return HelloAnswer("accepted", version, suite)
        if len(handshake) >= 1 and handshake[0] != 2:
            return HelloAnswer("garbage")
    return HelloAnswer("closed" if pos == 0 else "garbage")


def _read_answer(sock: socket.socket, limit: int = 16384) -> bytes:
    data = b""
    while len(data) < limit:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, ConnectionAbortedError):
            break
        if not chunk:
            break
        data += chunk
        if parse_server_answer(data).outcome in ("accepted", "alert"):
            break
    return data


def raw_hello(
    address: str, port: int, version: int, suites: tuple[int, ...] | list[int], server_name: str | None, timeout: float
) -> tuple[HelloAnswer, bytes]:
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            sock.sendall(client_hello(version, suites, server_name))
            data = _read_answer(sock)
    except TimeoutError:
        raise ProbeError(f"{address}:{port}: no answer within {timeout:g} s") from None
    except OSError as exc:
        raise ProbeError(f"{address}:{port}: {exc.strerror or exc}") from None
    return parse_server_answer(data), data


# --- certificates (pure) --------------------------------------------------------------------


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def certificate_fields(der: bytes, now: datetime) -> dict[str, Any]:
    cert = x509.load_der_x509_certificate(der)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        dns, ips = [], []
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    algo = cert.signature_hash_algorithm
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "self_signed": cert.subject == cert.issuer,
        "serial": format(cert.serial_number, "x"),
        "not_before": not_before.isoformat(),
        "not_after": not_after.isoformat(),
        "days_left": int((not_after - now).total_seconds() // 86400),
        "expired": now > not_after,
        "not_yet_valid": now < not_before,
        "san_dns": list(dns),
        "san_ip": ips,
        "signature_hash": algo.name if algo else None,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }


def hostname_matches(name: str, san_dns: list[str], san_ip: list[str]) -> bool:
    """RFC 6125 in short: an IP must be an IP SAN; a name a DNS SAN, ``*`` only as the whole left label."""
    if _is_ip(name):
        return any(ipaddress.ip_address(name) == ipaddress.ip_address(ip) for ip in san_ip)
    name = name.lower().rstrip(".")
    for pattern in (p.lower().rstrip(".") for p in san_dns):
        if pattern == name:
            return True
        wildcard = pattern.startswith("*.") and pattern.count(".") >= 2
        if wildcard and "." in name and name.split(".", 1)[1] == pattern[2:]:
            return True
    return False


# --- the probe (I/O) ------------------------------------------------------------------------


@dataclass
class TlsReport:
    """Everything one endpoint told us; ``facts()`` turns it into the values checks compare."""

    address: str
    port: int
    server_name: str
    listening: bool | None = None
    modern: list[str] = field(default_factory=list)  # TLS 1.2 / 1.3 handshakes that worked
    protocol: str | None = None
    cipher: str | None = None
    certificate: dict[str, Any] | None = None
    trust_error: str | None = None  # why the chain did not verify (time aside)
    trust_checked: bool = False  # the verification ran to an answer (ok or trust_error)
    upgrade_refused: str | None = None  # the server's refusal of STARTTLS, when it refused
    legacy: dict[str, str] = field(default_factory=dict)  # version -> accepted | refused (...) | error: ...
    weak_accepted: list[str] = field(default_factory=list)
    weak_error: str | None = None
    problems: list[str] = field(default_factory=list)  # probes that could not tell
    transcript: list[str] = field(default_factory=list)


def _modern_context(version: ssl.TLSVersion | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if version is not None:
        ctx.minimum_version = ctx.maximum_version = version
    return ctx


def trust_context(ca_file: str | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(cafile=ca_file)
    ctx.check_hostname = False
    ctx.verify_flags |= NO_CHECK_TIME
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def _tls_socket(
    address: str, port: int, ctx: ssl.SSLContext, server_name: str, timeout: float, wrap: Any = None
) -> ssl.SSLSocket:
    sock = socket.create_connection((address, port), timeout=timeout)
    try:
        if wrap is not None:
            wrap(sock)  # e.g. SMTP STARTTLS before the handshake
        return ctx.wrap_socket(sock, server_hostname=server_name)
    except BaseException:
        sock.close()
        raise


def probe_tls(
    address: str,
    port: int,
    server_name: str,
    ca_file: str | None,
    timeout: float = 5.0,
    starttls: Any = None,
    now: datetime | None = None,
) -> TlsReport:
    """Probe one endpoint. ``starttls(sock)`` upgrades a plain connection first (SMTP); legacy-version
    and weak-cipher probes then need the same preamble and are skipped for such endpoints."""
    now = now or datetime.now(UTC)
    report = TlsReport(address, port, server_name)
    for version in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
        name = "TLSv1.3" if version == ssl.TLSVersion.TLSv1_3 else "TLSv1.2"
        try:
            with _tls_socket(address, port, _modern_context(version), server_name, timeout, starttls) as s:
                report.listening = True
                report.modern.append(name)
                report.transcript.append(f"{name} handshake: ok, cipher {s.cipher()[0]}")
                if report.certificate is None:
                    der = s.getpeercert(binary_form=True)
                    report.protocol, report.cipher = s.version(), s.cipher()[0]
                    if der:
                        report.certificate = certificate_fields(der, now)
        except ConnectionRefusedError:
            report.listening = False
            report.transcript.append(f"{address}:{port}: connection refused")
            return report
        except UpgradeRefused as exc:
            report.listening = True
            report.upgrade_refused = str(exc)
            report.transcript.append(f"STARTTLS refused by the server: {exc}")
            return report
        except ssl.SSLError as exc:
            report.listening = True
            report.transcript.append(f"{name} handshake refused by the server: {exc.reason or exc}")
        except (TimeoutError, OSError, ProbeError) as exc:
            # No answer at all (timeout, no route): every other probe would wait the same way.
            report.problems.append(f"{name} handshake: {exc}")
            report.transcript.append(f"{name} handshake: could not tell: {exc}")
            return report
    if report.modern:
        try:
            with _tls_socket(address, port, trust_context(ca_file), server_name, timeout, starttls):
                report.trust_checked = True
                report.transcript.append(
                    "chain verification (system store"
                    + (f" + {ca_file}" if ca_file else "")
                    + ", time not checked): ok"
                )
        except ssl.SSLCertVerificationError as exc:
            report.trust_checked = True
            report.trust_error = exc.verify_message or str(exc)
            report.transcript.append(f"chain verification: {report.trust_error}")
        except (ssl.SSLError, OSError, UpgradeRefused) as exc:
            # No verdict on trust: the verifying handshake did not get as far as the chain.
            report.problems.append(f"chain verification: could not tell: {exc}")
            report.transcript.append(f"chain verification: could not tell: {exc}")
    if starttls is None:
        _probe_legacy(report, timeout)
        _probe_weak(report, timeout)
    else:
        report.weak_error = "not probed through STARTTLS"
    if report.certificate:
        c = report.certificate
        report.transcript.append(
            f"certificate: subject {c['subject']}; issuer {c['issuer']}; valid {c['not_before']} .. {c['not_after']} "
            f"({c['days_left']} days left); SAN DNS {c['san_dns'] or '-'} IP {c['san_ip'] or '-'}; "
            f"sha256 {c['sha256']}"
        )
    return report


def _probe_legacy(report: TlsReport, timeout: float) -> None:
    for version in LEGACY_VERSIONS:
        name = VERSION_NAMES[version]
        try:
            answer, _ = raw_hello(report.address, report.port, version, BROAD_SUITES, report.server_name, timeout)
        except ProbeError as exc:
            report.legacy[name] = f"error: {exc}"
            report.problems.append(f"{name} probe: {exc}")
            continue
        if report.listening is None:
            report.listening = True
        if answer.outcome == "accepted" and answer.version is not None and answer.version <= version:
            report.legacy[name] = f"accepted ({answer.version_name})"
        else:
            report.legacy[name] = f"refused ({answer.alert or answer.outcome})"
        report.transcript.append(f"{name} ClientHello: {report.legacy[name]}")


def _probe_weak(report: TlsReport, timeout: float, rounds: int = 4) -> None:
    offered = list(WEAK_SUITES)
    for _ in range(rounds):
        try:
            answer, _ = raw_hello(report.address, report.port, TLS12, offered, report.server_name, timeout)
        except ProbeError as exc:
            report.weak_error = str(exc)
            report.problems.append(f"weak cipher probe: {exc}")
            return
        if answer.outcome != "accepted" or answer.suite not in offered:
            report.transcript.append(f"weak cipher ClientHello: refused ({answer.alert or answer.outcome})")
            return
        name = WEAK_SUITES[answer.suite]
        report.weak_accepted.append(f"{name} ({answer.version_name})")
        report.transcript.append(f"weak cipher ClientHello: server chose {name} ({answer.version_name})")
        offered.remove(answer.suite)


def report_facts(report: TlsReport) -> dict[str, Any]:
    """The values the TLS checks compare; ``None`` where a probe could not tell (-> unknown, never pass)."""
    cert = report.certificate or {}
    legacy_accepted = [v for v, r in report.legacy.items() if r.startswith("accepted")]
    legacy_unknown = [v for v, r in report.legacy.items() if r.startswith("error")]
    names = [*cert.get("san_dns", []), *cert.get("san_ip", [])]
    return {
        "endpoint": f"{report.address}:{report.port}",
        "server_name": report.server_name,
        "listening": report.listening,
        "modern": report.modern,
        "protocol": report.protocol,
        "cipher": report.cipher,
        "certificate": cert or None,
        "issuer_trusted": (False if report.trust_error else (True if report.trust_checked else None)) if cert else None,
        "trust_error": f"issuer not trusted: {report.trust_error}" if report.trust_error else "",
        "expired": cert.get("expired"),
        "not_yet_valid": cert.get("not_yet_valid"),
        "days_left": cert.get("days_left"),
        "not_after": cert.get("not_after"),
        "hostname_match": hostname_matches(report.server_name, cert.get("san_dns", []), cert.get("san_ip", []))
        if cert
        else None,
        "names": ", ".join(names) or "(no subjectAltName)",
        "issuer": cert.get("issuer"),
        # Decided only when every legacy probe answered; one accepted version is a definite "no".
        "legacy_accepted": legacy_accepted if (legacy_accepted or not legacy_unknown) and report.legacy else None,
        "legacy_summary": "; ".join(f"{v} {r}" for v, r in report.legacy.items()),
        "weak_ciphers": report.weak_accepted if (report.weak_accepted or report.weak_error is None) else None,
        "problems": "; ".join(report.problems),
        "upgrade_refused": report.upgrade_refused,
    }


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
