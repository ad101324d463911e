"""ClamAV database headers, dpkg, the process table and file ages on real or faithful outputs."""

from __future__ import annotations

import base64
import shlex

import pytest
from conftest import DATA, raw

from auditor.facts.base import FactUnreadable, shell_glob
from auditor.facts.clamav_db import ClamavDbFact, parse_header
from auditor.facts.package import PackageFact
from auditor.facts.process import ProcessFact

NOW = 1795392000  # 2026-11-23T00:00:00Z, the day the captures were made


@pytest.mark.parametrize(("db", "days"), [("db_fresh", 0), ("db_6d", 6), ("db_8d", 8), ("db_30d", 30), ("db_40d", 40)])
def test_header_build_time(db, days):
    header = parse_header((DATA / "clamav" / db / "daily.cud.header").read_bytes())
    assert header is not None
    assert abs((NOW - header["build_time"]) / 86400 - days) < 1.5


def test_header_of_a_real_signed_cvd():
    header = parse_header((DATA / "clamav" / "real_daily_cvd_25784_public_source.header").read_bytes())
    assert header["version"] == "25784"


def test_not_a_header():
    assert parse_header(b"\x1f\x8b tar.gz data") is None


NO_CLAMD = raw("@@uid 0\n@@self 5\n@@psns\n    1 4026531833 init /sbin/init\n    5 4026531833 sh sh\n")


def clamav_output(files: dict[str, tuple[bytes, int]], folder: str = "/var/lib/clamav") -> str:
    """The snippet's output where clamd does not run: clamd.conf's folder (also the built-in one)."""
    text = f'@@now {NOW}\n@@tz +0000\n@@clamconf\nConfig file: clamd.conf\nDatabaseDirectory = "{folder}"\n'
    text += f"Database directory: {folder}\n@@dir {folder}\n"
    for path, (header, mtime) in files.items():
        text += f"@@file {path} {mtime}\n{base64.b64encode(header[:512]).decode()}\n"
    return text


def test_header_beats_a_touched_mtime():
    old = (DATA / "clamav" / "db_40d" / "daily.cud.header").read_bytes()
    value = ClamavDbFact().parse([raw(clamav_output({"/var/lib/clamav/daily.cld": (old, NOW)}), at=NOW), NO_CLAMD], {})
    assert value["newest_days"] > 39
    assert value["judged_by"] == "header build time"


def test_mtime_when_no_header():
    output = clamav_output({"/var/lib/clamav/daily.cud": (b"garbage", NOW - 2 * 86400)})
    value = ClamavDbFact().parse([raw(output, at=NOW), NO_CLAMD], {})
    assert value["newest_days"] == 2 and "mtime" in value["judged_by"]


def test_newest_of_several_and_none():
    fresh = (DATA / "clamav" / "db_fresh" / "daily.cud.header").read_bytes()
    old = (DATA / "clamav" / "db_30d" / "daily.cud.header").read_bytes()
    both = clamav_output({"/d/daily.cvd": (old, NOW), "/d/daily.cud": (fresh, NOW)}, folder="/d")
    value = ClamavDbFact().parse([raw(both, at=NOW + 86400), NO_CLAMD], {})  # db_fresh was built at 17:28 that day
    assert value["newest_path"] == "/d/daily.cud"
    empty = ClamavDbFact().parse([raw(clamav_output({})), NO_CLAMD], {})
    assert empty["count"] == 0 and empty["newest_days"] is None


def test_clamav_folder_unreadable():
    with pytest.raises(FactUnreadable, match="cannot read"):
        ClamavDbFact().parse([raw(clamav_output({}) + "unreadable\n"), NO_CLAMD], {})


def test_dpkg_real_output(captures):
    out, _, rc = captures.run("dpkg/status_abbrev")
    assert rc == 1  # one of the names is not installed
    value = PackageFact().parse(
        [raw("@@dpkg\n" + out.replace("\t", "|"))], {"names": ["openssh-server", "clamav", "nosuchpkg"]}
    )
    assert value["installed_names"] == ["clamav", "openssh-server"]
    assert value["missing"] == ["nosuchpkg"]


def test_dpkg_removed_package_is_not_installed():
    value = PackageFact().parse([raw("@@dpkg\nclamav|rc |1.0\n")], {"names": ["clamav"]})
    assert value["installed_names"] == []


def test_no_package_manager():
    with pytest.raises(FactUnreadable):
        PackageFact().parse([raw("@@none\n")], {"names": ["x"]})


PS = """@@uid 0
@@ps
    1 init            /sbin/init
  200 fail2ban-server /usr/bin/python3 /usr/bin/fail2ban-server -xf start
  300 psad            /usr/bin/perl -w /usr/sbin/psad
  400 systemd-journal /lib/systemd/systemd-journald
@@nslinks
lrwxrwxrwx 1 root root 0 Nov 23 17:31 /proc/self/ns/net -> net:[4026531833]
lrwxrwxrwx 1 root root 0 Nov 23 17:31 /proc/1/ns/net -> net:[4026531833]
lrwxrwxrwx 1 root root 0 Nov 23 17:31 /proc/200/ns/net -> net:[4026531833]
lrwxrwxrwx 1 root root 0 Nov 23 17:31 /proc/300/ns/net -> net:[4026532999]
"""


def test_process_table():
    value = ProcessFact().parse([raw(PS)], {"names": ["fail2ban-server", "psad", "systemd-journal-upload"]})
    assert value["running"] == ["fail2ban-server"]
    # psad runs, but in another network namespace (a container): it does not protect this host.
    assert value["in_other_namespaces"] == ["psad"]


def test_hidepid_without_root_is_unreadable():
    text = PS.replace("@@uid 0", "@@uid 1000\n@@hidepid")
    with pytest.raises(FactUnreadable, match="hidepid"):
        ProcessFact().parse([raw(text)], {"names": ["clamd"]})


def test_shell_glob_quotes_everything_but_wildcards():
    assert shell_glob("/var/backups/db 1/*.tar.gz") == "'/var/backups/db 1/'*.tar.gz"
    assert shell_glob("/x/$(reboot);?") == "'/x/$(reboot);'?"


def test_shared_package_output_counts_only_this_facts_names(captures):
    # dpkg-query ran once for every package fact of the host (merge_params): openssh-server is in the
    # output, but a fact asking for clamav-daemon alone must not see it as its own.
    out, _, _ = captures.run("dpkg/status_abbrev")
    value = PackageFact().parse([raw("@@dpkg\n" + out.replace("\t", "|"))], {"names": ["clamav-daemon"]})
    assert value["installed_names"] == [] and value["missing"] == ["clamav-daemon"]


def test_package_facts_merge_their_names():
    merged = PackageFact().merge_params([{"names": ["clamav", "aide"]}, {"names": ["aide", "chrony"]}])
    assert merged == {"names": ["aide", "chrony", "clamav"]}


def test_split_words_splits_as_shlex_does():
    from auditor.facts.base import split_words

    for line in ["a b\tc", "  lead and trail  ", "/var/log/*.log /x\\ y", "'quoted word' \"two\"", "a#b c", ""]:
        assert split_words(line) == shlex.split(line), line
