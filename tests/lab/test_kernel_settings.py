"""Kernel parameters, pam_limits and modprobe judged as the programs read them, on a lab pair:
kernfalsepass (a line-by-line reading of the files passes, the programs' reading fails) and
kernfalsefail (the other way round). Each check's verdict and reason come from a real
``python -m auditor run``; the programs' own answers are read over SSH beside it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import KERNEL_PROFILES, get
from tests.lab.sshutil import output_of

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
PASS_FILES, FAIL_FILES = host_name("kernfalsepass"), host_name("kernfalsefail")


@pytest.fixture(scope="module")
def kernel_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(KERNEL_PROFILES, f"{bridge}s", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(kernel_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(kernel_lab, tmp_path_factory.mktemp("kernel"))


@pytest.mark.parametrize("profile", KERNEL_PROFILES)
def test_each_check_judged_as_the_program_reads_it(results: dict[str, dict[str, Any]], profile: str) -> None:
    for check, (status, words) in get(profile).CHECKS.items():
        r = results[host_name(profile)][check]
        assert r["status"] == status, f"{check}: {r['reason']}"
        for word in words:
            assert word in r["reason"], f"{check}: {word!r} not in {r['reason']!r}"


def test_plan_tasks_as_expected(results: dict[str, dict[str, Any]], kernel_lab: Lab) -> None:
    for host in kernel_lab.hosts:
        usb = results[host.name]["LNX-USB-STORAGE-BLOCKED"]["status"]
        assert usb == host.expected["PT-USB"]


def test_a_session_gets_the_limit_the_auditor_reads(kernel_lab: Lab) -> None:
    """pam_limits itself: the SSH login's hard core limit is the last "*" entry read (later files win;
    type "-" sets hard too)."""
    assert output_of(kernel_lab, PASS_FILES, "ulimit -Hc").strip() == "unlimited"
    assert output_of(kernel_lab, FAIL_FILES, "ulimit -Hc").strip() == "0"


def test_modprobe_reads_first_install_masks_and_underscores(kernel_lab: Lab) -> None:
    said = output_of(kernel_lab, PASS_FILES, "/usr/sbin/modprobe -n -v usb-storage")
    assert said.strip() == "install /sbin/modprobe --ignore-install usb-storage"  # 10-backup.conf, not 90-block
    said = output_of(kernel_lab, FAIL_FILES, "/usr/sbin/modprobe -n -v usb-storage")
    assert said.strip() == "install /usr/bin/false"


def test_the_kernel_values_the_pair_was_built_on(kernel_lab: Lab) -> None:
    """eth0's own send_redirects keeps redirects on beside all = 0; all.accept_source_route = 1 is
    harmless when every interface says 0."""
    conf = "/proc/sys/net/ipv4/conf"
    said = output_of(kernel_lab, PASS_FILES, f"cat {conf}/all/send_redirects {conf}/eth0/send_redirects")
    assert said.split() == ["0", "1"]
    said = output_of(kernel_lab, FAIL_FILES, f"cat {conf}/all/accept_source_route {conf}/eth0/accept_source_route")
    assert said.split() == ["1", "0"]
