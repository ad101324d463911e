"""Logging judged as the programs read their configuration, on two hosts where a line-by-line reading of the
files says the opposite (profiles logread_pass and logread_fail): rsyslog's own list of the files it reads
(``rsyslogd -N1 -o``) and its errors, and sudo's Defaults in force (``sudo -V`` as root)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import results_by_host
from tests.lab.lab import Lab, host_name, lab_network
from tests.lab.profiles import LOGREAD_PROFILES

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
PASS, FAIL = host_name("logread_pass"), host_name("logread_fail")


@pytest.fixture(scope="module")
def logread_lab() -> Iterator[Lab]:
    from tests.conftest import running_lab

    bridge, subnet = lab_network()
    with running_lab(LOGREAD_PROFILES, f"{bridge}g", subnet.replace(".0/24", ".192/26")) as the_lab:
        yield the_lab


@pytest.fixture(scope="module")
def results(logread_lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return results_by_host(logread_lab, tmp_path_factory.mktemp("logread"))


def _grep(lab: Lab, name: str, command: str) -> str:
    from tests.lab.sshutil import connect, run

    with connect(lab.host(name).address, lab.key, lab.known_hosts) as ssh:
        _, out, _ = run(ssh, command)
    return out


def test_a_line_reader_says_the_opposite(logread_lab: Lab) -> None:
    """What a grep of the usual files finds on each host: the reverse of what the programs use."""
    rsyslog = "cat /etc/rsyslog.conf /etc/rsyslog.d/*.conf | grep -v '^#' | grep -c " + logread_lab.log_server
    assert _grep(logread_lab, PASS, rsyslog).strip() == "0"
    assert _grep(logread_lab, FAIL, rsyslog).strip() == "1"
    sudoers = "sudo -n grep -h -E 'syslog|logfile' /etc/sudoers.d/*"
    assert _grep(logread_lab, PASS, sudoers).split() == ["Defaults", "!syslog"]
    assert "Defaults logfile=/var/log/sudo.log" in _grep(logread_lab, FAIL, sudoers)


def test_forwarding_rule_in_a_file_rsyslog_includes_from_elsewhere(results: dict[str, dict[str, Any]]) -> None:
    r = results[PASS]["LNX-LOG-FORWARDED"]
    assert r["status"] == "pass", r["reason"]
    assert "/etc/rsyslog-remote/forward.conf:1" in r["reason"] and "rsyslogd -N1" in r["reason"]


def test_forwarding_rule_rsyslog_rejects_is_not_a_pass(results: dict[str, dict[str, Any]]) -> None:
    r = results[FAIL]["LNX-LOG-FORWARDED"]
    assert r["status"] in ("unknown", "error"), r["reason"]
    assert "50-remote.conf:1" in r["reason"] and "keepAlive.tyme" in r["reason"]


@pytest.mark.parametrize("name", [PASS, FAIL])
def test_the_daemon_runs(results: dict[str, dict[str, Any]], name: str) -> None:
    assert results[name]["LNX-LOG-DAEMON-RUNNING"]["status"] == "pass"


def test_sudo_logs_though_a_skipped_file_says_no_syslog(results: dict[str, dict[str, Any]]) -> None:
    r = results[PASS]["LNX-SUDO-LOGGED"]
    assert r["status"] == "pass", r["reason"]
    assert "syslog (authpriv)" in r["reason"] and "sudo -V" in r["reason"]


def test_sudo_logs_nowhere_though_a_skipped_file_names_a_log_file(results: dict[str, dict[str, Any]]) -> None:
    r = results[FAIL]["LNX-SUDO-LOGGED"]
    assert r["status"] == "fail", r["reason"]
    assert "logs nowhere" in r["reason"]


@pytest.mark.parametrize("name", [PASS, FAIL])
def test_reference_rules_agree(logread_lab: Lab, name: str) -> None:
    """The reference implementation reads rsyslog's own list of files too: the profiles' EXPECTED hold."""
    from tests.lab import reference

    host = logread_lab.host(name)
    out = _grep(logread_lab, name, reference.SCRIPT)
    # sudo warns on stderr, which the reference merges for nft, when the host's name does not resolve
    out = "\n".join(line for line in out.splitlines() if not line.startswith("sudo: unable to resolve host"))
    assert reference.evaluate(out, logread_lab.log_server) == host.expected
