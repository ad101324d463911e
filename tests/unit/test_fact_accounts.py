"""accounts: NSS's view of the accounts (captured from `getent` in a lab host's root) and login.defs
read as useradd reads it (values checked against useradd in the lab base: it wrote these maxima)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.facts.accounts import NEVER, first_entries, judge, pass_max_days, strtol0
from auditor.facts.base import sections

DATA = Path(__file__).parent / "data" / "accounts"


def _getent() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    found = sections((DATA / "getent-bookworm.txt").read_text())
    return first_entries(found["passwd"], 7), first_entries(found["shadow"], 9)


def test_glibc_skips_comments_and_keeps_the_first_entry_of_a_name() -> None:
    """/etc/passwd held `#hid:x:0:0`, ` sp:x:0:0`, `big:x:4294967296:0` and two `dup` lines (the
    second with UID 0): getent shows sp (blanks stripped) and dup's first entry only."""
    passwd, shadow = _getent()
    facts = judge(passwd, shadow, 90)
    assert facts["uid0"] == ["root", "sp"] and facts["uid0_other"] == ["sp"]
    assert "#hid" not in passwd and "big" not in passwd
    assert passwd["dup"][2] == "1003" and shadow["dup"][1] == "!"


def test_an_empty_passwd_field_is_the_password_whatever_shadow_says() -> None:
    """eve: passwd field "" (not x), shadow holds a hash: pam_unix used "" (su eve asked nothing)."""
    passwd, shadow = _getent()
    facts = judge(passwd, shadow, 90)
    assert facts["empty_password"] == ["eve (empty field in /etc/passwd)"]
    assert "eve: password in /etc/passwd, no ageing" in facts["over_max_age"]


def test_max_age_is_each_accounts_own_shadow_value() -> None:
    passwd = {"ops": ["ops", "x", "1", "1", "", "/", "/bin/sh"], "svc": ["svc", "x", "2", "2", "", "/", "/bin/sh"]}
    shadow = {"ops": ["ops", "$6$a$b", "20000", "0", "99999", "7", "", "", ""],
              "svc": ["svc", "!", "20000", "0", "", "7", "", "", ""]}  # fmt: skip
    assert judge(passwd, shadow, 90)["over_max_age"] == ["ops: maximum age 99999"]
    shadow["ops"][4] = "60"
    assert judge(passwd, shadow, 90)["over_max_age"] == []
    shadow["ops"][2] = ""
    assert judge(passwd, shadow, 90)["over_max_age"] == ["ops: ageing disabled (no last-change date)"]


@pytest.mark.parametrize(
    ("lines", "days"),
    [
        # what useradd wrote into shadow field 5 in the lab base for each login.defs ending
        ("PASS_MAX_DAYS 90\nPASS_MAX_DAYS 120\n", 120),
        ("PASS_MAX_DAYS 90\nPASS_MAX_DAYS 120\n  PASS_MAX_DAYS\t45 # c\n", NEVER),
        ("PASS_MAX_DAYS 0x5A\n", 90),
        ("PASS_MAX_DAYS 090\n", NEVER),
        ('PASS_MAX_DAYS "60"\n', 60),
        ("PASS_MAX_DAYS  77\n", 77),
        ("PASS_MAX_DAYS +80\n", 80),
        ("PASS_MAX_DAYS -1\n", NEVER),
        ("PASS_MAX_DAYS 1e2\n", NEVER),
        ("PASS_MAX_DAYS 95  \n", 95),
        ("#PASS_MAX_DAYS 30\npass_max_days 30\n", NEVER),
    ],
)
def test_login_defs_as_useradd_reads_it(lines: str, days: int) -> None:
    assert pass_max_days(lines)[0] == days


def test_the_captured_login_defs() -> None:
    assert pass_max_days((DATA / "login.defs-bookworm").read_text()) == (95, "PASS_MAX_DAYS 95")


def test_strtol_base_0() -> None:
    assert [strtol0(v) for v in ("010", "0x10", "10", "0", "0x", "-0x1", "1 2")] == [8, 16, 10, 0, None, -1, None]
