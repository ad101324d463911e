"""LNX-USB-STORAGE-BLOCKED's USBGuard path judged on the running daemon's answer, on a lab pair where
its configuration file says the other thing: usbguardsay_pass (the file says allow, the daemon was
started with another file and blocks) and usbguardsay_fail (the file says block, edited after the
daemon loaded allow). Neither host has a modprobe install line, so only the daemon decides."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import USBGUARD_PROFILES, get
from tests.lab.sshutil import output_of

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
PASS, FAIL = host_name("usbguardsay_pass"), host_name("usbguardsay_fail")
ASK = "sudo -n usbguard get-parameter ImplicitPolicyTarget </dev/null"
FILE_SAYS = "sudo -n sed -n 's/^ImplicitPolicyTarget=//p' /etc/usbguard/usbguard-daemon.conf"


@pytest.fixture(scope="module")
def usbguard_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(USBGUARD_PROFILES, f"{bridge}u", subnet.replace(".0/24", ".192/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(usbguard_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(usbguard_lab, tmp_path_factory.mktemp("usbguard"))


@pytest.mark.parametrize("profile", USBGUARD_PROFILES)
def test_usb_storage_judged_on_the_daemons_answer(results: dict[str, dict[str, Any]], profile: str) -> None:
    for check, (status, words) in get(profile).CHECKS.items():
        r = results[host_name(profile)][check]
        assert r["status"] == status, f"{check}: {r['reason']}"
        for word in words:
            assert word in r["reason"], f"{check}: {word!r} not in {r['reason']!r}"


def test_the_daemon_and_its_file_disagree(usbguard_lab: Lab) -> None:
    """What the pair is built on, read from the real daemon: its answer is not its file's."""
    assert output_of(usbguard_lab, PASS, ASK).strip() == "block"
    assert output_of(usbguard_lab, PASS, FILE_SAYS).strip() == "allow"
    assert output_of(usbguard_lab, FAIL, ASK).strip() == "allow"
    assert output_of(usbguard_lab, FAIL, FILE_SAYS).strip() == "block"


def test_no_install_line_blocks_the_module(usbguard_lab: Lab) -> None:
    for name in (PASS, FAIL):
        said = output_of(usbguard_lab, name, "/usr/sbin/modprobe -n -v usb-storage 2>&1 || true")
        assert "install" not in said, said


def test_reference_rules_agree(usbguard_lab: Lab) -> None:
    from tests.lab import reference
    from tests.lab.sshutil import connect, run

    for host in usbguard_lab.hosts:
        with connect(host.address, usbguard_lab.key, usbguard_lab.known_hosts) as ssh:
            _, out, _ = run(ssh, reference.SCRIPT, timeout=60)
        # sudo warns on stderr, which the reference merges for nft, when the host's name does not resolve
        out = "\n".join(line for line in out.splitlines() if not line.startswith("sudo: unable to resolve host"))
        assert reference.evaluate(out, usbguard_lab.log_server)["PT-USB"] == host.expected["PT-USB"], out
