"""portalbad: an HTTPS portal done wrong: an expired self-signed certificate, TLS 1.0 and 1.1
accepted, an anonymous (AECDH) and a NULL cipher suite accepted, no HSTS, and plain HTTP serving
the page instead of redirecting. Its certificate does name it (the hostname check passes).

Host tasks as ``minimal``.
"""

from __future__ import annotations

from pathlib import Path

from . import common as c
from . import network as n
from . import tlslab
from .minimal import EXPECTED, REASONS

NAME = "portalbad"
DAEMONS = ("sshd", "nginx")
INIT: tuple[str, ...] = ()
__all__ = ["EXPECTED", "REASONS"]
EXPECTED_NETWORK = {"PT-NETWORK": "pass", "PT-PORTAL-CHANNEL": "fail"}
EXPECTED_CHECKS = {
    "NET-NO-CLEARTEXT-SERVICES": "pass",  # port 80 serves a page, but no login form: not an admin page
    "NET-PORTAL-CERT-TRUSTED": "fail",  # self-signed (issuer not trusted) and expired 30 days ago
    "NET-PORTAL-CERT-HOSTNAME": "pass",
    "NET-PORTAL-CERT-NOT-EXPIRING": "fail",
    "NET-PORTAL-TLS-PROTOCOLS": "fail",  # TLS 1.0 and 1.1 accepted
    "NET-PORTAL-TLS-CIPHERS": "fail",  # AECDH-AES128-SHA and ECDHE-ECDSA-NULL-SHA accepted
    "NET-PORTAL-HSTS": "fail",
    "NET-PORTAL-HTTP-REDIRECT": "fail",
}
NETWORK_REASONS = {
    "PT-PORTAL-CHANNEL": "expired self-signed certificate, TLS 1.0/1.1, weak ciphers, no HSTS, no HTTP redirect",
}


def configure(root: Path, ctx: c.HostContext) -> None:
    tlslab.install(root, *tlslab.server_cert(ctx.name, ctx.address, self_signed=True, days=(-400, -30)))
    n.nginx(root, n.WEAK_SERVER)
