"""The account, PAM and sshd checks judged as the programs read their configuration, on hosts where a
line-by-line reading of the files gives the other verdict (profiles acctfilebad and acctfilegood, and
acctdbuid0: UID 0 accounts served by libnss-db). The module starts its own small lab, so the session
lab stays small."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import ACCOUNT_PROFILES

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
BAD, GOOD, DB = host_name("acctfilebad"), host_name("acctfilegood"), host_name("acctdbuid0")
PASSWD_DB = "/var/lib/misc/passwd.db"

# acctfilebad: a line reader fails each of these; the programs pass them.
PASS_ON_BAD = (
    # the empty `dup` shadow line is a second entry: getspnam never returns it; extrausers' `toor` is refused
    "LNX-ACCOUNTS-NO-EMPTY-PASSWORD",
    # `#toor` is a comment; `dup`'s UID 0 line is its second entry; libnss-extrausers refuses UID 0
    "LNX-ACCOUNTS-ONLY-ROOT-UID0",
    "LNX-PASSWORD-MAX-AGE",  # PASS_MAX_DAYS 99999 then 60: the last wins; ops expires after 60 days
    "LNX-AUTH-LOCKOUT",  # the faillock stack is in local-auth, which sshd and login include
    "LNX-LOGIN-BANNER",  # the notice is in the file sshd names, not in /etc/issue*
    "LNX-SSH-IDLE-TIMEOUT",  # the main file's later ClientAliveInterval 0 loses to the drop-in
    "LNX-SSH-STRONG-CRYPTO",  # the main file's later CBC Ciphers loses to the drop-in
    "LNX-SENSITIVE-FILE-PERMISSIONS",  # /etc/gshadow is a symlink to a 0640 file
    "LNX-SSH-ROOT-LOGIN-DISABLED",
    "LNX-SSH-PASSWORD-AUTH-DISABLED",
    "LNX-SSH-ACCESS-RESTRICTED",
)
# acctfilegood: a line reader passes each of these; the programs fail them, for this reason.
FAIL_ON_GOOD = {
    "LNX-ACCOUNTS-NO-EMPTY-PASSWORD": "eve (empty field in /etc/passwd)",
    "LNX-PASSWORD-MAX-AGE": "ops: maximum age 99999",
    "LNX-AUTH-LOCKOUT": "a locked account still logs on with the right password",
    "LNX-LOGIN-BANNER": "legal notice in the banner sshd sends",
    "LNX-SSH-IDLE-TIMEOUT": "Match Address 10.0.0.0/8: clientaliveinterval 0",
    "LNX-SSH-ACCESS-RESTRICTED": "Match Address 10.0.0.0/8: allowusers *",
    "LNX-SSH-STRONG-CRYPTO": "aes128-cbc",
    "LNX-SENSITIVE-FILE-PERMISSIONS": "extended ACL on /etc/shadow",
}


@pytest.fixture(scope="module")
def acct_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(ACCOUNT_PROFILES, f"{bridge}a", subnet.replace(".0/24", ".128/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(acct_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(acct_lab, tmp_path_factory.mktemp("acct"))


@pytest.mark.parametrize("check", PASS_ON_BAD)
def test_programs_pass_what_a_line_reader_fails(results: dict[str, dict[str, Any]], check: str) -> None:
    r = results[BAD][check]
    assert r["status"] == "pass", f"{check}: {r['status']}: {r['reason']}"


@pytest.mark.parametrize("check", list(FAIL_ON_GOOD))
def test_programs_fail_what_a_line_reader_passes(results: dict[str, dict[str, Any]], check: str) -> None:
    r = results[GOOD][check]
    assert r["status"] == "fail", f"{check}: {r['status']}: {r['reason']}"
    assert FAIL_ON_GOOD[check] in r["reason"], r["reason"]


def test_the_empty_password_really_logs_on(acct_lab: Lab) -> None:
    """What the check says of eve is what su does: no password asked (pam_unix nullok)."""
    from tests.lab.sshutil import connect, run

    with connect(acct_lab.host(GOOD).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        rc, out, _ = run(ssh, "su eve -c id </dev/null")
    assert rc == 0 and "uid=1700(eve)" in out


def test_glibc_sees_the_account_the_files_lack(acct_lab: Lab, results: dict[str, dict[str, Any]]) -> None:
    """ext (empty password) comes from the second NSS source: getent answers, /etc/passwd and
    /etc/shadow do not name it, su asks no password, and the auditor names it."""
    from tests.lab.sshutil import connect, run

    with connect(acct_lab.host(GOOD).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        rc, out, _ = run(ssh, "getent passwd ext </dev/null")
        assert rc == 0 and out.startswith("ext:x:1800:1800:"), out
        rc, _, _ = run(ssh, "grep -q '^ext:' /etc/passwd /etc/shadow")  # the ACL lets auditor read shadow
        assert rc == 1
        rc, out, _ = run(ssh, "su ext -c id </dev/null")  # pam_unix asks glibc (getspnam) too
    assert rc == 0 and "uid=1800(ext)" in out, out
    assert re.search(r"\bext\b", results[GOOD]["LNX-ACCOUNTS-NO-EMPTY-PASSWORD"]["reason"])


def test_glibc_refuses_the_directorys_uid0_account(acct_lab: Lab) -> None:
    """The extrausers file names toor with UID 0 and an empty password, but libnss-extrausers refuses
    system UIDs: the system has no toor, so no reader of that file may fail the host for it."""
    from tests.lab.sshutil import connect, run

    with connect(acct_lab.host(BAD).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        rc, out, _ = run(ssh, "getent passwd toor </dev/null")
        assert rc == 2 and out == "", out
        rc, out, _ = run(ssh, "sudo -n grep -c '^toor:x:0:0:' /var/lib/extrausers/passwd")
        assert rc == 0 and out.strip() == "1", out
        rc, _, err = run(ssh, "su toor -c id </dev/null")
    assert rc != 0 and "does not exist" in err, err


def test_the_acl_really_lets_the_auditor_read_shadow(acct_lab: Lab) -> None:
    from tests.lab.sshutil import connect, run

    with connect(acct_lab.host(GOOD).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        rc, out, _ = run(ssh, "head -c 5 /etc/shadow")
    assert rc == 0 and out.startswith("root:")


def test_a_uid0_account_only_another_name_service_serves_fails(
    acct_lab: Lab, results: dict[str, dict[str, Any]]
) -> None:
    """acctdbuid0: /etc/passwd gives UID 0 to root alone (a line reader passes the host), but
    `passwd: files db` adds svcadm (listed by getent passwd) and hidden (a lookup by name finds it,
    the listing does not): both are UID 0 to id, so the check fails and names each with its source."""
    from tests.lab.sshutil import connect, run

    with connect(acct_lab.host(DB).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        rc, out, _ = run(ssh, "awk -F: '$3 == 0 { print $1 }' /etc/passwd")
        assert rc == 0 and out.split() == ["root"], out
        rc, listing, _ = run(ssh, "getent passwd </dev/null")
        assert rc == 0 and "\nsvcadm:x:0:0:" in listing and "hidden" not in listing, listing
        rc, out, _ = run(ssh, "id -u svcadm && id -u hidden && getent passwd hidden")
        assert rc == 0 and out.split("\n")[:3] == ["0", "0", "hidden:x:0:0:no enumeration key:/root:/bin/sh"], out
        rc, _, _ = run(ssh, "grep -q -e svcadm -e hidden /etc/passwd")
        assert rc == 1
    r = results[DB]["LNX-ACCOUNTS-ONLY-ROOT-UID0"]
    assert r["status"] == "fail", r["reason"]
    assert f"svcadm (from db {PASSWD_DB}, not /etc/passwd)" in r["reason"], r["reason"]
    assert f"hidden (from db {PASSWD_DB}: getent passwd does not list it" in r["reason"], r["reason"]
    assert "(passwd: files db)" in r["reason"], r["reason"]


def test_an_empty_password_only_a_lookup_by_name_finds_fails(acct_lab: Lab, results: dict[str, dict[str, Any]]) -> None:
    """acctdbuid0: kiosk's empty password field is in libnss-db under a .name key only: no listing and
    no line of /etc/passwd or /etc/shadow shows it (a line reader passes), getpwnam returns it."""
    from tests.lab.sshutil import connect, run

    with connect(acct_lab.host(DB).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        rc, out, _ = run(ssh, "awk -F: '$2 == \"\"' /etc/passwd /etc/shadow; getent passwd </dev/null | grep -c kiosk")
        assert out.split() == ["0"], out
        rc, out, _ = run(ssh, "getent passwd kiosk")
        assert rc == 0 and out.startswith("kiosk::1500:"), out
    for check in ("LNX-ACCOUNTS-NO-EMPTY-PASSWORD", "LNX-PASSWORD-MAX-AGE"):
        r = results[DB][check]
        assert r["status"] == "fail", f"{check}: {r['status']}: {r['reason']}"
        assert f"kiosk (empty field in db {PASSWD_DB}, unlisted)" in r["reason"] or (
            f"kiosk: password in db {PASSWD_DB}, unlisted, no ageing" in r["reason"]
        ), r["reason"]
        assert "passwd: files db; shadow: files" in r["reason"], r["reason"]


@pytest.mark.parametrize(
    ("profile", "uid0", "empty"),
    [("acctfilebad", "pass", "pass"), ("acctfilegood", "pass", "fail"), ("acctdbuid0", "fail", "fail")],
)
def test_reference_rules_agree_on_accounts(
    acct_lab: Lab, results: dict[str, dict[str, Any]], profile: str, uid0: str, empty: str
) -> None:
    """The reference looks every account up by name, as login does: the same verdicts as the auditor."""
    from tests.lab import reference
    from tests.lab.sshutil import connect, run

    name = host_name(profile)
    with connect(acct_lab.host(name).address, acct_lab.key, acct_lab.known_hosts) as ssh:
        _, out, _ = run(ssh, reference.ACCOUNTS_SCRIPT, timeout=60)
    want = {"LNX-ACCOUNTS-ONLY-ROOT-UID0": uid0, "LNX-ACCOUNTS-NO-EMPTY-PASSWORD": empty}
    assert reference.evaluate_accounts(out) == want, out
    assert {check: results[name][check]["status"] for check in want} == want
