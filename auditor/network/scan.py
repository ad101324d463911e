"""The exposure scan: one nmap run over every target of the run (python-nmap), and its parser.

``nmap_arguments`` (pure) says how we scan: TCP connect (SYN when root), UDP 161 for
SNMP when root, service/version detection at a limited intensity, the ``ftp-anon``
script, a per-host timeout and no DNS (``-n``). ``parse`` (pure) turns python-nmap's
result dict into one ``HostScan`` per target. python-nmap's dict drops the
``tunnel="ssl"`` attribute of a service (https shows as plain ``http``), so the
tunnels are read from the same run's XML by ``tunnels``.
"""

from __future__ import annotations

import os
import re
import shlex
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

# Ports scanned by default: common services plus where clear-text services hide
# (telnet 23/2323, ftp 21/2121/8021, r-services 512-514, admin pages 8000-8888, 10000).
DEFAULT_TCP_PORTS = (
    "21,22,23,25,53,80,81,88,110,111,135,139,143,389,443,445,465,512,513,514,587,631,873,990,993,995,"
    "1080,1433,1521,2049,2121,2222,2323,3000,3128,3306,3389,5000,5432,5900,5901,6379,8000,8008,8021,"
    "8080,8081,8443,8888,9000,9090,9200,10000,11211,27017"
)
SNMP_UDP_PORT = "161"
# A port whose service name came from a probe that matched (conf 10), not from the port table (conf 3).
DETECTED_CONF = 5
_PORTS_SPEC = re.compile(r"^[TU:0-9,\-]+$")


@dataclass(frozen=True)
class Port:
    proto: str
    port: int
    state: str
    name: str
    product: str = ""
    version: str = ""
    extrainfo: str = ""
    conf: int = 0
    tunnel: str = ""
    scripts: dict[str, str] = field(default_factory=dict)
    address: str = ""  # set when the target is a network: which of its addresses

    @property
    def detected(self) -> bool:
        """The service name comes from a probe that matched, not from the port number."""
        return self.conf >= DETECTED_CONF

    @property
    def label(self) -> str:
        return f"{self.port}/{self.proto}"

    def line(self) -> str:
        """Like nmap's own table: ``2121/tcp open ftp vsftpd 3.0.3 (conf 10)``."""
        name = f"ssl/{self.name}" if self.tunnel == "ssl" else self.name
        detail = " ".join(x for x in (self.product, self.version, f"({self.extrainfo})" if self.extrainfo else "") if x)
        text = (f"{self.address} " if self.address else "") + f"{self.label} {self.state} {name or '?'}"
        text += f" {detail}" if detail else ""
        text += f" [conf {self.conf}]" if self.conf else ""
        for script, output in self.scripts.items():
            text += f"\n  |{script}: " + " ".join(output.split())[:300]
        return text


@dataclass
class HostScan:
    target: str
    up: bool
    reason: str  # why not up, or nmap's reason for up
    ports: list[Port] = field(default_factory=list)

    def open_ports(self) -> list[Port]:
        return [p for p in self.ports if p.state == "open"]


def nmap_arguments(ports: str, root: bool, host_timeout: int, version_intensity: int = 2,
                   versiondb: str | None = None) -> str:
    """The nmap arguments (without targets). Pure; shown in evidence."""
    if not _PORTS_SPEC.match(ports):
        raise ValueError(f"scan_ports {ports!r}: use nmap -p syntax (digits, commas, ranges, T:/U:)")
    tcp_ports = ports.removeprefix("T:")
    spec = f"T:{tcp_ports}" if "U:" not in ports and "T:" not in ports else ports
    scan_types = "-sT"
    if root:
        scan_types = "-sS"
        if "U:" not in spec:
            spec += f",U:{SNMP_UDP_PORT}"
            scan_types += " -sU"
        else:
            scan_types += " -sU"
    return (
        f"-n {scan_types} -p {spec} -sV --version-intensity {version_intensity} --script ftp-anon "
        f"-PE -PS22,80,443,25 -PA80 --host-timeout {host_timeout}s --max-retries 2 -T4"
        + (f" --versiondb {shlex.quote(versiondb)}" if versiondb else "")
    )


PROBE_FILES = ("/usr/share/nmap/nmap-service-probes", "/usr/local/share/nmap/nmap-service-probes")


def cap_probe_waits(text: str, cap_ms: int) -> str:
    """nmap-service-probes with every probe's wait (``totalwaitms``, default 5000, and ``tcpwrappedms``)
    capped at ``cap_ms``. Pure. A service that keeps the connection open without answering (telnetd
    after its negotiation, syslog on 514/tcp) costs each version probe its whole wait: 46-150 s with
    nmap's defaults, about 10 s with 1000 ms, on a LAN where answers come in milliseconds."""
    out: list[str] = []
    pending: int | None = None  # index in out of the current probe's inserted totalwaitms line
    for line in text.splitlines():
        if line.startswith("Probe "):
            out.append(line)
            out.append(f"totalwaitms {cap_ms}")
            pending = len(out) - 1
            continue
        if line.startswith("totalwaitms ") and pending is not None:
            out[pending] = f"totalwaitms {min(int(line.split()[1]), cap_ms)}"
            continue
        if line.startswith("tcpwrappedms "):
            line = f"tcpwrappedms {min(int(line.split()[1]), cap_ms)}"
        out.append(line)
    return "\n".join(out) + "\n"


def capped_probes_file(cap_ms: int, directory: str) -> str | None:
    """Write the capped probes file into ``directory``; None when nmap's own file is not found."""
    source = next((f for f in PROBE_FILES if os.path.isfile(f)), None)
    if source is None:
        return None
    with open(source, encoding="latin-1") as fh:
        text = cap_probe_waits(fh.read(), cap_ms)
    path = os.path.join(directory, "nmap-service-probes")
    with open(path, "w", encoding="latin-1") as fh:
        fh.write(text)
    return path


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def tunnels(xml_text: str) -> dict[tuple[str, str, int], str]:
    """(address, proto, port) -> tunnel (``ssl``) from nmap's XML output."""
    out: dict[tuple[str, str, int], str] = {}
    if not xml_text:
        return out
    root = ET.fromstring(xml_text)
    for host in root.iter("host"):
        addr = next((a.get("addr", "") for a in host.iter("address") if a.get("addrtype") in ("ipv4", "ipv6")), "")
        for port in host.iter("port"):
            service = port.find("service")
            if service is not None and service.get("tunnel"):
                out[(addr, port.get("protocol", ""), int(port.get("portid", "0")))] = service.get("tunnel", "")
    return out


def timed_out(xml_text: str) -> set[str]:
    """Addresses nmap gave up on (``--host-timeout``): their results are partial or absent."""
    if not xml_text:
        return set()
    root = ET.fromstring(xml_text)
    out = set()
    for host in root.iter("host"):
        if host.get("timedout") == "true":
            out.update(a.get("addr", "") for a in host.iter("address") if a.get("addrtype") in ("ipv4", "ipv6"))
    return out


def parse(result: dict[str, Any], targets: dict[str, str], xml_text: str = "") -> dict[str, HostScan]:
    """One HostScan per target (target -> the address nmap scanned). A target nmap does not list did not
    answer: it is ``up=False`` with the reason, never treated as clean."""
    scanned = result.get("scan", {})
    ssl_ports = tunnels(xml_text)
    gave_up = timed_out(xml_text)
    out: dict[str, HostScan] = {}
    for target, address in targets.items():
        found = _entries(scanned, address)
        if address in gave_up or any(ip in gave_up for ip, _ in found):
            out[target] = HostScan(target, False, "nmap gave up on the host (--host-timeout): results incomplete")
            continue
        up = [(ip, h) for ip, h in found if h.get("status", {}).get("state") == "up" and ip not in gave_up]
        if not up:
            why = next((h.get("status", {}).get("reason") for _, h in found), None) or "no reply to host discovery"
            out[target] = HostScan(target, False, f"host did not answer the scan ({why})")
            continue
        network = "/" in address
        ports: list[Port] = []
        for ip, host in up:
            for proto in ("tcp", "udp"):
                for number, info in sorted(host.get(proto, {}).items(), key=lambda item: int(item[0])):
                    number = int(number)
                    ports.append(
                        Port(
                            proto=proto,
                            port=number,
                            state=info.get("state", ""),
                            name=info.get("name", ""),
                            product=info.get("product", ""),
                            version=info.get("version", ""),
                            extrainfo=info.get("extrainfo", ""),
                            conf=int(info.get("conf") or 0),
                            tunnel=ssl_ports.get((ip, proto, number), ""),
                            scripts=dict(info.get("script", {}) or {}),
                            address=ip if network else "",
                        )
                    )
        out[target] = HostScan(target, True, up[0][1].get("status", {}).get("reason", ""), ports)
    return out


def _entries(scanned: dict[str, Any], target: str) -> list[tuple[str, dict[str, Any]]]:
    """python-nmap's host entries for a target: by address, by the name given on the command line
    (nmap records it as hostname type ``user``), or every address inside a network target."""
    if target in scanned:
        return [(target, scanned[target])]
    named = [(ip, h) for ip, h in scanned.items()
             if any(n.get("name") == target and n.get("type") == "user" for n in h.get("hostnames", []))]
    if named or "/" not in target:
        return named
    from auditor.network.targets import covers

    return [(ip, h) for ip, h in scanned.items() if covers(target, ip)]


@dataclass
class ScanRun:
    command: str
    result: dict[str, Any]
    xml: str
    error: str | None = None


def run_nmap(addresses: list[str], arguments: str, timeout: float) -> ScanRun:
    """The one nmap run of the audit (I/O). Addresses were vetted by ``targets.vet``."""
    import nmap  # python-nmap

    command = shlex.join(["nmap", "-oX", "-", *shlex.split(arguments), *addresses])
    try:
        scanner = nmap.PortScanner()
        result = scanner.scan(hosts=" ".join(addresses), arguments=arguments, timeout=int(timeout) or None)
        return ScanRun(command, result, scanner.get_nmap_last_output().decode("utf-8", "replace")
                       if isinstance(scanner.get_nmap_last_output(), bytes) else scanner.get_nmap_last_output())
    except nmap.PortScannerTimeout:
        return ScanRun(command, {}, "", f"nmap did not finish within {timeout:g} s")
    except nmap.PortScannerError as exc:
        return ScanRun(command, {}, "", f"nmap failed: {str(exc).strip()[:300]}")
