"""PT-AV judged as ClamAV, dpkg and cron read themselves, on hosts where a reading of the files gives
the other verdict (tests/lab/profiles/av*.py), through the real ``python -m auditor run``:

- avloadedold: clamd has loaded a 30-day-old database, a fresh daily.cud is on disk (fail, was pass);
  clamav is "install reinstreq installed", clamav-daemon "deinstall ok config-files" (fail, was pass).
- avloadedfresh: clamd keeps the FIRST DatabaseDirectory (/srv/clamav, fresh); /var/lib/clamav and the
  last DatabaseDirectory line say old (pass, was fail); clamav "hold ok installed" (pass, was fail).
- avnoclamd: no clamd; the only scan job is in /etc/cron.d/clamscan.dpkg-old, which cron skips (fail,
  was pass); clamd's folder is old while a fresh database sits where freshclam writes (fail, was pass).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab import reference
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import AV_PROFILES, get
from tests.lab.sshutil import connect, run

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
OLD, FRESH, NOCLAMD = host_name("avloadedold"), host_name("avloadedfresh"), host_name("avnoclamd")


@pytest.fixture(scope="module")
def av_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(AV_PROFILES, f"{bridge}v", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(av_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(av_lab, tmp_path_factory.mktemp("av"))


@pytest.mark.parametrize("profile", AV_PROFILES)
def test_each_check_has_the_profiles_verdict(results: dict[str, dict[str, Any]], profile: str) -> None:
    got = {check: results[host_name(profile)][check]["status"] for check in get(profile).CHECKS}
    assert got == get(profile).CHECKS, {c: results[host_name(profile)][c]["reason"] for c in got}


@pytest.mark.parametrize("profile", AV_PROFILES)
def test_reference_rules_agree(av_lab: Lab, profile: str) -> None:
    host = av_lab.host(host_name(profile))
    with connect(host.address, av_lab.key, av_lab.known_hosts) as ssh:
        _, out, _ = run(ssh, reference.SCRIPT, timeout=60)
    assert reference.evaluate(out, av_lab.log_server)["PT-AV"] == get(profile).EXPECTED["PT-AV"], out


def test_what_clamd_loaded_counts_not_the_fresh_file_beside_it(av_lab: Lab, results: dict[str, dict[str, Any]]) -> None:
    r = results[OLD]["LNX-AV-SIGNATURES-FRESH"]
    assert "the running clamd has loaded daily version" in r["reason"] and "30 days old" in r["reason"]
    with connect(av_lab.host(OLD).address, av_lab.key, av_lab.known_hosts) as ssh:  # the trap is in place
        _, header, _ = run(ssh, "head -c 80 /var/lib/clamav/daily.cud")
    assert header.startswith("ClamAV-VDB:") and ":27400:" in header


def test_clamd_keeps_the_first_database_directory(results: dict[str, dict[str, Any]]) -> None:
    r = results[FRESH]["LNX-AV-SIGNATURES-FRESH"]
    assert "the running clamd has loaded daily version" in r["reason"] and "0.04 days old" in r["reason"]


def test_without_clamd_the_folder_clamd_reads_counts(results: dict[str, dict[str, Any]]) -> None:
    r = results[NOCLAMD]["LNX-AV-SIGNATURES-FRESH"]
    assert "/srv/clamav/daily.cud: 30 days old" in r["reason"] and "clamd does not run" in r["reason"]


def test_dpkg_state_not_a_stanza_decides_installed(results: dict[str, dict[str, Any]]) -> None:
    assert "anti-virus packages installed" in results[OLD]["LNX-AV-INSTALLED"]["reason"]
    assert results[FRESH]["LNX-AV-INSTALLED"]["status"] == "pass"  # held ("hi"): installed


def test_a_scan_job_cron_skips_schedules_nothing(results: dict[str, dict[str, Any]]) -> None:
    r = results[NOCLAMD]["LNX-AV-ACTIVE"]
    assert r["status"] == "fail" and "clamscan.dpkg-old" not in r["reason"], r["reason"]
