"""Ages against the auditor's clock, for every age-based fact, with the host's clock behind, ahead and right.

Each case builds the output the fact's snippet prints on a host whose clock reads ``skew`` seconds off the
auditor's, gives the parser the auditor's clock (``RawOutput.reference``, as the engine does), and judges
the real check from the catalog. Before the auditor's clock was used, these ages came from the host's.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from auditor import clock
from auditor.catalog import load_catalog
from auditor.catalog.playbook import load_playbook, plan_run
from auditor.clock import Reference
from auditor.errors import InputError
from auditor.evaluate import evaluate, judge
from auditor.facts import REGISTRY, FactUnreadable, RawOutput
from auditor.inventory import load_inventory
from auditor.model import Evidence, Fact, FactSpec, Verdict

T = 1795435200.0  # the auditor's clock: 2026-11-23T12:00:00Z
DAY = 86400
PARAMS = {
    "av_max_signature_age_days": 7,
    "backup_max_age_days": 7,
    "apt_lists_max_age_days": 7,
    "backup_paths": ["/srv/backup/*"],
    "max_clock_skew_seconds": 300,
    "win_max_update_age_days": 45,
}
PASS, FAIL, UNKNOWN = Verdict.PASS, Verdict.FAIL, Verdict.UNKNOWN


@pytest.fixture(scope="module")
def checks():
    return load_catalog().checks


def out(text: str, window: float = 2.0) -> RawOutput:
    """Output read by the auditor between T and T + window."""
    return RawOutput(text, "", 0, reference=Reference(T, T + window, 300))


def fact(type_name: str, outputs: list[RawOutput], params: dict[str, Any] | None = None) -> Fact:
    spec = FactSpec(type_name, params or {})
    ev = Evidence("x", 0, "", "2026-11-23T12:00:00Z")
    try:
        return Fact(spec, REGISTRY[type_name].parse(outputs, spec.params), None, ev)
    except FactUnreadable as exc:
        return Fact(spec, None, str(exc), ev)


def verdict(checks, check_id: str, facts: dict[str, Fact]) -> tuple[Verdict, str]:
    return judge(checks[check_id], facts, PARAMS)


# --- the reading of the host's clock -------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "skew", "off"),
    [(T + 1, 0, False), (T - 200, -200, False), (T - 400, -400, True), (T + 2 + 400, 400, True), (T + 2, 0, False)],
)
def test_skew_is_how_far_the_host_reading_falls_outside_the_window(host, skew, off):
    c = clock.host_clock(host, Reference(T, T + 2, 300))
    assert (c.skew, c.off) == (skew, off)
    assert c.as_dict()["measured_against"] == "auditor clock"


def test_tolerance_parameter():
    assert clock.tolerance({}) == 300 and clock.tolerance({"max_clock_skew_seconds": "60"}) == 60
    for bad in ("abc", -1, True, "nan", [1]):
        with pytest.raises(ValueError, match="max_clock_skew_seconds"):
            clock.tolerance({"max_clock_skew_seconds": bad})


def test_a_bad_tolerance_is_bad_input_before_any_host(tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[servers]\nweb1 ansible_host=10.0.0.5 max_clock_skew_seconds=soon\n")
    with pytest.raises(InputError, match=r"hosts.ini:2: max_clock_skew_seconds: expected a number .*\(host web1\)"):
        catalog = load_catalog()
        plan_run(load_playbook("baseline", catalog), catalog, load_inventory(inventory), {})


# --- ClamAV: the header's build time is not the host's; its age is the auditor's --------------------


CLAMCONF = (
    '@@clamconf\nConfig file: clamd.conf\nDatabaseDirectory = "/var/lib/clamav"\nDatabase directory: /var/lib/clamav\n'
)
NO_CLAMD = "@@uid 0\n@@self 5\n@@psns\n    1 4026531833 init /sbin/init\n    5 4026531833 sh sh\n"


def clamav(built: float, mtime: float, skew: float, header: bool = True) -> list[RawOutput]:
    """clamd does not run: the database in clamd.conf's folder counts."""
    text = f"ClamAV-VDB:x:27400:1:90:X:X:lab:{int(built)}".ljust(512) if header else "garbage"
    b64 = base64.b64encode(text.encode()[:512]).decode()
    files = f"@@dir /var/lib/clamav\n@@file /var/lib/clamav/daily.cld {int(mtime)}\n{b64}\n"
    return [out(f"@@now {int(T + skew)}\n@@tz +0000\n{CLAMCONF}{files}"), out(NO_CLAMD)]


@pytest.mark.parametrize(
    ("built_days", "skew_days", "age", "expected"),
    [
        (40, -38, 40, FAIL),  # the host says 2 days: the auditor's clock says 40
        (40, -60, 40, FAIL),  # the case: on the host's clock, -20 days ("fresh")
        (2, 20, 2, PASS),  # host ahead: 22 days on its clock, 2 on the auditor's
        (2, 0, 2, PASS),
        (10, 0, 10, FAIL),
    ],
)
def test_clamav_header_age_is_the_auditors(checks, built_days, skew_days, age, expected):
    built = T - built_days * DAY
    av = fact("clamav_db", clamav(built, built + skew_days * DAY, skew_days * DAY))
    assert av.value["newest_days"] == age
    status, reason = verdict(checks, "LNX-AV-SIGNATURES-FRESH", {"av_db": av})
    assert status == expected, reason
    if skew_days:
        assert ("behind" if skew_days < 0 else "ahead of") in reason and "days" in reason
        assert av.value["clock"]["off"] is True


def test_clamav_built_in_the_future_is_never_fresh(checks):
    av = fact("clamav_db", clamav(T + 3 * DAY, T, 0))
    assert av.value["newest_days"] is None
    status, reason = verdict(checks, "LNX-AV-SIGNATURES-FRESH", {"av_db": av})
    assert status == UNKNOWN and "in the future of the auditor's clock" in reason
    # within the tolerance (a minute ahead): age 0, fresh
    assert fact("clamav_db", clamav(T + 60, T, 0)).value["newest_days"] == 0


def test_clamav_mtime_fallback_under_a_skewed_clock_is_a_range(checks):
    # No header: the mtime, written by a host clock 20 days behind "just now" -> 0 to 20 days old.
    av = fact("clamav_db", clamav(0, T - 20 * DAY, -20 * DAY, header=False))
    assert av.value["newest_days"] == {"at_least": 0.0, "at_most": 20.0}
    assert verdict(checks, "LNX-AV-SIGNATURES-FRESH", {"av_db": av})[0] == UNKNOWN


def test_clamav_evidence_names_the_clock():
    raws = clamav(T - DAY, T - DAY, -38 * DAY)
    text = REGISTRY["clamav_db"].evidence(raws, {})
    assert "ages measured against the auditor's clock (2026-11-23T12:00:00Z)" in text
    assert "skew -3283200 s" in text and "the host's clock is off" in text


# --- file_age (backups): an mtime is written by the host's clock ------------------------------------


def stat(mtimes: list[float], skew: float) -> RawOutput:
    lines = [f"{int(T + skew)}"] + [
        f"regular file|644|root|root|1|{int(m)}|/srv/backup/b{i}.tgz" for i, m in enumerate(mtimes)
    ]
    return out("\n".join(lines) + "\n")


def backup_verdict(checks, mtimes: list[float], skew: float) -> tuple[Verdict, str, Fact]:
    ev = Evidence("", 0, "", "")
    facts = {
        "job": Fact(FactSpec("config_grep", {}), {"count": 1, "files": ["/etc/cron.d/backup"]}, None, ev),
        "archive": fact("file_age", [stat(mtimes, skew)], {"paths": ["/srv/backup/*"]}),
        "crontabs": Fact(FactSpec("file", {}), {"count": 0}, None, ev),
    }
    status, reason = verdict(checks, "LNX-BACKUP-RECENT", facts)
    return status, reason, facts["archive"]


@pytest.mark.parametrize(
    ("mtime_days", "skew_days", "expected", "newest"),
    [
        (1, 0, PASS, 1.0),
        (20, -20, UNKNOWN, {"at_least": 0.0, "at_most": 20.0}),  # written "now" by a clock 20 days behind
        (40, -20, FAIL, {"at_least": 20.0, "at_most": 40.0}),  # old on either clock
        (10, -5, UNKNOWN, {"at_least": 5.0, "at_most": 10.0}),  # host said 5 days: that was a pass
        (5, 20, UNKNOWN, {"at_least": 5.0, "at_most": 25.0}),  # host ahead: 25 days on its clock
        (-5, 0, UNKNOWN, None),  # in the future of a clock that is right: never fresh (the host said -5 days)
        (0.5 / 24, 0.5 / 24, PASS, {"at_least": 0.02, "at_most": 0.04}),  # 30 min off: a range, both ends fresh
    ],
)
def test_backup_age(checks, mtime_days, skew_days, expected, newest):
    status, reason, archive = backup_verdict(checks, [T - mtime_days * DAY], skew_days * DAY)
    assert status == expected, reason
    assert archive.value["newest_days"] == newest
    if expected == UNKNOWN:
        assert "in the future" in reason or "cannot tell" in reason


def test_a_future_file_does_not_hide_a_fresh_one_nor_make_an_old_one_fresh(checks):
    fresh_and_future = backup_verdict(checks, [T - 2 * DAY, T + 30 * DAY], 0)
    assert fresh_and_future[0] == PASS and fresh_and_future[2].value["newest_days"] == {"at_least": 0.0, "at_most": 2.0}
    old_and_future = backup_verdict(checks, [T - 30 * DAY, T + 30 * DAY], 0)
    assert old_and_future[0] == UNKNOWN and "in the future" in old_and_future[1]


# --- apt lists -----------------------------------------------------------------------------------------


def apt(lists_mtime: float, skew: float) -> RawOutput:
    return out(
        f"@@now\n{int(T + skew)}\n@@lists\n{int(lists_mtime)}|/var/lib/apt/lists/x_InRelease\n"
        "@@sim\nReading package lists...\n@@rc 0\n"
    )


@pytest.mark.parametrize(
    ("lists_days", "skew_days", "state", "expected"),
    [
        (1, 0, "fresh", PASS),
        (10, -38, "undated", UNKNOWN),  # the host says -28 days: "fresh" before
        (-3, 0, "undated", UNKNOWN),  # in the future: never fresh
        (1, 20, "undated", UNKNOWN),  # ahead: 21 days on the host's clock, 1 on the auditor's
        (30, -10, "stale", UNKNOWN),
    ],
)
def test_apt_lists_age(checks, lists_days, skew_days, state, expected):
    f = fact("apt_pending", [apt(T - lists_days * DAY, skew_days * DAY)], {"max_age_days": 7})
    assert f.value["lists"] == state
    status, reason = verdict(checks, "LNX-SECURITY-UPDATES-APPLIED", {"apt": f})
    assert status == expected, reason
    if state == "undated":
        assert f.value["lists_undated"] and "package lists undated" in reason


# --- the host clock as its own finding ---------------------------------------------------------------


@pytest.mark.parametrize(("skew", "expected"), [(0, PASS), (-290, PASS), (-20 * DAY, FAIL), (3600, FAIL)])
def test_clock_check(checks, skew, expected):
    f = fact("host_clock", [out(f"@@clock {int(T + skew)}\n")])
    status, reason = verdict(checks, "LNX-CLOCK-ACCURATE", {"clock": f})
    assert status == expected, reason
    if expected == FAIL:
        assert "host clock" in reason
    assert fact("host_clock", [out("@@clock \n")]).error is not None


# --- Windows ---------------------------------------------------------------------------------------------


def defender(updated: float, skew: float) -> list[RawOutput]:
    status = {
        "AMServiceEnabled": True,
        "AntivirusEnabled": True,
        "RealTimeProtectionEnabled": True,
        "AMRunningMode": "Normal",
        "AntivirusSignatureLastUpdated": f"/Date({int(updated * 1000)})/",
    }
    return [out(json.dumps([{"now": int(T + skew), "status": status}])), RawOutput("", "Invalid namespace", 1)]


@pytest.mark.parametrize(
    ("updated_days", "skew_days", "age", "expected"),
    [(1, 0, 1.0, PASS), (12, -10, {"at_least": 2.0, "at_most": 12.0}, UNKNOWN), (-4, 0, None, UNKNOWN)],
)
def test_defender_signature_age(checks, updated_days, skew_days, age, expected):
    av = fact("win_antivirus", defender(T - updated_days * DAY, skew_days * DAY))
    assert av.value["defender_signature_age_days"] == age
    assert verdict(checks, "WIN-AV-SIGNATURES-FRESH", {"av": av})[0] == expected


@pytest.mark.parametrize(
    ("installed", "skew_days", "age", "expected"),
    [
        ("2026-11-13", 0, 10.0, PASS),
        ("2026-11-13", -40, {"at_least": 0.0, "at_most": 10.0}, PASS),
        ("2026-09-01", 30, {"at_least": 83.0, "at_most": 113.0}, FAIL),
        ("2026-12-20", 0, None, UNKNOWN),
        ("2026-09-20", -30, {"at_least": 34.0, "at_most": 64.0}, UNKNOWN),
    ],
)
def test_hotfix_age(checks, installed, skew_days, age, expected):
    text = json.dumps(
        [{"now": int(T + skew_days * DAY), "today": "x", "hotfixes": [{"HotFixID": "KB1", "InstalledOn": installed}]}]
    )
    hf = fact("win_hotfix", [out(text)])
    assert hf.value["newest_days"] == age
    assert verdict(checks, "WIN-UPDATES-RECENT", {"hf": hf})[0] == expected


# --- evaluation of a range ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expect", "status"),
    [
        ({"at_least": 1, "at_most": 3}, {"lte": 7}, PASS),
        ({"at_least": 8, "at_most": 9}, {"lte": 7}, FAIL),
        ({"at_least": 1, "at_most": 9}, {"lte": 7}, UNKNOWN),
        ({"at_least": 1, "at_most": 9}, {"gte": 1}, PASS),
        ({"at_least": 1, "at_most": 9}, {"gt": 5}, UNKNOWN),
    ],
)
def test_a_range_passes_only_when_all_of_it_passes(value, expect, status):
    facts = {"f": Fact(FactSpec("x", {}), {"v": value}, None, Evidence("", 0, "", ""))}
    outcome = evaluate({"fact": "f.v", **expect}, facts)
    assert outcome.status == status
    assert f"between {value['at_least']} and {value['at_most']}" in outcome.reason
