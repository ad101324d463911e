"""Each check of the baseline's six plan tasks, proven on its own: a lab host where it passes
and one where it fails, with evidence. The plan-task verdicts are in test_verdicts.py; this proves every
check behind them, including the one that runs only when no log server is named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.lab.helpers import AuditRun, audit_cli
from tests.lab.lab import Lab, host_name

pytestmark = pytest.mark.lab

COMPLIANT, NONCOMPLIANT, MINIMAL = host_name("compliant"), host_name("noncompliant"), host_name("minimal")
# check id -> (host where it passes, host where it fails)
PROOF = {
    "LNX-SSH-ROOT-LOGIN-DISABLED": (COMPLIANT, NONCOMPLIANT),
    "LNX-SSH-PASSWORD-AUTH-DISABLED": (COMPLIANT, MINIMAL),  # Debian's default: passwords accepted
    "LNX-AV-INSTALLED": (COMPLIANT, MINIMAL),  # no anti-virus package in minimal's dpkg database
    "LNX-AV-ACTIVE": (COMPLIANT, MINIMAL),
    "LNX-AV-SIGNATURES-FRESH": (COMPLIANT, NONCOMPLIANT),
    "LNX-FIREWALL-EFFECTIVE": (COMPLIANT, NONCOMPLIANT),
    "LNX-IDS-RUNNING": (COMPLIANT, NONCOMPLIANT),
    "LNX-LOG-DAEMON-RUNNING": (COMPLIANT, MINIMAL),
    "LNX-LOG-FORWARDED": (COMPLIANT, NONCOMPLIANT),
    "LNX-USB-STORAGE-BLOCKED": (COMPLIANT, NONCOMPLIANT),
}
ANYWHERE = "LNX-LOG-FORWARDED-ANYWHERE"  # runs only when no log_server is given


@pytest.fixture(scope="module")
def audit(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    return audit_cli(lab, lab.inventory, lab.known_hosts, tmp_path_factory.mktemp("baseline-checks"), "--no-network")


@pytest.fixture(scope="module")
def audit_without_log_server(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    d = tmp_path_factory.mktemp("no-log-server")
    inventory = lab.write_inventory(d / "inventory.ini", [lab.host(COMPLIANT), lab.host(NONCOMPLIANT)])
    return audit_cli(lab, inventory, lab.known_hosts, d / "out", "--no-network", "--param", "log_server=")


def result(run: AuditRun, host: str, check: str) -> dict[str, Any]:
    found = [r for r in run.host(host)["results"] if r["check"] == check]
    assert found, f"{check} not run on {host}"
    return found[0]


def test_every_baseline_check_is_proven() -> None:
    import yaml

    checks = Path(__file__).resolve().parents[2] / "controls/iso27001/checks"
    files = ("linux-auth", "linux-av", "linux-firewall", "linux-ids", "linux-log", "linux-usb")
    ids = {c["id"] for f in files for c in yaml.safe_load((checks / f"{f}.yaml").read_text())}
    assert ids == {*PROOF, ANYWHERE}


@pytest.mark.parametrize("check", list(PROOF))
def test_passes_and_fails(audit: AuditRun, check: str) -> None:
    good, bad = PROOF[check]
    passed, failed = result(audit, good, check), result(audit, bad, check)
    assert passed["status"] == "pass", f"{good}: {passed['reason']}"
    assert failed["status"] == "fail", f"{bad}: {failed['reason']}"
    assert passed["evidence"] and failed["evidence"]


def test_forwarding_anywhere_when_no_log_server_is_named(audit_without_log_server: AuditRun) -> None:
    passed = result(audit_without_log_server, COMPLIANT, ANYWHERE)
    failed = result(audit_without_log_server, NONCOMPLIANT, ANYWHERE)
    assert passed["status"] == "pass", passed["reason"]
    assert failed["status"] == "fail", failed["reason"]
    assert result(audit_without_log_server, COMPLIANT, "LNX-LOG-FORWARDED")["status"] == "not_applicable"
