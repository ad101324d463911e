"""The network phase (auditor/network/) against real lab hosts: every NET-* verdict of every
network profile, the host tasks of those hosts, the run contract (one nmap run, evidence,
results.json valid), a down host (`error`, never `pass`) and the safety refusals.

The module starts its own lab (network profiles + a log server) on the last quarter of this
run's lab /24, so the session lab stays small.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.lab import reference
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import NETWORK_PROFILES, PLAN_TASKS, get, tlslab
from tests.lab.profiles.fileserver import SHARE
from tests.lab.sshutil import connect, run

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
PROFILES = (*NETWORK_PROFILES, "logserver")
HOSTS = {host_name(p): p for p in NETWORK_PROFILES}


def _network_lab_subnet() -> tuple[str, str]:
    bridge, subnet = lab_network()
    return f"{bridge}n", subnet.replace(".0/24", ".192/26")


@pytest.fixture(scope="module")
def netlab() -> Any:
    from tests.conftest import running_lab

    with running_lab(PROFILES, *_network_lab_subnet()) as the_lab:
        yield the_lab


def write_inventory(lab: Lab, dest: Path, extra_hosts: str = "") -> tuple[Path, Path]:
    """The lab's inventory plus the groups and parameters the network phase reads; returns (inventory, CA)."""
    ca = dest / "lab-ca.pem"
    ca.write_text(tlslab.ca_pem())
    inv = lab.write_inventory(dest / "inventory.ini")
    fileserver = lab.host(host_name("fileserver"))
    text = inv.read_text().replace(
        f"{host_name('insecure')} ansible_host=", f"{host_name('insecure')} allowed_ports=22 ansible_host="
    )
    text += (
        f"tls_ca_file={ca}\n"
        f"file_server=sftp://auditor@{fileserver.address}{SHARE}\n"
        f"file_server_key={lab.key}\n"
        "log_marker_wait=10\n\n"
        "[portals:children]\nportal\nportalbad\n\n[mail:children]\nmailtls\nmailplain\n"
    )
    inv.write_text(text + extra_hosts)
    return inv, ca


def auditor_run(inventory: Path, known_hosts: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    cmd = [sys.executable, "-m", "auditor", "run", "--inventory", str(inventory), "--known-hosts", str(known_hosts),
           "--output", str(out), *extra]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    results = out / "results.json"
    return proc.returncode, json.loads(results.read_text()) if results.exists() else None, proc.stderr


@pytest.fixture(scope="module")
def audit(netlab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("netaudit")
    inv, _ = write_inventory(netlab, d)
    rc, results, stderr = auditor_run(inv, netlab.known_hosts, d / "out")
    assert results is not None, f"rc={rc}\n{stderr[-3000:]}"
    return results


def _host(results: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in results["hosts"] if h["name"] == name)


def _checks(host: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["check"]: r for r in host["results"]}


@pytest.mark.parametrize("name", list(HOSTS))
def test_profile_truth_tables(name: str) -> None:
    p = get(HOSTS[name])
    assert set(p.EXPECTED) == set(PLAN_TASKS)
    assert set(p.EXPECTED_CHECKS) and all(k.startswith("NET-") for k in p.EXPECTED_CHECKS)
    missing = {t for t, v in p.EXPECTED_NETWORK.items() if v != "pass"} - set(getattr(p, "NETWORK_REASONS", {}))
    assert not missing, f"{name}: no reason for {missing}"


@pytest.mark.parametrize("name", list(HOSTS))
def test_expected_host_tasks_match_reference(netlab: Lab, name: str) -> None:
    host = netlab.host(name)
    client = connect(host.address, netlab.key, netlab.known_hosts)
    try:
        _, out, _ = run(client, reference.SCRIPT, timeout=60)
    finally:
        client.close()
    assert reference.evaluate(out, netlab.log_server) == host.expected, out


@pytest.mark.parametrize(("name", "check"), [(n, c) for n in HOSTS for c in get(HOSTS[n]).EXPECTED_CHECKS])
def test_check_verdict(audit: dict[str, Any], name: str, check: str) -> None:
    expected = get(HOSTS[name]).EXPECTED_CHECKS[check]
    result = _checks(_host(audit, name)).get(check)
    assert result is not None, f"{check} not run on {name}"
    got = result["status"]
    assert got == expected, f"{name} {check}: expected {expected}, got {got}: {result['reason']}"
    assert result["evidence"], f"{name} {check}: no evidence"


@pytest.mark.parametrize(("name", "task"), [(n, t) for n in HOSTS for t in get(HOSTS[n]).EXPECTED_NETWORK])
def test_network_plan_task(audit: dict[str, Any], name: str, task: str) -> None:
    expected = get(HOSTS[name]).EXPECTED_NETWORK[task]
    assert _host(audit, name)["plan_tasks"].get(task) == expected


@pytest.mark.parametrize(("name", "task"), [(n, t) for n in HOSTS for t in PLAN_TASKS])
def test_host_tasks_unchanged_by_network_phase(audit: dict[str, Any], name: str, task: str) -> None:
    """The six host tasks keep the profile's truth with the NET-* results merged in."""
    assert _host(audit, name)["plan_tasks"].get(task) == get(HOSTS[name]).EXPECTED[task]


def test_results_schema_and_one_scan(audit: dict[str, Any]) -> None:
    """One nmap run for all targets; results.json holds its command line and whole output once, and every
    host's NET-* evidence resolves to that command (as nmap itself recorded its arguments) and its own lines."""
    import shlex
    import xml.etree.ElementTree as ET

    from auditor.report.evidence import evidence_of, whole_output
    from auditor.results import validate

    validate(audit)
    items = [
        (h, e)
        for h in audit["hosts"]
        for r in h["results"]
        if r["check"] == "NET-NO-CLEARTEXT-SERVICES"
        for e in r["evidence"]
    ]
    assert len(items) == len(audit["hosts"])  # the network profiles and the log server
    assert len({e.get("shared") for _, e in items}) == 1 and "command" not in items[0][1]
    scanned = [
        r
        for h, _ in items
        for r in h["results"]
        if r["status"] != "not_applicable" and r["check"].startswith(("NET-NO-", "NET-FTP", "NET-SNMP", "NET-ONLY"))
    ]
    commands = {c["command"] for r in scanned for c in evidence_of(audit, r)}
    assert len(commands) == 1, commands
    (command,) = commands
    assert command.startswith("nmap ") and "-sV" in command and "--host-timeout" in command
    scan = whole_output(audit, items[0][1])
    assert scan is not None
    ran = ET.fromstring(scan).get("args", "")
    # the words nmap says it was started with (python-nmap puts the targets before the options)
    assert sorted(shlex.split(command)) == sorted(ran.split()), (command, ran)
    for h, e in items:
        assert h["address"] in command and f'addr="{h["address"]}"' in scan
        others = [o["address"] for o, _ in items if o is not h]
        assert e["output"] and not any(f"{a} " in e["output"] or e["output"].startswith(a) for a in others)
    text = json.dumps(audit, ensure_ascii=False)
    assert text.count(json.dumps(command, ensure_ascii=False)) == 1  # stored once, not once per host


def test_evidence_names_services_and_certificate(audit: dict[str, Any]) -> None:
    insecure = _checks(_host(audit, host_name("insecure")))
    services = insecure["NET-NO-CLEARTEXT-SERVICES"]["evidence"][0]["output"]
    assert "2121/tcp open ftp" in services and "23/tcp open telnet" in services
    assert "Anonymous FTP login allowed" in services
    assert "2121/tcp" in insecure["NET-FTP-NO-ANONYMOUS"]["reason"]
    assert "8080/tcp" in insecure["NET-NO-CLEARTEXT-SERVICES"]["reason"]
    assert "161/udp" in insecure["NET-SNMP-NO-PUBLIC"]["reason"]
    bad = _checks(_host(audit, host_name("portalbad")))
    cert = bad["NET-PORTAL-CERT-TRUSTED"]
    assert "issuer not trusted" in cert["reason"] and "self-signed" in cert["reason"]
    assert "certificate: subject" in cert["evidence"][0]["output"]
    assert "TLSv1.0" in bad["NET-PORTAL-TLS-PROTOCOLS"]["reason"]
    assert "AECDH-AES128-SHA" in bad["NET-PORTAL-TLS-CIPHERS"]["reason"]


def test_marker_found_on_log_server(audit: dict[str, Any]) -> None:
    portal = _checks(_host(audit, host_name("portal")))["NET-LOG-MARKER-ARRIVES"]
    assert portal["status"] == "pass" and "/var/log/remote/" in portal["reason"]


def test_file_server_listing(audit: dict[str, Any]) -> None:
    for h in audit["hosts"]:
        if h["name"].startswith("logsrv"):
            continue
        result = _checks(h)["NET-FILESERVER-LISTING"]
        assert result["status"] == "pass", result["reason"]
        assert "README.txt" in result["evidence"][0]["output"]


def test_untrusted_without_ca_file(netlab: Lab, tmp_path: Path) -> None:
    """Without tls_ca_file, the lab CA is not trusted: the good portal's certificate fails with that reason."""
    portal = netlab.host(host_name("portal"))
    inv = tmp_path / "inv.ini"
    inv.write_text(
        f"[portals]\n{portal.name} ansible_host={portal.address} ansible_user=auditor "
        f"ansible_ssh_private_key_file={netlab.key}\n"
    )
    _, results, stderr = auditor_run(inv, netlab.known_hosts, tmp_path / "out", "--playbook", "baseline")
    assert results is not None, stderr[-2000:]
    result = _checks(_host(results, portal.name))["NET-PORTAL-CERT-TRUSTED"]
    assert result["status"] == "fail" and "issuer not trusted" in result["reason"], result["reason"]


def test_down_host_is_error_never_pass(netlab: Lab, tmp_path: Path) -> None:
    inv = tmp_path / "inv.ini"
    inv.write_text(
        f"[portals]\ndown1 ansible_host={netlab.down_address} ansible_user=auditor "
        f"ansible_ssh_private_key_file={netlab.key}\n"
    )
    rc, results, stderr = auditor_run(inv, netlab.known_hosts, tmp_path / "out")
    assert rc == 3 and results is not None, stderr[-2000:]
    down = _host(results, "down1")
    net = [r for r in down["results"] if r["check"].startswith("NET-")]
    assert net and {r["status"] for r in net} <= {"error", "not_applicable"}, [(r["check"], r["status"]) for r in net]
    assert down["plan_tasks"]["PT-NETWORK"] == "error"
    assert down["plan_tasks"]["PT-PORTAL-CHANNEL"] == "error"


def test_wide_range_refused_without_flag(netlab: Lab, tmp_path: Path) -> None:
    inv = tmp_path / "inv.ini"
    inv.write_text("[servers]\nwide ansible_host=10.0.0.0/8\n")
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "run", "--inventory", str(inv), "--output", str(tmp_path / "out")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "--allow-wide-scan" in proc.stderr, proc.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_no_network_skips_probes(netlab: Lab, tmp_path: Path) -> None:
    inv, _ = write_inventory(netlab, tmp_path)
    _, results, stderr = auditor_run(inv, netlab.known_hosts, tmp_path / "out", "--no-network")
    assert results is not None, stderr[-2000:]
    assert not any(r["check"].startswith("NET-") for h in results["hosts"] for r in h["results"])


def test_hostile_address_never_reaches_nmap(netlab: Lab, tmp_path: Path) -> None:
    """An IPv6 scope id carrying nmap options (python-nmap once split it into `--script evil.nse`, run as
    root) is refused before anything runs: exit 2 naming file, line and field, and the script never runs.
    The same for a hostile portal_url given with --param."""
    pwned = tmp_path / "PWNED"
    evil = tmp_path / "evil.nse"
    evil.write_text(
        'description="x"\ncategories={"safe"}\nprerule=function() return true end\n'
        f'action=function() os.execute("id > {pwned}") end\n'
    )
    portal = netlab.host(host_name("portal"))
    inv = tmp_path / "inv.ini"
    inv.write_text(
        f"[servers]\n{portal.name} ansible_host={portal.address} ansible_user=auditor "
        f"ansible_ssh_private_key_file={netlab.key}\n"
        f"evil ansible_host='fe80::1%x --script={evil}'\n"
    )
    for command in ("validate", "run"):
        extra = ["--known-hosts", str(netlab.known_hosts), "--output", str(tmp_path / "out")]
        extra = extra if command == "run" else []
        proc = subprocess.run(
            [sys.executable, "-m", "auditor", command, "--inventory", str(inv), *extra],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 2, (command, proc.returncode, proc.stderr[-2000:])
        assert f"{inv}:3: evil.ansible_host:" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not pwned.exists(), pwned.read_text()
    assert not (tmp_path / "out" / "results.json").exists()

    inv.write_text(
        f"[portals]\n{portal.name} ansible_host={portal.address} ansible_user=auditor "
        f"ansible_ssh_private_key_file={netlab.key}\n"
    )
    rc, results, stderr = auditor_run(
        inv, netlab.known_hosts, tmp_path / "out2", "--param", f"portal_url=https://{portal.address}:22;touch {pwned}/"
    )
    assert rc == 2 and results is None, stderr[-2000:]
    assert stderr.startswith("error: --param portal_url: ") and "Traceback" not in stderr, stderr
    assert stderr.rstrip().endswith(f"(host {portal.name})"), stderr
    assert not pwned.exists()


SMTP_454 = r"""
import socketserver
class H(socketserver.StreamRequestHandler):
    def handle(self):
        w = self.wfile.write
        w(b"220 mx.lab ESMTP\r\n")
        for line in self.rfile:
            c = line.upper()
            if c.startswith((b"EHLO", b"HELO")):
                w(b"250-mx.lab\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
            elif c.startswith(b"STARTTLS"):
                w(b"454 4.7.0 TLS currently unavailable\r\n")
            elif c.startswith(b"QUIT"):
                w(b"221 2.0.0 bye\r\n")
                return
            else:
                w(b"250 ok\r\n")
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", 2525), H).serve_forever()
"""


def test_starttls_refused_is_fail(netlab: Lab, tmp_path: Path) -> None:
    """A mail server that advertises STARTTLS and answers 454 lets mail travel in clear: NET-MAIL-STARTTLS
    is fail with the server's answer as the reason (it was `unknown`). The server is a small SMTP responder
    started on a lab host on port 2525."""
    host = netlab.host(host_name("mailplain"))
    script = base64.b64encode(SMTP_454.encode()).decode()
    client = connect(host.address, netlab.key, netlab.known_hosts)
    pid = ""
    try:
        rc, pid, err = run(
            client,
            f"echo {script} | base64 -d > /tmp/smtp454.py && "
            "{ nohup python3 /tmp/smtp454.py >/dev/null 2>&1 </dev/null & echo $!; }",
        )
        assert rc == 0 and pid.strip().isdigit(), err
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection((host.address, 2525), timeout=2) as s:
                    assert s.recv(100).startswith(b"220 ")
                break
            except OSError:
                assert time.monotonic() < deadline, "the SMTP responder did not start"
                time.sleep(0.3)
        inv = tmp_path / "inv.ini"
        inv.write_text(
            f"[mail]\n{host.name} ansible_host={host.address} ansible_user=auditor "
            f"ansible_ssh_private_key_file={netlab.key} smtp_port=2525\n"
        )
        _, results, stderr = auditor_run(inv, netlab.known_hosts, tmp_path / "out")
    finally:
        if pid.strip().isdigit():
            run(client, f"kill {pid.strip()}; rm -f /tmp/smtp454.py")
        client.close()
    assert results is not None, stderr[-2000:]
    checks = _checks(_host(results, host.name))
    starttls = checks["NET-MAIL-STARTTLS"]
    assert starttls["status"] == "fail", starttls
    assert "454 4.7.0 TLS currently unavailable" in starttls["reason"] and "clear text" in starttls["reason"]
    assert checks["NET-MAIL-CERT-TRUSTED"]["status"] == "not_applicable", checks["NET-MAIL-CERT-TRUSTED"]
    assert _host(results, host.name)["plan_tasks"]["PT-MAIL-CRYPTO"] == "fail"
