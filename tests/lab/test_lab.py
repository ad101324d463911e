"""The lab itself works: reachable hosts with their own identity, the profiles'
daemons and truth tables, log forwarding, isolation, and a clean teardown."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import paramiko
import pytest

from tests.lab import reference
from tests.lab.lab import Lab, LabError, host_name, lab_network
from tests.lab.profiles import LAB_PROFILES, PLAN_TASKS, get
from tests.lab.sshutil import connect, run

pytestmark = pytest.mark.lab

HOSTS = [host_name(p) for p in LAB_PROFILES]


@pytest.fixture(scope="module")
def clients(lab: Lab):  # type: ignore[no-untyped-def]
    conns = {h.name: connect(h.address, lab.key, lab.known_hosts) for h in lab.hosts}
    yield conns
    for c in conns.values():
        c.close()


def test_profiles_declare_a_full_truth_table() -> None:
    for name in (*LAB_PROFILES, "generic"):
        p = get(name)
        assert set(p.EXPECTED) == set(PLAN_TASKS), name
        assert set(p.EXPECTED.values()) <= {"pass", "fail", "error", "unknown", "not_applicable"}, name
        missing = {t for t, v in p.EXPECTED.items() if v != "pass"} - set(p.REASONS)
        assert not missing, f"{name}: no reason given for {missing}"


@pytest.mark.parametrize("name", HOSTS)
def test_ssh_with_strict_host_key_and_own_hostname(lab: Lab, clients, name: str) -> None:  # type: ignore[no-untyped-def]
    host = lab.host(name)
    rc, out, _ = run(clients[name], "hostname; id -u; getent passwd auditor | cut -d: -f7")
    assert rc == 0
    assert out.split() == [name, "1001", "/bin/sh"]
    served = clients[name].get_transport().get_remote_server_key()
    assert f"{served.get_name()} {served.get_base64()}" == host.host_key


def test_host_keys_are_unique(lab: Lab) -> None:
    keys = [h.host_key for h in lab.hosts]
    assert len(set(keys)) == len(keys)
    assert all(k.startswith("ssh-ed25519 ") for k in keys)


def test_wrong_known_host_key_is_refused(lab: Lab, tmp_path: Path) -> None:
    host = lab.hosts[0]
    _, kh = lab.write_variant(tmp_path, wrong_key_for=[host.name])
    with pytest.raises(paramiko.BadHostKeyException):
        connect(host.address, lab.key, kh)


@pytest.mark.parametrize("name", HOSTS)
def test_sudo_except_nosudo(lab: Lab, clients, name: str) -> None:  # type: ignore[no-untyped-def]
    rc, out, err = run(clients[name], "sudo -n id -u")
    if lab.host(name).profile.NAME == "nosudo":
        assert rc != 0, out
        assert "password is required" in err or "not allowed" in err or "not in the sudoers" in err
    else:
        assert (rc, out.strip()) == (0, "0"), err


@pytest.mark.parametrize("name", HOSTS)
def test_profile_daemons_run(lab: Lab, clients, name: str) -> None:  # type: ignore[no-untyped-def]
    daemons = lab.host(name).profile.DAEMONS
    _, out, _ = run(clients[name], "cat /proc/[0-9]*/comm")
    running = set(out.split())
    assert set(daemons) <= running, f"not running: {set(daemons) - running}"


@pytest.mark.parametrize("name", HOSTS)
def test_expected_table_matches_reference_rules(lab: Lab, clients, name: str) -> None:  # type: ignore[no-untyped-def]
    """An independent evaluation of the plan tasks' verdict rules agrees with the profile's EXPECTED."""
    host = lab.host(name)
    _, out, _ = run(clients[name], reference.SCRIPT, timeout=60)
    # The reference reads what it can without sudo where sudo is refused: the unprivileged truth.
    expected = getattr(host.profile, "EXPECTED_UNPRIVILEGED", host.expected)
    assert reference.evaluate(out, lab.log_server) == expected, out


def test_logserver_receives_forwarded_message(lab: Lab, clients) -> None:  # type: ignore[no-untyped-def]
    sender, logsrv = lab.host(host_name("compliant")), lab.host(host_name("logserver"))
    marker = f"auditor-lab-marker-{time.time_ns()}"
    assert run(clients[sender.name], f"logger -t labtest {marker}")[0] == 0
    deadline = time.monotonic() + 45  # rsyslog retries a suspended forward after 30 s
    cmd = f"sudo -n grep -l {marker} /var/log/remote/{sender.address}.log"
    while time.monotonic() < deadline:
        if run(clients[logsrv.name], cmd)[0] == 0:
            return
        time.sleep(0.5)
    pytest.fail(f"{marker} from {sender.name} not in {logsrv.name}:/var/log/remote/{sender.address}.log")


def test_hosts_cannot_leave_the_subnet(lab: Lab, clients) -> None:  # type: ignore[no-untyped-def]
    # No packet is sent: with no route the kernel refuses locally.
    for name in HOSTS:
        _, routes, _ = run(clients[name], "ip -4 route")
        assert "default" not in routes
        rc, _, err = run(clients[name], "ip route get 198.51.100.1")
        assert rc != 0 and "unreachable" in err
    assert Path(f"/proc/sys/net/ipv4/conf/{lab.bridge}/forwarding").read_text().strip() == "0"


def _quarter(i: int) -> str:
    """The i-th /26 of this run's lab /24 (the session lab holds quarters 0 and 1)."""
    _, subnet = lab_network()
    return subnet.replace(".0/24", f".{64 * i}/26")


def test_refuses_to_start_when_bridge_or_subnet_in_use(lab: Lab) -> None:
    with pytest.raises(LabError, match="already exists"):
        Lab(["minimal"], bridge=lab.bridge, subnet=_quarter(3)).start()
    with pytest.raises(LabError, match="already in use"):
        Lab(["minimal"], bridge=f"{lab.bridge}x", subnet=_quarter(0)).start()
    assert not Path(f"/sys/class/net/{lab.bridge}x").exists()


def test_teardown_leaves_nothing(lab: Lab) -> None:
    small = Lab(["compliant", "minimal"], bridge=f"{lab.bridge}t", subnet=_quarter(2))
    small.start()
    try:
        pids = [h.proc.pid for h in small.hosts if h.proc] + [h.init_pid for h in small.hosts if h.init_pid]
        inner = subprocess.run(
            ["ip", "netns", "pids", small.hosts[0].netns], capture_output=True, text=True, check=True
        ).stdout.split()
        assert len(inner) >= 5  # init, rsyslogd, sshd, clamd, fail2ban, psad ...
        netns = [h.netns for h in small.hosts]
        roots = [str(h.root) for h in small.hosts]
        veths = [h.veth for h in small.hosts]
    finally:
        problems = small.stop()
    assert problems == []
    assert len(pids) == 4
    for pid in [*pids, *map(int, inner)]:
        assert not Path(f"/proc/{pid}").exists(), f"pid {pid} survived"
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not any(ns in listed for ns in netns)
    mounts = Path("/proc/mounts").read_text()
    assert not any(r in mounts for r in roots)
    assert str(small.dir) not in mounts
    for dev in [*veths, f"{lab.bridge}t"]:
        assert not Path(f"/sys/class/net/{dev}").exists(), dev
    assert not small.dir.exists()
    # the session lab is untouched
    assert all(h.ssh_ready() for h in lab.hosts)
