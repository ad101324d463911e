"""pam_lockout: the auth stacks of sshd and login, as Linux-PAM reads Debian bookworm's /etc/pam.d
(files copied from the lab base), with pam_faillock placed in the ways a line reader misjudges."""

from __future__ import annotations

from pathlib import Path

from auditor.facts.pam_lockout import FAILLOCK_CONF, judge_service, load, logical_lines

DATA = Path(__file__).parent / "data" / "pam"
UNIX = "auth\t[success=1 default=ignore]\tpam_unix.so nullok\n"
STACK = (
    "auth\trequired\tpam_faillock.so preauth\n" + UNIX
    + "auth\t[default=die]\tpam_faillock.so authfail\nauth\tsufficient\tpam_faillock.so authsucc\n"
)  # fmt: skip


def _files(common_auth: str | None = None, **extra: str) -> dict[str, str]:
    files = {f"/etc/pam.d/{p.name}": p.read_text() for p in DATA.iterdir() if p.name != "faillock.conf"}
    files[FAILLOCK_CONF] = (DATA / "faillock.conf").read_text()
    if common_auth is not None:
        assert UNIX in files["/etc/pam.d/common-auth"]
        files["/etc/pam.d/common-auth"] = files["/etc/pam.d/common-auth"].replace(UNIX, common_auth)
    files.update({f"/etc/pam.d/{name.replace('_', '-')}": text for name, text in extra.items()})
    return files


def test_debian_default_has_no_lockout() -> None:
    assert judge_service(_files(), "sshd") == "sshd: no pam_faillock in its auth stack"


def test_the_manual_stack_locks_out_sshd_and_login() -> None:
    files = _files(STACK)
    assert judge_service(files, "sshd") is None and judge_service(files, "login") is None


def test_deny_0_never_locks() -> None:
    files = _files(STACK)
    files[FAILLOCK_CONF] += "deny = 4\ndeny = 0\n"  # the last value wins
    assert judge_service(files, "sshd") == "sshd: pam_faillock deny = 0 (never locks)"
    files["/etc/pam.d/common-auth"] = files["/etc/pam.d/common-auth"].replace("preauth", "preauth deny=5")
    assert judge_service(files, "sshd") is None  # module arguments override the file


def test_preauth_alone_records_nothing() -> None:
    files = _files("auth\trequired\tpam_faillock.so preauth\n" + UNIX)
    assert "never recorded" in str(judge_service(files, "sshd"))


def test_a_sufficient_success_before_preauth_ends_the_stack() -> None:
    stack = "auth sufficient pam_unix.so nullok\n" + STACK.replace(UNIX, "")
    assert "still logs on with the right password" in str(judge_service(_files(stack), "sshd"))


def test_commented_lines_and_continuations() -> None:
    commented = "".join("#" + line + "\n" for line in STACK.splitlines())
    assert judge_service(_files(commented + UNIX), "sshd") == "sshd: no pam_faillock in its auth stack"
    preauth = "auth\trequired\tpam_faillock.so preauth\n"
    continued = STACK.replace(preauth, preauth.replace("\tpam_", "\t\\\n pam_"))
    assert judge_service(_files(continued), "sshd") is None
    assert logical_lines("a \\\nb # c\n# d\n") == [(1, "a  b")]


def test_a_stack_in_a_file_no_service_includes_does_not_count() -> None:
    assert judge_service(_files(None, faillock_auth=STACK), "sshd") == "sshd: no pam_faillock in its auth stack"


def test_a_stack_in_a_file_the_service_includes_counts() -> None:
    files = _files(None, local_auth=STACK + "auth requisite pam_deny.so\nauth required pam_permit.so\n")
    files["/etc/pam.d/sshd"] = files["/etc/pam.d/sshd"].replace("@include common-auth", "@include local-auth")
    assert judge_service(files, "sshd") is None
    assert judge_service(files, "login") == "login: no pam_faillock in its auth stack"


def test_substack_and_missing_include() -> None:
    files = _files(None, local_auth=STACK + "auth requisite pam_deny.so\nauth required pam_permit.so\n")
    files["/etc/pam.d/login"] = files["/etc/pam.d/login"].replace("@include common-auth", "auth substack local-auth")
    assert judge_service(files, "login") is None
    files["/etc/pam.d/login"] = files["/etc/pam.d/login"].replace("substack local-auth", "include gone")
    assert "cannot be loaded (/etc/pam.d/gone is missing)" in str(judge_service(files, "login"))


def test_a_service_without_a_file_uses_other() -> None:
    files = _files(STACK)
    assert judge_service(files, "nosuchservice") is None
    assert [e.module for e in load(files, "other", "auth")][:2] == ["pam_faillock", "pam_unix"]
