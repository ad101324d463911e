"""Hosts whose clock is off, audited through the real code path: the batch reads the host's clock with
``date +%s`` (a shim on these hosts, see profiles/clockbehind.py), the engine notes its own clock around
the run, and every age is measured against the auditor's clock. Before, the host's clock was the
reference: 40-day-old signatures on a host 38 days behind were "2 days old" (pass)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import CLOCK_PROFILES

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
BEHIND, AHEAD = host_name("clockbehind"), host_name("clockahead")


@pytest.fixture(scope="module")
def clock_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(CLOCK_PROFILES, f"{bridge}k", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(clock_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(clock_lab, tmp_path_factory.mktemp("clock"))


def test_the_hosts_clock_really_reads_off(clock_lab: Lab) -> None:
    """The shim is what the audit script's `date` runs (PATH puts /usr/local/bin first)."""
    import time

    from tests.lab.sshutil import connect, run

    for name, skew in ((BEHIND, -38 * 86400), (AHEAD, 20 * 86400)):
        host = clock_lab.host(name)
        with connect(host.address, clock_lab.key, clock_lab.known_hosts) as ssh:
            rc, said, _ = run(ssh, "PATH=/usr/local/bin:/usr/bin:/bin date +%s")
        assert rc == 0
        assert abs(int(said) - (time.time() + skew)) < 60


def test_old_signatures_fail_though_the_host_calls_them_fresh(results: dict[str, dict[str, Any]]) -> None:
    r = results[BEHIND]["LNX-AV-SIGNATURES-FRESH"]
    assert r["status"] == "fail", r["reason"]
    assert "40 days old" in r["reason"] and "38.00 days behind the auditor's" in r["reason"]
    ev = "\n".join(e["output"] for e in r["evidence"])
    assert "ages measured against the auditor's clock" in ev and "the host's clock is off" in ev


def test_fresh_signatures_pass_though_the_host_calls_them_old(results: dict[str, dict[str, Any]]) -> None:
    r = results[AHEAD]["LNX-AV-SIGNATURES-FRESH"]
    assert r["status"] == "pass", r["reason"]
    assert "2 days old" in r["reason"] and "20.00 days ahead of the auditor's" in r["reason"]


@pytest.mark.parametrize("name", [BEHIND, AHEAD])
def test_the_skew_is_a_finding(results: dict[str, dict[str, Any]], name: str) -> None:
    r = results[name]["LNX-CLOCK-ACCURATE"]
    assert r["status"] == "fail", r["reason"]
    assert ("behind" if name == BEHIND else "ahead of") in r["reason"]


def test_a_backup_stamped_by_a_wrong_clock_is_not_fresh(results: dict[str, dict[str, Any]]) -> None:
    """Made "now" by a clock 38 days behind: 0 days on the host's clock, 38 on the auditor's."""
    r = results[BEHIND]["LNX-BACKUP-RECENT"]
    assert r["status"] == "unknown", r["reason"]
    assert "between 0 and 38" in r["reason"]


def test_package_lists_are_undated_when_the_clock_is_ahead(results: dict[str, dict[str, Any]]) -> None:
    r = results[AHEAD]["LNX-SECURITY-UPDATES-APPLIED"]
    assert r["status"] == "unknown", r["reason"]
    assert "package lists undated" in r["reason"]
