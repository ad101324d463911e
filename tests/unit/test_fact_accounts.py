"""accounts: NSS's view of the accounts (captured from `getent` in a lab host's root) and login.defs
read as useradd reads it (values checked against useradd in the lab base: it wrote these maxima)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.facts.accounts import (
    NEVER,
    first_entries,
    found_by_name_only,
    nss_services,
    pass_max_days,
    password_findings,
    split_output,
    strtol0,
    uid0_accounts,
)
from auditor.facts.base import sections

DATA = Path(__file__).parent / "data" / "accounts"


def _getent() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    found = sections((DATA / "getent-bookworm.txt").read_text())
    return first_entries(found["passwd"], 7), first_entries(found["shadow"], 9)


def test_glibc_skips_comments_and_keeps_the_first_entry_of_a_name() -> None:
    """/etc/passwd held `#hid:x:0:0`, ` sp:x:0:0`, `big:x:4294967296:0` and two `dup` lines (the
    second with UID 0): getent shows sp (blanks stripped) and dup's first entry only."""
    passwd, shadow = _getent()
    facts = uid0_accounts(passwd, set(passwd), ["files"], {})
    assert facts["uid0"] == ["root", "sp"] and facts["uid0_other"] == ["sp"]
    assert "#hid" not in passwd and "big" not in passwd
    assert passwd["dup"][2] == "1003" and shadow["dup"][1] == "!"


def test_an_empty_passwd_field_is_the_password_whatever_shadow_says() -> None:
    """eve: passwd field "" (not x), shadow holds a hash: pam_unix used "" (su eve asked nothing)."""
    passwd, shadow = _getent()
    facts = password_findings(passwd, shadow, 90)
    assert facts["empty_password"] == ["eve (empty field in /etc/passwd)"]
    assert "eve: password in /etc/passwd, no ageing" in facts["over_max_age"]


def test_max_age_is_each_accounts_own_shadow_value() -> None:
    passwd = {"ops": ["ops", "x", "1", "1", "", "/", "/bin/sh"], "svc": ["svc", "x", "2", "2", "", "/", "/bin/sh"]}
    shadow = {"ops": ["ops", "$6$a$b", "20000", "0", "99999", "7", "", "", ""],
              "svc": ["svc", "!", "20000", "0", "", "7", "", "", ""]}  # fmt: skip
    assert password_findings(passwd, shadow, 90)["over_max_age"] == ["ops: maximum age 99999"]
    shadow["ops"][4] = "60"
    assert password_findings(passwd, shadow, 90)["over_max_age"] == []
    shadow["ops"][2] = ""
    assert password_findings(passwd, shadow, 90)["over_max_age"] == ["ops: ageing disabled (no last-change date)"]


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


# What libnss-db's makedb -u printed on the lab host acctdbuid01, as the snippet prefixes it.
DB = "/var/lib/misc/passwd.db"
DB_DUMP = [
    "|.hidden hidden:x:0:0:no enumeration key:/root:/bin/sh",
    "|.svcadm svcadm:x:0:0:ops automation:/root:/bin/bash",
    "|00 svcadm:x:0:0:ops automation:/root:/bin/bash",
    "|=0 svcadm:x:0:0:ops automation:/root:/bin/bash",
    "|rc=0",
]
ROOT = {"root": ["root", "x", "0", "0", "root", "/root", "/bin/bash"]}
SVCADM = {"svcadm": ["svcadm", "x", "0", "0", "ops automation", "/root", "/bin/bash"]}


@pytest.mark.parametrize(
    ("text", "services"),
    [
        # measured with getent and libnss-db (glibc 2.36): was svcadm, served by db only, found?
        ("passwd: files db\n", ["files", "db"]),
        ("passwd: files db\npasswd: files\n", ["files"]),  # the last line wins
        ("passwd: files\npasswd: files db", ["files"]),  # a last line without a newline is never read
        ("passwd: files [NOTFOUND=return] db\n", ["files"]),
        ("passwd: files [!SUCCESS=continue] db\n", ["files", "db"]),
        ("passwd: files [!NOTFOUND=return] db\n", ["files", "db"]),
        ("  passwd files db\n", ["files", "db"]),
        ("passwd: files # db\n", ["files", "#", "db"]),  # no comments inside a line
        ("passwd: files [notfound=RETURN db\n", None),  # refused: glibc loads no configuration
        ("#passwd: files db\nshadow: files db\n", ["files"]),
        ("", ["files"]),
    ],
)
def test_nsswitch_as_glibc_reads_it(text: str, services: list[str] | None) -> None:
    assert nss_services(text) == services


def test_a_uid0_account_outside_etc_passwd_is_named_with_its_source() -> None:
    """svcadm: listed by getent passwd (db's enumeration key); hidden: a .name key only, so only a
    lookup by name finds it (id -u hidden gave 0 on the lab host)."""
    facts = uid0_accounts({**ROOT, **SVCADM}, {"root"}, ["files", "db"], {DB: DB_DUMP})
    assert facts["uid0"] == ["root", "svcadm", "hidden"]
    assert facts["uid0_other"] == [
        f"svcadm (from db {DB}, not /etc/passwd)",
        f"hidden (from db {DB}: getent passwd does not list it, a lookup by name finds it)",
    ]
    assert facts["passwd_sources"] == "passwd: files db"


def test_the_database_counts_only_where_glibc_asks_it() -> None:
    assert uid0_accounts(ROOT, {"root"}, ["files"], {DB: DB_DUMP})["uid0_other"] == []
    # a name nss_files serves first never reaches db
    entry = ["|.root root:x:0:0:shadowed by files:/root:/bin/sh", "|rc=0"]
    assert uid0_accounts(ROOT, {"root"}, ["files", "db"], {DB: entry})["uid0_other"] == []


@pytest.mark.parametrize(
    ("services", "databases", "doubt"),
    [
        (["files", "sss"], {}, "sss: getent passwd may not list all its accounts"),
        (["files", "db"], {DB: ["|makedb: cannot open database file", "|rc=1"]}, f"db: makedb -u {DB} failed"),
        (["files", "db"], {DB: []}, f"db: makedb -u {DB} failed"),
        (["files", "db"], {"/var/db/passwd.db": ["|x", "|rc=0"]}, "glibc's own nss_db database, not read"),
        (None, {}, "glibc refuses the passwd line"),
    ],
)
def test_a_source_that_may_hide_accounts_is_doubt_never_pass(
    services: list[str] | None, databases: dict[str, list[str]], doubt: str
) -> None:
    facts = uid0_accounts(ROOT, {"root"}, services, databases)
    assert facts["uid0_other"] is None and doubt in facts["passwd_sources"]
    # one found is a definite fail whatever else may hide
    assert uid0_accounts({**ROOT, **SVCADM}, {"root"}, services, databases)["uid0_other"] == [
        "svcadm (not in /etc/passwd)"
    ]


def test_sources_that_list_everything_leave_no_doubt() -> None:
    facts = uid0_accounts(ROOT, {"root"}, ["files", "systemd", "extrausers", "compat", "nis"], {})
    assert facts["uid0_other"] == []


def test_no_account_name_or_database_key_opens_a_section() -> None:
    text = (
        "@@passwd\n@@shadow:x:5:5::/:/bin/sh\nevil:x:0:0::/:/bin/sh\n@@db /var/lib/misc/passwd.db\n|@@shadow x\n|rc=0\n"
    )
    found = split_output(text)
    assert found["passwd"] == ["@@shadow:x:5:5::/:/bin/sh", "evil:x:0:0::/:/bin/sh"]
    assert found[f"db {DB}"] == ["|@@shadow x", "|rc=0"] and "shadow" not in found


def test_passwords_of_accounts_no_listing_shows_are_judged() -> None:
    """kiosk: an empty passwd field behind a .name key only (acctdbuid0): getent passwd never lists it."""
    dump = ["|.kiosk kiosk::1500:1500:public terminal:/home/kiosk:/bin/sh", "|rc=0"]
    unlisted, doubts = found_by_name_only("passwd", ["files", "db"], {DB: dump})
    assert list(unlisted) == ["kiosk"] and doubts == []
    origins = {"kiosk": f"db {DB}, unlisted"}
    facts = password_findings({**ROOT, **unlisted}, {}, 90, doubts, origins)
    assert facts["empty_password"] == [f"kiosk (empty field in db {DB}, unlisted)"]
    assert facts["over_max_age"] == [f"kiosk: password in db {DB}, unlisted, no ageing"]


@pytest.mark.parametrize(
    ("database", "services", "doubt"),
    [
        ("passwd", ["files", "ldap"], "ldap: getent passwd may not list all its accounts"),
        ("shadow", ["files", "sss"], "sss: getent shadow may not list all its accounts"),
        ("shadow", None, "glibc refuses the shadow line"),
    ],
)
def test_passwords_a_source_may_hide_are_unknown_never_pass(
    database: str, services: list[str] | None, doubt: str
) -> None:
    _, doubts = found_by_name_only(database, services, {})
    assert doubts == [next(d for d in doubts if doubt in d)]
    root = {"root": ["root", "$6$a$b", "20000", "0", "60", "7", "", "", ""]}
    facts = password_findings(ROOT, root, 90, doubts)
    assert facts["empty_password"] is None and facts["over_max_age"] is None
    # a finding is definite whatever else may hide
    root["root"][1] = ""
    assert password_findings(ROOT, root, 90, doubts)["empty_password"] == ["root"]


def test_the_shadow_line_is_read_like_the_passwd_line() -> None:
    text = "passwd: files\nshadow:  files  sss\n"
    assert nss_services(text, "shadow") == ["files", "sss"] and nss_services(text) == ["files"]
    assert nss_services("passwd: files\n", "shadow") == ["files"]
