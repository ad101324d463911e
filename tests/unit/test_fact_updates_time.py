"""apt_periodic, time_sync and apt_pending's holds and pins, on outputs captured on lab hosts
(tests/unit/data/{aptperiodic,timesync,apt}, see its README), and the checks' verdicts on them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import DATA, raw

from auditor.evaluate import evaluate
from auditor.facts.apt_pending import AptPendingFact
from auditor.facts.apt_periodic import AptPeriodicFact, periodic_on, unattended_on
from auditor.facts.base import RawOutput
from auditor.facts.time_sync import TimeSyncFact, parse_ntpq
from auditor.model import Evidence, Fact, FactSpec, Verdict

CHECKS = Path(__file__).resolve().parents[2] / "controls/iso27001/checks"
EV = Evidence(command="x", rc=0, output="", at="2026-12-06T00:00:00Z")


def _captured(path: str) -> RawOutput:
    text = (DATA / f"{path}.out").read_text(encoding="utf-8")
    rc = int((DATA / f"{path}.rc").read_text().strip())
    if "@@now" in text:  # apt_pending: read by the auditor at the host's own time
        lines = text.splitlines()
        return raw(text, rc=rc, at=int(lines[lines.index("@@now") + 1]))
    return raw(text, rc=rc)


def _check(file: str, check_id: str) -> dict:
    return next(c for c in yaml.safe_load((CHECKS / file).read_text()) if c["id"] == check_id)


# --- LNX-UNATTENDED-UPGRADES -----------------------------------------------------------


@pytest.mark.parametrize(
    ("capture", "on", "enabled"),
    [
        ("later-file-on", True, True),  # 10periodic "0", 20auto-upgrades "1": the last wins
        ("block-syntax-off", False, True),  # APT::Periodic { Unattended-Upgrade "0"; } in 99local
        ("cleared", False, True),  # #clear APT::Periodic in 99zz-clear: unset is 0
        ("enable-0", False, False),  # APT::Periodic::Enable "0" stops every periodic action
    ],
)
def test_apt_periodic_is_apt_configs_reading(capture: str, on: bool, enabled: bool) -> None:
    fact = AptPeriodicFact().parse([_captured(f"aptperiodic/{capture}")], {})
    assert fact["unattended_upgrade"] is on
    assert fact["periodic_enabled"] is enabled
    assert fact["job"] == "/etc/cron.daily/apt-compat"
    assert fact["origins_count"] == 3 and fact["security_origin"]


def _uu_verdict(apt: dict, cron_running: list[str]) -> Verdict:
    check = _check("linux-updates.yaml", "LNX-UNATTENDED-UPGRADES")
    facts = {
        "uu_pkg": Fact(FactSpec("package", {}), {"installed_names": ["unattended-upgrades"]}, None, EV),
        "apt": Fact(FactSpec("apt_periodic", {}), apt, None, EV),
        "cron": Fact(FactSpec("process", {}), {"running": cron_running, "summary": ""}, None, EV),
    }
    return evaluate(check["expect"], facts).status


def test_unattended_upgrades_verdicts() -> None:
    on = AptPeriodicFact().parse([_captured("aptperiodic/later-file-on")], {})
    assert _uu_verdict(on, ["cron"]) is Verdict.PASS
    assert _uu_verdict(on, []) is Verdict.FAIL  # nothing runs /etc/cron.daily
    assert _uu_verdict({**on, "job": "none (/etc/cron.daily/apt-compat not-executable)"}, ["cron"]) is Verdict.FAIL
    assert _uu_verdict({**on, "job": "apt-daily-upgrade.timer", "systemd": True}, []) is Verdict.PASS
    assert _uu_verdict({**on, "origins": [], "origins_count": 0}, ["cron"]) is Verdict.FAIL
    assert _uu_verdict({**on, "unattended_upgrade": None}, ["cron"]) is Verdict.UNKNOWN
    for capture in ("block-syntax-off", "cleared", "enable-0"):
        off = AptPeriodicFact().parse([_captured(f"aptperiodic/{capture}")], {})
        assert _uu_verdict(off, ["cron"]) is Verdict.FAIL, capture


@pytest.mark.parametrize(
    ("value", "on"),
    [(None, False), ("0", False), ("1", True), ("7", True), ("always", True), ("00", True), ("0d", True),
     ("12h", True), ("yes", None), ("", None)],
)  # fmt: skip
def test_unattended_value_as_apt_systemd_daily_reads_it(value: str | None, on: bool | None) -> None:
    """check_stamp compares the string with "0": "00" and "0d" are intervals of 0, i.e. every run."""
    assert unattended_on(value) is on


@pytest.mark.parametrize(("value", "on"), [(None, True), ("1", True), ("0", False), ("00", False), ("no", True)])
def test_periodic_enable_as_apt_systemd_daily_reads_it(value: str | None, on: bool) -> None:
    assert periodic_on(value) is on


def test_apt_config_error_is_unreadable() -> None:
    out = raw("@@config\nE: Syntax error /etc/apt/apt.conf.d/99bad:2: Extra junk at end of file\n@@rc 100\n@@job\n")
    with pytest.raises(Exception, match="apt-config dump failed"):
        AptPeriodicFact().parse([out], {})


def test_systemd_timer_inactive_is_no_job() -> None:
    text = (DATA / "aptperiodic/later-file-on.out").read_text().replace("cron executable", "systemd inactive")
    fact = AptPeriodicFact().parse([raw(text)], {})
    assert fact["job"] == "none (apt-daily-upgrade.timer inactive)"


# --- LNX-SECURITY-UPDATES-APPLIED ------------------------------------------------------


@pytest.mark.parametrize("capture", ["updtimeoff-held-security-pending", "updtimeoff-pinned-security-pending"])
def test_held_or_pinned_security_update_is_pending(capture: str) -> None:
    fact = AptPendingFact().parse([_captured(f"apt/{capture}")], {"max_age_days": 7})
    assert fact["security_pending_count"] == 1 and fact["security_pending_names"] == ["hostname"]
    held = capture.startswith("updtimeoff-held")
    assert fact["security_pending_held"] == (["hostname"] if held else [])
    assert fact["security_summary"].endswith(" held") is held


def test_simulation_ignores_holds_pins_and_default_release() -> None:
    from auditor.facts.apt_pending import SCRIPT

    for option in ("APT::Ignore-Hold=1", "Dir::Etc::preferences=/dev/null", "Dir::Etc::preferencesparts=/dev/null",
                   "APT::Default-Release= "):  # fmt: skip
        assert f"-o {option}" in SCRIPT


# --- LNX-TIME-SYNC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("capture", "synced"),
    [
        ("chrony-selected", True),
        ("chrony-selected-unprivileged", True),  # chronyc over UDP 323 without root
        ("chrony-local-only", False),  # "local stratum 8": leap Normal, no source
        ("chrony-server-gone", False),  # tracking keeps the last reference and "Normal"; the source is "?"
        ("chrony-not-running", None),  # 506 Cannot talk to daemon: the daemon's answer cannot be had
    ],
)
def test_time_sync_is_the_daemons_answer(capture: str, synced: bool | None) -> None:
    fact = TimeSyncFact().parse([_captured(f"timesync/{capture}")], {})
    assert fact["synchronised"] is synced, fact["summary"]


def _ts_verdict(sync: dict, running: list[str]) -> Verdict:
    check = _check("linux-monitoring.yaml", "LNX-TIME-SYNC")
    facts = {
        "ntpd": Fact(FactSpec("process", {}), {"running": running, "summary": ""}, None, EV),
        "sync": Fact(FactSpec("time_sync", {}), sync, None, EV),
    }
    return evaluate(check["expect"], facts).status


def test_time_sync_verdicts() -> None:
    def fact(capture: str) -> dict:
        return TimeSyncFact().parse([_captured(f"timesync/{capture}")], {})

    assert _ts_verdict(fact("chrony-selected"), ["chronyd"]) is Verdict.PASS
    assert _ts_verdict(fact("chrony-server-gone"), ["chronyd"]) is Verdict.FAIL
    assert _ts_verdict(fact("chrony-local-only"), ["chronyd"]) is Verdict.FAIL
    assert _ts_verdict(fact("chrony-not-running"), ["chronyd"]) is Verdict.UNKNOWN  # runs, does not answer
    assert _ts_verdict(fact("chrony-not-running"), []) is Verdict.FAIL


def test_ntpq_system_peer() -> None:
    # ntpq -pn's layout (ntpsec 1.2.2 on bookworm): a header, a rule, one row per peer with its tally code.
    lines = [
        "     remote                                   refid      st t when poll reach   delay   offset   jitter",
        "=======================================================================================================",
        "*192.0.2.1                                    .GPS.       1 u   33   64  377   0.512   -0.021   0.030",
        "+192.0.2.2                                    192.0.2.1   2 u   12   64  377   0.611    0.104   0.051",
    ]
    assert parse_ntpq(lines)["source"] == "192.0.2.1"
    assert parse_ntpq([*lines[:2], " " + lines[2][1:]])["synchronised"] is False
