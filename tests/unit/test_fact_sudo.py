"""sudo_logging: sudo's own reading (``sudo -V`` as root, captured on a bookworm lab host) and the scoped
Defaults of the files sudo reads (its include rules: @includedir skips names with "." or ending "~")."""

from __future__ import annotations

import pytest
from conftest import raw, tar_section

from auditor.facts.base import FactUnreadable
from auditor.facts.sudo_logging import SudoLoggingFact, sudoers_files

SUDOERS = "Defaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n"


def _parse(captures, capture: str, files: dict[str, str] | None = None) -> dict:
    out = "@@sudo-V\n" + captures.text(f"sudo/{capture}.txt")
    return SudoLoggingFact().parse([raw(out), raw(tar_section(files or {"/etc/sudoers": SUDOERS}))], {})


@pytest.mark.parametrize(
    ("capture", "logged", "said"),
    [
        ("default", True, "syslog (authpriv)"),
        ("nosyslog", False, "logs nowhere"),
        ("nosyslog_logfile", True, "log file /var/log/sudo.log"),
        ("no_log_allowed", False, "log_allowed is off"),
    ],
)
def test_sudo_v_defaults_in_force(captures, capture, logged, said):
    value = _parse(captures, capture)
    assert value["logged"] is logged
    assert said in value["summary"]


def test_unprivileged_sudo_v_is_unreadable(captures):
    with pytest.raises(FactUnreadable, match="must run as root"):
        _parse(captures, "unprivileged")


def test_absent():
    assert SudoLoggingFact().parse([raw("@@absent\n"), raw(tar_section({}))], {})["installed"] is False


def test_scoped_defaults_sudo_v_does_not_show(captures):
    """sudo -V prints the global Defaults only: "Defaults:alice !syslog" is read from the files sudo reads."""
    files = {"/etc/sudoers": SUDOERS, "/etc/sudoers.d/alice": "Defaults:alice !syslog\n"}
    value = _parse(captures, "user_nosyslog", files)
    assert value["logged"] is False and "/etc/sudoers.d/alice:1" in value["summary"]
    # a file sudo skips (a "." in its name) does not count
    files = {"/etc/sudoers": SUDOERS, "/etc/sudoers.d/alice.conf": "Defaults:alice !syslog\n"}
    assert _parse(captures, "default", files)["logged"] is True


def test_scoped_syslog_off_with_a_log_file_still_logs(captures):
    files = {"/etc/sudoers": SUDOERS, "/etc/sudoers.d/alice": "Defaults:alice !syslog\n"}
    assert _parse(captures, "nosyslog_logfile", files)["logged"] is True
    files["/etc/sudoers.d/alice"] = "Defaults:alice log_allowed=false\n"
    assert _parse(captures, "nosyslog_logfile", files)["logged"] is False


def test_include_rules():
    files = {
        "/etc/sudoers": SUDOERS + "#include extra\n",
        "/etc/sudoers.d/logging": "",
        "/etc/sudoers.d/log.conf": "",
        "/etc/sudoers.d/old~": "",
        "/etc/extra": "",
    }
    order, missing = sudoers_files(files)
    assert order == ["/etc/sudoers", "/etc/sudoers.d/logging", "/etc/extra"]
    assert missing == []
    order, missing = sudoers_files({"/etc/sudoers": "@include /etc/sudo-local\n"})
    assert missing == ["/etc/sudo-local"]


def test_an_included_file_not_read_is_unknown(captures):
    with pytest.raises(FactUnreadable, match="/etc/sudo-local"):
        _parse(captures, "default", {"/etc/sudoers": "@include /etc/sudo-local\n"})
