"""Keys and certificates for the network profiles, made locally when the lab starts (no network).

One lab CA per process (``lab_ca()``), EC P-256 keys (fast). The CA is what tests give
the auditor as ``tls_ca_file``; ``ca_pem()`` is its certificate.
"""

from __future__ import annotations

import ipaddress
import threading
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from . import common as c

DAY = timedelta(days=1)
# Hosts are configured in threads: without the lock two of them could each make "the" CA, and a
# portal signed by one fails verification against the other ("certificate signature failure").
_CA_LOCK = threading.Lock()


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "auditor lab"), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def lab_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    with _CA_LOCK:
        return _make_ca()


@cache
def _make_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("auditor lab CA"))
        .issuer_name(_name("auditor lab CA"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - DAY)
        .not_valid_after(now + 30 * DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def ca_pem() -> str:
    return lab_ca()[0].public_bytes(serialization.Encoding.PEM).decode()


def server_cert(
    name: str, address: str, *, self_signed: bool = False, days: tuple[int, int] = (-1, 365)
) -> tuple[str, str]:
    """(certificate PEM, key PEM) for ``name``/``address`` (both in subjectAltName); ``days`` = validity
    relative to now, e.g. (-400, -30) for a certificate that expired 30 days ago."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    ca_cert, ca_key = lab_ca()
    issuer, signer = (_name(name), key) if self_signed else (ca_cert.subject, ca_key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + days[0] * DAY)
        .not_valid_after(now + days[1] * DAY)
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(name), x509.IPAddress(ipaddress.ip_address(address))]),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(signer, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem


def install(root: Path, cert_pem: str, key_pem: str) -> None:
    """/etc/ssl/lab/{server.pem,server.key,ca.pem} in the host's root (key readable by root only)."""
    c.write(root, "/etc/ssl/lab/server.pem", cert_pem)
    c.write(root, "/etc/ssl/lab/server.key", key_pem, 0o600)
    c.write(root, "/etc/ssl/lab/ca.pem", ca_pem())
