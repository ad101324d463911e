"""cron_jobs on a real capture (tests/unit/data/cron/debian-cron-rules.out): its snippet and the host's
archive, run as root on a lab host where each file below was put and cron's own reading observed
(which ``/tmp/ran-*`` files its every-minute jobs wrote, and its syslog: "INSECURE MODE",
"WRONG FILE OWNER", "Syntax error, this crontab file will be ignored", "Missing newline before EOF")."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import raw, tar_section

from auditor.facts.base import FactUnreadable, parse_files, sections
from auditor.facts.cron_jobs import CronJobsFact, parse_crontab

FACT = CronJobsFact()
CAPTURE = Path(__file__).parent / "data/cron/debian-cron-rules.out"
# What cron ran in the minute after the files were written (the /tmp/ran-* files).
RAN = {"crontab", "pct-", "link", "under", "userfield", "exe", "uc-600", "plain"}


def outputs(text: str | None = None) -> list:
    text = CAPTURE.read_text() if text is None else text
    own, tar, archive = text.partition("@@tar\n")
    return [raw(own), raw(tar + archive)]


def edited(path: str, old: str, new: str) -> str:
    """The capture with one file of its archive edited."""
    own, _, archive = CAPTURE.read_text().partition("@@tar\n")
    files, _ = parse_files(sections("@@tar\n" + archive)["tar"])
    assert old in files[path]
    files[path] = files[path].replace(old, new)
    return own + tar_section(files)


def ran(value: dict) -> set[str]:
    return {m["command"].removeprefix("touch /tmp/ran-") for m in value["matches"]}


def test_only_the_jobs_cron_ran() -> None:
    value = FACT.parse(outputs(), {"command": r"touch /tmp/ran-"})
    assert ran(value) == RAN


@pytest.mark.parametrize(
    ("file", "why"),
    [
        ("/etc/cron.d/dotted.disabled", "name"),
        ("/etc/cron.d/withconf.conf", "name"),
        ("/etc/cron.d/ww", "INSECURE MODE"),
        ("/etc/cron.d/gw", "INSECURE MODE"),
        ("/etc/cron.d/owned", "WRONG FILE OWNER"),
        ("/etc/cron.d/syntax", "syntax error"),
        ("/etc/cron.d/nonl", "newline"),
        ("/var/spool/cron/crontabs/u2", "INSECURE MODE"),
        ("/var/spool/cron/crontabs/u4", "INSECURE MODE"),
        ("/var/spool/cron/crontabs/u3", "WRONG FILE OWNER"),
    ],
)
def test_files_cron_ignores_are_named(file: str, why: str) -> None:
    value = FACT.parse(outputs(), {"command": "."})
    reasons = [i for i in value["ignored"] if i.startswith(file + ":")]
    assert reasons and why in reasons[0], value["ignored"]


def test_user_field_and_percent() -> None:
    value = FACT.parse(outputs(), {"command": r"ran-(userfield|pct)"})
    by = {m["command"]: m for m in value["matches"]}
    assert by["touch /tmp/ran-userfield"]["user"] == "auditor"
    assert "touch /tmp/ran-pct-" in by  # the "%s" after "%" is stdin, not the command


def test_run_parts_scripts_read_as_run_parts_names_them() -> None:
    """Debian's cron.daily scripts run (crontab's run-parts line, no anacron); dpkg's own
    database backup is named by the script body, matched line by line."""
    value = FACT.parse(outputs(), {"command": r"dpkg-db-backup"})
    assert value["sources"] == ["/etc/cron.daily/dpkg"]
    assert value["matches"][0]["schedule"] == "25 6 * * *"


def test_run_parts_directory_not_run_by_cron() -> None:
    text = edited("/etc/crontab", "run-parts --report /etc/cron.daily;", "true;")
    assert FACT.parse(outputs(text), {"command": r"dpkg-db-backup"})["count"] == 0


def test_unreadable_spool_is_never_an_empty_answer() -> None:
    text = CAPTURE.read_text().replace("@@spool\nreadable\n", "@@spool\n")
    with pytest.raises(FactUnreadable, match="user crontabs"):
        FACT.parse(outputs(text), {"command": r"no such job"})
    # a job that cron runs is still found
    assert FACT.parse(outputs(text), {"command": r"ran-plain"})["count"] == 1


def test_cut_short_is_unreadable() -> None:
    with pytest.raises(FactUnreadable):
        FACT.parse([raw("@@spool\nreadable\n@@lstat\n"), raw("@@tar\n")], {"command": "x"})


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("*/5 1-3,7 * jan-mar mon-fri root x\n", True),
        ("@daily root x\n", True),
        ("MAILTO=a@b\nPATH = /bin\n", True),
        ("61 * * * * root x\n", False),
        ("@dialy root x\n", False),
        ("5/2 * * * * root x\n", False),
        ("* * * * *\n", False),
    ],
)
def test_crontab_syntax(text: str, ok: bool) -> None:
    _, why = parse_crontab(text, system=True)
    assert (why is None) is ok, why
