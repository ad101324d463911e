"""Fact types read from the auditor across the network (not on the host): names and parameter schemas.

The catalog validates network checks against this table (``applies: {probe: network}``);
the network phase (``phase.py``) produces the facts. Every one is per target host.
"""

from __future__ import annotations

from typing import Any

_NONE: dict[str, Any] = {"type": "object", "additionalProperties": False}

NETWORK_FACTS: dict[str, dict[str, Any]] = {
    "exposure": _NONE,  # the run's nmap scan, this target's part: services, clear-text, anonymous FTP, SNMP
    "https_portal": _NONE,  # TLS of portal_url (default https://<address>/): certificate, versions, ciphers
    "portal_http": _NONE,  # HSTS on portal_url and the http:// -> https:// redirect
    "smtp": _NONE,  # SMTP on smtp_port (default 25): STARTTLS offered and working, its certificate
    "mailbox": _NONE,  # IMAP/POP3 found by the scan: only over TLS (IMAPS/POP3S) or with STARTTLS
    "log_marker": _NONE,  # a unique logger marker from the host, looked for on log_server over SSH
    "file_server": _NONE,  # file_server answers and lists a folder with the auditor's credentials
}
