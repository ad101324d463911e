"""The firewall as the kernel uses it, on real hosts: ``fwdisguised`` reads closed (policy drop, no bare
accept) but its loaded ruleset accepts every new TCP connection through conditions that match
everything; ``fwlayered`` reads open (/etc/nftables.conf is Debian's stock accept-all file, and its
loaded ruleset starts with an accept-everything base chain) but drops what no rule allows.

The truth is measured, not assumed: a listener in each host's network namespace on a port no rule
names, and a connection to it from the lab bridge over IPv4 and IPv6 (link-local), succeeds only where
the kernel accepts it. The auditor's verdict must agree with the kernel on both hosts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import FIREWALL_PROFILES, get
from tests.lab.sshutil import connect, run

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
DISGUISED, LAYERED = host_name("fwdisguised"), host_name("fwlayered")
PORT = 47123  # named by no rule of either host
LISTEN = (
    "import socket,sys,time\n"
    "s=socket.socket(socket.AF_INET6);s.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\n"
    f"s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1);s.bind(('::',{PORT}));s.listen(8)\n"
    "print('listening',flush=True);time.sleep(60)\n"
)


@pytest.fixture(scope="module")
def fw_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(FIREWALL_PROFILES, f"{bridge}f", subnet.replace(".0/24", ".192/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(fw_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(fw_lab, tmp_path_factory.mktemp("fw"))


def _link_local(netns: str) -> str:
    doc = json.loads(subprocess.run(["ip", "-n", netns, "-j", "addr", "show", "dev", "eth0"],
                                    capture_output=True, text=True, check=True).stdout)  # fmt: skip
    return next(a["local"] for a in doc[0]["addr_info"] if a["family"] == "inet6" and a["scope"] == "link")


def _connects(address: str, scope: str | None = None) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(3)
        try:
            s.connect((address, PORT, 0, socket.if_nametoindex(scope)) if scope else (address, PORT))
            return True
        except (TimeoutError, ConnectionRefusedError):
            return False


@pytest.fixture(scope="module")
def kernel(fw_lab: Lab) -> dict[str, tuple[bool, bool]]:
    """(IPv4 accepted, IPv6 accepted) for a new TCP connection to PORT, as each host's kernel decides."""
    truth = {}
    for name in (DISGUISED, LAYERED):
        host = fw_lab.host(name)
        listener = subprocess.Popen(["ip", "netns", "exec", host.netns, sys.executable, "-c", LISTEN],
                                    stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)  # fmt: skip
        try:
            assert listener.stdout is not None and listener.stdout.readline().startswith(b"listening")
            deadline = time.time() + 10
            while True:  # the link-local address is usable once DAD is done
                try:
                    v6 = _connects(_link_local(host.netns), fw_lab.bridge)
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.5)
            truth[name] = (_connects(host.address), v6)
        finally:
            listener.kill()
            listener.wait()
    return truth


def test_the_kernel_accepts_on_the_disguised_host_and_drops_on_the_layered_one(kernel) -> None:
    assert kernel[DISGUISED] == (True, True)
    assert kernel[LAYERED] == (False, False)


def test_a_line_reader_would_judge_both_wrongly(fw_lab: Lab) -> None:
    """What the lines say: closed on the disguised host, open on the layered one."""
    texts = {}
    for name in (DISGUISED, LAYERED):
        host = fw_lab.host(name)
        with connect(host.address, fw_lab.key, fw_lab.known_hosts) as ssh:
            texts[name] = (run(ssh, "cat /etc/nftables.conf")[1], run(ssh, "sudo -n /usr/sbin/nft list ruleset")[1])
    conf, listed = texts[DISGUISED]
    assert "policy drop" in listed and "policy accept" not in listed and "policy drop" in conf
    assert not any(line.strip() == "accept" for line in listed.splitlines())  # no bare accept
    conf, listed = texts[LAYERED]
    assert "drop" not in conf  # the stock file: every chain accepts
    assert "policy accept" in listed and 'accept comment "admin layer' in listed


def test_disguised_accept_all_fails(results, kernel) -> None:
    r = results[DISGUISED]["LNX-FIREWALL-EFFECTIVE"]
    assert r["status"] == "fail", r["reason"]
    assert "IPv4 open: on eth0: inet filter allow rule 1 accepts any new TCP connection" in r["reason"]
    assert "IPv6 open" in r["reason"]


def test_layered_drop_passes(results, kernel) -> None:
    r = results[LAYERED]["LNX-FIREWALL-EFFECTIVE"]
    assert r["status"] == "pass", r["reason"]
    assert "IPv4 closed: inet filter input: policy drop; IPv6 closed: inet filter input: policy drop" in r["reason"]


def test_plan_task_verdicts_match_the_profiles(fw_lab: Lab, results) -> None:
    for name in (DISGUISED, LAYERED):
        want = get(fw_lab.host(name).profile.NAME).EXPECTED["PT-FIREWALL"]
        assert results[name]["LNX-FIREWALL-EFFECTIVE"]["status"] == want


def test_reference_rules_agree(fw_lab: Lab) -> None:
    from tests.lab import reference

    for name in (DISGUISED, LAYERED):
        host = fw_lab.host(name)
        with connect(host.address, fw_lab.key, fw_lab.known_hosts) as ssh:
            _, out, _ = run(ssh, reference.SCRIPT, timeout=60)
        assert reference.evaluate(out, fw_lab.log_server)["PT-FIREWALL"] == host.expected["PT-FIREWALL"], name
