"""Log retention and audit rules judged as the programs read them, on two hosts where a line-by-line reading
of the files says the opposite (profiles logkeep_pass and logkeep_fail): ``logrotate -d`` as root, and the
audit rules augenrules loads (auditctl cannot answer in a PID namespace: the lab has only that fall-back)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import LOGKEEP_PROFILES

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
PASS, FAIL = host_name("logkeep_pass"), host_name("logkeep_fail")
# What the checks' earlier readers did: logrotate.conf then logrotate.d/* in name order, first block naming
# the log; a grep of the audit rule files.
OLD_AUDIT_GREP = (
    "sudo -n grep -l -E '^[[:space:]]*-(w[[:space:]]+|a[[:space:]].*-F[[:space:]]*path=)/etc/"
    "(passwd|shadow|group|gshadow|sudoers)' /etc/audit/rules.d/*.rules /etc/audit/audit.rules"
)
FIRST_ROTATE = (
    "cat /etc/logrotate.conf /etc/logrotate.d/* | grep -m1 -A10 /var/log/syslog | grep -m1 -o 'rotate [0-9]*'"
)


@pytest.fixture(scope="module")
def logkeep_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(LOGKEEP_PROFILES, f"{bridge}r", subnet.replace(".0/24", ".192/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(logkeep_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(logkeep_lab, tmp_path_factory.mktemp("logkeep"))


def _run(lab: Lab, name: str, command: str) -> str:
    from tests.lab.sshutil import connect, run

    with connect(lab.host(name).address, lab.key, lab.known_hosts) as ssh:
        _, out, _ = run(ssh, command)
    return out


def test_a_line_reader_says_the_opposite(logkeep_lab: Lab) -> None:
    """What a reading of the usual files finds on each host: the reverse of what the programs use."""
    assert _run(logkeep_lab, PASS, FIRST_ROTATE).split() == ["rotate", "4"]  # 4 weeks: too short
    assert _run(logkeep_lab, FAIL, FIRST_ROTATE).split() == ["rotate", "52"]  # from the .disabled file
    assert _run(logkeep_lab, PASS, OLD_AUDIT_GREP).strip() == ""
    assert "/etc/audit/audit.rules" in _run(logkeep_lab, FAIL, OLD_AUDIT_GREP)


def test_logrotate_d_rotates_nothing(logkeep_lab: Lab) -> None:
    """Even a log whose state says it is due: no file renamed, no state written (the logs grow meanwhile)."""
    due = (
        "printf 'logrotate state -- version 2\\n\"/var/log/dpkg.log\" 2020-1-1-0:0:0\\n' "
        "| sudo -n tee /var/lib/logrotate/status >/dev/null"
    )
    listing = "sudo -n sh -c 'ls -1 /var/log; md5sum /var/lib/logrotate/status'"
    _run(logkeep_lab, FAIL, due)
    before = _run(logkeep_lab, FAIL, listing)
    said = _run(logkeep_lab, FAIL, "sudo -n /usr/sbin/logrotate -d /etc/logrotate.conf </dev/null 2>&1")
    assert "log needs rotating" in said, said
    assert _run(logkeep_lab, FAIL, listing) == before and "dpkg.log.1" not in before
    _run(logkeep_lab, FAIL, "sudo -n rm /var/lib/logrotate/status")


def test_retention_from_a_file_logrotate_includes(results: dict[str, dict[str, Any]]) -> None:
    r = results[PASS]["LNX-LOG-RETENTION"]
    assert r["status"] == "pass", r["reason"]
    assert "182 days" in r["reason"] and "logrotate -d" in r["reason"] and "/etc/logrotate.local" in r["reason"]


def test_retention_in_a_file_logrotate_skips_is_not_counted(results: dict[str, dict[str, Any]]) -> None:
    r = results[FAIL]["LNX-LOG-RETENTION"]
    assert r["status"] == "fail", r["reason"]
    assert "28 days" in r["reason"] and "00-keep.disabled" not in r["reason"]


def test_audit_watch_a_grep_misses_is_not_a_failure(results: dict[str, dict[str, Any]]) -> None:
    r = results[PASS]["LNX-AUDITD-RULES"]
    assert r["status"] == "unknown", r["reason"]
    assert "Operation not permitted" in r["reason"] and "/etc/audit/rules.d/50-etc.rules" in r["reason"]
    assert "/etc/passwd" in r["reason"]


def test_audit_watches_augenrules_does_not_load_fail(results: dict[str, dict[str, Any]]) -> None:
    r = results[FAIL]["LNX-AUDITD-RULES"]
    assert r["status"] == "fail", r["reason"]
    assert "watch none" in r["reason"]


@pytest.mark.parametrize("name", [PASS, FAIL])
def test_reference_rules_agree(logkeep_lab: Lab, name: str) -> None:
    """The six plan tasks of these hosts are the compliant host's: the profiles' EXPECTED hold."""
    from tests.lab import reference

    host = logkeep_lab.host(name)
    out = _run(logkeep_lab, name, reference.SCRIPT)
    out = "\n".join(line for line in out.splitlines() if not line.startswith("sudo: unable to resolve host"))
    assert reference.evaluate(out, logkeep_lab.log_server) == host.expected
