"""Automatic updates, pending security updates and time synchronisation judged as APT and chrony read
their configuration, on a pair of hosts built so that a line-by-line reading of the files gives the
other verdict (profiles/updtimeon.py, profiles/updtimeoff.py), with the lab's log server as their NTP
server. Before, the checks grepped apt.conf.d and chrony's usual files, and trusted
``apt-get -s dist-upgrade`` with holds applied: every verdict here was the other one."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import UPDTIME_PROFILES, get
from tests.lab.sshutil import on_host

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
ON, OFF = host_name("updtimeon"), host_name("updtimeoff")
CHECKS = ("LNX-UNATTENDED-UPGRADES", "LNX-SECURITY-UPDATES-APPLIED", "LNX-TIME-SYNC")
# What a line-by-line reading of the files says on each host (the checks' former rules).
OLD_GREPS = {
    "enabled": "grep -hE '^[[:space:]]*APT::Periodic::Unattended-Upgrade[[:space:]]+\"(always|0*[1-9][0-9]*[dhms]?)\"'"
    " /etc/apt/apt.conf.d/*",
    "disabled": "grep -hE '^[[:space:]]*APT::Periodic::Unattended-Upgrade[[:space:]]+\"(0+|never)\"'"
    " /etc/apt/apt.conf.d/*",
    "sources": "cat /etc/chrony/chrony.conf /etc/chrony/conf.d/*.conf /etc/chrony/sources.d/*.sources 2>/dev/null"
    " | grep -cE '^[[:space:]]*(server|pool|peer)[[:space:]]'",
    "sim": "LC_ALL=C apt-get -s -q -o Debug::NoLocking=1 dist-upgrade | grep -c '^Inst '",
}


@pytest.fixture(scope="module")
def updtime_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(("logserver", *UPDTIME_PROFILES), f"{bridge}t", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(updtime_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    # chronyd on updtimeon polls its server every 1/16 s: selected within a second or two of start.
    deadline = time.monotonic() + 30
    while "^,*," not in on_host(updtime_lab, ON, "chronyc -n -c sources")[1]:
        assert time.monotonic() < deadline, "chronyd on updtimeon never selected the lab's NTP server"
        time.sleep(0.5)
    return results_by_host(updtime_lab, tmp_path_factory.mktemp("updtime"))


@pytest.mark.parametrize("name", [ON, OFF])
def test_the_files_read_line_by_line_say_the_other_verdict(updtime_lab: Lab, name: str) -> None:
    said = {key: on_host(updtime_lab, name, cmd)[1] for key, cmd in OLD_GREPS.items()}
    old = {
        "LNX-UNATTENDED-UPGRADES": "pass" if said["enabled"].strip() and not said["disabled"].strip() else "fail",
        "LNX-SECURITY-UPDATES-APPLIED": "pass" if int(said["sim"]) == 0 else "fail",  # lists are fresh
        "LNX-TIME-SYNC": "pass" if int(said["sources"]) > 0 else "fail",  # chronyd runs on both
    }
    assert old == {check: files for check, (_, files) in get(name[:-1]).CHECKS.items()}, said


@pytest.mark.parametrize("name", [ON, OFF])
@pytest.mark.parametrize("check", CHECKS)
def test_verdict_is_the_programs_reading(results: dict[str, dict[str, Any]], name: str, check: str) -> None:
    r = results[name][check]
    want = get(name[:-1]).CHECKS[check][0]
    assert r["status"] == want, f"{name} {check}: {r['status']}: {r['reason']}"


def test_later_file_wins_unattended_upgrade_on(results: dict[str, dict[str, Any]]) -> None:
    r = results[ON]["LNX-UNATTENDED-UPGRADES"]
    assert r["status"] == "pass", r["reason"]
    ev = "\n".join(e["output"] for e in r["evidence"])
    assert "APT::Periodic::Unattended-Upgrade=1" in ev and "cron executable" in ev


def test_block_syntax_zero_turns_it_off(results: dict[str, dict[str, Any]]) -> None:
    r = results[OFF]["LNX-UNATTENDED-UPGRADES"]
    assert r["status"] == "fail", r["reason"]
    assert 'Unattended-Upgrade on (apt-config dump) = False, expected = True ("0")' in r["reason"], r["reason"]


def test_held_security_update_is_pending(results: dict[str, dict[str, Any]]) -> None:
    r = results[OFF]["LNX-SECURITY-UPDATES-APPLIED"]
    assert r["status"] == "fail", r["reason"]
    assert "hostname" in r["reason"] and "held" in r["reason"], r["reason"]


def test_chrony_selected_the_server_from_an_included_file(updtime_lab: Lab, results: dict[str, dict[str, Any]]) -> None:
    r = results[ON]["LNX-TIME-SYNC"]
    assert r["status"] == "pass", r["reason"]
    assert updtime_lab.log_server in r["reason"], r["reason"]


def test_a_server_in_a_file_chrony_does_not_read_synchronises_nothing(results: dict[str, dict[str, Any]]) -> None:
    r = results[OFF]["LNX-TIME-SYNC"]
    assert r["status"] == "fail", r["reason"]
    assert "synchronised to a time server" in r["reason"] and "no sources" in r["reason"], r["reason"]
