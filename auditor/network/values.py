"""The values of the network facts, computed from what the probes saw (pure): what the NET-* checks compare.

Insecure services are recognised by **service detection** (nmap's probe match, conf 10),
never by the port number: telnet on 2323 is telnet, and 514/tcp that nmap could not
identify is not "rsh". An open port whose service was not identified is listed as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the probe types read parse_allowed_ports when the catalog loads: no nmap module then
    from auditor.network.scan import HostScan, Port

CLEARTEXT_SERVICES = {
    "telnet": "telnet (clear-text remote login)",
    "ftp": "FTP (clear-text file transfer and password)",
    "shell": "rsh (clear-text remote shell)",
    "rsh": "rsh (clear-text remote shell)",
    "login": "rlogin (clear-text remote login)",
    "rlogin": "rlogin (clear-text remote login)",
    "exec": "rexec (clear-text remote execution)",
    "rexec": "rexec (clear-text remote execution)",
}
SNMP_DEFAULT_COMMUNITY = "public"
HTTP_NAMES = ("http", "http-proxy", "http-alt", "https-alt")


def parse_allowed_ports(value: Any) -> set[str] | None:
    """``allowed_ports`` as written in an inventory or playbook: ``22,443``, ``[22, 443]``, ``161/udp``."""
    if value in (None, "", []):
        return None
    items = value if isinstance(value, list) else str(value).replace(" ", ",").split(",")
    out: set[str] = set()
    for item in items:
        text = str(item).strip().lower()
        if not text:
            continue
        port, _, proto = text.partition("/")
        if not port.isdigit() or proto not in ("", "tcp", "udp"):
            raise ValueError(f"allowed_ports: {item!r} is not a port (e.g. 22, 443/tcp, 161/udp)")
        out.add(f"{int(port)}/{proto or 'tcp'}")
    return out


def is_plain_http(port: Port) -> bool:
    return port.detected and port.tunnel != "ssl" and (port.name in HTTP_NAMES or port.name.startswith("http"))


def anonymous_ftp(port: Port) -> bool:
    output = port.scripts.get("ftp-anon", "")
    return "Anonymous FTP login allowed" in output


def snmp_public(port: Port) -> bool:
    # nmap's SNMP probe asks with community "public"; an answer identifies the service and says so.
    return port.name == "snmp" and port.detected and SNMP_DEFAULT_COMMUNITY in (port.extrainfo + port.version).lower()


def exposure_facts(scan: HostScan, http_logins: dict[int, str], allowed: set[str] | None) -> dict[str, Any]:
    """What PT-NETWORK's checks compare, from one target's scan and its clear-text HTTP answers
    (port -> why the page is a login in clear)."""
    open_ports = scan.open_ports()
    cleartext: list[str] = []
    anonymous: list[str] = []
    snmp: list[str] = []
    unidentified: list[str] = []
    for p in open_ports:
        if not p.detected:
            unidentified.append(p.label)
            continue
        if p.tunnel != "ssl" and p.name in CLEARTEXT_SERVICES:
            cleartext.append(f"{p.label} {CLEARTEXT_SERVICES[p.name]}" + (f": {p.product}" if p.product else ""))
        if p.name == "ftp" and anonymous_ftp(p):
            anonymous.append(f"{p.label} anonymous FTP login allowed")
        if snmp_public(p):
            snmp.append(f"{p.label} SNMP answers to community '{SNMP_DEFAULT_COMMUNITY}'")
        if is_plain_http(p) and p.port in http_logins:
            cleartext.append(f"{p.label} HTTP admin/login page: {http_logins[p.port]}")
    unexpected = sorted((p.label for p in open_ports if p.label not in allowed), key=_port_key) if allowed else []
    return {
        "open_ports": [p.label for p in open_ports],
        "services": [p.line() for p in open_ports],
        "cleartext": cleartext,
        "anonymous_ftp": anonymous,
        "snmp_public": snmp,
        "unidentified": unidentified,
        "unexpected_ports": unexpected if allowed is not None else None,
        "allowed_ports": sorted(allowed, key=_port_key) if allowed else None,
        "summary": "; ".join(p.line().split("\n")[0] for p in open_ports) or "no open port among those scanned",
    }


def _port_key(label: str) -> tuple[int, str]:
    port, _, proto = label.partition("/")
    return int(port), proto


def mailbox_services(scan: HostScan) -> list[Port]:
    """IMAP/POP3 listeners, clear or TLS, by detection (``ssl/imap`` is IMAPS on any port). An open
    993/995 that nmap could not identify is kept too: its TLS probe (not its number) decides."""
    names = ("imap", "pop3", "imaps", "pop3s")
    return [p for p in scan.open_ports() if p.name in names and (p.detected or p.name.endswith("s"))]
