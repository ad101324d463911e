"""The exposure scan: one nmap run over every target of the run, and its parser.

nmap is run with an argv list (``command_line``: targets after ``--``, each its own
argument), in its own process group, killed with the auditor; python-nmap only parses
its XML. ``nmap_arguments`` (pure) says how we scan: TCP connect (SYN when root), UDP 161 for
SNMP when root, service/version detection at a limited intensity, the ``ftp-anon``
script, a per-host timeout and no DNS (``-n``). ``parse`` (pure) turns python-nmap's
result dict into one ``HostScan`` per target. python-nmap's dict drops the
``tunnel="ssl"`` attribute of a service (https shows as plain ``http``), so the
tunnels are read from the same run's XML by ``tunnels``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
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


def nmap_arguments(
    ports: str, root: bool, host_timeout: int, version_intensity: int = 2, versiondb: str | None = None
) -> list[str]:
    """The nmap options (without output, targets): one list item per argument. Pure; shown in evidence."""
    if not _PORTS_SPEC.match(ports):
        raise ValueError(f"scan_ports {ports!r}: use nmap -p syntax (digits, commas, ranges, T:/U:)")
    tcp_ports = ports.removeprefix("T:")
    spec = f"T:{tcp_ports}" if "U:" not in ports and "T:" not in ports else ports
    scan_types = ["-sT"]
    if root:
        scan_types = ["-sS", "-sU"]
        if "U:" not in spec:
            spec += f",U:{SNMP_UDP_PORT}"
    return [
        "-n",
        *scan_types,
        "-p",
        spec,
        "-sV",
        "--version-intensity",
        str(version_intensity),
        "--script",
        "ftp-anon",
        "-PE",
        "-PS22,80,443,25",
        "-PA80",
        "--host-timeout",
        f"{host_timeout}s",
        "--max-retries",
        "2",
        "-T4",
        *(["--versiondb", versiondb] if versiondb else []),
    ]


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
    named = [
        (ip, h)
        for ip, h in scanned.items()
        if any(n.get("name") == target and n.get("type") == "user" for n in h.get("hostnames", []))
    ]
    if named or "/" not in target:
        return named
    from auditor.network.targets import covers

    return [(ip, h) for ip, h in scanned.items() if covers(target, ip)]


@dataclass
class ScanRun:
    command: str  # the argv that ran, each element shell-quoted (shlex.join)
    result: dict[str, Any]
    xml: str
    error: str | None = None


SCRATCH_PREFIX = "auditor-nmap-"


def command_line(arguments: list[str], targets: list[str], xml_path: str) -> list[str]:
    """nmap's argv. Pure. Targets come after ``--``: whatever they hold, nmap reads none as an option."""
    return ["nmap", "-oX", xml_path, *arguments, "--", *targets]


@contextlib.contextmanager
def scratch_dir() -> Iterator[str]:
    """A private folder for nmap's files, removed on the way out; folders left by an auditor that was
    killed outright (its pid is in the name) are removed first."""
    sweep_stale()
    path = tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def sweep_stale(base: str | None = None) -> list[str]:
    """Remove our scratch folders whose auditor process is gone; returns the removed paths."""
    base = base or tempfile.gettempdir()
    removed = []
    try:
        entries = list(os.scandir(base))
    except OSError:
        return removed
    for entry in entries:
        pid_text = entry.name.removeprefix(SCRATCH_PREFIX).partition("-")[0]
        if not entry.name.startswith(SCRATCH_PREFIX) or not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            if not entry.is_dir(follow_symlinks=False) or entry.stat(follow_symlinks=False).st_uid != os.geteuid():
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.path)
        except OSError:
            continue  # alive under another user (EPERM), or unreadable: not ours to remove
    return removed


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec function making the child get SIGKILL when the auditor dies (Linux PR_SET_PDEATHSIG),
    so that neither SIGKILL of the auditor nor a crash leaves nmap running. None where unsupported."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved here: the child only calls it
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the auditor died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


PR_SET_PDEATHSIG = 1
POLL_SECONDS = 0.2
TERM_GRACE_SECONDS = 2.0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End nmap and whatever it started (its own process group): TERM, then KILL."""
    for sig, grace in ((signal.SIGTERM, TERM_GRACE_SECONDS), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def run_nmap(
    targets: list[str],
    arguments: list[str],
    timeout: float,
    stop: threading.Event | None = None,
    scratch: str | None = None,
) -> ScanRun:
    """The one nmap run of the audit (I/O): the argv list run as is (no shell, no re-splitting), its XML read
    by python-nmap's parser. Stopped within a fraction of a second when ``stop`` is set; the child never
    outlives this call, nor the auditor. Targets were vetted by ``targets.vet``."""
    if scratch is None:
        with scratch_dir() as own:
            return run_nmap(targets, arguments, timeout, stop, own)
    xml_path = os.path.join(scratch, "scan.xml")
    argv = command_line(arguments, targets, xml_path)
    command = shlex.join(argv)
    try:
        with open(os.path.join(scratch, "stderr"), "w+b") as err:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
                close_fds=True,
            )
            try:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        rc = proc.wait(timeout=POLL_SECONDS)
                        break
                    except subprocess.TimeoutExpired:
                        if stop is not None and stop.is_set():
                            return ScanRun(command, {}, "", "nmap stopped: the run was interrupted")
                        if time.monotonic() > deadline:
                            return ScanRun(command, {}, "", f"nmap did not finish within {timeout:g} s")
            finally:
                if proc.poll() is None:
                    _stop(proc)
            err.seek(0)
            stderr = err.read(65536).decode("utf-8", "replace").strip()
        with open(xml_path, encoding="utf-8", errors="replace") as fh:
            xml_text = fh.read()
    except OSError as exc:  # nmap missing, scratch folder unwritable or full
        return ScanRun(command, {}, "", f"nmap could not run: {exc.strerror or exc}")
    if rc != 0:
        return ScanRun(command, {}, xml_text, f"nmap failed (exit {rc}): {stderr[-300:] or 'no message'}")
    return _parse_xml(command, xml_text, stderr)


def _parse_xml(command: str, xml_text: str, stderr: str) -> ScanRun:
    import nmap  # python-nmap: its parser of nmap's XML, not its way of running nmap

    parser = nmap.PortScanner.__new__(nmap.PortScanner)  # __init__ would run `nmap -V` for nothing
    parser._nmap_last_output, parser._scan_result = "", {}
    try:
        result = parser.analyse_nmap_xml_scan(xml_text, nmap_err=stderr)
    except (nmap.PortScannerError, ET.ParseError, AttributeError) as exc:
        return ScanRun(command, {}, xml_text, f"nmap's XML output could not be read: {str(exc).strip()[:300]}")
    return ScanRun(command, result, xml_text)


def run_scan(
    targets: list[str],
    ports: str,
    host_timeout: int,
    probe_wait_ms: int,
    timeout: float,
    stop: threading.Event | None = None,
) -> tuple[ScanRun, list[str]]:
    """The audit's scan in its own scratch folder (capped probe waits); returns the run and the options used."""
    arguments = nmap_arguments(ports, is_root(), host_timeout)
    try:
        with scratch_dir() as scratch:
            versiondb = capped_probes_file(probe_wait_ms, scratch)
            arguments = nmap_arguments(ports, is_root(), host_timeout, versiondb=versiondb)
            return run_nmap(targets, arguments, timeout, stop, scratch), arguments
    except OSError as exc:
        command = shlex.join(command_line(arguments, targets, "-"))
        return ScanRun(command, {}, "", f"nmap's scratch folder could not be written: {exc.strerror or exc}"), arguments
