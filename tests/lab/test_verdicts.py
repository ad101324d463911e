"""The auditor CLI against the lab: every host x plan task verdict equals the
profile's EXPECTED, evidence everywhere, and the failure modes: a
down host, a wrong host key (no login may happen), a host without sudo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.lab.helpers import WRONG_KEY_HOST, AuditRun, audit_cli
from tests.lab.lab import Lab, host_name
from tests.lab.profiles import LAB_PROFILES, PLAN_TASKS, get

pytestmark = pytest.mark.lab

HOSTS = {host_name(p): p for p in LAB_PROFILES}
CONTROL_HOST = host_name("minimal")
ACCEPTED = "Accepted publickey for auditor"
# On a host that cannot be audited every check is `error`, except checks decided by
# parameters alone (e.g. "forwarding anywhere" when log_server is set), which may
# stay `not_applicable`: they need no fact from the host.
UNDECIDABLE = {"error", "not_applicable"}


@pytest.fixture(scope="module")
def audit(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    """One run over the whole lab with the correct known_hosts."""
    return audit_cli(lab, lab.inventory, lab.known_hosts, tmp_path_factory.mktemp("audit"))


@pytest.fixture(scope="module")
def variant(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> AuditRun:
    """WRONG_KEY_HOST with a wrong known_hosts key, CONTROL_HOST fine, down1 down."""
    d = tmp_path_factory.mktemp("variant")
    hosts = [lab.host(WRONG_KEY_HOST), lab.host(CONTROL_HOST)]
    inv, kh = lab.write_variant(d, hosts=hosts, wrong_key_for=[WRONG_KEY_HOST])
    return audit_cli(lab, inv, kh, d / "out")


def test_run_finishes_with_results(audit: AuditRun) -> None:
    assert audit.results is not None, f"rc={audit.rc}\n{audit.stderr[-3000:]}"
    assert audit.rc in (1, 3), f"failures exist, so exit 1 (or 3 for the nosudo errors); got {audit.rc}"
    assert audit.results.get("schema") == "auditor.results/2"
    assert {h["name"] for h in audit.results["hosts"]} >= set(HOSTS)


@pytest.mark.parametrize(("name", "task"), [(n, t) for n in HOSTS for t in PLAN_TASKS], ids=lambda v: str(v))
def test_verdict(audit: AuditRun, name: str, task: str) -> None:
    profile = get(HOSTS[name])
    expected = profile.EXPECTED[task]
    got = audit.host(name).get("plan_tasks", {}).get(task)
    why = profile.REASONS.get(task, "configured to pass")
    assert got == expected, f"{name} {task}: expected {expected} ({why}), auditor said {got}"


@pytest.mark.parametrize("name", list(HOSTS))
def test_host_reachable_and_evidence_everywhere(audit: AuditRun, name: str) -> None:
    host = audit.host(name)
    if HOSTS[name] != "nosudo":  # nosudo: test_sudo_refused_is_a_host_error
        assert host["status"] == "reachable", host.get("error")
    assert host["results"], "no check results"
    for r in host["results"]:
        assert r.get("evidence"), f"{r.get('check')}: no evidence"
        assert all(isinstance(e, dict) for e in r["evidence"])


def test_normal_run_logs_in(audit: AuditRun) -> None:
    """Control for the wrong-key test: a good run does leave an Accepted line."""
    assert ACCEPTED in audit.auth_log


def test_nosudo_never_gets_a_guessed_fail(audit: AuditRun) -> None:
    host = audit.host(host_name("nosudo"))
    fails = [r["check"] for r in host["results"] if r["status"] == "fail"]
    assert not fails, f"checks that need root must be error/unknown, not fail: {fails}"
    assert "fail" not in host["plan_tasks"].values()


def test_sudo_refused_is_a_host_error(audit: AuditRun) -> None:
    host = audit.host(host_name("nosudo"))
    assert host["status"] == "error" and "sudo refused" in host["error"], host["error"]
    assert {r["status"] for r in host["results"]} <= UNDECIDABLE


def test_unprivileged_audit(lab: Lab, tmp_path: Path) -> None:
    """Without become, what any user can read still decides; what needs root is `error`, never a guess."""
    nosudo = lab.host(host_name("nosudo"))
    inventory = lab.write_inventory(tmp_path / "inventory.ini", [nosudo], become=False)
    run = audit_cli(lab, inventory, lab.known_hosts, tmp_path / "out")
    host = run.host(nosudo.name)
    assert host["status"] == "reachable", host["error"]
    assert {t: host["plan_tasks"].get(t) for t in PLAN_TASKS} == nosudo.profile.EXPECTED_UNPRIVILEGED
    errors = {r["check"]: r["reason"] for r in host["results"] if r["status"] == "error"}
    assert "no hostkeys available" in errors["LNX-SSH-ROOT-LOGIN-DISABLED"]
    assert "Operation not permitted" in errors["LNX-FIREWALL-EFFECTIVE"]


def test_down_host_is_error_and_others_finish(variant: AuditRun) -> None:
    assert variant.rc == 3, variant.stderr[-2000:]
    down = variant.host("down1")
    assert down["status"] in ("unreachable", "error")
    assert down["results"] and {r["status"] for r in down["results"]} <= UNDECIDABLE
    assert all(v == "error" for v in down["plan_tasks"].values())
    assert all(r.get("evidence") for r in down["results"] if r["status"] == "error")
    control = variant.host(CONTROL_HOST)
    assert control["status"] == "reachable"
    expected = get(HOSTS[CONTROL_HOST]).EXPECTED
    assert {t: control["plan_tasks"].get(t) for t in PLAN_TASKS} == expected


def test_wrong_host_key_is_error_and_no_login(variant: AuditRun) -> None:
    host = variant.host(WRONG_KEY_HOST)
    assert host["status"] == "error", host
    assert host["results"] and {r["status"] for r in host["results"]} <= UNDECIDABLE
    assert all(v == "error" for v in host["plan_tasks"].values())
    assert ACCEPTED not in variant.auth_log, variant.auth_log


def test_unknown_host_key_refused_then_trusted_on_first_use(lab: Lab, tmp_path: Path) -> None:
    host = lab.host(WRONG_KEY_HOST)
    inventory = lab.write_inventory(tmp_path / "inventory.ini", [host])
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")

    refused = audit_cli(lab, inventory, known_hosts, tmp_path / "refused")
    assert refused.rc == 3
    assert refused.host(host.name)["status"] == "error"
    assert "host key unknown" in refused.host(host.name)["error"]
    assert ACCEPTED not in refused.auth_log
    assert known_hosts.read_text() == ""

    trusted = audit_cli(lab, inventory, known_hosts, tmp_path / "trusted", "--trust-on-first-use")
    assert trusted.host(host.name)["status"] == "reachable"
    assert "trusted on first use" in trusted.stdout
    recorded = known_hosts.read_text().split()
    assert recorded[0] == host.address and " ".join(recorded[1:3]) == host.host_key

    verified = audit_cli(lab, inventory, known_hosts, tmp_path / "verified")
    assert verified.host(host.name)["status"] == "reachable"
    assert known_hosts.read_text().split() == recorded  # nothing added the second time
