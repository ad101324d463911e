"""The ClamAV signatures in use and "installed" as dpkg means it, on outputs captured from the lab's
anti-virus hosts (tests/lab/profiles/av*.py, 2026-12-06 22:39 UTC)."""

from __future__ import annotations

import pytest
from conftest import DATA, raw

from auditor.facts.base import FactUnreadable
from auditor.facts.clamav_db import ClamavDbFact, parse_clamconf, parse_version
from auditor.facts.package import PackageFact

LAB = DATA / "clamav" / "lab"
AT = 1796596920  # the auditor's clock shortly after the captures
DB = ClamavDbFact()


def captured(host: str, **changes: str) -> list:
    out = (LAB / f"{host}.out").read_text()
    for old, new in changes.items():
        out = out.replace(old, new)
    return [raw(out, at=AT), raw((LAB / f"{host}.ps").read_text())]


def test_clamd_that_loaded_an_old_database_is_old_though_a_fresh_file_is_on_disk():
    value = DB.parse(captured("avloadedold"), {})
    assert value["count"] == 1 and value["newest_days"] == 30.0
    assert "the running clamd has loaded daily version 27400 built Fri Nov 6 22:38:31 2026" in value["summary"]


def test_clamd_that_loaded_a_fresh_database_is_fresh_though_its_default_folder_is_old():
    # clamd.conf: DatabaseDirectory /srv/clamav first, /var/lib/clamav later (old): clamd keeps the first.
    value = DB.parse(captured("avloadedfresh"), {})
    assert value["newest_days"] == 0.04  # built an hour before the capture


def test_without_clamd_every_folder_a_scanner_loads_counts_the_oldest():
    value = DB.parse(captured("avnoclamd"), {})
    # /srv/clamav (clamd.conf, 30 days) and /var/lib/clamav (clamscan's built-in, 1 hour)
    assert value["newest_days"] == 30.0 and value["count"] == 2
    assert "/srv/clamav/daily.cud: 30 days old" in value["summary"]


def test_clamd_runs_but_its_answer_cannot_be_had_is_unreadable_not_the_files():
    outputs = captured("avloadedfresh", **{"@@version_rc 0": "@@version_rc 2"})
    with pytest.raises(FactUnreadable, match="clamd runs but did not say which database"):
        DB.parse(outputs, {})
    no_perl = captured("avloadedfresh", **{"@@version\n": "@@noperl\n"})
    no_perl[0] = raw(no_perl[0].stdout.split("ClamAV 1.4.3/")[0] + "@@dir /x\n", at=AT)
    with pytest.raises(FactUnreadable, match="perl"):
        DB.parse(no_perl, {})


def test_a_configuration_clamd_refuses_is_unreadable():
    error = "ERROR: Missing argument for option at /etc/clamav/clamd.conf:90\n"
    outputs = captured("avnoclamd", **{"@@clamconf\n": "@@clamconf\n" + error})
    with pytest.raises(FactUnreadable, match="Missing argument"):
        DB.parse(outputs, {})


def test_no_clamconf_no_clamd_is_no_database():
    value = DB.parse([raw(f"@@now {AT}\n@@tz +0000\n@@noclamconf\n", at=AT), captured("avnoclamd")[1]], {})
    assert value["count"] == 0


def test_version_answer_in_the_hosts_time_zone():
    east = parse_version("ClamAV 1.4.3/27400/Sun Dec  6 21:38:31 2026", "+0700")
    utc = parse_version("ClamAV 1.4.3/27400/Sun Dec  6 21:38:31 2026", "+0000")
    assert utc["build_time"] - east["build_time"] == 7 * 3600
    assert parse_version("ClamAV 1.4.3", "+0000")["version"] is None  # clamd without a database
    assert parse_version("UNKNOWN COMMAND", "+0000") is None


def test_clamconf_keeps_its_first_value_lines():
    conf = parse_clamconf((LAB / "avnoclamd.out").read_text().split("@@clamconf\n")[1].split("@@")[0].splitlines())
    assert conf["DatabaseDirectory"] == "/srv/clamav" and conf["builtin"] == "/var/lib/clamav"
    assert conf["LocalSocket"] == "/var/run/clamav/clamd.ctl"


@pytest.mark.parametrize(
    ("status", "installed"),
    [("ii ", True), ("hi ", True), ("iiR", False), ("rc ", False), ("iF ", False), ("iU ", False), ("ri ", False)],
)
def test_installed_is_dpkg_installed_without_error(status, installed):
    value = PackageFact().parse([raw(f"@@dpkg\nclamav|{status}|1.4.3+dfsg-1~deb12u2\n")], {"names": ["clamav"]})
    assert (value["installed_names"] == ["clamav"]) is installed
